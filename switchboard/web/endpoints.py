"""Sign-in, sign-out and the start page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from switchboard.core.config import Settings
from switchboard.web import auth
from switchboard.web.auth import FormPrincipal
from switchboard.web.routing import WebDB, WebRoute
from switchboard.web.templating import render, set_flash

router = APIRouter(route_class=WebRoute, include_in_schema=False)

LOGIN_CSRF_MAX_AGE = 3600


def _login_page(
    request: Request, next_path: str, *, email: str = "", error: str | None = None, status_code: int = 200
) -> Response:
    token = auth.login_csrf_token(request)
    request.state.login_csrf = token
    context = {"next_path": next_path, "email": email, "error": error}
    response = render(request, "login.html", context, status_code=status_code)
    auth.set_cookie(request, response, auth.LOGIN_CSRF_COOKIE, token, LOGIN_CSRF_MAX_AGE, path="/login")
    return response


@router.get("/")
async def home() -> RedirectResponse:
    """The start page is the channel list."""
    return RedirectResponse("/settings/channels", status_code=303)


@router.get("/login")
async def login_form(request: Request, session: WebDB, next: str | None = None) -> Response:
    """The sign-in form."""
    next_path = auth.safe_next(next)
    if await auth.load_web_context(request, session) is not None:
        return RedirectResponse(next_path, status_code=303)
    return _login_page(request, next_path)


@router.post("/login")
async def login(
    request: Request,
    session: WebDB,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the password, start a session, go where the user was heading."""
    await auth.check_login_csrf(request)
    settings: Settings = request.app.state.settings
    next_path = auth.safe_next(next)
    keys = auth.attempt_keys(email, auth.client_ip(request))
    wait = await auth.seconds_until_allowed(session, settings, keys)
    if wait:
        minutes = max(1, round(wait / 60))
        message = (
            f"Too many failed sign-in attempts. Sign-in is paused for this account and address; "
            f"try again in about {minutes} minute{'s' if minutes != 1 else ''}."
        )
        response = _login_page(request, next_path, email=email, error=message, status_code=429)
        response.headers["Retry-After"] = str(wait)
        return response
    user = await auth.authenticate(session, email, password) if email and password else None
    org_id = await auth.home_organization(session, user) if user else None
    if user is None or (org_id is None and not user.is_platform_admin):
        await auth.record_failure(session, settings, keys)
        return _login_page(
            request, next_path, email=email, error="The e-mail or password is incorrect.", status_code=401
        )
    await auth.clear_failures(session, email)
    token = await auth.start_session(session, settings, user, org_id)
    response = RedirectResponse(next_path, status_code=303)
    auth.set_cookie(request, response, auth.SESSION_COOKIE, token, settings.session_max_age_seconds)
    auth.clear_cookie(request, response, auth.LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request, session: WebDB, _principal: FormPrincipal) -> Response:
    """End the session: the row is deleted, so the cookie is worthless even if kept."""
    await session.delete(request.state.web.row)
    response = RedirectResponse("/login", status_code=303)
    auth.clear_cookie(request, response, auth.SESSION_COOKIE)
    set_flash(response, "info", "You have been signed out.")
    return response
