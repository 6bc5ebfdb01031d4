from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.models.base import Base, IdMixin, TimestampMixin


class SmsMessage(IdMixin, TimestampMixin, Base):
    """An outbound SMS and its delivery status (from the provider's status callbacks).

    The body is not kept: its encoding and segment count are what billing and support need.
    """

    __tablename__ = "sms_messages"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("sms_connections.id", ondelete="CASCADE"), index=True
    )
    to_number: Mapped[str] = mapped_column(String(16))
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    error_code: Mapped[str | None] = mapped_column(String(16), default=None)
    encoding: Mapped[str] = mapped_column(String(8))
    segments: Mapped[int] = mapped_column(default=1)
    status_updated_at: Mapped[datetime | None] = mapped_column(default=None)
