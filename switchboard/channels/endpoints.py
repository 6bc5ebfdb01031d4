"""/rest/v1/channel_accounts: thin handlers over the channel account service."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from switchboard.channels.schemas import (
    AuditEntryRead,
    ChannelAccountCreate,
    ChannelAccountRead,
    ChannelAccountUpdate,
    ChannelTypeRead,
)
from switchboard.channels.service import ChannelAccountService
from switchboard.connectors import REGISTRY
from switchboard.connectors.base import ChannelType
from switchboard.core.deps import DB, CurrentPrincipal
from switchboard.core.errors import ErrorBody
from switchboard.core.pagination import Page, Paging

ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorBody, "description": "Missing or invalid API key"},
    403: {"model": ErrorBody, "description": "Missing permission"},
    404: {"model": ErrorBody, "description": "Not found (or another tenant's)"},
    422: {"model": ErrorBody, "description": "Invalid input: the field and the rule"},
}

router = APIRouter(prefix="/rest/v1", tags=["channel accounts"], responses=ERRORS)


def service(request: Request) -> ChannelAccountService:
    svc: ChannelAccountService = request.app.state.channel_accounts
    return svc


Service = Annotated[ChannelAccountService, Depends(service)]


@router.get("/channel_types", response_model=list[ChannelTypeRead])
async def list_channel_types(_principal: CurrentPrincipal) -> list[ChannelTypeRead]:
    """List channel types with their settings schema and connection method."""
    return [
        ChannelTypeRead(
            type=d.type,
            label=d.label,
            description=d.description,
            connection_method=d.connection_method.value,
            secret_fields=sorted(d.secret_fields),
            settings_schema=d.settings_model.model_json_schema(),
        )
        for d in REGISTRY.values()
    ]


@router.get("/channel_accounts", response_model=Page[ChannelAccountRead])
async def list_channel_accounts(
    session: DB,
    principal: CurrentPrincipal,
    svc: Service,
    paging: Paging,
    organization_id: Annotated[uuid.UUID | None, Query(description="Filter by organization")] = None,
    type: Annotated[ChannelType | None, Query(description="Filter by channel type")] = None,
    is_active: Annotated[bool | None, Query(description="Filter by Active/Inactive")] = None,
) -> Page[ChannelAccountRead]:
    """List channel accounts."""
    rows, total = await svc.list_accounts(
        session,
        principal,
        organization_id=organization_id,
        channel_type=type,
        is_active=is_active,
        limit=paging.limit,
        offset=paging.offset,
    )
    items = [await svc.read(session, r) for r in rows]
    return Page(items=items, total=total, limit=paging.limit, offset=paging.offset)


@router.post("/channel_accounts", response_model=ChannelAccountRead, status_code=status.HTTP_201_CREATED)
async def create_channel_account(
    body: ChannelAccountCreate, session: DB, principal: CurrentPrincipal, svc: Service
) -> ChannelAccountRead:
    """Create a channel account."""
    account = await svc.create(session, principal, body)
    return await svc.read(session, account)


@router.get("/channel_accounts/{account_id}", response_model=ChannelAccountRead)
async def get_channel_account(
    account_id: uuid.UUID, session: DB, principal: CurrentPrincipal, svc: Service
) -> ChannelAccountRead:
    """Get one channel account."""
    return await svc.read(session, await svc.get(session, principal, account_id))


@router.patch("/channel_accounts/{account_id}", response_model=ChannelAccountRead)
async def update_channel_account(
    account_id: uuid.UUID, body: ChannelAccountUpdate, session: DB, principal: CurrentPrincipal, svc: Service
) -> ChannelAccountRead:
    """Update name, settings, credentials or the Active switch."""
    account = await svc.update(session, principal, account_id, body)
    return await svc.read(session, account)


@router.delete("/channel_accounts/{account_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_channel_account(
    account_id: uuid.UUID, session: DB, principal: CurrentPrincipal, svc: Service
) -> Response:
    """Delete a channel account and its credentials; its audit trail stays."""
    await svc.delete(session, principal, account_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/channel_accounts/{account_id}/audit", response_model=list[AuditEntryRead])
async def channel_account_audit(
    account_id: uuid.UUID, session: DB, principal: CurrentPrincipal, svc: Service
) -> list[AuditEntryRead]:
    """The audit trail of one channel account, newest first."""
    entries = await svc.history(session, principal, account_id)
    return [AuditEntryRead.model_validate(e) for e in entries]
