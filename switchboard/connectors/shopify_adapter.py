"""Shopify Inbox adapter: custom-app credentials checked on shop.json; webhooks signed by the app."""

from __future__ import annotations

import base64
import hashlib
import hmac
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
from switchboard.connectors.http import base_url, json_or_empty, request, status_error

HMAC_HEADER = "x-shopify-hmac-sha256"
ID_HEADER = "x-shopify-webhook-id"


def shopify_signature(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


class ShopifyAdapter:
    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self.template = base_url(settings, "shopify")
        self.version = settings.shopify_api_version

    def _shop_url(self, ctx: AccountContext) -> str:
        return self.template.replace("{shop}", str(ctx.settings.get("shop_domain", "")))

    async def check_health(self, ctx: AccountContext) -> HealthResult:
        token = ctx.secrets.get("admin_api_access_token")
        if not token or not ctx.secrets.get("client_secret"):
            raise ProviderError(
                "Admin API access token and client secret are required",
                kind=ErrorKind.NEEDS_ACTION,
                code="missing_credentials",
            )
        response = await request(
            "GET",
            f"{self._shop_url(ctx)}/admin/api/{self.version}/shop.json",
            headers={"X-Shopify-Access-Token": token},
        )
        data = json_or_empty(response)
        if response.status_code != 200:
            message = f"Shopify shop.json: {data.get('errors') or f'HTTP {response.status_code}'}"
            raise status_error(response, message, f"shopify_{response.status_code}", "token_revoked")
        shop = data.get("shop") or {}
        return HealthResult(ok=True, details={"shop": shop.get("myshopify_domain"), "name": shop.get("name")})

    async def connect(self, ctx: AccountContext) -> HealthResult:
        return await self.check_health(ctx)

    def verify_webhook(self, ctx: AccountContext, headers: dict[str, str], body: bytes, url: str) -> bool:
        secret = ctx.secrets.get("client_secret", "")
        given = headers.get(HMAC_HEADER, "")
        return bool(secret) and hmac.compare_digest(given.encode(), shopify_signature(secret, body).encode())

    def webhook_event_id(self, headers: dict[str, str], payload: dict[str, Any]) -> str | None:
        return headers.get(ID_HEADER) or None

    def parse_webhook(self, ctx: AccountContext, payload: dict[str, Any]) -> list[InboundEvent]:
        sender = payload.get("sender") or {}
        return [
            InboundEvent(
                kind="message",
                provider_message_id=str(payload.get("id") or payload.get("message_id") or ""),
                sender=str(sender.get("email") or sender.get("id") or payload.get("customer_id") or ""),
                text=payload.get("body") or payload.get("content"),
                raw={"conversation_id": payload.get("conversation_id")},
            )
        ]

    async def send(self, ctx: AccountContext, to: str, body: dict[str, Any]) -> SendResult:
        # Shopify documents no public reply API for Inbox; replies are not wired yet.
        raise ProviderError(
            "Shopify Inbox replies are not available yet", kind=ErrorKind.PERMANENT, code="unsupported"
        )


register_adapter(ChannelType.SHOPIFY_INBOX, ShopifyAdapter)
