from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from switchboard.connectors.base import HttpUrlStr


class Channel(StrEnum):
    WHATSAPP = "whatsapp"
    SMS = "sms"
    EMAIL = "email"
    RCS = "rcs"
    PUSH = "push"


CHANNEL_LABELS = {
    Channel.WHATSAPP: "WhatsApp",
    Channel.SMS: "SMS",
    Channel.EMAIL: "Email",
    Channel.RCS: "RCS",
    Channel.PUSH: "Push",
}

# Channels whose activation waits for DNS records the tenant publishes.
DNS_CHANNELS = frozenset({Channel.EMAIL, Channel.RCS})
# Channels whose numbers are handed out per outlet on activation.
NUMBER_CHANNELS = frozenset({Channel.WHATSAPP, Channel.SMS})


class Status(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    DNS_SETUP = "dns_setup"
    ACTIVE = "active"
    REJECTED = "rejected"


STATUS_LABELS = {
    Status.PENDING: "Pending",
    Status.IN_PROGRESS: "In progress",
    Status.DNS_SETUP: "DNS setup",
    Status.ACTIVE: "Active",
    Status.REJECTED: "Rejected",
}


class StepStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Vertical(StrEnum):
    RETAIL = "retail"
    ECOMMERCE = "ecommerce"
    FINANCIAL_SERVICES = "financial_services"
    INSURANCE = "insurance"
    HEALTHCARE = "healthcare"
    EDUCATION = "education"
    HOSPITALITY = "hospitality"
    FOOD_AND_BEVERAGE = "food_and_beverage"
    TRAVEL = "travel"
    REAL_ESTATE = "real_estate"
    AUTOMOTIVE = "automotive"
    LOGISTICS = "logistics"
    TECHNOLOGY = "technology"
    TELECOMMUNICATIONS = "telecommunications"
    MEDIA_AND_ENTERTAINMENT = "media_and_entertainment"
    PROFESSIONAL_SERVICES = "professional_services"
    ENERGY_AND_UTILITIES = "energy_and_utilities"
    NON_PROFIT = "non_profit"
    GOVERNMENT = "government"
    OTHER = "other"


def vertical_label(value: str) -> str:
    return value.replace("_and_", " & ").replace("_", " ").capitalize()


# Reasons offered in the admin's reject form; free text is allowed too.
COMMON_REJECTION_REASONS = (
    "Website less than 3 months old",
    "Business verification failed",
    "Incomplete business information",
    "Prohibited use case",
)

_CONTROL = frozenset(chr(c) for c in range(32)) - {"\t", "\n", "\r"}


def no_control_chars(value: str) -> str:
    """Text people type has no control characters (and PostgreSQL refuses NUL in text and JSON)."""
    if any(c in _CONTROL for c in value):
        raise ValueError("must not contain control characters")
    return value


Clean = AfterValidator(no_control_chars)
Text200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), Clean]
Text2000 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), Clean]


def _no_credentials_in_url(value: str) -> str:
    if "@" in value.split("//", 1)[-1].split("/", 1)[0]:
        raise ValueError("must not contain a user name or password")
    return value


class BusinessInfo(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "company_name": "Acme Ltd",
                "website": "https://acme.example",
                "vertical": "retail",
                "expected_monthly_volume": 20000,
                "use_case": "Order updates and delivery notifications",
                "notes": "Two stores, one brand",
            }
        },
    )

    company_name: Text200
    website: Annotated[HttpUrlStr, AfterValidator(_no_credentials_in_url), Clean] = Field(
        description="The business's public website, http(s)."
    )
    vertical: Vertical
    expected_monthly_volume: int = Field(ge=1, le=10_000_000_000, description="Messages per month.")
    use_case: Text2000
    notes: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000), Clean] | None = None


class OnboardingRequestCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Channel
    business_info: BusinessInfo
    organization_id: uuid.UUID | None = Field(
        default=None, description="Defaults to the API key's organization; another tenant's id is 404."
    )


class Resubmit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    business_info: BusinessInfo
    version: int | None = Field(default=None, ge=1, description="The version you saw, if you want the check.")


class VersionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int | None = Field(
        default=None, ge=1, description="The request version you acted on (or send it as If-Match)."
    )


class RejectBody(VersionBody):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000), Clean]


class DnsRecordRead(BaseModel):
    address: str
    record: str
    type: str
    purpose: str
    verified: bool = False
    reason: str | None = None


class StepRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    label: str
    position: int
    status: StepStatus
    attempts: int
    last_error: str | None
    result: dict[str, Any]
    started_at: datetime | None
    finished_at: datetime | None


class RevisionRead(BaseModel):
    number: int
    business_info: dict[str, Any]
    submitted_by: str
    rejection_reason: str | None
    created_at: datetime


class OrganizationRef(BaseModel):
    id: uuid.UUID
    name: str


class OnboardingRequestRead(BaseModel):
    id: uuid.UUID
    organization: OrganizationRef
    channel: Channel
    status: Status
    version: int
    business_info: dict[str, Any]
    revision: int
    requested_by: str
    created_at: datetime
    submitted_at: datetime
    updated_at: datetime
    domain: str | None
    rejection_reason: str | None
    steps: list[StepRead]
    dns_records: list[DnsRecordRead] | None = Field(
        description="Shown once the records are issued (status dns_setup and later)."
    )
    dns_confirmed_at: datetime | None
    dns_checked_at: datetime | None
    dns_verified: bool
    verification: dict[str, Any]
    channel_account_id: uuid.UUID | None
    activated_at: datetime | None
    allowed_actions: list[str] = Field(description="What an admin may do next, from the transition table.")


class OnboardingRequestDetail(OnboardingRequestRead):
    revisions: list[RevisionRead]


class AuditRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    actor: str
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None
    created_at: datetime


class AdminRequestDetail(OnboardingRequestDetail):
    audit: list[AuditRead]


class ConflictBody(BaseModel):
    error: Literal["conflict", "stale_version", "illegal_transition"]
    message: str
    details: list[dict[str, Any]] = []
    status: Status
    version: int


SortOrder = Literal["asc", "desc"]
