from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.models.base import Base, IdMixin, utcnow


class ConnectionAttempt(IdMixin, Base):
    """The connection log: each test, health check, connect or reconnect with the provider's answer.

    The account id is a plain column so the log stays readable for troubleshooting after deletion.
    """

    __tablename__ = "connection_attempts"
    __table_args__ = (Index("ix_connection_attempts_account_at", "channel_account_id", "at"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    channel_account_id: Mapped[uuid.UUID] = mapped_column()
    at: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(16))  # test | health | connect | reconnect
    ok: Mapped[bool] = mapped_column()
    error_kind: Mapped[str | None] = mapped_column(String(16), default=None)
    error_code: Mapped[str | None] = mapped_column(String(100), default=None)
    message: Mapped[str | None] = mapped_column(Text, default=None)
    status_after: Mapped[str] = mapped_column(String(16))
