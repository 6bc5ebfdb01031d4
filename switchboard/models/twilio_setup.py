from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.models.base import Base, IdMixin, TimestampMixin


class TwilioSetup(IdMixin, TimestampMixin, Base):
    """A tenant's Twilio account reference and its TrustHub customer profile.

    The auth token lives in the vault (owner "twilio_setup", field "auth_token"), never here.
    """

    __tablename__ = "twilio_setups"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(64))
    account_sid: Mapped[str] = mapped_column(String(34), index=True)
    # The business data submitted for the customer profile (not secret).
    business_name: Mapped[str] = mapped_column(String(200))
    business_type: Mapped[str] = mapped_column(String(64))
    website: Mapped[str] = mapped_column(String(2000))
    contact_email: Mapped[str] = mapped_column(String(320))
    # Customer profile: pending | approved | rejected (the provider's own status is kept beside it).
    profile_status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    profile_status_reason: Mapped[str | None] = mapped_column(String(1000), default=None)
    profile_sid: Mapped[str | None] = mapped_column(String(34), default=None)
    profile_provider_status: Mapped[str | None] = mapped_column(String(32), default=None)
    profile_submitted_at: Mapped[datetime | None] = mapped_column(default=None)
    profile_decided_at: Mapped[datetime | None] = mapped_column(default=None)
    # Which adapter created it ("sandbox" or "live"): sandbox profiles are approved on a schedule.
    provider_mode: Mapped[str] = mapped_column(String(16), default="sandbox")
