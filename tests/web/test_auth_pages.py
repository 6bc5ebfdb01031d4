"""Browser sign-in: sessions, cookie flags, CSRF on every form, logout, the login rate limit."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from switchboard.core.config import Settings
from switchboard.core.security import sha256_hex
from switchboard.models import LoginAttempt, WebSession
from tests.support.tenants import Tenant
from tests.support.web import FETCH, Browser, csrf_from, set_cookies

TG_TOKEN = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"


@pytest.fixture
def web(client: TestClient) -> Iterator[Browser]:
    client.cookies.clear()
    yield Browser(client)
    client.cookies.clear()


def _login_post(web: Browser, email: str, password: str, **extra: Any) -> Any:
    token = csrf_from(web.get("/login").text)
    data = {"email": email, "password": password, "csrf_token": token, **extra}
    return web.client.post("/login", data=data, follow_redirects=False)


def _sessions(db: Any) -> list[WebSession]:
    async def go(s: Any) -> list[WebSession]:
        return list(await s.scalars(select(WebSession)))

    return db.session(go)


def test_pages_redirect_to_login_when_signed_out(web: Browser, db: Any) -> None:
    r = web.get("/settings/channels/new", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2Fsettings%2Fchannels%2Fnew"
    assert web.get("/", follow_redirects=False).headers["location"] == "/settings/channels"
    # The fragment is fetched by app.js: it answers 401 and says where to sign in.
    r = web.fragment()
    assert r.status_code == 401
    assert r.headers["x-login-url"].startswith("/login")
    # A POST without a session goes to the login page, never runs.
    r = web.post(f"/settings/channels/{uuid.uuid4()}/toggle", {"is_active": "true"}, csrf="x")
    assert (r.status_code, r.headers["location"]) == (303, "/login")


def test_login_success_sets_session_and_goes_next(web: Browser, tenant: Tenant, db: Any) -> None:
    r = _login_post(web, tenant.email.upper(), tenant.password, next="/settings/channels/new")
    assert r.status_code == 303
    assert r.headers["location"] == "/settings/channels/new"
    cookie = set_cookies(r)["sb_session"]
    token = cookie.split(";", 1)[0].split("=", 1)[1]
    rows = _sessions(db)
    assert len(rows) == 1
    # Only the token's hash is stored.
    assert rows[0].token_hash == sha256_hex(token)
    assert token not in {rows[0].token_hash, rows[0].csrf_token}
    assert rows[0].organization_id == tenant.organization_id
    page = web.get("/settings/channels/new")
    assert page.status_code == 200
    assert tenant.email in page.text
    # Signed in, the login page sends you on.
    assert web.get("/login", follow_redirects=False).status_code == 303


def test_login_failure_shows_message_and_records_attempt(web: Browser, tenant: Tenant, db: Any) -> None:
    r = _login_post(web, tenant.email, "wrong password")
    assert r.status_code == 401
    assert "The e-mail or password is incorrect." in r.text
    assert "sb_session" not in set_cookies(r)
    r = _login_post(web, "nobody@example.com", tenant.password)
    assert r.status_code == 401
    assert "The e-mail or password is incorrect." in r.text

    async def attempts(s: Any) -> list[str]:
        return list(await s.scalars(select(LoginAttempt.key)))

    keys = db.session(attempts)
    assert len(keys) == 4  # per e-mail and per address, for both failures
    assert not any(tenant.email in k for k in keys)  # e-mails are stored hashed
    assert web.get("/settings/channels", follow_redirects=False).status_code == 303


def test_next_parameter_cannot_leave_the_site(web: Browser, tenant: Tenant) -> None:
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"):
        web.client.cookies.clear()
        r = _login_post(web, tenant.email, tenant.password, next=evil)
        assert r.status_code == 303
        assert r.headers["location"] == "/"


def test_cookie_flags(web: Browser, tenant: Tenant, settings: Settings) -> None:
    login_page = web.get("/login")
    csrf_cookie = set_cookies(login_page)["sb_login_csrf"]
    assert "HttpOnly" in csrf_cookie
    assert "samesite=lax" in csrf_cookie.lower()
    r = _login_post(web, tenant.email, tenant.password)
    cookie = set_cookies(r)["sb_session"]
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    assert "Path=/" in cookie
    assert f"Max-Age={settings.session_max_age_seconds}" in cookie
    assert "Secure" not in cookie  # cookie_secure is off in tests (plain http)


def test_cookies_are_secure_when_configured(
    web: Browser, tenant: Tenant, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "cookie_secure", True)
    page = web.get("/login")
    assert "Secure" in set_cookies(page)["sb_login_csrf"]
    token = csrf_from(page.text)
    # A Secure cookie is not sent back over plain http by the client, so send it by hand.
    web.client.cookies.clear()
    r = web.client.post(
        "/login",
        data={"email": tenant.email, "password": tenant.password, "csrf_token": token},
        headers={"Cookie": f"sb_login_csrf={token}"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    cookie = set_cookies(r)["sb_session"]
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    # Every other cookie a page sets is Secure too: the flash message and the cleared session.
    session_cookie = cookie.split(";", 1)[0]
    page = web.client.get("/settings/channels", headers={"Cookie": session_cookie})
    r = web.client.post(
        "/logout",
        data={"csrf_token": csrf_from(page.text)},
        headers={"Cookie": session_cookie},
        follow_redirects=False,
    )
    assert r.status_code == 303
    cookies = set_cookies(r)
    assert {"sb_session", "sb_flash"} <= set(cookies)
    assert all("Secure" in c and "HttpOnly" in c for c in cookies.values())


def test_logout_deletes_the_session(web: Browser, tenant: Tenant, db: Any) -> None:
    web.login(tenant)
    old_cookie = web.client.cookies.get("sb_session")
    assert len(_sessions(db)) == 1
    r = web.post("/logout")
    assert r.status_code == 303
    assert r.headers["location"] == "/login"
    assert "sb_session" in set_cookies(r)
    assert _sessions(db) == []
    login_page = web.get("/login")
    assert "You have been signed out." in login_page.text
    # The old cookie is worthless now: its row is gone.
    web.client.cookies.set("sb_session", old_cookie or "")
    assert web.get("/settings/channels", follow_redirects=False).status_code == 303


def test_session_expires(web: Browser, tenant: Tenant, db: Any) -> None:
    web.login(tenant)
    assert web.get("/settings/channels", follow_redirects=False).status_code == 200

    async def expire(s: Any) -> None:
        await s.execute(update(WebSession).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))

    db.session(expire)
    r = web.get("/settings/channels", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login")


def test_session_ends_when_membership_is_removed(
    web: Browser, tenant: Tenant, member_of: Any, db: Any
) -> None:
    member = member_of(tenant)
    web.login(member)
    from switchboard.models import Membership

    async def remove(s: Any) -> None:
        m = await s.scalar(select(Membership).where(Membership.user_id == member.user_id))
        await s.delete(m)

    db.session(remove)
    assert web.get("/settings/channels", follow_redirects=False).status_code == 303


def _create_account(client: TestClient, t: Tenant) -> str:
    body = {"name": "Support bot", "type": "TELEGRAM", "settings": {"bot_token": TG_TOKEN}}
    r = client.post("/rest/v1/channel_accounts", json=body, headers=t.headers)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_csrf_is_required_on_every_post(web: Browser, tenant: Tenant) -> None:
    account_id = _create_account(web.client, tenant)
    web.login(tenant)
    forms = {
        "/settings/channels/new/telegram": {"name": "x", "settings.bot_token": TG_TOKEN},
        f"/settings/channels/{account_id}/edit": {"name": "Hijacked"},
        f"/settings/channels/{account_id}/toggle": {"is_active": "true"},
        f"/settings/channels/{account_id}/delete": {},
        "/logout": {},
    }
    for url, data in forms.items():
        for token in ("", "not-the-token", web.csrf[:-1]):
            r = web.post(url, data, csrf=token)
            assert r.status_code == 403, (url, token, r.status_code)
            assert "security token" in r.text
            r = web.client.post(url, data=data, headers={"X-CSRF-Token": "wrong"}, follow_redirects=False)
            assert r.status_code == 403, url
    # Nothing happened: the account is unchanged and the session still works.
    acc = web.client.get(f"/rest/v1/channel_accounts/{account_id}", headers=tenant.headers).json()
    assert (acc["name"], acc["is_active"]) == ("Support bot", False)
    assert web.client.get("/rest/v1/channel_accounts", headers=tenant.headers).json()["total"] == 1
    assert web.get("/settings/channels", follow_redirects=False).status_code == 200
    # The header form of the token works for fetch calls.
    r = web.client.post(
        f"/settings/channels/{account_id}/toggle",
        data={"is_active": "true"},
        headers={"X-CSRF-Token": web.csrf, **FETCH},
    )
    assert r.status_code == 200
    assert "Active" in r.text


def test_login_form_needs_its_csrf_token(web: Browser, tenant: Tenant) -> None:
    token = csrf_from(web.get("/login").text)
    data = {"email": tenant.email, "password": tenant.password}
    for sent in ("", "forged-token-value-123456"):
        r = web.client.post("/login", data={**data, "csrf_token": sent}, follow_redirects=False)
        assert r.status_code == 403
    # The right token without its cookie (a cross-site form) fails too.
    web.client.cookies.clear()
    r = web.client.post("/login", data={**data, "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 403


def test_login_rate_limit_per_email(web: Browser, tenant: Tenant, settings: Settings, db: Any) -> None:
    limit = settings.login_attempts_per_window
    for _ in range(limit):
        assert _login_post(web, tenant.email, "wrong").status_code == 401
    # Now even the right password is refused until the window passes.
    r = _login_post(web, tenant.email, tenant.password)
    assert r.status_code == 429
    assert "Too many failed sign-in attempts" in r.text
    assert 0 < int(r.headers["retry-after"]) <= settings.login_window_seconds
    assert "sb_session" not in set_cookies(r)
    assert _sessions(db) == []

    async def age(s: Any) -> None:
        old = datetime.now(UTC) - timedelta(seconds=settings.login_window_seconds + 1)
        await s.execute(update(LoginAttempt).values(at=old))

    db.session(age)
    assert _login_post(web, tenant.email, tenant.password).status_code == 303


def test_login_rate_limit_per_address(web: Browser, make_tenant: Any, settings: Settings) -> None:
    victim = make_tenant("Victim Co")
    for i in range(settings.login_attempts_per_window):
        assert _login_post(web, f"guess-{i}@example.com", "wrong").status_code == 401
    r = _login_post(web, victim.email, victim.password)
    assert r.status_code == 429


def test_success_clears_the_emails_failures(web: Browser, tenant: Tenant, settings: Settings) -> None:
    for _ in range(settings.login_attempts_per_window - 1):
        assert _login_post(web, tenant.email, "wrong").status_code == 401
    assert _login_post(web, tenant.email, tenant.password).status_code == 303
    web.client.cookies.clear()
    assert _login_post(web, tenant.email, "wrong").status_code == 401


def test_platform_admin_can_sign_in(web: Browser, platform_admin: Tenant) -> None:
    web.login(platform_admin)
    page = web.get("/settings/channels")
    assert page.status_code == 200
    assert "Platform admin" in page.text
    assert "Channels belong to tenants" in page.text
    assert "/settings/channels/new" not in page.text
    assert web.get("/settings/channels/new").status_code == 403


def test_pages_send_security_headers(web: Browser, tenant: Tenant) -> None:
    r = web.get("/login")
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["cache-control"] == "no-store"
    # Assets come from the installed packages, never a CDN.
    assert "/static/bootstrap/css/bootstrap.min.css" in r.text
    # Nothing is loaded from another origin (no CDN).
    assert re.search(r'(src|href)="(https?:)?//', r.text) is None
    assert web.get("/static/bootstrap/css/bootstrap.min.css").status_code == 200
    assert web.get("/static/bootstrap/js/bootstrap.bundle.min.js").status_code == 200
    assert web.get("/static/app/app.js").status_code == 200
