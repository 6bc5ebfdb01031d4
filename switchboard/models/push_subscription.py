from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.models.base import Base, IdMixin, TimestampMixin


class PushSubscription(IdMixin, TimestampMixin, Base):
    """A browser's Web Push subscription to one Web Push channel account."""

    __tablename__ = "push_subscriptions"
    __table_args__ = (
        UniqueConstraint("channel_account_id", "endpoint", name="uq_push_subscriptions_endpoint"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    channel_account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("channel_accounts.id", ondelete="CASCADE"), index=True
    )
    endpoint: Mapped[str] = mapped_column(String(2000))
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(100))
    user_agent: Mapped[str | None] = mapped_column(String(500), default=None)
    last_success_at: Mapped[datetime | None] = mapped_column(default=None)
