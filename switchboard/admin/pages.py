"""/admin: the platform admin's pages. Channel Onboarding (queue, detail, actions), organizations with
the BYOM Channel Gating power card and their outlets, and the outbox of tenant emails."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from switchboard.core.pagination import Page
from switchboard.core.permissions import Principal
from switchboard.models import OnboardingRequest, Organization
from switchboard.notifications.service import STATUSES as NOTIFICATION_STATUSES
from switchboard.notifications.service import notifications
from switchboard.onboarding.pages import template_globals
from switchboard.onboarding.schemas import (
    COMMON_REJECTION_REASONS,
    AdminRequestDetail,
    Channel,
    OnboardingRequestDetail,
    Status,
)
from switchboard.onboarding.service import OnboardingService
from switchboard.tenancy.byom import GATED, byom, flag_name, flags
from switchboard.tenancy.outlets import outlets
from switchboard.tenancy.service import tenancy
from switchboard.web.auth import FormPrincipal, WebPrincipal
from switchboard.web.routing import WebDB, WebRoute
from switchboard.web.templating import render, set_flash

router = APIRouter(prefix="/admin", route_class=WebRoute, include_in_schema=False)
PAGE_SIZE = 25
OTHER = "other"
OPEN = [Status.PENDING.value, Status.IN_PROGRESS.value, Status.DNS_SETUP.value]

ACTION_LABELS = {
    "start": "Start review",
    "provision": "Provision",
    "issue_dns": "Issue DNS records",
    "check_dns": "Check DNS now",
    "activate": "Activate",
}
DONE_MESSAGES = {
    "start": "Review started.",
    "provision": "Provisioning started: the steps run in the background.",
    "retry": "The step will run again.",
    "issue_dns": "DNS records issued: the tenant sees them in its setup wizard.",
    "check_dns": "DNS check queued.",
    "activate": "Activated: the channel is live and the tenant has been told.",
    "reject": "Rejected: the tenant sees the reason and can resubmit.",
}


def service(request: Request) -> OnboardingService:
    svc: OnboardingService = request.app.state.onboarding
    return svc


Service = Annotated[OnboardingService, Depends(service)]


def _admin(principal: Principal) -> None:
    if not principal.is_platform_admin:
        raise Forbidden("The admin pages are for platform admins.", code="permission_denied")


def _context(**extra: Any) -> dict[str, Any]:
    return {**template_globals(), "admin_section": True, **extra}


def _reason(choice: str, text: str) -> str:
    """The reason picker: a common reason, free text, or both (the text adds detail)."""
    choice, text = choice.strip(), text.strip()
    if choice and choice != OTHER:
        return f"{choice}: {text}" if text else choice
    return text


@router.get("")
async def admin_home(principal: WebPrincipal) -> RedirectResponse:
    """The admin area opens on the Channel Onboarding queue."""
    _admin(principal)
    return RedirectResponse("/admin/onboarding", status_code=303)


# --- Channel Onboarding --------------------------------------------------------------------------


@router.get("/onboarding")
async def queue(
    request: Request,
    session: WebDB,
    principal: WebPrincipal,
    svc: Service,
    status: Annotated[str, Query(max_length=20)] = "",
    channel: Annotated[str, Query(max_length=20)] = "",
    sort: Annotated[str, Query(max_length=4)] = "desc",
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    """Managed channel requests to review, filtered and sorted by request date."""
    _admin(principal)
    try:
        status_filter = Status(status) if status else None
        channel_filter = Channel(channel) if channel else None
    except ValueError as exc:
        raise Unprocessable("Unknown status or channel filter.") from exc
    rows, total = await svc.admin_list(
        session,
        principal,
        status=status_filter,
        channel=channel_filter,
        newest_first=sort != "asc",
        limit=PAGE_SIZE,
        offset=offset,
    )
    items = [await svc.read(session, r) for r in rows]
    page: Page[Any] = Page(items=items, total=total, limit=PAGE_SIZE, offset=offset)
    context = _context(
        page=page,
        filters={"status": status, "channel": channel, "sort": "asc" if sort == "asc" else "desc"},
        statuses=[s.value for s in Status],
        channels=[c.value for c in Channel],
    )
    return render(request, "admin/queue.html", context)


async def _detail_page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    svc: OnboardingService,
    request_id: uuid.UUID,
) -> Response:
    req = await svc.admin_get(session, principal, request_id)
    detail = await svc.read(session, req, revisions=True)
    assert isinstance(detail, OnboardingRequestDetail)
    full = AdminRequestDetail(**detail.model_dump(), audit=await svc.audit_trail(session, req))
    context = _context(
        req=full,
        actions=[(a, ACTION_LABELS[a]) for a in full.allowed_actions if a in ACTION_LABELS],
        can_reject="reject" in full.allowed_actions,
        reasons=COMMON_REJECTION_REASONS,
    )
    return render(request, "admin/detail.html", context)


@router.get("/onboarding/{request_id}")
async def detail(
    request: Request, request_id: uuid.UUID, session: WebDB, principal: WebPrincipal, svc: Service
) -> Response:
    """Everything about one request: business info, steps, DNS, audit trail, and the actions."""
    _admin(principal)
    return await _detail_page(request, session, principal, svc, request_id)


@router.post("/onboarding/{request_id}/{action}")
async def act(
    request: Request,
    request_id: uuid.UUID,
    action: str,
    session: WebDB,
    principal: FormPrincipal,
    svc: Service,
) -> Response:
    """Run an admin action with the version the page showed; a stale page is told what changed."""
    _admin(principal)
    form = await request.form()
    raw_version = str(form.get("version") or "")
    version = int(raw_version) if raw_version.isdigit() else None
    target = f"/admin/onboarding/{request_id}"
    response = RedirectResponse(target, status_code=303)
    try:
        if action == "start":
            await svc.start(session, principal, request_id, version)
        elif action == "provision":
            await svc.provision(session, principal, request_id, version)
        elif action == "retry":
            await svc.retry_step(session, principal, request_id, str(form.get("step") or "")[:64], version)
        elif action == "issue_dns":
            await svc.issue_dns(session, principal, request_id, version)
        elif action == "check_dns":
            await svc.check_dns(session, principal, request_id)
        elif action == "activate":
            await svc.activate(session, principal, request_id, version)
        elif action == "reject":
            reason = _reason(str(form.get("reason_choice") or ""), str(form.get("reason_text") or ""))[:1000]
            if not reason:
                set_flash(response, "danger", "Choose a reason or write one: the tenant will see it.")
                return response
            await svc.reject(session, principal, request_id, version, reason)
        else:
            raise NotFound("There is no such action.")
    except Conflict as exc:
        current = f" (now {exc.extra.get('status')}, version {exc.extra.get('version')})" if exc.extra else ""
        set_flash(response, "warning", f"{exc.message}{current}")
        return response
    set_flash(response, "success", DONE_MESSAGES.get(action, "Done."))
    return response


# --- organizations and the BYOM power card -------------------------------------------------------


@router.get("/organizations")
async def organizations(request: Request, session: WebDB, principal: WebPrincipal) -> Response:
    """Every organization, with its BYOM flags at a glance."""
    _admin(principal)
    orgs = await tenancy.list_organizations(session, principal)
    counts = dict(
        (
            await session.execute(
                select(OnboardingRequest.organization_id, func.count())
                .where(OnboardingRequest.status.in_(OPEN))
                .group_by(OnboardingRequest.organization_id)
            )
        ).all()
    )
    rows = [{"org": o, "flags": flags(o), "open": counts.get(o.id, 0)} for o in orgs]
    return render(request, "admin/organizations.html", _context(rows=rows, gated=sorted(GATED)))


@router.get("/organizations/{organization_id}")
async def organization(
    request: Request, organization_id: uuid.UUID, session: WebDB, principal: WebPrincipal, svc: Service
) -> Response:
    """One organization: the BYOM Channel Gating power card, its outlets and managed requests."""
    _admin(principal)
    org = await session.get(Organization, organization_id)
    if org is None:
        raise NotFound("Organization not found.")
    org_outlets = await outlets.list_outlets(session, principal, org.id)
    outlet_rows = [(o, await outlets.outlet_senders(session, o.id)) for o in org_outlets]
    requests, _ = await svc.admin_list(session, principal, organization_id=org.id, limit=50)
    context = _context(
        org=org,
        flags=flags(org),
        gated=sorted(GATED),
        flag_name=flag_name,
        outlets=outlet_rows,
        requests=[await svc.read(session, r) for r in requests],
    )
    return render(request, "admin/organization.html", context)


@router.post("/organizations/{organization_id}/byom")
async def save_byom(
    request: Request, organization_id: uuid.UUID, session: WebDB, principal: FormPrincipal
) -> Response:
    """The power card's switches: an unchecked box is off."""
    _admin(principal)
    form = await request.form()
    wanted = {family: form.get(flag_name(family)) == "on" for family in GATED}
    before = await byom.get_flags(session, principal, organization_id)
    after = await byom.set_flags(session, principal, organization_id, wanted)
    changed = [flag_name(f) + (" on" if after[f] else " off") for f in sorted(GATED) if before[f] != after[f]]
    response = RedirectResponse(f"/admin/organizations/{organization_id}", status_code=303)
    set_flash(
        response,
        "success" if changed else "info",
        "Saved: " + ", ".join(changed) if changed else "No change.",
    )
    return response


# --- outbox ----------------------------------------------------------------------------------------


@router.get("/outbox")
async def outbox(
    request: Request,
    session: WebDB,
    principal: WebPrincipal,
    status: Annotated[str, Query(max_length=20)] = "",
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    """Emails to tenants: what was sent, what waits (no SMTP configured) and what failed."""
    _admin(principal)
    if status and status not in NOTIFICATION_STATUSES:
        raise Unprocessable("Unknown status filter.")
    rows, total = await notifications.list_notifications(
        session, principal, status=status or None, limit=PAGE_SIZE, offset=offset
    )
    page: Page[Any] = Page(items=rows, total=total, limit=PAGE_SIZE, offset=offset)
    smtp = bool(request.app.state.settings.smtp_url)
    context = _context(page=page, status=status, statuses=NOTIFICATION_STATUSES, smtp_configured=smtp)
    return render(request, "admin/outbox.html", context)


@router.post("/outbox/{notification_id}/resend")
async def resend(notification_id: uuid.UUID, session: WebDB, principal: FormPrincipal) -> Response:
    """Queue a failed email again."""
    _admin(principal)
    response = RedirectResponse("/admin/outbox", status_code=303)
    try:
        await notifications.resend(session, principal, notification_id)
    except Conflict as exc:
        set_flash(response, "warning", exc.message)
        return response
    set_flash(response, "success", "The email is queued again.")
    return response
