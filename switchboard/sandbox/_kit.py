"""Small shared pieces of the provider emulators: the labelled HTML page, redirects, PKCE."""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse


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
