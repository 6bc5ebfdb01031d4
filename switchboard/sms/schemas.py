from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, SecretStr, StringConstraints

from switchboard.connectors.base import E164
from switchboard.sms.compliance import SmsCompliance

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{6}$")]
SortKey = Literal["phone_number", "workspace", "knowledge_base"]
MAX_BODY = 10_000


# --- numbers ----------------------------------------------------------------------------------------


class Price(BaseModel):
    amount: str = Field(description="Decimal, as the provider states it")
    currency: str


class CapabilitiesRead(BaseModel):
    sms: bool
    mms: bool
    voice: bool


class AvailableNumberRead(BaseModel):
    phone_number: str
    country: str
    region: str
    locality: str
    capabilities: CapabilitiesRead
    monthly_price: Price | None
    address_required: bool = Field(
        description="The country sells this number only with a registered local address (not supported here)."
    )


class OwnedNumberRead(BaseModel):
    phone_number: str
    connection_id: uuid.UUID
    channel_account_id: uuid.UUID
    mode: str
    status: str = Field(description="complete, pending or degraded")


class NumbersRead(BaseModel):
    country: str
    available: list[AvailableNumberRead]
    owned: list[OwnedNumberRead]
    sandbox: bool = Field(description="True when the inventory is the offline sandbox's")


# --- connect ----------------------------------------------------------------------------------------


class VerifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone_number: E164
    organization_id: uuid.UUID | None = None


class VerifyRead(BaseModel):
    phone_number: str
    expires_at: datetime
    sandbox: bool = Field(description="In sandbox mode nothing is sent; the code is in the sandbox outbox.")


class HostedOrderRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr = Field(description="Where the provider sends the letter of authorization to sign")


class ConnectRequest(BaseModel):
    """`new`: buy a listed number. `byon`: your own number, proven by the code sent to it
    (`verification_code`, from POST /channels/sms/connect/verify) or moved in by a hosted number order."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["new", "byon"]
    phone_number: E164
    workspace_id: uuid.UUID
    agent_id: uuid.UUID = Field(
        description="Required: SMS is agent-managed; its knowledge base comes from here."
    )
    organization_id: uuid.UUID | None = None
    name: Name | None = None
    is_active: bool = False
    compliance: SmsCompliance | None = None
    verification_code: Code | None = None
    hosted_order: HostedOrderRequest | None = None
    provider: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,32}$")] | None = Field(
        default=None, description="byon: the SMS provider your number sends through"
    )
    sender_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9 ]{1,11}$")] | None = None
    api_key: SecretStr | None = Field(
        default=None, description="byon: your provider's API key (stored encrypted)"
    )


class Ref(BaseModel):
    id: uuid.UUID
    name: str


class ComplianceSummary(BaseModel):
    """Completion markers only; the values are served by the compliance resource alone."""

    present: bool
    brand_complete: bool
    campaign_complete: bool


class ConnectionRead(BaseModel):
    id: uuid.UUID
    channel_account_id: uuid.UUID
    organization_id: uuid.UUID
    name: str
    type: Literal["SMS"] = "SMS"
    phone_number: str
    country: str
    mode: str
    byon_method: str | None
    provider: str
    workspace: Ref | None
    agent: Ref | None
    knowledge_base: Ref | None = Field(description="Resolved from the agent; never set on the connection")
    is_active: bool
    connection_status: str
    number_status: str
    status: Literal["complete", "pending", "degraded"]
    degraded_reason: str | None
    needs_agent: bool = Field(description='No agent is linked: the table offers "Assign in Agents"')
    registration_status: str
    registration_label: str
    compliance: ComplianceSummary
    created_at: datetime
    updated_at: datetime


class ConnectionList(BaseModel):
    items: list[ConnectionRead]
    total: int


class ConnectionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agent_id: uuid.UUID | None = None
    workspace_id: uuid.UUID | None = None
    name: Name | None = None
    is_active: bool | None = None


# --- compliance and registration --------------------------------------------------------------------


class PrecheckIssueRead(BaseModel):
    field: str
    code: str
    severity: Literal["error", "warning"]
    message: str


class RegistrationRead(BaseModel):
    status: str
    label: str
    brand_status: str | None = Field(description="in_review, registered or failed (the provider's answer)")
    campaign_status: str | None = Field(description="in_review, verified or failed (the provider's answer)")
    rejection_reason: str | None
    submitted_at: datetime | None
    decided_at: datetime | None


class ComplianceStatusRead(BaseModel):
    """What a write answers: the check and the registration, not the values (only GET serves those)."""

    connection_id: uuid.UUID
    present: bool = Field(description="False: nothing saved yet")
    precheck: list[PrecheckIssueRead]
    ready_to_submit: bool
    locked: bool = Field(description="Submitted or approved: only the always-editable fields may change")
    always_editable: list[str]
    registration: RegistrationRead


class ComplianceRead(ComplianceStatusRead):
    compliance: SmsCompliance = Field(description="The saved payload, or empty defaults when none is saved")


# --- sending ----------------------------------------------------------------------------------------


class SegmentsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: Annotated[str, StringConstraints(max_length=MAX_BODY)]


class SegmentsRead(BaseModel):
    encoding: Literal["GSM-7", "UCS-2"]
    characters: int
    units: int
    segments: int
    per_segment: int
    remaining_in_segment: int
    ucs2_characters: list[str] = Field(description="The characters that forced UCS-2, first appearance first")
    too_long: bool
    max_characters: int


class MessageCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: E164
    body: Annotated[str, StringConstraints(min_length=1, max_length=MAX_BODY)]


class ShortLinkRead(BaseModel):
    code: str
    short_url: str
    target_url: str
    message_ref: str
    clicks: int


class MessageRead(BaseModel):
    id: uuid.UUID
    connection_id: uuid.UUID
    to: str
    status: str
    error_code: str | None
    encoding: str
    segments: int
    created_at: datetime
    status_updated_at: datetime | None
    links: list[ShortLinkRead]


class MessageSent(MessageRead):
    body_sent: str = Field(description="The body as sent, links shortened")
    segment_info: SegmentsRead
