"""/rest/v1/channel_accounts/{id}/messages: thin handlers over the outbound message service."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi import status as http

from switchboard.channels.endpoints import ERRORS, Service
from switchboard.core.deps import DB, CurrentPrincipal
from switchboard.core.errors import ErrorBody
from switchboard.core.pagination import Page, Paging
from switchboard.messages.schemas import MessageCreate, MessageRead, MessageStatus
from switchboard.messages.service import outbound

router = APIRouter(prefix="/rest/v1", tags=["messages"], responses=ERRORS)

SEND_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"model": MessageRead, "description": "The message already created with this client_reference"},
    409: {"model": ErrorBody, "description": "channel_inactive or channel_disconnected"},
    429: {
        "model": ErrorBody,
        "description": "warming_limit_reached: a WhatsApp Lite warming campaign's daily limit",
    },
}


@router.post(
    "/channel_accounts/{account_id}/messages",
    response_model=MessageRead,
    status_code=http.HTTP_202_ACCEPTED,
    responses=SEND_RESPONSES,
)
async def send_message(
    account_id: uuid.UUID,
    body: MessageCreate,
    response: Response,
    session: DB,
    principal: CurrentPrincipal,
    svc: Service,
) -> MessageRead:
    """Queue a message on this channel; a job sends it. 202 with the queued message (200 for a
    client_reference already used on this channel, with the message it created)."""
    message, created = await outbound.create(session, principal, svc, account_id, body)
    if not created:
        response.status_code = http.HTTP_200_OK
    return outbound.read(message)


@router.get("/channel_accounts/{account_id}/messages", response_model=Page[MessageRead])
async def list_messages(
    account_id: uuid.UUID,
    session: DB,
    principal: CurrentPrincipal,
    svc: Service,
    paging: Paging,
    status: Annotated[MessageStatus | None, Query(description="Filter by status")] = None,
) -> Page[MessageRead]:
    """Messages sent through this channel, newest first."""
    rows, total = await outbound.list_messages(
        session, principal, svc, account_id, status=status, limit=paging.limit, offset=paging.offset
    )
    return Page(items=[outbound.read(r) for r in rows], total=total, limit=paging.limit, offset=paging.offset)


@router.get("/channel_accounts/{account_id}/messages/{message_id}", response_model=MessageRead)
async def get_message(
    account_id: uuid.UUID, message_id: uuid.UUID, session: DB, principal: CurrentPrincipal, svc: Service
) -> MessageRead:
    """One message with its status, provider id and error."""
    return outbound.read(await outbound.get(session, principal, svc, account_id, message_id))
