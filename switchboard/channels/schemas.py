from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from switchboard.connectors.base import ChannelType

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class ConnectionStatus(StrEnum):
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    PENDING = "pending"
    ERROR = "error"


class ChannelAccountCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "organization_id": "2f0c7a4e-9d1b-4c55-8f3e-6a1d2b3c4d5e",
                "name": "Sales WhatsApp",
                "type": "WHATSAPP_LITE",
                "settings": {"sender_id": "123456", "phone_number": "+1234567890"},
                "is_active": True,
            }
        },
    )

    organization_id: uuid.UUID | None = Field(
        default=None, description="Defaults to the API key's organization; another tenant's id is 404."
    )
    name: Name
    type: ChannelType
    settings: dict[str, Any] = Field(
        default_factory=dict, description="The type's settings (see channel_types)."
    )
    credentials: dict[str, str] = Field(
        default_factory=dict, description="Secret settings; stored encrypted, never returned."
    )
    is_active: bool = False
    workspace_id: uuid.UUID | None = None


class ChannelAccountUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    settings: dict[str, Any] | None = Field(default=None, description="Keys given replace stored ones.")
    credentials: dict[str, str] | None = Field(default=None, description="Secrets given replace stored ones.")
    is_active: bool | None = None


class ChannelAccountRead(BaseModel):
    id: uuid.UUID
    organization_id: uuid.UUID
    workspace_id: uuid.UUID | None
    name: str
    type: ChannelType
    settings: dict[str, Any]
    is_active: bool
    connection_status: ConnectionStatus
    status_reason: str | None
    last_checked_at: datetime | None
    created_at: datetime
    updated_at: datetime
    webhook_url: str | None = Field(
        default=None,
        description="Read-only: the URL the provider posts this channel's webhooks to (for some types "
        "one platform URL per provider app, e.g. /webhooks/linkedin); null for types without webhooks.",
    )


class AuditEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    actor: str
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None
    created_at: datetime


class ChannelTypeRead(BaseModel):
    type: ChannelType
    label: str
    description: str
    connection_method: str
    secret_fields: list[str]
    settings_schema: dict[str, Any]
