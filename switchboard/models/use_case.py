from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.models.base import Base, IdMixin, TimestampMixin


class UseCase(IdMixin, TimestampMixin, Base):
    """A channel bound to a setup: voice channels to a Twilio setup, email to an SES setup.

    Email use cases own one SES configuration set (platform-wide unique name) and carry a
    reputation tier; `sending_pool` is the pool last applied at the provider, so a failed
    switch is visible (it differs from the tier's pool) and retried by the periodic job.
    """

    __tablename__ = "use_cases"
    __table_args__ = (UniqueConstraint("organization_id", "entity_name", "name"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(32), index=True)
    entity_name: Mapped[str] = mapped_column(String(31))
    name: Mapped[str] = mapped_column(String(31))
    description: Mapped[str | None] = mapped_column(Text, default=None)
    # No cascade (NO ACTION): a setup cannot be deleted while use cases reference it, but an
    # organization's deletion still cascades to both in one statement.
    twilio_setup_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("twilio_setups.id"), index=True, default=None
    )
    ses_setup_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("ses_setups.id"), index=True, default=None
    )
    configuration_set_name: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    # Stored lowercased: one address is one sender, however it is capitalised.
    sender_email_address: Mapped[str | None] = mapped_column(String(320), unique=True, default=None)
    email_type: Mapped[str | None] = mapped_column(String(16), default=None)
    tier: Mapped[str | None] = mapped_column(String(16), default=None, index=True)
    tier_changed_at: Mapped[datetime | None] = mapped_column(default=None)
    # The tier to go back to once a suspension is lifted.
    tier_before_suspension: Mapped[str | None] = mapped_column(String(16), default=None)
    # Review level reached (SES's warning level) without a tier change; text says which rate.
    reputation_warning: Mapped[str | None] = mapped_column(String(200), default=None)
    sending_pool: Mapped[str | None] = mapped_column(String(64), default=None)
    pool_sync_error: Mapped[str | None] = mapped_column(String(500), default=None)
