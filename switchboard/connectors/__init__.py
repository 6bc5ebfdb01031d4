"""Channel connectors, one module per channel type; importing this package registers them all."""

import importlib
import pkgutil

from switchboard.connectors.base import REGISTRY, ChannelType, get_descriptor

for _module in pkgutil.iter_modules(__path__):
    if _module.name not in {"base"} and not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")

missing = set(ChannelType) - set(REGISTRY)
if missing:  # pragma: no cover - a type without a module is a packaging mistake
    raise RuntimeError(f"channel types without a connector module: {sorted(missing)}")

__all__ = ["REGISTRY", "ChannelType", "get_descriptor"]
