"""Jinja2 templates for every page: one environment over web/templates and each domain's templates/."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request, Response
from fastapi.templating import Jinja2Templates

PACKAGE_DIR = Path(__file__).resolve().parent.parent
WEB_TEMPLATES = Path(__file__).resolve().parent / "templates"
FLASH_COOKIE = "sb_flash"


def template_dirs() -> list[Path]:
    """web/templates first (layouts), then every domain package's own templates/ folder."""
    domains = sorted(p for p in PACKAGE_DIR.glob("*/templates") if p.is_dir() and p != WEB_TEMPLATES)
    return [WEB_TEMPLATES, *domains]


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str | None
    active: bool = False


@dataclass(frozen=True)
class Flash:
    kind: str
    text: str


def _nav(request: Request) -> list[NavItem]:
    web = getattr(request.state, "web", None)
    if web is None:
        return []
    path = request.url.path
    items = [NavItem("Channels", "/settings/channels", path.startswith("/settings/channels"))]
    items.append(NavItem("Use cases", "/settings/use-cases", path.startswith("/settings/use-cases")))
    email_domains = "/settings/email-domains"
    items.append(NavItem("Email domains", email_domains, path.startswith(email_domains)))
    items.append(NavItem("Voice", "/settings/voice", path.startswith("/settings/voice")))
    if not web.principal.is_platform_admin:
        items.append(NavItem("Outlets", "/settings/outlets", path.startswith("/settings/outlets")))
    if web.principal.is_platform_admin:
        items.append(NavItem("Admin", "/admin/onboarding", path.startswith("/admin")))
    return items


def set_flash(response: Response, kind: str, text: str) -> None:
    """A one-shot message shown on the next full page (after a redirect)."""
    payload = base64.urlsafe_b64encode(json.dumps({"kind": kind, "text": text}).encode()).decode()
    response.set_cookie(FLASH_COOKIE, payload, max_age=60, httponly=True, samesite="lax", path="/")


def _take_flash(request: Request) -> Callable[[], Flash | None]:
    def take() -> Flash | None:
        raw = request.cookies.get(FLASH_COOKIE)
        if not raw:
            return None
        request.state.flash_taken = True
        try:
            data = json.loads(base64.urlsafe_b64decode(raw.encode()))
            kind = data["kind"] if data.get("kind") in {"success", "info", "warning", "danger"} else "info"
            return Flash(kind, str(data["text"])[:300])
        except (ValueError, KeyError, TypeError):
            return None

    return take


def _context(request: Request) -> dict[str, Any]:
    web = getattr(request.state, "web", None)
    settings = request.app.state.settings
    return {
        "current_user": web.principal if web else None,
        "organization_name": web.organization_name if web else None,
        "csrf_token": web.csrf_token if web else getattr(request.state, "login_csrf", ""),
        "nav": _nav(request),
        "sandbox": settings.provider_mode == "sandbox",
        "take_flash": _take_flash(request),
    }


env = jinja2.Environment(
    loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(d)) for d in template_dirs()]),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
templates = Jinja2Templates(env=env, context_processors=[_context])


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    return templates.TemplateResponse(request, name, context or {}, status_code=status_code, headers=headers)


def is_fetch(request: Request) -> bool:
    """Requests made by app.js (fragments, toggles) ask for fragments, not whole pages."""
    return request.headers.get("x-requested-with", "").lower() == "fetch"


def render_error(request: Request, status_code: int, title: str, message: str) -> Response:
    name = "error_fragment.html" if is_fetch(request) else "error.html"
    context = {"status_code": status_code, "title": title, "message": message}
    return render(request, name, context, status_code=status_code)
