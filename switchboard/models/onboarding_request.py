from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.models.base import Base, IdMixin, JSONType, TimestampMixin, utcnow


class OnboardingRequest(IdMixin, TimestampMixin, Base):
    """A tenant's request for a managed channel, reviewed and provisioned by platform admins.

    `version` is the optimistic lock: every state change is an UPDATE ... WHERE version = <seen>,
    so of two admins acting on the same version exactly one wins. Background progress (steps, DNS
    checks) does not bump it.
    """

    __tablename__ = "onboarding_requests"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(16), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True, default="pending")
    version: Mapped[int] = mapped_column(default=1)
    business_info: Mapped[dict[str, Any]] = mapped_column(default=dict)
    revision: Mapped[int] = mapped_column(default=1)
    requested_by: Mapped[str] = mapped_column(String(320), default="")
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    domain: Mapped[str | None] = mapped_column(String(255), default=None)
    rejection_reason: Mapped[str | None] = mapped_column(String(1000), default=None)
    dns_records: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType, default=None)
    dns_confirmed_at: Mapped[datetime | None] = mapped_column(default=None)
    dns_checked_at: Mapped[datetime | None] = mapped_column(default=None)
    dns_verified_at: Mapped[datetime | None] = mapped_column(default=None)
    verification: Mapped[dict[str, Any]] = mapped_column(default=dict)
    channel_account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("channel_accounts.id", ondelete="SET NULL"), default=None
    )
    activated_at: Mapped[datetime | None] = mapped_column(default=None)
