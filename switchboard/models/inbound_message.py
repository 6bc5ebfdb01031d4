from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.models.base import Base, IdMixin, TimestampMixin


class InboundMessage(IdMixin, TimestampMixin, Base):
    """One parsed item of a webhook (or IMAP poll): a message, a delivery receipt or a read receipt.

    Like webhook events it keeps the account id without a cascading key, so history outlives it.
    """

    __tablename__ = "inbound_messages"
    __table_args__ = (
        UniqueConstraint("channel_account_id", "kind", "provider_message_id", name="uq_inbound_messages_key"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    channel_account_id: Mapped[uuid.UUID] = mapped_column(index=True)
    webhook_event_id: Mapped[uuid.UUID | None] = mapped_column(index=True, default=None)
    kind: Mapped[str] = mapped_column(String(16))  # message | delivery | read | status | other
    provider_message_id: Mapped[str] = mapped_column(String(300))
    sender: Mapped[str | None] = mapped_column(String(320), default=None)
    text: Mapped[str | None] = mapped_column(Text, default=None)
    thread_key: Mapped[str | None] = mapped_column(String(300), index=True, default=None)
    occurred_at: Mapped[datetime | None] = mapped_column(default=None)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
