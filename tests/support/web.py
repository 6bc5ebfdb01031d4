"""Driving the server-rendered pages from tests: sign in through the real form, read CSRF tokens."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx2 as httpx
from fastapi.testclient import TestClient

from tests.support.tenants import Tenant

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
FETCH = {"X-Requested-With": "fetch"}


def csrf_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no csrf_token field on the page"
    return match.group(1)


def set_cookies(response: httpx.Response) -> dict[str, str]:
    """Set-Cookie headers by cookie name, as the raw header text (flags included)."""
    out = {}
    for header in response.headers.get_list("set-cookie"):
        out[header.split("=", 1)[0]] = header
    return out


class Browser:
    """The shared TestClient used like one browser: its own cookie jar, cleared per test."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.csrf = ""

    def login(self, who: Tenant, next_path: str = "/settings/channels") -> httpx.Response:
        self.client.cookies.clear()
        token = csrf_from(self.client.get("/login").text)
        r = self.client.post(
            "/login",
            data={"email": who.email, "password": who.password, "csrf_token": token, "next": next_path},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        self.csrf = csrf_from(self.client.get("/settings/channels").text)
        return r

    def get(self, url: str, **kw: Any) -> httpx.Response:
        return self.client.get(url, **kw)

    def fragment(self, url: str = "/settings/channels/table") -> httpx.Response:
        return self.client.get(url, headers=FETCH)

    def post(
        self, url: str, data: dict[str, Any] | None = None, *, csrf: str | None = None, **kw: Any
    ) -> httpx.Response:
        body = dict(data or {})
        token = self.csrf if csrf is None else csrf
        if token:
            body["csrf_token"] = token
        kw.setdefault("follow_redirects", False)
        return self.client.post(url, data=body, **kw)


def allow_byom(db: Any, organization_id: uuid.UUID) -> None:
    """Turn on every BYOM flag for an organization, as a platform admin would (through the service),
    so the tenant may connect its own WhatsApp, SMS, email and RCS."""
    from switchboard.core.permissions import Principal, Role
    from switchboard.tenancy.byom import GATED, byom

    admin = Principal(uuid.uuid4(), "platform-admin@tests", Role.PLATFORM_ADMIN, None, "test")

    async def go(session: Any) -> None:
        await byom.set_flags(session, admin, organization_id, dict.fromkeys(GATED, True))

    db.session(go)
