"""Sandbox Shopify: the Admin API's shop.json for a custom app, and signed webhook deliveries.

Shops are created on first use with the access token they are called with (so a newcomer can
connect offline); `revoke` makes that token answer 401 as Shopify does for an uninstalled app.

`POST /simulate/message` (the form on `/`, or JSON `{shop, channel_id, client_secret, from, text}`)
is a customer writing in the shop's chat: the webhook, signed with the custom app's client secret
(which Shopify knows and the sandbox does not, so it is asked for), goes to the channel's webhook
`/webhooks/<channel id>`.
"""

from __future__ import annotations

import itertools
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from switchboard.connectors.shopify_adapter import shopify_signature
from switchboard.sandbox._kit import Platform, Refused, esc, hidden, page, simulate


@dataclass
class Shop:
    domain: str
    access_token: str
    revoked: bool = False


class ShopifySandbox:
    def __init__(self) -> None:
        self.shops: dict[str, Shop] = {}
        self.platform = Platform()
        self._ids = itertools.count(9000000001)
        self.app = Starlette(
            routes=[
                Route("/", self.index),
                Route("/simulate/message", self.simulate_message, methods=["POST"]),
                Route("/{shop}/admin/api/{version}/shop.json", self.shop_json),
            ]
        )

    def revoke(self, domain: str) -> None:
        self.shops[domain].revoked = True

    def configure(self, settings: Any) -> None:
        self.platform.configure(settings)

    async def index(self, request: Request) -> Any:
        rows = "".join(
            f"<li><b>{esc(shop.domain)}</b>"
            f'<form method="post" action="simulate/message">{hidden("shop", shop.domain)}'
            '<input name="channel_id" placeholder="Channel id" aria-label="Channel id" required> '
            '<input name="client_secret" type="password" placeholder="App client secret" '
            'aria-label="App client secret" required> '
            '<input name="from" value="customer@example.net" aria-label="Customer email"> '
            '<input name="text" placeholder="Message" aria-label="Message" required> '
            "<button>Write in the shop chat as a customer</button></form></li>"
            for shop in self.shops.values()
            if not shop.revoked
        )
        body = (
            "<p>Any shop domain and Admin API token connect (Test connection claims the shop). Then write "
            "in its chat as a customer: the webhook is signed with the custom app's client secret and "
            "goes to the channel's webhook (its id is in the channel page's address).</p>"
            f"<ul>{rows or '<li>No shop connected yet.</li>'}</ul>"
        )
        return page("Sandbox Shopify", body)

    async def simulate_message(self, request: Request) -> Any:
        async def write(fields: dict[str, str]) -> tuple[int, dict[str, Any]]:
            url = self.platform.channel_webhook(fields["channel_id"])
            shop = self.shops.get(fields["shop"])
            if shop is None or shop.revoked:
                raise Refused(404, "shop", f"{fields['shop']!r} is not connected: use Test connection first.")
            if not fields["client_secret"]:
                raise Refused(422, "client_secret", "client_secret is required: Shopify signs with it.")
            if not fields["text"]:
                raise Refused(422, "text", "text is required.")
            payload = self.chat_message(fields["from"] or "customer@example.net", fields["text"])
            body = json.dumps(payload).encode()
            headers = self.webhook_headers(fields["client_secret"], body)
            headers["X-Shopify-Shop-Domain"] = shop.domain
            status = await self.platform.post(url, body, headers)
            return status, {"message_id": payload["id"]}

        return await simulate(
            request, "Sandbox Shopify", ("shop", "channel_id", "client_secret", "from", "text"), write
        )

    def chat_message(self, customer_email: str, text: str) -> dict[str, Any]:
        message_id = next(self._ids)
        return {
            "id": message_id,
            "conversation_id": message_id - 1000,
            "body": text,
            "sender": {"type": "customer", "email": customer_email},
            "created_at": datetime.now(UTC).isoformat(),
        }

    @staticmethod
    def webhook_headers(client_secret: str, body: bytes, webhook_id: str | None = None) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "X-Shopify-Topic": "inbox/message_created",
            "X-Shopify-Hmac-Sha256": shopify_signature(client_secret, body),
            "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
        }

    async def shop_json(self, request: Request) -> JSONResponse:
        domain = request.path_params["shop"]
        given = request.headers.get("x-shopify-access-token", "")
        shop = self.shops.setdefault(domain, Shop(domain, given))
        if not given or shop.revoked or given != shop.access_token:
            return JSONResponse(
                {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"},
                401,
            )
        return JSONResponse({"shop": {"id": 1, "name": domain.split(".")[0], "myshopify_domain": domain}})

    @staticmethod
    def deliver(
        url: str, client_secret: str, payload: dict[str, Any], webhook_id: str | None = None
    ) -> httpx2.Response:
        """POST a webhook signed with the app's client secret, with Shopify's headers."""
        body = json.dumps(payload).encode()
        headers = ShopifySandbox.webhook_headers(client_secret, body, webhook_id)
        return httpx2.post(url, content=body, headers=headers, timeout=10)
