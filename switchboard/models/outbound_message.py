from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.models.base import Base, IdMixin, TimestampMixin


class OutboundMessage(IdMixin, TimestampMixin, Base):
    """One message sent through a channel account: the row is the durable hand-off to the send job,
    so it is written (queued) before any provider is called, and then follows the provider's answer
    and its delivery/read receipts.

    `body` is exactly what the type's adapter gets. `client_reference` makes a retried request
    return the message it already created instead of sending twice.
    """

    __tablename__ = "outbound_messages"
    __table_args__ = (
        UniqueConstraint(
            "channel_account_id", "client_reference", name="uq_outbound_messages_client_reference"
        ),
        Index("ix_outbound_messages_account_created", "channel_account_id", "created_at"),
        Index("ix_outbound_messages_account_provider_id", "channel_account_id", "provider_message_id"),
        Index("ix_outbound_messages_status_next_attempt", "status", "next_attempt_at"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    channel_account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("channel_accounts.id", ondelete="CASCADE")
    )
    channel_type: Mapped[str] = mapped_column(String(32))
    to: Mapped[str] = mapped_column(String(320))
    body: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # queued | sending | sent | delivered | read | failed
    status: Mapped[str] = mapped_column(String(16), default="queued")
    provider_message_id: Mapped[str | None] = mapped_column(String(300), default=None)
    error_kind: Mapped[str | None] = mapped_column(String(16), default=None)
    error_code: Mapped[str | None] = mapped_column(String(100), default=None)
    error_message: Mapped[str | None] = mapped_column(Text, default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    client_reference: Mapped[str | None] = mapped_column(String(100), default=None)
    # How the sender was resolved (spec: every outbound send stamps it); "direct" for a channel send.
    routed_via: Mapped[str | None] = mapped_column(String(32), default=None)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
    read_at: Mapped[datetime | None] = mapped_column(default=None)
    failed_at: Mapped[datetime | None] = mapped_column(default=None)
