"""Sandbox Shopify: the Admin API's shop.json for a custom app, and signed webhook deliveries.

Shops are created on first use with the access token they are called with (so a newcomer can
connect offline); `revoke` makes that token answer 401 as Shopify does for an uninstalled app.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import httpx2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from switchboard.connectors.shopify_adapter import shopify_signature
from switchboard.sandbox._kit import page


@dataclass
class Shop:
    domain: str
    access_token: str
    revoked: bool = False


class ShopifySandbox:
    def __init__(self) -> None:
        self.shops: dict[str, Shop] = {}
        self.app = Starlette(
            routes=[
                Route("/", self.index),
                Route("/{shop}/admin/api/{version}/shop.json", self.shop_json),
            ]
        )

    def revoke(self, domain: str) -> None:
        self.shops[domain].revoked = True

    async def index(self, request: Request) -> Any:
        return page("Sandbox Shopify", f"<p>{len(self.shops)} shop(s) known.</p>")

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
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": "inbox/message_created",
            "X-Shopify-Hmac-Sha256": shopify_signature(client_secret, body),
            "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
        }
        return httpx2.post(url, content=body, headers=headers, timeout=10)
