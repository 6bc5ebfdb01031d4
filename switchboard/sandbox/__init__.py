"""In-process provider emulators for `SWITCHBOARD_PROVIDER_MODE=sandbox`.

Each emulator is an ASGI app; in sandbox mode the service mounts them under /sandbox/<name> and the
adapters reach them over real HTTP at `{public_base_url}/sandbox/<name>`. Tests run the same apps on
127.0.0.1 ports instead. Add a provider with one entry in `SANDBOXES`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI


def _meta() -> Any:
    from switchboard.sandbox.meta import MetaSandbox

    return MetaSandbox()


def _tiktok() -> Any:
    from switchboard.sandbox.tiktok import TikTokSandbox

    return TikTokSandbox()


def _linkedin() -> Any:
    from switchboard.sandbox.linkedin import LinkedInSandbox

    return LinkedInSandbox()


def _whatsapp_lite() -> Any:
    from switchboard.sandbox.whatsapp_lite import WhatsAppLiteSandbox

    return WhatsAppLiteSandbox()


def _telegram() -> Any:
    from switchboard.sandbox.telegram import TelegramSandbox

    return TelegramSandbox()


def _shopify() -> Any:
    from switchboard.sandbox.shopify import ShopifySandbox

    return ShopifySandbox()


def _push() -> Any:
    from switchboard.sandbox.push import PushSandbox

    return PushSandbox()


def _shrinkit() -> Any:
    from switchboard.sandbox.shrinkit import ShrinkItSandbox

    return ShrinkItSandbox()


def _rbm() -> Any:
    from switchboard.sandbox.rbm import RbmSandbox

    return RbmSandbox()


# name -> factory of an object with an ASGI `.app` (the emulator keeps its state on that object)
SANDBOXES: dict[str, Callable[[], Any]] = {
    "meta": _meta,
    "tiktok": _tiktok,
    "linkedin": _linkedin,
    "whatsapp-lite": _whatsapp_lite,
    "telegram": _telegram,
    "shopify": _shopify,
    "push": _push,
    "shrinkit": _shrinkit,
    "rbm": _rbm,
}


def mount_sandboxes(app: FastAPI) -> None:
    """Mount every emulator under /sandbox/<name>; app.state.sandboxes keeps them for inspection."""
    app.state.sandboxes = {}
    for name, factory in SANDBOXES.items():
        emulator = factory()
        app.state.sandboxes[name] = emulator
        app.mount(f"/sandbox/{name}", emulator.app, name=f"sandbox-{name}")
