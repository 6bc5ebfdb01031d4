from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.models.base import Base, IdMixin, JSONType, TimestampMixin


class SesSetup(IdMixin, TimestampMixin, Base):
    """An SES sending/receiving domain: one reputation boundary (SES tenant) and one domain identity.

    Tenant names and domains are unique on the whole platform: SES tenant names are
    account-wide, and a domain can belong to one organization only.
    """

    __tablename__ = "ses_setups"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    tenant_name: Mapped[str] = mapped_column(String(64), unique=True)
    # Lowercase IDNA (ASCII) form, so "Example.COM" and "example.com" collide.
    domain_identity: Mapped[str] = mapped_column(String(255), unique=True)
    region: Mapped[str] = mapped_column(String(32))
    mail_from_subdomain: Mapped[str] = mapped_column(String(63), default="bounce")
    dkim_tokens: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # The seven records in expected_records() order, each {address, record, type, purpose,
    # verified, reason}; the stored `verified` is what drift is detected against.
    dns_records: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    dns_verified: Mapped[bool] = mapped_column(default=False, index=True)
    dns_checked_at: Mapped[datetime | None] = mapped_column(default=None)
    verified_at: Mapped[datetime | None] = mapped_column(default=None)
    # Re-check schedule: back-off while unverified, daily once verified.
    next_check_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    check_failures: Mapped[int] = mapped_column(default=0)
    # Which adapter provisioned it ("sandbox" or "ses"), and the SES tenant ARN when live.
    provider_mode: Mapped[str] = mapped_column(String(16), default="sandbox")
    tenant_ref: Mapped[str | None] = mapped_column(String(255), default=None)
