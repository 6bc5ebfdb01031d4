"""Sandbox ShrinkIt push service: apps, webhook registration, notifications, signed receipts, in
our assumed contract (no public ShrinkIt Push API exists; see docs/connections.md).

An app is created on first use with the API key it is called with (so a newcomer can connect
offline); `revoke` makes the key answer 401.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from switchboard.connectors.shrinkit_adapter import shrinkit_signature
from switchboard.sandbox._kit import page


@dataclass
class App:
    id: str
    api_key: str
    revoked: bool = False
    webhook_url: str = ""
    webhook_secret: str = ""
    sent: list[dict[str, Any]] = field(default_factory=list)


class ShrinkItSandbox:
    def __init__(self) -> None:
        self.apps: dict[str, App] = {}
        self._ids = itertools.count(1)
        self._events = itertools.count(1)
        self.app = Starlette(
            routes=[
                Route("/", self.index),
                Route("/v1/apps/{app_id}", self.get_app),
                Route("/v1/apps/{app_id}/webhook", self.set_webhook, methods=["PUT"]),
                Route("/v1/apps/{app_id}/notifications", self.notify, methods=["POST"]),
            ]
        )

    async def index(self, request: Request) -> Any:
        return page("Sandbox ShrinkIt Push", f"<p>{len(self.apps)} app(s) known.</p>")

    def _auth(self, request: Request) -> App | None:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        app_id = request.path_params["app_id"]
        app = self.apps.setdefault(app_id, App(app_id, given))
        return app if given and not app.revoked and given == app.api_key else None

    async def get_app(self, request: Request) -> JSONResponse:
        app = self._auth(request)
        if app is None:
            return JSONResponse({"error": "invalid API key"}, 401)
        return JSONResponse({"id": app.id, "name": f"App {app.id}"})

    async def set_webhook(self, request: Request) -> JSONResponse:
        app = self._auth(request)
        if app is None:
            return JSONResponse({"error": "invalid API key"}, 401)
        data = await request.json()
        app.webhook_url, app.webhook_secret = str(data.get("url") or ""), str(data.get("secret") or "")
        return JSONResponse({"url": app.webhook_url})

    async def notify(self, request: Request) -> JSONResponse:
        app = self._auth(request)
        if app is None:
            return JSONResponse({"error": "invalid API key"}, 401)
        data = await request.json()
        if not data.get("to") or not data.get("title"):
            return JSONResponse({"error": "to and title are required"}, 400)
        notification = {"id": f"n_{next(self._ids)}", **data}
        app.sent.append(notification)
        return JSONResponse(notification, 201)

    def receipt(
        self, app_id: str, notification_id: str, kind: str = "delivered"
    ) -> tuple[str, bytes, dict[str, str]]:
        """(webhook URL, body, headers) of a signed receipt, as the service would post it."""
        app = self.apps[app_id]
        body = json.dumps(
            {"event_id": f"ev_{next(self._events)}", "type": kind, "notification_id": notification_id,
             "device_id": "device-1"}
        ).encode()  # fmt: skip
        headers = {
            "Content-Type": "application/json",
            "X-ShrinkIt-Signature": shrinkit_signature(app.webhook_secret, body),
        }
        return app.webhook_url, body, headers
