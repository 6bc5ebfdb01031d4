"""Sandbox ShrinkIt push service: apps, webhook registration, notifications, signed receipts, in
our assumed contract (no public ShrinkIt Push API exists; see docs/connections.md).

An app is created on first use with the API key it is called with (so a newcomer can connect
offline); `revoke` makes the key answer 401.

`POST /simulate/receipt` (the buttons on `/`, or JSON `{app_id, notification_id, type}`) is a device
reporting a notification `delivered` or `opened`: the signed receipt goes to the webhook the app
registered (connecting does that; deleting the channel removes it: `DELETE /v1/apps/{id}/webhook`,
204, or 404 when none is registered). Without `notification_id`, the app's latest notification.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from switchboard.connectors.shrinkit_adapter import shrinkit_signature
from switchboard.sandbox._kit import Platform, Refused, esc, hidden, page, simulate


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
        self.platform = Platform()
        self.app = Starlette(
            routes=[
                Route("/", self.index),
                Route("/simulate/receipt", self.simulate_receipt, methods=["POST"]),
                Route("/v1/apps/{app_id}", self.get_app),
                Route("/v1/apps/{app_id}/webhook", self.set_webhook, methods=["PUT"]),
                Route("/v1/apps/{app_id}/webhook", self.delete_webhook, methods=["DELETE"]),
                Route("/v1/apps/{app_id}/notifications", self.notify, methods=["POST"]),
            ]
        )

    def configure(self, settings: Any) -> None:
        self.platform.configure(settings)

    async def index(self, request: Request) -> Any:
        def buttons(app: App, notification: dict[str, Any]) -> str:
            return "".join(
                f'<form method="post" action="simulate/receipt" style="display:inline">'
                f"{hidden('app_id', app.id)}{hidden('notification_id', str(notification['id']))}"
                f"{hidden('type', kind)}<button>{kind.capitalize()}</button></form>"
                for kind in ("delivered", "opened")
            )

        rows = "".join(
            f"<li>App <b>{esc(app.id)}</b>, webhook {esc(app.webhook_url or 'not registered')}<ul>"
            + "".join(
                f"<li><code>{esc(n['id'])}</code> to {esc(n.get('to'))}: {esc(n.get('title'))} "
                f"{buttons(app, n)}</li>"
                for n in app.sent[-20:][::-1]
            )
            + "</ul></li>"
            for app in self.apps.values()
        )
        body = (
            "<p>Any app id and API key connect. Notifications the channel sends are listed here; report "
            "one delivered or opened as the device would.</p>"
            f"<ul>{rows or '<li>No app yet.</li>'}</ul>"
        )
        return page("Sandbox ShrinkIt Push", body)

    async def simulate_receipt(self, request: Request) -> Any:
        async def report(fields: dict[str, str]) -> tuple[int, dict[str, Any]]:
            app = self.apps.get(fields["app_id"])
            if app is None or not app.webhook_url:
                raise Refused(404, "app_id", "That app has no webhook yet: connect the channel first.")
            notification_id = fields["notification_id"] or (str(app.sent[-1]["id"]) if app.sent else "")
            if not any(str(n["id"]) == notification_id for n in app.sent):
                raise Refused(404, "notification_id", "The app sent no such notification.")
            kind = fields["type"] or "delivered"
            if kind not in ("delivered", "opened"):
                raise Refused(422, "type", "type must be delivered or opened.")
            url, body, headers = self.receipt(app.id, notification_id, kind)
            status = await self.platform.post(url, body, headers)
            return status, {"notification_id": notification_id, "type": kind}

        return await simulate(request, "Sandbox ShrinkIt Push", ("app_id", "notification_id", "type"), report)

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

    async def delete_webhook(self, request: Request) -> Response:
        app = self._auth(request)
        if app is None:
            return JSONResponse({"error": "invalid API key"}, 401)
        if not app.webhook_url:
            return JSONResponse({"error": "no webhook registered"}, 404)
        app.webhook_url, app.webhook_secret = "", ""
        return Response(status_code=204)

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
