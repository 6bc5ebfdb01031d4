"""Sandbox push service (what FCM / Mozilla autopush are to browsers), plus a fake browser.

`POST /push/<id>` accepts an RFC 8291 aes128gcm message authorised with RFC 8292 VAPID
(`Authorization: vapid t=<JWT>, k=<public key>`): the JWT's ES256 signature, `aud` (this origin)
and `exp` (at most 24 h ahead) are checked. A subscription marked gone answers 410, as a push
service does once the browser unsubscribed. `new_subscription` plays the browser: it makes the
P-256 key pair and auth secret and can decrypt what arrived.

Over HTTP, for a newcomer: `POST /subscriptions` (the form on `/`, or JSON) is a browser subscribing
on this service; it answers 201 with the browser's `PushSubscription.toJSON()`, and with a
`channel_id` also stores it with the platform, as a tenant's subscribe snippet would
(`POST /push/<channel id>/subscriptions`). `GET /subscriptions/<id>` shows what that browser
received, decrypted.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from switchboard.sandbox._kit import Platform, Refused, esc, form_or_json, page


def _b64d(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def _b64e(value: bytes) -> str:
    return base64.urlsafe_b64encode(value).rstrip(b"=").decode()


@dataclass
class BrowserSubscription:
    id: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes
    received: list[bytes] = field(default_factory=list)
    gone: bool = False


def vapid_ok(authorization: str, origin: str) -> bool:
    """RFC 8292: `vapid t=<jwt>, k=<key>`; ES256 over the JWT, aud = push origin, exp <= 24 h."""
    if not authorization.lower().startswith("vapid "):
        return False
    parts = dict(p.strip().split("=", 1) for p in authorization[6:].split(",") if "=" in p)
    try:
        header_b64, claims_b64, sig_b64 = parts["t"].split(".")
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), _b64d(parts["k"]))
        sig = _b64d(sig_b64)
        der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
        key.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
        claims = json.loads(_b64d(claims_b64))
    except (KeyError, ValueError, InvalidSignature):
        return False
    now = time.time()
    return claims.get("aud") == origin and now < int(claims.get("exp", 0)) <= now + 86400


class PushSandbox:
    def __init__(self) -> None:
        self.subscriptions: dict[str, BrowserSubscription] = {}
        self.base_url = ""  # set by whoever serves it (or configure()), to build endpoints
        self.platform = Platform()
        self.app = Starlette(
            routes=[
                Route("/", self.index),
                Route("/push/{sub_id}", self.receive, methods=["POST"]),
                Route("/subscriptions", self.browser_subscribes, methods=["POST"]),
                Route("/subscriptions/{sub_id}", self.browser_inbox),
            ]
        )

    def configure(self, settings: Any) -> None:
        """Mounted in the app: endpoints live under its public base URL."""
        self.platform.configure(settings)
        self.base_url = self.base_url or f"{self.platform.url}/sandbox/push"

    async def index(self, request: Request) -> Any:
        rows = "".join(
            f'<li><a href="subscriptions/{esc(sub.id)}">{esc(sub.id)}</a>: {len(sub.received)} push(es)'
            f"{' (unsubscribed)' if sub.gone else ''}</li>"
            for sub in self.subscriptions.values()
        )
        body = (
            f"<ul>{rows or '<li>No subscription yet.</li>'}</ul>"
            "<p>Subscribe a pretend browser to a Web Push channel (connected, so it has its VAPID key); "
            "the channel id is in the channel page's address.</p>"
            '<form method="post" action="subscriptions">'
            '<input name="channel_id" placeholder="Channel id" aria-label="Channel id" required> '
            "<button>Subscribe a browser</button></form>"
        )
        return page("Sandbox push service", body)

    async def browser_subscribes(self, request: Request) -> Response:
        as_json, data = await form_or_json(request)
        if data is None:
            return JSONResponse({"error": "Send a JSON object or a form.", "field": "body"}, 400)
        sub, info = self.new_subscription()
        channel_id = str(data.get("channel_id") or "").strip()
        stored: int | None = None
        if channel_id:
            try:
                url = self.platform.at(f"push/{self.platform.channel(channel_id)}/subscriptions")
                stored = await self.platform.post(
                    url, json.dumps(info).encode(), {"Content-Type": "application/json"}
                )
            except Refused as exc:
                self.subscriptions.pop(sub.id, None)
                if as_json:
                    return JSONResponse({"error": exc.message, "field": exc.field}, exc.status)
                return page("Sandbox push service", f"<p>{esc(exc.message)}</p>", exc.status)
        if as_json:
            return JSONResponse({**info, **({"stored": stored} if stored else {})}, 201)
        outcome = f"<p>Stored by the channel: it answered {stored}.</p>" if stored else ""
        return page(
            "Sandbox push service",
            f"<p>Subscribed <a href='subscriptions/{esc(sub.id)}'>{esc(sub.id)}</a>.</p>{outcome}"
            f"<pre>{esc(json.dumps(info, indent=2))}</pre>",
            201,
        )

    async def browser_inbox(self, request: Request) -> Response:
        sub = self.subscriptions.get(request.path_params["sub_id"])
        if sub is None:
            return JSONResponse({"error": "no such subscription"}, 404)
        received = [self.decrypt(sub, i).decode("utf-8", "replace") for i in range(len(sub.received))]
        return JSONResponse(
            {"endpoint": f"{self.base_url}/push/{sub.id}", "received": received, "gone": sub.gone}
        )

    def new_subscription(self) -> tuple[BrowserSubscription, dict[str, Any]]:
        """A browser's `PushSubscription.toJSON()` for a fresh subscription on this service."""
        sub = BrowserSubscription(
            secrets.token_hex(8), ec.generate_private_key(ec.SECP256R1()), secrets.token_bytes(16)
        )
        self.subscriptions[sub.id] = sub
        point = sub.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return sub, {
            "endpoint": f"{self.base_url}/push/{sub.id}",
            "keys": {"p256dh": _b64e(point), "auth": _b64e(sub.auth)},
        }

    def decrypt(self, sub: BrowserSubscription, index: int = -1) -> bytes:
        return bytes(
            http_ece.decrypt(
                sub.received[index], private_key=sub.private_key, auth_secret=sub.auth, version="aes128gcm"
            )
        )

    async def receive(self, request: Request) -> Response:
        sub = self.subscriptions.get(request.path_params["sub_id"])
        if sub is None or sub.gone:
            return Response(status_code=410 if sub else 404)
        origin = f"{request.url.scheme}://{request.url.netloc}"
        if not vapid_ok(request.headers.get("authorization", ""), origin):
            return Response("invalid VAPID authorization", status_code=403)
        if request.headers.get("content-encoding") != "aes128gcm" or "ttl" not in request.headers:
            return Response("Content-Encoding aes128gcm and TTL are required", status_code=400)
        body = await request.body()
        if len(body) > 4096:
            return Response(status_code=413)
        sub.received.append(body)
        return Response(status_code=201, headers={"Location": f"{origin}/messages/{len(sub.received)}"})
