"""Settings -> Email domains: SES setups, their DNS records with live "Check now", and deletion.
The rules live in SesSetupService; these pages only turn forms into its calls."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy import select
from starlette.datastructures import FormData

from switchboard.core.errors import AppError, Conflict, Forbidden, Unprocessable, from_validation_error
from switchboard.core.permissions import Permission, Principal
from switchboard.email.schemas import SesSetupCreate
from switchboard.email.service import SesSetupService
from switchboard.models import Organization, SesSetup, UseCase
from switchboard.usecases.pages import TIER_STYLES
from switchboard.web.auth import FormPrincipal, WebPrincipal
from switchboard.web.routing import WebDB, WebRoute
from switchboard.web.templating import render, set_flash

INDEX = "/settings/email-domains"

router = APIRouter(prefix=INDEX, route_class=WebRoute, include_in_schema=False)

PURPOSE_LABELS = {
    "dkim": "DKIM",
    "mail_from_mx": "MAIL FROM",
    "spf": "SPF",
    "dmarc": "DMARC",
    "inbound_mx": "Inbound",
}


def service(request: Request) -> SesSetupService:
    svc: SesSetupService = request.app.state.ses_setups
    return svc


Service = Annotated[SesSetupService, Depends(service)]


@dataclass(frozen=True)
class RecordView:
    purpose: str
    type: str
    address: str
    record: str
    verified: bool
    reason: str | None


@dataclass(frozen=True)
class UseCaseView:
    id: uuid.UUID
    label: str
    email_type: str
    tier: str
    tier_style: str


def _records(setup: SesSetup) -> list[RecordView]:
    return [
        RecordView(
            purpose=PURPOSE_LABELS.get(r["purpose"], r["purpose"]),
            type=r["type"],
            address=r["address"],
            record=r["record"],
            verified=bool(r.get("verified")),
            reason=r.get("reason"),
        )
        for r in setup.dns_records
    ]


def _abilities(principal: Principal) -> dict[str, bool]:
    return {
        "can_manage": principal.has(Permission.CHANNELS_MANAGE),
        # Platform admins belong to no organization, so a new domain would have nowhere to go.
        "can_add": principal.has(Permission.CHANNELS_MANAGE) and principal.organization_id is not None,
        "is_admin": principal.is_platform_admin,
    }


def _text(form: FormData, key: str) -> str:
    value = form.get(key)
    return value if isinstance(value, str) else ""


def _messages(error: Unprocessable) -> tuple[dict[str, str], list[str]]:
    by_field: dict[str, str] = {}
    general: list[str] = []
    for detail in error.details:
        field = str(detail.get("field", ""))
        message = str(detail.get("message") or detail.get("rule") or "invalid")
        if detail.get("rule") in ("missing", "string_too_short"):
            message = "This field is required."
        elif detail.get("rule") == "string_pattern_mismatch":
            message = "Use only letters, digits, hyphens and underscores."
        message = message.removeprefix("Value error, ")
        message = message[:1].upper() + message[1:]
        if field in ("tenant_name", "domain_identity"):
            by_field.setdefault(field, message)
        else:
            general.append(message)
    if not error.details:
        general.append(error.message)
    return by_field, general


# --- pages ---------------------------------------------------------------------------------------


@router.get("")
async def index(request: Request, session: WebDB, principal: WebPrincipal, svc: Service) -> Response:
    """Every email domain with its cached verification status (no DNS queries)."""
    setups = await svc.list_setups(session, principal)
    org_names: dict[uuid.UUID, str] = {}
    if principal.is_platform_admin and setups:
        ids = {s.organization_id for s in setups}
        result = await session.execute(
            select(Organization.id, Organization.name).where(Organization.id.in_(ids))
        )
        org_names = {row.id: row.name for row in result}
    rows = [
        {
            "setup": s,
            "organization": org_names.get(s.organization_id, ""),
            "verified_count": sum(1 for r in s.dns_records if r.get("verified")),
            "total": len(s.dns_records),
        }
        for s in setups
    ]
    return render(request, "email/index.html", {"rows": rows, **_abilities(principal)})


def _form(
    request: Request,
    tenant_name: str = "",
    domain: str = "",
    errors: dict[str, str] | None = None,
    general: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "tenant_name": tenant_name,
        "domain": domain,
        "errors": errors or {},
        "general_errors": general or [],
    }
    return render(request, "email/new.html", context, status_code=status_code)


def _require_add(principal: Principal) -> None:
    principal.require(Permission.CHANNELS_MANAGE)
    if principal.organization_id is None:
        raise Forbidden(
            "Email domains belong to tenants: sign in as one of the organization's admins to add one."
        )


@router.get("/new")
async def new(request: Request, principal: WebPrincipal) -> Response:
    """Add domain: tenant name and domain."""
    _require_add(principal)
    return _form(request)


@router.post("/new")
async def create(request: Request, session: WebDB, principal: FormPrincipal, svc: Service) -> Response:
    """Create the setup; invalid input or a conflict re-renders the form with the reason."""
    _require_add(principal)
    form = await request.form()
    tenant_name, domain = _text(form, "tenant_name").strip(), _text(form, "domain_identity").strip()
    try:
        data = SesSetupCreate.model_validate({"tenant_name": tenant_name, "domain_identity": domain})
        setup = await svc.create(session, principal, data)
    except ValidationError as exc:
        errors, general = _messages(from_validation_error(exc))
        return _form(request, tenant_name, domain, errors, general, 422)
    except Unprocessable as exc:
        errors, general = _messages(exc)
        return _form(request, tenant_name, domain, errors, general, 422)
    except Conflict as exc:
        if not session.is_active:
            raise  # a lost insert race spoilt the transaction: the error page rolls it back
        field = "tenant_name" if exc.code == "tenant_name_taken" else "domain_identity"
        message = exc.message[:1].upper() + exc.message[1:] + "."
        return _form(request, tenant_name, domain, {field: message}, [], 409)
    except AppError as exc:
        if exc.status_code != 503:
            raise
        return _form(request, tenant_name, domain, {}, [exc.message], 503)
    response = RedirectResponse(f"{INDEX}/{setup.id}", status_code=303)
    set_flash(
        response,
        "success",
        f"{setup.domain_identity} added. Publish the 7 records below at your DNS provider, then Check now.",
    )
    return response


@router.get("/{setup_id}")
async def detail(
    setup_id: uuid.UUID, request: Request, session: WebDB, principal: WebPrincipal, svc: Service
) -> Response:
    """One domain: the records to publish with their last known status (Check now refreshes)."""
    setup = await svc.get(session, principal, setup_id)
    use_cases = await session.scalars(
        select(UseCase).where(UseCase.ses_setup_id == setup.id).order_by(UseCase.created_at)
    )
    context = {
        "setup": setup,
        "records": _records(setup),
        "verified_count": sum(1 for r in setup.dns_records if r.get("verified")),
        "use_cases": [
            UseCaseView(
                id=u.id,
                label=f"{u.entity_name} · {u.name}",
                email_type=u.email_type or "",
                tier=u.tier or "",
                tier_style=TIER_STYLES.get(u.tier or "", "text-bg-secondary"),
            )
            for u in use_cases
        ],
        **_abilities(principal),
    }
    return render(request, "email/detail.html", context)


@router.post("/{setup_id}/check")
async def check_now(
    setup_id: uuid.UUID, request: Request, session: WebDB, principal: FormPrincipal, svc: Service
) -> Response:
    """Check now: the same live DNS refresh as GET /v1/ses-setup/{id}."""
    setup = await svc.refresh(session, principal, setup_id)
    verified = sum(1 for r in setup.dns_records if r.get("verified"))
    response = RedirectResponse(f"{INDEX}/{setup.id}", status_code=303)
    if setup.dns_verified:
        set_flash(response, "success", f"All {verified} DNS records are verified.")
    else:
        set_flash(
            response,
            "warning",
            f"{verified} of {len(setup.dns_records)} DNS records verified. See each record's status below.",
        )
    return response


@router.get("/{setup_id}/delete")
async def confirm_delete(
    setup_id: uuid.UUID, request: Request, session: WebDB, principal: WebPrincipal, svc: Service
) -> Response:
    """Delete, step 1: say what goes with it."""
    principal.require(Permission.CHANNELS_MANAGE)
    setup = await svc.get(session, principal, setup_id)
    return render(request, "email/delete.html", {"setup": setup, "error": None})


@router.post("/{setup_id}/delete")
async def delete(
    setup_id: uuid.UUID, request: Request, session: WebDB, principal: FormPrincipal, svc: Service
) -> Response:
    """Delete, step 2: the setup, its domain identity and its reputation boundary."""
    setup = await svc.get(session, principal, setup_id)
    domain = setup.domain_identity
    try:
        await svc.delete(session, principal, setup_id)
    except AppError as exc:
        if exc.status_code not in (409, 503):
            raise
        return render(request, "email/delete.html", {"setup": setup, "error": exc.message}, exc.status_code)
    response = RedirectResponse(INDEX, status_code=303)
    set_flash(response, "success", f"{domain} deleted.")
    return response
