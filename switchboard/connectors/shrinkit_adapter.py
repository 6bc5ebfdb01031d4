"""ShrinkIt Push adapter: a small REST API (`SWITCHBOARD_SHRINKIT_BASE_URL`) with Bearer API keys.

connect checks the app and registers our webhook with a generated secret (deleting the channel
removes it again); delivery and open receipts come back signed
`X-ShrinkIt-Signature: sha256=<hex HMAC-SHA256 of the body>`.
No public API of a push product of that name exists: this is our assumed contract, written down
in docs/connections.md ("Wire formats and their sources").
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from switchboard.connectors.adapter import (
    AccountContext,
    ErrorKind,
    HealthResult,
    InboundEvent,
    ProviderError,
    SendResult,
    SharedRegistration,
    register_adapter,
)
from switchboard.connectors.base import ChannelType
from switchboard.connectors.http import base_url, json_or_empty, request, status_error

SIGNATURE_HEADER = "x-shrinkit-signature"


def shrinkit_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class ShrinkItAdapter:
    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self.base = base_url(settings, "shrinkit")

    async def _call(self, ctx: AccountContext, method: str, path: str, json: Any = None) -> dict[str, Any]:
        key = ctx.secrets.get("api_key")
        if not key:
            raise ProviderError(
                "an API key is required", kind=ErrorKind.NEEDS_ACTION, code="missing_credentials"
            )
        app = str(ctx.settings.get("app_id") or "")
        response = await request(
            method, f"{self.base}/v1/apps/{app}{path}", json=json, headers={"Authorization": f"Bearer {key}"}
        )
        data = json_or_empty(response)
        if response.status_code >= 400:
            message = f"ShrinkIt: {data.get('error') or f'HTTP {response.status_code}'}"
            raise status_error(response, message, f"shrinkit_{response.status_code}", "token_revoked")
        return data

    async def check_health(self, ctx: AccountContext) -> HealthResult:
        app = await self._call(ctx, "GET", "")
        return HealthResult(ok=True, details={"app": app.get("name")})

    async def connect(self, ctx: AccountContext) -> HealthResult:
        await self.check_health(ctx)
        secret = ctx.secrets.get("webhook_secret") or secrets.token_urlsafe(32)
        url = f"{self.settings.public_base_url.rstrip('/')}/webhooks/{ctx.account_id}"
        await self._call(ctx, "PUT", "/webhook", json={"url": url, "secret": secret})
        return HealthResult(ok=True, refreshed_secrets={"webhook_secret": secret})

    def shared_registration(self, ctx: AccountContext) -> SharedRegistration | None:
        """An app has one webhook: another channel on the same app may have registered it since."""
        app = ctx.settings.get("app_id")
        return SharedRegistration((ChannelType.SHRINKIT_PUSH.value,), {"app_id": str(app)}) if app else None

    async def release(self, ctx: AccountContext) -> bool:
        """`DELETE /v1/apps/{app_id}/webhook` (assumed, like the PUT), so receipts stop coming for a
        deleted channel; only when connect registered it (it stored the webhook secret)."""
        if not ctx.secrets.get("webhook_secret") or not ctx.secrets.get("api_key"):
            return False
        try:
            await self._call(ctx, "DELETE", "/webhook")
        except ProviderError as exc:
            if exc.status == 404:  # no webhook registered any more
                return False
            raise
        return True

    def verify_webhook(self, ctx: AccountContext, headers: dict[str, str], body: bytes, url: str) -> bool:
        secret = ctx.secrets.get("webhook_secret", "")
        given = headers.get(SIGNATURE_HEADER, "")
        return bool(secret) and hmac.compare_digest(given.encode(), shrinkit_signature(secret, body).encode())

    def webhook_event_id(self, headers: dict[str, str], payload: dict[str, Any]) -> str | None:
        return str(payload["event_id"]) if payload.get("event_id") else None

    def parse_webhook(self, ctx: AccountContext, payload: dict[str, Any]) -> list[InboundEvent]:
        kind = {"delivered": "delivery", "opened": "read"}.get(str(payload.get("type")), "status")
        return [
            InboundEvent(
                kind=kind,
                provider_message_id=str(payload.get("notification_id") or ""),
                sender=str(payload.get("device_id") or "") or None,
                raw={"type": payload.get("type")},
            )
        ]

    async def send(self, ctx: AccountContext, to: str, body: dict[str, Any]) -> SendResult:
        payload = {
            "to": to,
            "title": body.get("title", ""),
            "body": body.get("text", ""),
            "data": body.get("data"),
        }
        data = await self._call(ctx, "POST", "/notifications", json=payload)
        return SendResult(provider_message_id=str(data.get("id")), details=data)


register_adapter(ChannelType.SHRINKIT_PUSH, ShrinkItAdapter)
