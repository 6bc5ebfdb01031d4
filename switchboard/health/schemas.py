from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from switchboard.channels.schemas import ConnectionStatus


class ConnectionAttemptRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    at: datetime
    action: str
    ok: bool
    error_kind: str | None
    error_code: str | None
    message: str | None
    status_after: str


class HealthRead(BaseModel):
    error_count: int = 0
    threshold: int
    last_error: str | None = None
    last_error_kind: str | None = None
    last_error_at: datetime | None = None
    last_success_at: datetime | None = None


class ConnectionTestRead(BaseModel):
    """The outcome of Test connection / Reconnect and the account's status afterwards."""

    ok: bool
    connection_status: ConnectionStatus
    status_reason: str | None
    attempt: ConnectionAttemptRead


class ConnectionLogRead(BaseModel):
    connection_status: ConnectionStatus
    status_reason: str | None
    health: HealthRead
    attempts: list[ConnectionAttemptRead]
