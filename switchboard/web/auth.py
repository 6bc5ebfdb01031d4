"""Browser sign-in: server-side sessions, CSRF tokens and the login rate limit.

The `sb_session` cookie holds a random token; only its SHA-256 is stored (WebSession.token_hash),
so a leaked database cannot be replayed as cookies. Each session has its own CSRF token, required
on every POST as the `csrf_token` form field or the `X-CSRF-Token` header.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request, Response
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.core.config import Settings
from switchboard.core.deps import principal_for_user
from switchboard.core.errors import Unauthorized
from switchboard.core.permissions import Principal
from switchboard.core.security import constant_time_equals, new_token, sha256_hex, verify_password
from switchboard.models import LoginAttempt, Membership, Organization, User, WebSession
from switchboard.web.routing import CsrfFailed, LoginRequired, WebDB

SESSION_COOKIE = "sb_session"
LOGIN_CSRF_COOKIE = "sb_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


@dataclass
class WebContext:
    """The signed-in browser: its session row, user and the same Principal the API builds."""

    row: WebSession
    user: User
    principal: Principal
    organization_name: str | None
    csrf_token: str  # copied out of the row: a rollback (form errors) expires ORM attributes


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def set_cookie(
    request: Request, response: Response, name: str, value: str, max_age: int, path: str = "/"
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        httponly=True,
        samesite="lax",
        secure=_settings(request).cookie_secure,
    )


def clear_cookie(request: Request, response: Response, name: str, path: str = "/") -> None:
    response.delete_cookie(
        name, path=path, httponly=True, samesite="lax", secure=_settings(request).cookie_secure
    )


async def load_web_context(request: Request, session: AsyncSession) -> WebContext | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > 200:
        return None
    row = await session.scalar(select(WebSession).where(WebSession.token_hash == sha256_hex(token)))
    if row is None or row.expires_at <= datetime.now(UTC):
        return None
    user = await session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    try:
        principal = await principal_for_user(session, user, row.organization_id, "web")
    except Unauthorized:  # removed from the organization since signing in
        return None
    org = await session.get(Organization, row.organization_id) if row.organization_id else None
    return WebContext(row, user, principal, org.name if org else None, row.csrf_token)


def _next_path(request: Request) -> str:
    query = f"?{request.url.query}" if request.url.query else ""
    return request.url.path + query


async def web_principal(request: Request, session: WebDB) -> Principal:
    """The signed-in user's Principal, or a redirect to /login?next=..."""
    ctx = await load_web_context(request, session)
    if ctx is None:
        raise LoginRequired(_next_path(request))
    request.state.web = ctx
    return ctx.principal


WebPrincipal = Annotated[Principal, Depends(web_principal)]


async def _sent_csrf(request: Request) -> str:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    form = await request.form()
    value = form.get(CSRF_FIELD)
    return value if isinstance(value, str) else ""


async def csrf_principal(request: Request, principal: WebPrincipal) -> Principal:
    """For every POST: signed in, and the session's CSRF token came back with the form."""
    expected = request.state.web.csrf_token
    sent = await _sent_csrf(request)
    if not sent or not constant_time_equals(sent, expected):
        raise CsrfFailed
    return principal


FormPrincipal = Annotated[Principal, Depends(csrf_principal)]


def login_csrf_token(request: Request) -> str:
    """The login form has no session yet, so its token is a double-submit cookie."""
    current = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    return current if 20 <= len(current) <= 100 else new_token()


async def check_login_csrf(request: Request) -> None:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    sent = await _sent_csrf(request)
    if not cookie or not sent or not constant_time_equals(cookie, sent):
        raise CsrfFailed


def safe_next(value: str | None) -> str:
    """Only paths on this site: never //host or a scheme, so the login form is no open redirect."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    if any(ord(c) < 32 for c in value):
        return "/"
    return value


# --- login rate limit ---------------------------------------------------------------------------


def attempt_keys(email: str, client_ip: str) -> list[str]:
    # The e-mail is hashed: the table is for counting, not a list of who tried to sign in.
    return [f"email:{sha256_hex(email.strip().lower())}", f"ip:{client_ip}"]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def seconds_until_allowed(session: AsyncSession, settings: Settings, keys: list[str]) -> int:
    """0 when a login may be tried; otherwise how long until the oldest counted failure ages out."""
    now = datetime.now(UTC)
    cutoff = now - timedelta(seconds=settings.login_window_seconds)
    wait = 0
    for key in keys:
        count, oldest = (
            await session.execute(
                select(func.count(), func.min(LoginAttempt.at)).where(
                    LoginAttempt.key == key, LoginAttempt.at > cutoff
                )
            )
        ).one()
        if count >= settings.login_attempts_per_window and oldest is not None:
            if oldest.tzinfo is None:
                oldest = oldest.replace(tzinfo=UTC)
            left = (oldest - cutoff).total_seconds()
            wait = max(wait, max(1, math.ceil(left)))
    return wait


async def record_failure(session: AsyncSession, settings: Settings, keys: list[str]) -> None:
    now = datetime.now(UTC)
    for key in keys:
        session.add(LoginAttempt(id=uuid.uuid4(), key=key, at=now))
    # Old rows count for nothing; drop them while we are here.
    cutoff = now - timedelta(seconds=settings.login_window_seconds)
    await session.execute(delete(LoginAttempt).where(LoginAttempt.key.in_(keys), LoginAttempt.at <= cutoff))


async def authenticate(session: AsyncSession, email: str, password: str) -> User | None:
    user = await session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.is_active:
        return None
    return user


async def home_organization(session: AsyncSession, user: User) -> uuid.UUID | None:
    """Tenants work in their (first) organization; platform admins belong to none."""
    if user.is_platform_admin:
        return None
    return await session.scalar(
        select(Membership.organization_id)
        .where(Membership.user_id == user.id)
        .order_by(Membership.created_at, Membership.id)
        .limit(1)
    )


async def start_session(
    session: AsyncSession, settings: Settings, user: User, organization_id: uuid.UUID | None
) -> str:
    """A fresh token on every sign-in (no session fixation); returns the cookie value."""
    token = new_token()
    now = datetime.now(UTC)
    await session.execute(
        delete(WebSession).where(WebSession.user_id == user.id, WebSession.expires_at <= now)
    )
    session.add(
        WebSession(
            id=uuid.uuid4(),
            token_hash=sha256_hex(token),
            user_id=user.id,
            organization_id=organization_id,
            csrf_token=new_token(),
            expires_at=now + timedelta(seconds=settings.session_max_age_seconds),
        )
    )
    return token


async def clear_failures(session: AsyncSession, email: str) -> None:
    await session.execute(delete(LoginAttempt).where(LoginAttempt.key == attempt_keys(email, "")[0]))
