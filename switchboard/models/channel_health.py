from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.models.base import Base, IdMixin, TimestampMixin


class ChannelHealth(IdMixin, TimestampMixin, Base):
    """Per-account health: consecutive provider errors, the last one, and the last success."""

    __tablename__ = "channel_health"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    channel_account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("channel_accounts.id", ondelete="CASCADE"), unique=True
    )
    error_count: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    last_error_kind: Mapped[str | None] = mapped_column(String(16), default=None)
    last_error_at: Mapped[datetime | None] = mapped_column(default=None)
    last_success_at: Mapped[datetime | None] = mapped_column(default=None)
