"""Request and response shapes of /v1/use-case: a discriminated union on `channel`."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from switchboard.usecases.tiers import Tier


class Channel(StrEnum):
    OUTBOUND_VOICE = "outbound_voice"
    INBOUND_VOICE = "inbound_voice"
    RINGLESS_VOICEMAIL = "ringless_voicemail"
    EMAIL = "email"


VOICE_CHANNELS = frozenset({Channel.OUTBOUND_VOICE, Channel.INBOUND_VOICE, Channel.RINGLESS_VOICEMAIL})


class EmailType(StrEnum):
    TRANSACTIONAL = "transactional"
    MARKETING = "marketing"


NAME_PATTERN = r"^[A-Za-z -]+$"

EntityName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=31, pattern=NAME_PATTERN),
    Field(
        description="Business entity name. 1-31 characters, letters/spaces/hyphens only.", examples=["Acme"]
    ),
]
UseCaseName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=31, pattern=NAME_PATTERN),
    Field(
        description="Use case purpose. 1-31 characters, letters/spaces/hyphens only.", examples=["Receipts"]
    ),
]
Description = Annotated[
    str | None,
    Field(default=None, max_length=2000, description="Free-text description, max 2000 characters."),
]


class VoiceUseCaseCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "channel": "outbound_voice",
                "entity_name": "Acme",
                "name": "Appointment reminders",
                "twilio_setup_id": "2f0c7a4e-9d1b-4c55-8f3e-6a1d2b3c4d5e",
            }
        },
    )

    channel: Literal["outbound_voice", "inbound_voice", "ringless_voicemail"]
    entity_name: EntityName
    name: UseCaseName
    description: Description = None
    twilio_setup_id: uuid.UUID = Field(
        description="Twilio setup to bind to. Must have an approved customer profile."
    )


class EmailUseCaseCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "channel": "email",
                "entity_name": "Acme",
                "name": "Receipts",
                "ses_setup_id": "2f0c7a4e-9d1b-4c55-8f3e-6a1d2b3c4d5e",
                "sender_email_address": "receipts@mail.acme.example",
                "email_type": "transactional",
            }
        },
    )

    channel: Literal["email"]
    entity_name: EntityName
    name: UseCaseName
    description: Description = None
    ses_setup_id: uuid.UUID = Field(description="SES setup to bind to. DNS must be fully verified.")
    sender_email_address: EmailStr = Field(
        description="From address for outbound sends. Domain must match the setup's domain identity."
    )
    email_type: EmailType = Field(description="transactional or marketing. Immutable after creation.")


UseCaseCreate = Annotated[VoiceUseCaseCreate | EmailUseCaseCreate, Field(discriminator="channel")]


class UseCaseUpdate(BaseModel):
    """Only the description changes; email_type is accepted solely to explain that it cannot."""

    model_config = ConfigDict(extra="forbid")

    description: Description = None
    email_type: EmailType | None = Field(
        default=None, description="Immutable: a different value is refused (409)."
    )


class VoiceUseCaseRead(BaseModel):
    id: uuid.UUID
    entity_name: str
    name: str
    description: str | None
    channel: Literal["outbound_voice", "inbound_voice", "ringless_voicemail"]
    twilio_setup_id: uuid.UUID
    created_at: datetime
    updated_at: datetime


class EmailUseCaseRead(BaseModel):
    id: uuid.UUID
    entity_name: str
    name: str
    description: str | None
    channel: Literal["email"]
    ses_setup_id: uuid.UUID
    configuration_set_name: str = Field(
        description="Sending configuration set name, derived from entity_name and name"
    )
    sender_email_address: str
    email_type: EmailType
    tier: Tier = Field(description="Current reputation tier: onboarding, standard, premium or suspended")
    created_at: datetime
    updated_at: datetime


UseCaseRead = Annotated[VoiceUseCaseRead | EmailUseCaseRead, Field(discriminator="channel")]


class UseCaseList(BaseModel):
    items: list[UseCaseRead]


class WindowRead(BaseModel):
    window: str
    sends: int
    bounces: int
    complaints: int
    bounce_rate: float
    complaint_rate: float


class TierChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    from_tier: Tier | None
    to_tier: Tier
    reason: str
    figures: dict[str, Any]
    actor: str
    created_at: datetime


class ReputationRead(BaseModel):
    use_case_id: uuid.UUID
    tier: Tier
    tier_changed_at: datetime | None
    email_type: EmailType
    daily_send_cap: int = Field(description="Messages per UTC day at the current tier")
    sending_pool: str = Field(description="The pool the tier sends through (shared pool when suspended)")
    pool_in_sync: bool = Field(description="Whether the provider has been switched to that pool")
    warning: str | None = Field(description="Set when SES's review level is reached without a tier change")
    windows: list[WindowRead]
    history: list[TierChangeRead] = Field(description="Tier changes, newest first, with their figures")
