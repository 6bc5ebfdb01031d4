"""Test connection, Reconnect and the connection log of a channel account."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request

from switchboard.channels.endpoints import ERRORS, Service
from switchboard.channels.schemas import ConnectionStatus
from switchboard.core.deps import DB, CurrentPrincipal
from switchboard.health.schemas import (
    ConnectionAttemptRead,
    ConnectionLogRead,
    ConnectionTestRead,
    HealthRead,
)
from switchboard.health.service import health, threshold_for

router = APIRouter(prefix="/rest/v1", tags=["channel health"], responses=ERRORS)


async def _run(
    request: Request,
    session: DB,
    principal: CurrentPrincipal,
    svc: Service,
    account_id: uuid.UUID,
    action: str,
) -> ConnectionTestRead:
    account, attempt = await health.test(
        session, principal, svc, request.app.state.runtime.settings, account_id, action
    )
    return ConnectionTestRead(
        ok=attempt.ok,
        connection_status=ConnectionStatus(account.connection_status),
        status_reason=account.status_reason,
        attempt=ConnectionAttemptRead.model_validate(attempt),
    )


@router.post("/channel_accounts/{account_id}/test", response_model=ConnectionTestRead)
async def test_connection(
    request: Request, session: DB, principal: CurrentPrincipal, svc: Service, account_id: uuid.UUID
) -> ConnectionTestRead:
    """Test connection: check the credentials with the provider now and update the status."""
    return await _run(request, session, principal, svc, account_id, "test")


@router.post("/channel_accounts/{account_id}/reconnect", response_model=ConnectionTestRead)
async def reconnect(
    request: Request, session: DB, principal: CurrentPrincipal, svc: Service, account_id: uuid.UUID
) -> ConnectionTestRead:
    """Reconnect: run the type's connect flow again (e.g. after new credentials)."""
    return await _run(request, session, principal, svc, account_id, "reconnect")


@router.get("/channel_accounts/{account_id}/connection_log", response_model=ConnectionLogRead)
async def connection_log(
    session: DB, principal: CurrentPrincipal, svc: Service, account_id: uuid.UUID
) -> ConnectionLogRead:
    """The last connection attempts with the provider's errors, and the health counters."""
    account, row, attempts = await health.connection_log(session, principal, svc, account_id)
    counters = HealthRead(threshold=threshold_for(account.type))
    if row is not None:
        counters = HealthRead(
            error_count=row.error_count,
            threshold=threshold_for(account.type),
            last_error=row.last_error,
            last_error_kind=row.last_error_kind,
            last_error_at=row.last_error_at,
            last_success_at=row.last_success_at,
        )
    return ConnectionLogRead(
        connection_status=ConnectionStatus(account.connection_status),
        status_reason=account.status_reason,
        health=counters,
        attempts=[ConnectionAttemptRead.model_validate(a) for a in attempts],
    )
