from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.models.base import Base, IdMixin, utcnow


class WebhookEvent(IdMixin, Base):
    """A verified provider webhook, stored raw before any parsing (the parse job reads it).

    `channel_account_id` is a plain indexed UUID, not a cascading foreign key: webhook history
    survives the account's deletion. The unique pair makes a replayed provider message a no-op.
    """

    __tablename__ = "webhook_events"
    __table_args__ = (
        UniqueConstraint("channel_account_id", "provider_message_id", name="uq_webhook_events_account_msg"),
        Index("ix_webhook_events_status_received", "status", "received_at"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    channel_account_id: Mapped[uuid.UUID] = mapped_column(index=True)
    provider: Mapped[str] = mapped_column(String(32))
    provider_message_id: Mapped[str] = mapped_column(String(200))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(String(16), default="received")  # received|processed|dropped|failed
    error: Mapped[str | None] = mapped_column(Text, default=None)
