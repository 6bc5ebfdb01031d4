"""The route class every page uses: one transaction per request, HTML error pages, safe headers."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException as StarletteHTTPException

from switchboard.core.db import session_scope
from switchboard.core.errors import AppError
from switchboard.web.templating import FLASH_COOKIE, is_fetch, render_error

log = logging.getLogger("switchboard.web")

# No inline script or style anywhere, so the policy can stay strict; Bootstrap's icons are data: URIs.
# No form-action: Chromium applies it to redirects too, and OAuth "Connect" forms redirect off-site.
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

TITLES = {
    400: "Bad request",
    401: "Sign-in required",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict",
    422: "Invalid input",
    429: "Too many requests",
    500: "Something went wrong",
    502: "Provider error",
    503: "Provider unavailable",
}


class LoginRequired(Exception):
    """No valid session: full pages redirect to the login form, fetch calls get a 401."""

    def __init__(self, next_path: str | None = None) -> None:
        super().__init__("login required")
        self.next_path = next_path


class CsrfFailed(Exception):
    pass


def login_url(next_path: str | None) -> str:
    return "/login" + (f"?{urlencode({'next': next_path})}" if next_path else "")


_session = asynccontextmanager(session_scope)


def _secure_cookies(response: Response) -> None:
    """Behind TLS every cookie a page sets is Secure, whichever helper set it (flash messages too)."""
    headers = []
    for name, value in response.raw_headers:
        if name == b"set-cookie":
            attributes = [a.strip().lower() for a in value.split(b";")[1:]]
            if b"secure" not in attributes:
                value += b"; Secure"
        headers.append((name, value))
    response.raw_headers = headers


class WebRoute(APIRoute):
    """Owns the request's transaction so it commits before the response leaves (a redirect after a
    POST must see its own write) and rolls back whenever the page ends in an error."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                async with _session(request.app.state.runtime.sessionmaker) as session:
                    request.state.db = session
                    response = await handler(request)
            except LoginRequired as exc:
                if is_fetch(request):
                    response = render_error(request, 401, TITLES[401], "Your session has expired.")
                    response.headers["X-Login-Url"] = login_url("/settings/channels")
                else:
                    # After a POST the form is gone: come back to the start page instead.
                    target = exc.next_path if request.method == "GET" else None
                    response = RedirectResponse(login_url(target), status_code=303)
            except CsrfFailed:
                response = render_error(
                    request,
                    403,
                    "Form expired",
                    "The form's security token is missing or does not match. Reload the page and try again.",
                )
            except AppError as exc:
                response = render_error(
                    request, exc.status_code, TITLES.get(exc.status_code, "Error"), exc.message
                )
            except RequestValidationError as exc:
                if any(e.get("loc", ("",))[0] == "path" for e in exc.errors()):
                    # A malformed id names nothing, like an unknown one.
                    response = render_error(request, 404, TITLES[404], "That page does not exist.")
                else:
                    response = render_error(request, 400, TITLES[400], "The form could not be read.")
            except StarletteHTTPException as exc:
                response = render_error(
                    request, exc.status_code, TITLES.get(exc.status_code, "Error"), str(exc.detail)
                )
            except Exception:
                # Logged like the API's handler does; the page says nothing about the cause.
                log.exception("page failed", extra={"path": request.url.path})
                response = render_error(request, 500, TITLES[500], "An unexpected error occurred.")
            if getattr(request.state, "flash_taken", False):
                response.delete_cookie(FLASH_COOKIE, path="/", httponly=True, samesite="lax")
            if request.app.state.settings.cookie_secure:
                _secure_cookies(response)
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return route


def web_db(request: Request) -> AsyncSession:
    session: AsyncSession = request.state.db
    return session


WebDB = Annotated[AsyncSession, Depends(web_db)]
