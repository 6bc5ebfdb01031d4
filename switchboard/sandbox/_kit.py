"""Small shared pieces of the provider emulators: the labelled HTML page, redirects, PKCE, and
posting a customer's message back to the platform as the provider's webhook."""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx2
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response


def page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
    """Every emulator page says loudly that it is a sandbox."""
    doc = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:560px;margin:40px auto;padding:0 16px}}
.banner{{background:#ffc107;padding:6px 10px;font-weight:600;border-radius:4px}}
.card{{border:1px solid #ccc;border-radius:8px;padding:20px;margin-top:16px}}
button{{padding:8px 16px;margin-right:8px}}</style></head>
<body><div class="banner" data-testid="sandbox-banner">
Sandbox — emulated provider, nothing leaves this machine</div>
<div class="card"><h1 style="font-size:1.3em">{html.escape(title)}</h1>{body}</div></body></html>"""
    return HTMLResponse(doc, status_code=status_code)


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def hidden(name: str, value: str) -> str:
    return f'<input type="hidden" name="{esc(name)}" value="{esc(value)}">'


def redirect_with(uri: str, params: dict[str, str]) -> RedirectResponse:
    sep = "&" if "?" in uri else "?"
    return RedirectResponse(uri + sep + urlencode({k: v for k, v in params.items() if v is not None}), 302)


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def bearer(request: Request) -> str:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.query_params.get("access_token", "")


def token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(24)


@dataclass
class Grant:
    """An authorization code: who it was for and what it grants."""

    client_id: str
    redirect_uri: str
    scopes: list[str]
    code_challenge: str | None = None
    expires_at: float = field(default_factory=lambda: time.time() + 600)
    used: bool = False


@dataclass
class Token:
    kind: str  # user | page | system | access | refresh
    scopes: list[str]
    expires_at: float | None = None
    subject: str = ""
    revoked: bool = False

    def valid(self) -> bool:
        return not self.revoked and (self.expires_at is None or self.expires_at > time.time())


# --- "A customer writes": the emulators' pages post provider-shaped webhooks back to the platform --


class Refused(Exception):
    """A simulation the emulator cannot carry out; `field` names the input at fault."""

    def __init__(self, status: int, field: str, message: str) -> None:
        super().__init__(message)
        self.status, self.field, self.message = status, field, message


class Platform:
    """Where an in-app emulator sends its webhooks: the platform's public base URL, learnt through
    `configure(settings)` when the app mounts it. Only URLs under it are ever called, so nothing
    leaves the machine."""

    def __init__(self) -> None:
        self.url = ""

    def configure(self, settings: Any) -> None:
        self.url = str(settings.public_base_url).rstrip("/")

    def at(self, path: str) -> str:
        if not self.url:
            raise Refused(409, "platform", "This emulator is not mounted in a Switchboard app.")
        return f"{self.url}/{path.lstrip('/')}"

    def webhook(self, path: str) -> str:
        return self.at(f"webhooks/{path.lstrip('/')}")

    @staticmethod
    def channel(channel_id: str) -> str:
        try:
            return str(uuid.UUID(channel_id))
        except ValueError:
            raise Refused(
                422, "channel_id", "channel_id must be the channel's id, as in /settings/channels/<id>/edit."
            ) from None

    def channel_webhook(self, channel_id: str) -> str:
        """The per-channel webhook URL (`/webhooks/<channel id>`) a provider console would be given."""
        return self.webhook(self.channel(channel_id))

    def owns(self, url: str) -> bool:
        return bool(self.url) and url.startswith(self.url + "/")

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """POST a webhook to the platform; the answer's status code."""
        return (await self.exchange(url, body, headers))[0]

    async def exchange(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        """POST to the platform; the answer's status code and text (a URL check reads the text)."""
        if not self.owns(url):
            raise Refused(409, "url", "Webhooks only go to this Switchboard's own address.")
        try:
            async with httpx2.AsyncClient(timeout=10) as client:
                response = await client.post(url, content=body, headers=headers)
        except httpx2.HTTPError as exc:
            raise Refused(502, "url", f"The platform could not be reached: {exc}") from exc
        return response.status_code, response.text

    async def get(self, url: str, params: dict[str, str], timeout: float = 10) -> tuple[int, str, str]:
        """GET a platform URL (a provider validating a webhook URL): status, content type and text."""
        if not self.owns(url):
            raise Refused(409, "url", "Webhooks only go to this Switchboard's own address.")
        try:
            async with httpx2.AsyncClient(timeout=timeout) as client:
                response = await client.get(url, params=params)
        except httpx2.TimeoutException as exc:
            raise Refused(504, "url", f"The platform did not answer within {timeout:g} s.") from exc
        except httpx2.HTTPError as exc:
            raise Refused(502, "url", f"The platform could not be reached: {exc}") from exc
        return response.status_code, response.headers.get("content-type", ""), response.text


async def form_or_json(request: Request) -> tuple[bool, dict[str, Any] | None]:
    """A page's form or a JSON object: (whether it came as JSON, its fields; None if it is neither)."""
    as_json = request.headers.get("content-type", "").startswith("application/json")
    try:
        data = await request.json() if as_json else dict(await request.form())
    except ValueError:
        return as_json, None
    return as_json, data if isinstance(data, dict) else None


async def simulate(
    request: Request,
    title: str,
    names: tuple[str, ...],
    action: Callable[[dict[str, str]], Awaitable[tuple[int, dict[str, Any]]]],
) -> Response:
    """Run a "customer writes" action (served at /simulate/<what>, so "Back" is ../) from a page's
    form or a JSON object (the named fields, stripped). `action` posts the webhook and returns the
    platform's status and details to show. A form gets a labelled page back, JSON gets
    `{"delivered", "webhook_status", ...}`."""
    as_json, data = await form_or_json(request)
    try:
        if data is None:
            raise Refused(400, "body", "Send a JSON object or a form.")
        status, details = await action({n: str(data.get(n) or "").strip() for n in names})
    except Refused as exc:
        if as_json:
            return JSONResponse({"delivered": False, "error": exc.message, "field": exc.field}, exc.status)
        return page(title, f'<p>{esc(exc.message)}</p><p><a href="../">Back</a></p>', exc.status)
    ok = 200 <= status < 300
    if as_json:
        return JSONResponse({"delivered": ok, "webhook_status": status, **details}, 200 if ok else 502)
    outcome = "Delivered" if ok else "Refused"
    return page(
        title,
        f'<p data-testid="delivered">{outcome}: the platform answered {status}.</p>'
        '<p><a href="../">Back</a></p>',
        200 if ok else 502,
    )
