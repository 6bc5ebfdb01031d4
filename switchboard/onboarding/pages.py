"""The tenant's side of managed channels: the setup wizard (Managed, or BYOM when allowed), each
request's status page with its DNS records, and the resubmit form after a rejection."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from switchboard.connectors import REGISTRY
from switchboard.core.errors import Conflict, Forbidden, NotFound, Unprocessable, from_validation_error
from switchboard.core.permissions import Permission, Principal
from switchboard.models import OnboardingRequest, Organization
from switchboard.onboarding.schemas import (
    CHANNEL_LABELS,
    DNS_CHANNELS,
    STATUS_LABELS,
    BusinessInfo,
    Channel,
    OnboardingRequestCreate,
    OnboardingRequestDetail,
    Status,
    Vertical,
    vertical_label,
)
from switchboard.onboarding.service import OnboardingService
from switchboard.tenancy.byom import GATED, PerceptionRule, byom, is_allowed
from switchboard.tenancy.outlets import outlets
from switchboard.web.auth import FormPrincipal, WebPrincipal
from switchboard.web.routing import WebDB, WebRoute
from switchboard.web.templating import render, set_flash

router = APIRouter(prefix="/settings/channels/managed", route_class=WebRoute, include_in_schema=False)
BASE = "/settings/channels/managed"

STATUS_STYLES = {
    "pending": "text-bg-secondary",
    "in_progress": "text-bg-primary",
    "dns_setup": "text-bg-warning",
    "active": "text-bg-success",
    "rejected": "text-bg-danger",
}
STEP_STYLES = {
    "pending": "text-bg-light border",
    "running": "text-bg-primary",
    "succeeded": "text-bg-success",
    "failed": "text-bg-danger",
}
BUSINESS_FIELDS = ("company_name", "website", "vertical", "expected_monthly_volume", "use_case", "notes")
VERTICALS = [(v.value, vertical_label(v.value)) for v in Vertical]


def service(request: Request) -> OnboardingService:
    svc: OnboardingService = request.app.state.onboarding
    return svc


Service = Annotated[OnboardingService, Depends(service)]


def template_globals() -> dict[str, Any]:
    """Labels and styles shared by the tenant and admin templates."""
    return {
        "channel_labels": {c.value: label for c, label in CHANNEL_LABELS.items()},
        "status_labels": {s.value: label for s, label in STATUS_LABELS.items()},
        "status_styles": STATUS_STYLES,
        "step_styles": STEP_STYLES,
        "verticals": VERTICALS,
        "vertical_label": vertical_label,
    }


@dataclass
class BusinessForm:
    values: dict[str, str]
    errors: dict[str, str]


def read_business_form(form: FormData) -> tuple[BusinessInfo | None, BusinessForm]:
    values = {k: str(form.get(k) or "").strip() for k in BUSINESS_FIELDS}
    data: dict[str, Any] = {k: v for k, v in values.items() if v != ""}
    if "notes" not in data:
        data["notes"] = None
    try:
        return BusinessInfo.model_validate(data), BusinessForm(values, {})
    except ValidationError as exc:
        return None, BusinessForm(values, field_messages(from_validation_error(exc)))


def field_messages(error: Unprocessable) -> dict[str, str]:
    out: dict[str, str] = {}
    for detail in error.details:
        field = str(detail.get("field", "")).removeprefix("business_info.")
        message = str(detail.get("message") or detail.get("rule") or "invalid")
        if detail.get("rule") == "missing":
            message = "This field is required."
        message = message.removeprefix("Value error, ")
        out.setdefault(field or "form", message[:1].upper() + message[1:])
    if not error.details:
        out["form"] = error.message
    return out


def _tenant(principal: Principal) -> uuid.UUID:
    principal.require(Permission.CHANNELS_READ)
    if principal.organization_id is None:
        raise Forbidden(
            "Managed channels are requested by a tenant: sign in as one of the organization's admins."
        )
    return principal.organization_id


def _channel(value: str | None) -> Channel:
    try:
        return Channel(value or Channel.WHATSAPP.value)
    except ValueError as exc:
        raise NotFound("There is no such managed channel.") from exc


async def _open_request(
    session: AsyncSession, org_id: uuid.UUID, channel: Channel
) -> OnboardingRequest | None:
    return await session.scalar(
        select(OnboardingRequest)
        .where(
            OnboardingRequest.organization_id == org_id,
            OnboardingRequest.channel == channel.value,
            OnboardingRequest.status != Status.ACTIVE.value,
        )
        .order_by(OnboardingRequest.created_at.desc())
        .limit(1)
    )


# --- pages ---------------------------------------------------------------------------------------


@router.get("")
async def index(request: Request, session: WebDB, principal: WebPrincipal, svc: Service) -> Response:
    """The organization's managed channel requests."""
    _tenant(principal)
    rows, _ = await svc.list_requests(session, principal, limit=200)
    items = [await svc.read(session, r) for r in rows]
    return render(request, "onboarding/index.html", {"items": items, **template_globals()})


async def _wizard(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    channel: Channel,
    form: BusinessForm | None = None,
    status_code: int = 200,
) -> Response:
    org_id = _tenant(principal)
    org = await session.get(Organization, org_id)
    if org is None:
        raise NotFound("Organization not found.")
    family = channel.value
    gated = family in GATED
    allowed = is_allowed(org, family)
    byom_types = [
        {"key": d.type.value.lower(), "label": d.label, "description": d.description}
        for d in REGISTRY.values()
        if d.byom_family == family
    ]
    preferences = await byom.preferences(session, principal, family) if gated and allowed else None
    senders = (
        (await outlets.senders(session, principal, family)).senders if family in ("whatsapp", "sms") else []
    )
    context = {
        "channel": channel.value,
        "channels": [c.value for c in Channel],
        "gated": gated,
        "byom_allowed": allowed,
        "byom_types": byom_types,
        "preferences": preferences,
        "perception_rules": [r.value for r in PerceptionRule],
        "senders": [s for s in senders if s.phone_number],
        "open_request": await _open_request(session, org_id, channel),
        "form": form or BusinessForm({}, {}),
        "can_request": principal.has(Permission.CHANNELS_CONNECT),
        "can_set_preferences": principal.has(Permission.ORG_ADMIN),
        "dns_channel": channel in DNS_CHANNELS,
        **template_globals(),
    }
    return render(request, "onboarding/new.html", context, status_code=status_code)


@router.get("/new")
async def new(
    request: Request,
    session: WebDB,
    principal: WebPrincipal,
    channel: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """The channel setup wizard: Managed (always) or BYOM (once a platform admin allows it)."""
    return await _wizard(request, session, principal, _channel(channel))


@router.post("/new")
async def create(request: Request, session: WebDB, principal: FormPrincipal, svc: Service) -> Response:
    """Send a Managed request with the business info."""
    form = await request.form()
    channel = _channel(str(form.get("channel") or ""))
    info, parsed = read_business_form(form)
    if info is None:
        return await _wizard(request, session, principal, channel, parsed, status_code=422)
    try:
        req = await svc.create(
            session, principal, OnboardingRequestCreate(channel=channel, business_info=info)
        )
    except Unprocessable as exc:
        parsed.errors = field_messages(exc)
        return await _wizard(request, session, principal, channel, parsed, status_code=422)
    response = RedirectResponse(f"{BASE}/{req.id}", status_code=303)
    set_flash(response, "success", f"Your Managed {CHANNEL_LABELS[channel]} request was sent for review.")
    return response


@router.post("/preferences")
async def save_preferences(request: Request, session: WebDB, principal: FormPrincipal) -> Response:
    """The customer-perception rule and sender pin (BYOM surfaces, refused while the flag is off)."""
    form = await request.form()
    channel = _channel(str(form.get("channel") or ""))
    rule_value = str(form.get("perception_rule") or "")
    pin_value = str(form.get("sender_pin") or "")
    try:
        rule = PerceptionRule(rule_value) if rule_value else None
        pin = uuid.UUID(pin_value) if pin_value else None
    except ValueError as exc:
        raise Unprocessable("The preferences form could not be read.") from exc
    await byom.set_preferences(session, principal, channel.value, rule, pin, clear_pin=pin is None)
    response = RedirectResponse(f"{BASE}/new?channel={channel.value}", status_code=303)
    set_flash(response, "success", f"{CHANNEL_LABELS[channel]} preferences saved.")
    return response


async def _status_page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    svc: OnboardingService,
    request_id: uuid.UUID,
    form: BusinessForm | None = None,
    status_code: int = 200,
) -> Response:
    _tenant(principal)
    req = await svc.get(session, principal, request_id)
    detail = await svc.read(session, req, revisions=True)
    assert isinstance(detail, OnboardingRequestDetail)
    info = detail.business_info
    resubmit = form or BusinessForm({k: str(info.get(k) or "") for k in BUSINESS_FIELDS}, {})
    context = {
        "req": detail,
        "form": resubmit,
        "can_act": principal.has(Permission.CHANNELS_CONNECT),
        "dns_channel": detail.channel in DNS_CHANNELS,
        **template_globals(),
    }
    return render(request, "onboarding/status.html", context, status_code=status_code)


@router.get("/{request_id}")
async def status(
    request: Request, request_id: uuid.UUID, session: WebDB, principal: WebPrincipal, svc: Service
) -> Response:
    """One request: where it stands, the DNS records to publish, or why it was rejected."""
    return await _status_page(request, session, principal, svc, request_id)


@router.post("/{request_id}/confirm-dns")
async def confirm_dns(
    request_id: uuid.UUID, session: WebDB, principal: FormPrincipal, svc: Service
) -> Response:
    """The tenant has published the records: check them."""
    response = RedirectResponse(f"{BASE}/{request_id}", status_code=303)
    try:
        await svc.confirm_dns(session, principal, request_id)
    except Conflict as exc:
        set_flash(response, "warning", exc.message)
        return response
    set_flash(response, "info", "Thanks! We are checking your DNS records now; this page shows the result.")
    return response


@router.post("/{request_id}/resubmit")
async def resubmit(
    request: Request, request_id: uuid.UUID, session: WebDB, principal: FormPrincipal, svc: Service
) -> Response:
    """Send corrected business info after a rejection."""
    form = await request.form()
    info, parsed = read_business_form(form)
    if info is None:
        return await _status_page(request, session, principal, svc, request_id, parsed, status_code=422)
    response = RedirectResponse(f"{BASE}/{request_id}", status_code=303)
    try:
        await svc.resubmit(session, principal, request_id, info, None)
    except Unprocessable as exc:
        parsed.errors = field_messages(exc)
        return await _status_page(request, session, principal, svc, request_id, parsed, status_code=422)
    except Conflict as exc:
        set_flash(response, "warning", exc.message)
        return response
    set_flash(response, "success", "Your request was resubmitted for review.")
    return response
