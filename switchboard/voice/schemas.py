"""Request and response shapes of /v1/twilio-setup and /v1/phone-number."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from switchboard.connectors.base import E164, HttpUrlStr

ACCOUNT_SID_PATTERN = r"^AC[0-9a-fA-F]{32}$"
AUTH_TOKEN_PATTERN = r"^[0-9a-fA-F]{32}$"


class ProfileStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class BusinessType(StrEnum):
    """TrustHub's customer_profile_business_information business_type values."""

    SOLE_PROPRIETORSHIP = "Sole Proprietorship"
    PARTNERSHIP = "Partnership"
    LLC = "Limited Liability Corporation"
    CO_OPERATIVE = "Co-operative"
    NON_PROFIT = "Non-profit Corporation"
    CORPORATION = "Corporation"


SetupName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class TwilioSetupCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "name": "Acme voice",
                "account_sid": "AC" + "0" * 32,
                "auth_token": "f" * 32,
                "business_name": "Acme Inc",
                "business_type": "Corporation",
                "website": "https://acme.example",
                "contact_email": "compliance@acme.example",
            }
        },
    )

    organization_id: uuid.UUID | None = Field(
        default=None, description="Defaults to the API key's organization; platform admins must name one."
    )
    name: SetupName = Field(description="1-64 characters, unique in the organization.")
    account_sid: Annotated[str, StringConstraints(pattern=ACCOUNT_SID_PATTERN)] = Field(
        description="The Twilio Account SID: AC followed by 32 hex digits."
    )
    auth_token: Annotated[str, StringConstraints(pattern=AUTH_TOKEN_PATTERN)] = Field(
        description="The account's Auth Token (32 hex digits). Stored encrypted, shown masked."
    )
    business_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    business_type: BusinessType
    website: HttpUrlStr
    contact_email: EmailStr = Field(description="Who Twilio contacts about the customer profile.")


class CustomerProfileRead(BaseModel):
    status: ProfileStatus = Field(description="pending, approved or rejected")
    status_reason: str | None
    submitted_at: datetime | None
    decided_at: datetime | None
    business_name: str
    business_type: str
    website: str
    contact_email: str


class TwilioSetupRead(BaseModel):
    id: uuid.UUID
    organization_id: uuid.UUID
    name: str
    account_sid: str
    auth_token: str = Field(description="Masked; the token itself is never returned.")
    customer_profile: CustomerProfileRead
    phone_numbers: int = Field(description="How many phone numbers are attached to the setup")
    provider_mode: Literal["sandbox", "live"]
    created_at: datetime
    updated_at: datetime


class TwilioSetupList(BaseModel):
    items: list[TwilioSetupRead]


class ProfileDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)] | None = (
        Field(default=None, description="Why; required to reject.")
    )


class PhoneNumberCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "twilio_setup_id": "2f0c7a4e-9d1b-4c55-8f3e-6a1d2b3c4d5e",
                "phone_number": "+14155550100",
            }
        },
    )

    twilio_setup_id: uuid.UUID
    phone_number: E164 = Field(description="E.164, e.g. +14155550100; unique on the platform.")
    friendly_name: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] | None
    ) = None


class PhoneNumberSync(BaseModel):
    model_config = ConfigDict(extra="forbid")

    twilio_setup_id: uuid.UUID


class PhoneNumberAssign(BaseModel):
    model_config = ConfigDict(extra="forbid")

    use_case_id: uuid.UUID


class PhoneNumberRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    organization_id: uuid.UUID
    twilio_setup_id: uuid.UUID
    phone_number: str
    friendly_name: str | None
    provider_sid: str | None
    use_case_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


class PhoneNumberList(BaseModel):
    items: list[PhoneNumberRead]


class SkippedNumber(BaseModel):
    phone_number: str
    reason: str


class PhoneNumberSyncResult(BaseModel):
    items: list[PhoneNumberRead] = Field(description="Numbers imported by this sync")
    skipped: list[SkippedNumber] = Field(
        description="Numbers the account has that were not imported, and why"
    )
