"""WhatsApp Lite gateway: pairing sessions (QR), health, webhooks and sends.

AppGain publishes no API for QR pairing, session status or signed webhooks, so this speaks an
assumed contract, written down in switchboard/sandbox/whatsapp_lite.py and in docs/connections.md
("Wire formats and their sources"), which also lists what AppGain does document.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

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
from switchboard.connectors.http import json_or_empty, reauth, request, status_error
from switchboard.core.config import Settings
from switchboard.oauth.providers import whatsapp_lite_url

REPAIR = "the phone was unpaired. Open Pair to scan a new QR code."


class WhatsAppLiteAdapter:
    def __init__(self, settings: Settings) -> None:
        self.base = whatsapp_lite_url(settings)

    async def start_pairing(self, sender_id: str, phone_number: str) -> dict[str, Any]:
        resp = await request(
            "POST", f"{self.base}/sessions", json={"sender_id": sender_id, "phone_number": phone_number}
        )
        body = json_or_empty(resp)
        if resp.status_code >= 400 or not body.get("session_id"):
            raise status_error(
                resp, str((body.get("error") or {}).get("message") or "The gateway refused to start pairing")
            )
        return body

    async def session_status(self, session_token: str) -> dict[str, Any]:
        resp = await request(
            "GET", f"{self.base}/session", headers={"Authorization": f"Bearer {session_token}"}
        )
        body = json_or_empty(resp)
        if resp.status_code == 401:
            raise reauth(REPAIR, status=401)
        if resp.status_code >= 400:
            raise status_error(resp, "The gateway refused the status call")
        return body

    def _token(self, ctx: AccountContext) -> str:
        token = ctx.secrets.get("session_token")
        if not token:
            raise ProviderError(
                "Not paired yet: open Pair and scan the QR code.",
                kind=ErrorKind.NEEDS_ACTION,
                code="not_paired",
            )
        return token

    async def check_health(self, ctx: AccountContext) -> HealthResult:
        body = await self.session_status(self._token(ctx))
        if body.get("status") != "paired":
            raise reauth(REPAIR)
        return HealthResult(ok=True, details={"phone_number": body.get("phone_number")})

    def verify_webhook(self, ctx: AccountContext, headers: dict[str, str], body: bytes, url: str) -> bool:
        sent = {k.lower(): v for k, v in headers.items()}.get("x-lite-signature", "")
        token = ctx.secrets.get("session_token")
        if not token or not sent.startswith("sha256="):
            return False
        expected = "sha256=" + hmac.new(token.encode(), body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, sent.strip().lower())

    def parse_webhook(self, ctx: AccountContext, payload: dict[str, Any]) -> list[InboundEvent]:
        events = []
        for item in payload.get("events") or []:
            kind = {"message": "message", "delivered": "delivery", "read": "read"}.get(
                str(item.get("type")), "other"
            )
            ts = item.get("timestamp")
            when = datetime.fromtimestamp(int(ts), UTC) if str(ts or "").isdigit() else None
            events.append(InboundEvent(kind, item.get("id"), item.get("from"), item.get("text"), when, item))
        return events

    async def send(self, ctx: AccountContext, to: str, body: dict[str, Any]) -> SendResult:
        resp = await request(
            "POST",
            f"{self.base}/messages",
            json={"to": to, "type": "text", "text": {"body": str(body.get("text", ""))}},
            headers={"Authorization": f"Bearer {self._token(ctx)}"},
        )
        data = json_or_empty(resp)
        if resp.status_code >= 400:
            raise status_error(
                resp, str((data.get("error") or {}).get("message") or "The gateway refused the message")
            )
        return SendResult(str(data.get("message_id")), data)


register_adapter(ChannelType.WHATSAPP_LITE, WhatsAppLiteAdapter)
