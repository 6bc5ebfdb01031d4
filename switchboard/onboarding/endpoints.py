"""Managed channel requests: /rest/v1/onboarding (tenants) and /rest/v1/admin/onboarding (platform admins)."""

from __future__ import annotations

import re
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.core.deps import DB, CurrentPrincipal
from switchboard.core.errors import ErrorBody, field_error
from switchboard.core.pagination import Page, Paging
from switchboard.models import OnboardingRequest
from switchboard.onboarding.schemas import (
    AdminRequestDetail,
    Channel,
    ConflictBody,
    OnboardingRequestCreate,
    OnboardingRequestDetail,
    OnboardingRequestRead,
    RejectBody,
    Resubmit,
    SortOrder,
    Status,
    VersionBody,
)
from switchboard.onboarding.service import OnboardingService

ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorBody, "description": "Missing or invalid API key"},
    403: {"model": ErrorBody, "description": "Missing permission"},
    404: {"model": ErrorBody, "description": "Not found (or another tenant's)"},
    409: {"model": ConflictBody, "description": "Illegal transition or stale version: the current state"},
    422: {"model": ErrorBody, "description": "Invalid input: the field and the rule"},
}

router = APIRouter(prefix="/rest/v1/onboarding", tags=["managed channel onboarding"], responses=ERRORS)
admin_router = APIRouter(
    prefix="/rest/v1/admin/onboarding", tags=["admin: channel onboarding"], responses=ERRORS
)


def service(request: Request) -> OnboardingService:
    svc: OnboardingService = request.app.state.onboarding
    return svc


Service = Annotated[OnboardingService, Depends(service)]
IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", description='The version you acted on, e.g. "3" (or send it in the body).'),
]
_ETAG = re.compile(r'^\s*(?:W/)?"?(\d{1,9})"?\s*$')


def seen_version(body: VersionBody | None, if_match: str | None) -> int | None:
    if body is not None and body.version is not None:
        return body.version
    if if_match:
        match = _ETAG.match(if_match)
        if not match:
            raise field_error("If-Match", "invalid", 'If-Match must be the request version, e.g. "3"')
        return int(match.group(1))
    return None


def _etag(response: Response, req: OnboardingRequest) -> None:
    response.headers["ETag"] = f'"{req.version}"'


async def _detail(
    svc: OnboardingService, session: AsyncSession, req: OnboardingRequest, response: Response
) -> OnboardingRequestDetail:
    _etag(response, req)
    detail = await svc.read(session, req, revisions=True)
    assert isinstance(detail, OnboardingRequestDetail)
    return detail


async def _admin_detail(
    svc: OnboardingService, session: AsyncSession, req: OnboardingRequest, response: Response
) -> AdminRequestDetail:
    detail = await _detail(svc, session, req, response)
    return AdminRequestDetail(**detail.model_dump(), audit=await svc.audit_trail(session, req))


# --- tenant ---------------------------------------------------------------------------------------


@router.post("/requests", response_model=OnboardingRequestDetail, status_code=status.HTTP_201_CREATED)
async def create_request(
    body: OnboardingRequestCreate, session: DB, principal: CurrentPrincipal, svc: Service, response: Response
) -> OnboardingRequestDetail:
    """Ask the platform for a managed channel (WhatsApp, SMS, Email, RCS or Push)."""
    return await _detail(svc, session, await svc.create(session, principal, body), response)


@router.get("/requests", response_model=Page[OnboardingRequestRead])
async def list_requests(
    session: DB,
    principal: CurrentPrincipal,
    svc: Service,
    paging: Paging,
    status_: Annotated[Status | None, Query(alias="status", description="Filter by status")] = None,
    channel: Annotated[Channel | None, Query(description="Filter by channel")] = None,
) -> Page[OnboardingRequestRead]:
    """Your organization's managed channel requests, newest first."""
    rows, total = await svc.list_requests(
        session, principal, status=status_, channel=channel, limit=paging.limit, offset=paging.offset
    )
    items = [await svc.read(session, r) for r in rows]
    return Page(items=items, total=total, limit=paging.limit, offset=paging.offset)


@router.get("/requests/{request_id}", response_model=OnboardingRequestDetail)
async def get_request(
    request_id: uuid.UUID, session: DB, principal: CurrentPrincipal, svc: Service, response: Response
) -> OnboardingRequestDetail:
    """One request: status, steps, issued DNS records and their verification, revisions."""
    return await _detail(svc, session, await svc.get(session, principal, request_id), response)


@router.post("/requests/{request_id}/confirm-dns", response_model=OnboardingRequestDetail)
async def confirm_dns(
    request_id: uuid.UUID, session: DB, principal: CurrentPrincipal, svc: Service, response: Response
) -> OnboardingRequestDetail:
    """Say the DNS records are published; a job checks them."""
    return await _detail(svc, session, await svc.confirm_dns(session, principal, request_id), response)


@router.post("/requests/{request_id}/resubmit", response_model=OnboardingRequestDetail)
async def resubmit(
    request_id: uuid.UUID,
    body: Resubmit,
    session: DB,
    principal: CurrentPrincipal,
    svc: Service,
    response: Response,
    if_match: IfMatch = None,
) -> OnboardingRequestDetail:
    """Send corrected business info after a rejection; the request goes back to pending."""
    version = body.version if body.version is not None else seen_version(None, if_match)
    req = await svc.resubmit(session, principal, request_id, body.business_info, version)
    return await _detail(svc, session, req, response)


# --- admin ----------------------------------------------------------------------------------------


@admin_router.get("/requests", response_model=Page[OnboardingRequestRead])
async def admin_list_requests(
    session: DB,
    principal: CurrentPrincipal,
    svc: Service,
    paging: Paging,
    status_: Annotated[Status | None, Query(alias="status", description="Filter by status")] = None,
    channel: Annotated[Channel | None, Query(description="Filter by channel")] = None,
    organization_id: Annotated[uuid.UUID | None, Query(description="Filter by organization")] = None,
    sort: Annotated[SortOrder, Query(description="By request date")] = "desc",
) -> Page[OnboardingRequestRead]:
    """The Channel Onboarding queue."""
    rows, total = await svc.admin_list(
        session,
        principal,
        status=status_,
        channel=channel,
        organization_id=organization_id,
        newest_first=sort == "desc",
        limit=paging.limit,
        offset=paging.offset,
    )
    items = [await svc.read(session, r) for r in rows]
    return Page(items=items, total=total, limit=paging.limit, offset=paging.offset)


@admin_router.get("/requests/{request_id}", response_model=AdminRequestDetail)
async def admin_get_request(
    request_id: uuid.UUID, session: DB, principal: CurrentPrincipal, svc: Service, response: Response
) -> AdminRequestDetail:
    """Everything about one request, with its audit trail and the actions allowed now."""
    return await _admin_detail(svc, session, await svc.admin_get(session, principal, request_id), response)


@admin_router.post("/requests/{request_id}/start", response_model=AdminRequestDetail)
async def start(
    request_id: uuid.UUID,
    session: DB,
    principal: CurrentPrincipal,
    svc: Service,
    response: Response,
    body: VersionBody | None = None,
    if_match: IfMatch = None,
) -> AdminRequestDetail:
    """Take a pending request into review (pending -> in_progress)."""
    req = await svc.start(session, principal, request_id, seen_version(body, if_match))
    return await _admin_detail(svc, session, req, response)


@admin_router.post("/requests/{request_id}/provision", response_model=AdminRequestDetail)
async def provision(
    request_id: uuid.UUID,
    session: DB,
    principal: CurrentPrincipal,
    svc: Service,
    response: Response,
    body: VersionBody | None = None,
    if_match: IfMatch = None,
) -> AdminRequestDetail:
    """Run the channel's provisioning steps (each a job through a provider adapter)."""
    req = await svc.provision(session, principal, request_id, seen_version(body, if_match))
    return await _admin_detail(svc, session, req, response)


@admin_router.post("/requests/{request_id}/steps/{step}/retry", response_model=AdminRequestDetail)
async def retry_step(
    request_id: uuid.UUID,
    step: Annotated[str, Path(max_length=64, description="The step's name")],
    session: DB,
    principal: CurrentPrincipal,
    svc: Service,
    response: Response,
    body: VersionBody | None = None,
    if_match: IfMatch = None,
) -> AdminRequestDetail:
    """Run a failed step again."""
    req = await svc.retry_step(session, principal, request_id, step, seen_version(body, if_match))
    return await _admin_detail(svc, session, req, response)


@admin_router.post("/requests/{request_id}/issue-dns", response_model=AdminRequestDetail)
async def issue_dns(
    request_id: uuid.UUID,
    session: DB,
    principal: CurrentPrincipal,
    svc: Service,
    response: Response,
    body: VersionBody | None = None,
    if_match: IfMatch = None,
) -> AdminRequestDetail:
    """Show the DNS records to the tenant and wait for them (Email, RCS: -> dns_setup)."""
    req = await svc.issue_dns(session, principal, request_id, seen_version(body, if_match))
    return await _admin_detail(svc, session, req, response)


@admin_router.post("/requests/{request_id}/check-dns", response_model=AdminRequestDetail)
async def check_dns(
    request_id: uuid.UUID, session: DB, principal: CurrentPrincipal, svc: Service, response: Response
) -> AdminRequestDetail:
    """Check the issued DNS records again now (a job)."""
    req = await svc.check_dns(session, principal, request_id)
    return await _admin_detail(svc, session, req, response)


@admin_router.post("/requests/{request_id}/activate", response_model=AdminRequestDetail)
async def activate(
    request_id: uuid.UUID,
    session: DB,
    principal: CurrentPrincipal,
    svc: Service,
    response: Response,
    body: VersionBody | None = None,
    if_match: IfMatch = None,
) -> AdminRequestDetail:
    """Create the tenant's channel, mark it active, and email the tenant's admins."""
    req = await svc.activate(session, principal, request_id, seen_version(body, if_match))
    return await _admin_detail(svc, session, req, response)


@admin_router.post("/requests/{request_id}/reject", response_model=AdminRequestDetail)
async def reject(
    request_id: uuid.UUID,
    body: RejectBody,
    session: DB,
    principal: CurrentPrincipal,
    svc: Service,
    response: Response,
    if_match: IfMatch = None,
) -> AdminRequestDetail:
    """Reject with a reason the tenant will see; the tenant may resubmit."""
    req = await svc.reject(session, principal, request_id, seen_version(body, if_match), body.reason)
    return await _admin_detail(svc, session, req, response)
