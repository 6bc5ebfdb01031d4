"""/v1/ses-setup: thin handlers over the SES setup service."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from switchboard.channels.schemas import AuditEntryRead
from switchboard.core.deps import DB, CurrentPrincipal
from switchboard.core.errors import ErrorBody
from switchboard.email.schemas import SesSetupCreate, SesSetupList, SesSetupRead, SesSetupSummary
from switchboard.email.service import SesSetupService

ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorBody, "description": "Missing or invalid API key"},
    403: {"model": ErrorBody, "description": "Missing permission"},
    404: {"model": ErrorBody, "description": "Not found (or another tenant's)"},
    422: {"model": ErrorBody, "description": "Invalid input: the field and the rule"},
}
CONFLICT: dict[int | str, dict[str, object]] = {409: {"model": ErrorBody, "description": "Conflict"}}
UNAVAILABLE: dict[int | str, dict[str, object]] = {
    503: {"model": ErrorBody, "description": "Amazon SES or DNS unavailable; nothing was changed"}
}

router = APIRouter(prefix="/v1/ses-setup", tags=["SES setups"], responses=ERRORS)


def service(request: Request) -> SesSetupService:
    svc: SesSetupService = request.app.state.ses_setups
    return svc


Service = Annotated[SesSetupService, Depends(service)]


@router.post(
    "",
    response_model=SesSetupRead,
    status_code=status.HTTP_201_CREATED,
    responses={
        409: {"model": ErrorBody, "description": "The tenant name or the domain already exists"},
        **UNAVAILABLE,
    },
)
async def create_ses_setup(
    body: SesSetupCreate, session: DB, principal: CurrentPrincipal, svc: Service
) -> SesSetupRead:
    """Create an SES setup: the reputation boundary, the domain identity and the DNS records to publish."""
    return svc.read(await svc.create(session, principal, body))


@router.get("", response_model=SesSetupList)
async def list_ses_setups(
    session: DB,
    principal: CurrentPrincipal,
    svc: Service,
    organization_id: Annotated[uuid.UUID | None, Query(description="Filter by organization")] = None,
) -> SesSetupList:
    """List SES setups with their cached verification status (no live DNS checks)."""
    rows = await svc.list_setups(session, principal, organization_id)
    return SesSetupList(items=[SesSetupSummary.model_validate(r) for r in rows])


@router.get("/{setup_id}", response_model=SesSetupRead, responses=UNAVAILABLE)
async def get_ses_setup(
    setup_id: uuid.UUID, session: DB, principal: CurrentPrincipal, svc: Service
) -> SesSetupRead:
    """Get one SES setup after a live DNS check of all its records."""
    return svc.read(await svc.refresh(session, principal, setup_id))


@router.delete(
    "/{setup_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**CONFLICT, **UNAVAILABLE},
)
async def delete_ses_setup(
    setup_id: uuid.UUID, session: DB, principal: CurrentPrincipal, svc: Service
) -> Response:
    """Delete an SES setup with its domain identity and reputation boundary."""
    await svc.delete(session, principal, setup_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{setup_id}/audit", response_model=list[AuditEntryRead])
async def ses_setup_audit(
    setup_id: uuid.UUID, session: DB, principal: CurrentPrincipal, svc: Service
) -> list[AuditEntryRead]:
    """The audit trail of one SES setup (created, verification changes, drift, deleted), newest first."""
    entries = await svc.history(session, principal, setup_id)
    return [AuditEntryRead.model_validate(e) for e in entries]
