from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from switchboard.onboarding.schemas import Clean
from switchboard.tenancy.byom import ByomChannel, PerceptionRule

OutletName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), Clean]


class SenderChannel(StrEnum):
    WHATSAPP = "whatsapp"
    SMS = "sms"


class OutletCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {"name": "Downtown store"}})

    name: OutletName
    organization_id: uuid.UUID | None = Field(
        default=None, description="Defaults to the API key's organization; another tenant's id is 404."
    )


class OutletUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: OutletName


class SenderRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    outlet_id: uuid.UUID
    channel: str
    phone_number: str | None = Field(description="Empty while the number is being allocated.")
    status: str = Field(description="allocating or active")
    is_primary: bool
    included: bool = Field(description="The one platform-provided number this outlet gets per channel.")
    billable: bool
    rental_rate: str | None
    channel_account_id: uuid.UUID | None


class OutletRead(BaseModel):
    id: uuid.UUID
    organization_id: uuid.UUID
    name: str
    created_at: datetime
    senders: list[SenderRead]


class SenderRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: SenderChannel


class SendersRead(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    channel: SenderChannel
    sender_count: int = Field(alias="senderCount", description="How many senders this channel has.")
    routing_available: bool = Field(
        alias="routingAvailable", description="Per-outlet routing applies when senderCount > 1."
    )
    senders: list[SenderRead]


class RoutingUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: SenderChannel
    sender_id: uuid.UUID
    primary: bool = Field(default=True, description="Make it the outlet's primary sender for the channel.")


class ByomFlags(BaseModel):
    whatsapp: bool
    sms: bool
    email: bool
    rcs: bool


class ByomUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {"whatsapp": True}})

    whatsapp: bool | None = None
    sms: bool | None = None
    email: bool | None = None
    rcs: bool | None = None


class ChannelPreferences(BaseModel):
    channel: ByomChannel
    byom_allowed: bool
    perception_rule: PerceptionRule
    sender_pin: uuid.UUID | None = Field(description="The sender every message of this channel leaves from.")


class ChannelPreferencesUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    perception_rule: PerceptionRule | None = None
    sender_pin: uuid.UUID | None = Field(default=None, description="A sender id; null clears the pin.")
