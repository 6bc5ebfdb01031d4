"""Request and response shapes of /v1/ses-setup."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

from switchboard.email.dns_records import MAX_DOMAIN_LENGTH, normalize_domain

TENANT_NAME_PATTERN = r"^[A-Za-z0-9_-]+$"


def _domain(value: str) -> str:
    try:
        return normalize_domain(value)
    except ValueError as exc:
        # One rule name for every way a host name can be malformed; the message says which.
        raise PydanticCustomError("invalid_domain", str(exc)) from exc


TenantName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=TENANT_NAME_PATTERN),
    Field(
        description="Logical name for reputation and suppression isolation: 1-64 letters, digits, "
        "hyphens and underscores. Unique on the platform.",
        examples=["acme-transactional"],
    ),
]
DomainIdentity = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_DOMAIN_LENGTH),
    AfterValidator(_domain),
    Field(
        description="Domain to verify for sending and receiving, 1-255 characters. Internationalized "
        "names are stored IDNA-encoded (xn--...).",
        examples=["mail.customer.com"],
    ),
]


class SesSetupCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"example": {"tenant_name": "acme-mail", "domain_identity": "mail.customer.com"}},
    )

    tenant_name: TenantName
    domain_identity: DomainIdentity
    organization_id: uuid.UUID | None = Field(
        default=None,
        description="Defaults to the API key's organization; platform admins must name one.",
    )


class DnsRecordRead(BaseModel):
    address: str = Field(description="Fully-qualified DNS name for the record")
    record: str = Field(description="Target value (includes the priority prefix for MX records)")
    type: Literal["CNAME", "MX", "TXT"]
    verified: bool = Field(description="Whether this record was found with this value at the last check")
    reason: str | None = Field(
        default=None, description="Why the record is not verified, and what to do about it"
    )
    purpose: Literal["dkim", "mail_from_mx", "spf", "dmarc", "inbound_mx"]


class SesSetupRead(BaseModel):
    id: uuid.UUID
    organization_id: uuid.UUID
    tenant_name: str
    domain_identity: str
    dns_verified: bool = Field(description="Whether all DNS records are verified")
    dns_checked_at: datetime | None = Field(description="Last DNS check; null until the first refresh")
    dns_records: list[DnsRecordRead]
    created_at: datetime
    updated_at: datetime


class SesSetupSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    organization_id: uuid.UUID
    tenant_name: str
    domain_identity: str
    dns_verified: bool
    dns_checked_at: datetime | None
    created_at: datetime
    updated_at: datetime


class SesSetupList(BaseModel):
    items: list[SesSetupSummary]
