"""Web Push adapter: a VAPID key pair per channel (RFC 8292) and RFC 8291 (aes128gcm) sends."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid, b64urlencode
from pywebpush import WebPushException, webpush_async

from switchboard.connectors.adapter import (
    AccountContext,
    ErrorKind,
    HealthResult,
    InboundEvent,
    ProviderError,
    SendResult,
    register_adapter,
)
from switchboard.connectors.base import ChannelType
from switchboard.connectors.http import kind_for_status


def new_vapid_keys() -> tuple[str, str]:
    """(private key as raw base64url 32 bytes — what pywebpush takes —, public key for the browser)."""
    vapid = Vapid()
    vapid.generate_keys()
    raw = vapid.private_key.private_numbers().private_value.to_bytes(32, "big")
    return b64urlencode(raw), public_key_of(b64urlencode(raw))


def public_key_of(private_key: str) -> str:
    vapid = Vapid.from_string(private_key=private_key)
    point = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return str(b64urlencode(point))


class WebPushAdapter:
    def __init__(self, settings: Any) -> None:
        self.settings = settings

    async def connect(self, ctx: AccountContext) -> HealthResult:
        """Generates the channel's VAPID key pair once; later connects keep it (subscriptions use it)."""
        private = ctx.secrets.get("vapid_private_key")
        if private:
            return await self.check_health(ctx)
        private, public = new_vapid_keys()
        return HealthResult(
            ok=True,
            refreshed_secrets={"vapid_private_key": private},
            settings_updates={"vapid_public_key": public},
        )

    async def check_health(self, ctx: AccountContext) -> HealthResult:
        private = ctx.secrets.get("vapid_private_key")
        if not private:
            raise ProviderError("no VAPID key pair yet: connect the channel", kind=ErrorKind.NEEDS_ACTION)
        try:
            public = public_key_of(private)
        except Exception as exc:
            raise ProviderError(
                "the VAPID private key is not a raw base64url P-256 key", kind=ErrorKind.NEEDS_ACTION
            ) from exc
        if ctx.settings.get("vapid_public_key") != public:
            return HealthResult(ok=True, settings_updates={"vapid_public_key": public})
        return HealthResult(ok=True)

    def verify_webhook(self, ctx: AccountContext, headers: dict[str, str], body: bytes, url: str) -> bool:
        return False  # push services send no webhooks

    def parse_webhook(self, ctx: AccountContext, payload: dict[str, Any]) -> list[InboundEvent]:
        return []

    async def send(self, ctx: AccountContext, to: str, body: dict[str, Any]) -> SendResult:
        """`to` is a subscription as JSON ({"endpoint", "keys": {"p256dh", "auth"}})."""
        subscription = json.loads(to)
        private = ctx.secrets.get("vapid_private_key")
        if not private:
            raise ProviderError("no VAPID key pair yet: connect the channel", kind=ErrorKind.NEEDS_ACTION)
        try:
            response = await webpush_async(
                subscription_info=subscription,
                data=json.dumps(body),
                vapid_private_key=private,
                vapid_claims={"sub": str(ctx.settings.get("vapid_subject") or "")},
                content_encoding="aes128gcm",
                ttl=int(body.get("ttl", 86400)),
                timeout=10,
            )
        except WebPushException as exc:
            status = getattr(exc.response, "status", None) or getattr(exc.response, "status_code", None)
            if status in (404, 410):
                # The browser unsubscribed or the subscription expired: remove it.
                raise ProviderError(
                    "subscription gone", kind=ErrorKind.PERMANENT, code="gone", status=status
                ) from exc
            kind = kind_for_status(int(status)) if status else ErrorKind.TRANSIENT
            raise ProviderError(f"push service refused: {exc.message}", kind=kind, status=status) from exc
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise ProviderError(f"push service unreachable: {exc}", kind=ErrorKind.TRANSIENT) from exc
        location = (
            getattr(response, "headers", {}).get("Location", "") if not isinstance(response, str) else ""
        )
        return SendResult(provider_message_id=location or subscription["endpoint"])


register_adapter(ChannelType.WEB_PUSH, WebPushAdapter)
