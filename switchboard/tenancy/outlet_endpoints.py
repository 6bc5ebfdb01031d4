"""Outlets (/rest/v1/outlets), their senders, and per-outlet routing."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.core.deps import DB, CurrentPrincipal
from switchboard.core.errors import ErrorBody
from switchboard.models import Outlet
from switchboard.tenancy.outlet_schemas import (
    OutletCreate,
    OutletRead,
    OutletUpdate,
    RoutingUpdate,
    SenderChannel,
    SenderRead,
    SenderRequest,
    SendersRead,
)
from switchboard.tenancy.outlets import outlets

ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorBody, "description": "Missing or invalid API key"},
    403: {"model": ErrorBody, "description": "Missing permission"},
    404: {"model": ErrorBody, "description": "Not found (or another tenant's)"},
    409: {
        "model": ErrorBody,
        "description": "Conflict: duplicate name, no managed channel, routing unavailable",
    },
    422: {"model": ErrorBody, "description": "Invalid input: the field and the rule"},
}

router = APIRouter(prefix="/rest/v1", tags=["outlets"], responses=ERRORS)


async def _read(session: AsyncSession, outlet: Outlet) -> OutletRead:
    senders = await outlets.outlet_senders(session, outlet.id)
    return OutletRead(
        id=outlet.id,
        organization_id=outlet.organization_id,
        name=outlet.name,
        created_at=outlet.created_at,
        senders=[SenderRead.model_validate(s) for s in senders],
    )


@router.get("/outlets", response_model=list[OutletRead])
async def list_outlets(
    session: DB,
    principal: CurrentPrincipal,
    organization_id: Annotated[uuid.UUID | None, Query(description="Filter by organization")] = None,
) -> list[OutletRead]:
    """The organization's outlets with their senders."""
    return [await _read(session, o) for o in await outlets.list_outlets(session, principal, organization_id)]


@router.post("/outlets", response_model=OutletRead, status_code=status.HTTP_201_CREATED)
async def create_outlet(body: OutletCreate, session: DB, principal: CurrentPrincipal) -> OutletRead:
    """Add an outlet; with managed WhatsApp/SMS channels it gets its own included number."""
    return await _read(session, await outlets.create(session, principal, body.name, body.organization_id))


@router.get("/outlets/{outlet_id}", response_model=OutletRead)
async def get_outlet(outlet_id: uuid.UUID, session: DB, principal: CurrentPrincipal) -> OutletRead:
    """One outlet with its senders."""
    return await _read(session, await outlets.get(session, principal, outlet_id))


@router.patch("/outlets/{outlet_id}", response_model=OutletRead)
async def update_outlet(
    outlet_id: uuid.UUID, body: OutletUpdate, session: DB, principal: CurrentPrincipal
) -> OutletRead:
    """Rename an outlet."""
    return await _read(session, await outlets.rename(session, principal, outlet_id, body.name))


@router.delete("/outlets/{outlet_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_outlet(outlet_id: uuid.UUID, session: DB, principal: CurrentPrincipal) -> Response:
    """Delete an outlet and release its numbers."""
    await outlets.delete(session, principal, outlet_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/outlets/{outlet_id}/senders", response_model=SenderRead, status_code=status.HTTP_202_ACCEPTED)
async def request_sender(
    outlet_id: uuid.UUID, body: SenderRequest, request: Request, session: DB, principal: CurrentPrincipal
) -> SenderRead:
    """Ask for another number for this outlet: billable at the rental rate; allocated by a job."""
    rate = request.app.state.settings.sender_rental_rate
    sender = await outlets.request_extra_sender(session, principal, outlet_id, body.channel.value, rate)
    return SenderRead.model_validate(sender)


@router.put("/outlets/{outlet_id}/routing", response_model=list[SenderRead])
async def set_routing(
    outlet_id: uuid.UUID, body: RoutingUpdate, session: DB, principal: CurrentPrincipal
) -> list[SenderRead]:
    """Choose which sender serves this outlet and whether it is the primary (needs senderCount > 1)."""
    rows = await outlets.set_routing(
        session, principal, outlet_id, body.channel.value, body.sender_id, body.primary
    )
    return [SenderRead.model_validate(s) for s in rows]


@router.get("/channels/{channel}/senders", response_model=SendersRead)
async def list_senders(
    channel: SenderChannel,
    session: DB,
    principal: CurrentPrincipal,
    organization_id: Annotated[
        uuid.UUID | None, Query(description="Platform admins name the organization")
    ] = None,
) -> SendersRead:
    """The channel's senders and senderCount (routing settings apply when it is above 1)."""
    summary = await outlets.senders(session, principal, channel.value, organization_id)
    return SendersRead(
        channel=channel,
        sender_count=summary.sender_count,
        routing_available=summary.routing_available,
        senders=[SenderRead.model_validate(s) for s in summary.senders],
    )
