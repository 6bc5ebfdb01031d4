"""The outbox of tenant emails, for platform admins: /rest/v1/admin/notifications."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from switchboard.core.deps import DB, CurrentPrincipal
from switchboard.core.errors import ErrorBody
from switchboard.core.pagination import Page, Paging
from switchboard.notifications.schemas import NotificationRead, NotificationStatus
from switchboard.notifications.service import notifications

router = APIRouter(
    prefix="/rest/v1/admin/notifications",
    tags=["admin: notifications"],
    responses={
        401: {"model": ErrorBody, "description": "Missing or invalid API key"},
        403: {"model": ErrorBody, "description": "Platform admins only"},
        404: {"model": ErrorBody, "description": "Not found"},
        409: {"model": ErrorBody, "description": "Already sent or being sent"},
    },
)


@router.get("", response_model=Page[NotificationRead])
async def list_notifications(
    session: DB,
    principal: CurrentPrincipal,
    paging: Paging,
    status: Annotated[NotificationStatus | None, Query(description="Filter by status")] = None,
    organization_id: Annotated[uuid.UUID | None, Query(description="Filter by organization")] = None,
) -> Page[NotificationRead]:
    """Emails to tenants, newest first (without SMTP configured they wait here as queued)."""
    rows, total = await notifications.list_notifications(
        session,
        principal,
        status=status,
        organization_id=organization_id,
        limit=paging.limit,
        offset=paging.offset,
    )
    items = [NotificationRead.model_validate(r) for r in rows]
    return Page(items=items, total=total, limit=paging.limit, offset=paging.offset)


@router.get("/{notification_id}", response_model=NotificationRead)
async def get_notification(
    notification_id: uuid.UUID, session: DB, principal: CurrentPrincipal
) -> NotificationRead:
    """One email."""
    return NotificationRead.model_validate(await notifications.get(session, principal, notification_id))


@router.post("/{notification_id}/resend", response_model=NotificationRead)
async def resend(notification_id: uuid.UUID, session: DB, principal: CurrentPrincipal) -> NotificationRead:
    """Queue a failed email again."""
    return NotificationRead.model_validate(await notifications.resend(session, principal, notification_id))
