"""In-process provider emulators for `SWITCHBOARD_PROVIDER_MODE=sandbox`.

Each emulator is an ASGI app; in sandbox mode the service mounts them under /sandbox/<name> and the
adapters reach them over real HTTP at `{public_base_url}/sandbox/<name>`. Tests run the same apps on
127.0.0.1 ports instead. Add a provider with one entry in `SANDBOXES`.

Mail is the exception: Email channels speak SMTP and IMAP, not HTTP, so with `sandbox_mail` on the
app's lifespan runs `MailSandbox`'s two TCP servers (`sandbox_servers`) and /sandbox/mail is its page.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI

if TYPE_CHECKING:
    from switchboard.sandbox.mail import MailSandbox

log = logging.getLogger(__name__)


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


def _twilio() -> Any:
    from switchboard.sandbox.twilio import TwilioSandbox

    return TwilioSandbox()


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
    "twilio": _twilio,
}


def mount_sandboxes(app: FastAPI) -> None:
    """Mount every emulator under /sandbox/<name>; app.state.sandboxes keeps them for inspection.
    An emulator with `configure(settings)` gets the app's settings (e.g. the public base URL of the
    webhooks it calls)."""
    app.state.sandboxes = {}
    settings = app.state.settings
    for name, factory in SANDBOXES.items():
        emulator = factory()
        configure = getattr(emulator, "configure", None)
        if configure is not None:
            configure(settings)
        app.state.sandboxes[name] = emulator
        app.mount(f"/sandbox/{name}", emulator.app, name=f"sandbox-{name}")
    if settings.sandbox_mail:
        from switchboard.sandbox.mail import MailSandbox

        mail = MailSandbox(settings.sandbox_smtp_port, settings.sandbox_imap_port, open_mode=True)
        app.state.sandboxes["mail"] = mail
        app.mount("/sandbox/mail", mail.app, name="sandbox-mail")


def mail_sandbox(app: Any) -> MailSandbox | None:
    """The app's running sandbox mail servers, if any."""
    mail: MailSandbox | None = getattr(app.state, "sandboxes", {}).get("mail")
    return mail if mail is not None and mail.running else None


@asynccontextmanager
async def sandbox_servers(app: FastAPI) -> AsyncIterator[None]:
    """Runs the sandbox's TCP servers (SMTP and IMAP) for as long as the app: the lifespan enters it.

    A busy port is logged, not fatal: the rest of the sandbox still works, and /sandbox/mail says why
    mail does not."""
    mail: MailSandbox | None = getattr(app.state, "sandboxes", {}).get("mail")
    started = False
    if mail is not None:
        try:
            await asyncio.to_thread(mail.start)
            started = True
            log.info(
                "sandbox mail servers started",
                extra={"smtp_port": mail.smtp_port, "imap_port": mail.imap_port},
            )
        except (OSError, RuntimeError, TimeoutError) as exc:
            mail.error = (
                f"{exc.strerror if isinstance(exc, OSError) and exc.strerror else exc}. Set "
                "SWITCHBOARD_SANDBOX_SMTP_PORT / SWITCHBOARD_SANDBOX_IMAP_PORT to free ports (0 picks one)."
            )
            log.warning("sandbox mail servers not started: %s", mail.error)
    try:
        yield
    finally:
        if mail is not None and started:
            await asyncio.to_thread(mail.stop)
