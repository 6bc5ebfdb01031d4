"""Importing this module registers every job with the queue.

Every domain package's `tasks` module is imported, so a new job cannot be forgotten by the worker.
"""

import importlib
import pkgutil

import switchboard
from switchboard.core.queue import huey

for _pkg in pkgutil.iter_modules(switchboard.__path__):
    if _pkg.ispkg and importlib.util.find_spec(f"switchboard.{_pkg.name}.tasks") is not None:
        importlib.import_module(f"switchboard.{_pkg.name}.tasks")

__all__ = ["huey"]
