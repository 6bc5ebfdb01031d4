from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.models.base import Base, IdMixin, utcnow


class TierChange(IdMixin, Base):
    """One reputation tier transition with the window figures that caused it."""

    __tablename__ = "tier_changes"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    use_case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("use_cases.id", ondelete="CASCADE"), index=True)
    from_tier: Mapped[str | None] = mapped_column(String(16), default=None)
    to_tier: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(500))
    # sends, bounces, complaints, rates and the window they were counted over.
    figures: Mapped[dict[str, Any]] = mapped_column(default=dict)
    actor: Mapped[str] = mapped_column(String(320), default="system")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
