from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.models.base import Base, IdMixin, TimestampMixin


class ShortLink(IdMixin, TimestampMixin, Base):
    """A link of one outbound message, replaced by {public_base_url}/s/{code}; clicks counted here."""

    __tablename__ = "short_links"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(16), unique=True)
    target_url: Mapped[str] = mapped_column(String(2048))
    # The message the link was sent in (an SMS message id, or a caller's own reference).
    message_ref: Mapped[str] = mapped_column(String(64), index=True)
    clicks: Mapped[int] = mapped_column(default=0)
    last_clicked_at: Mapped[datetime | None] = mapped_column(default=None)
