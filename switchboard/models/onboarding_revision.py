from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.models.base import Base, IdMixin, TimestampMixin


class OnboardingRevision(IdMixin, TimestampMixin, Base):
    """One submission of a request's business info; a resubmission adds the next number."""

    __tablename__ = "onboarding_revisions"
    __table_args__ = (UniqueConstraint("request_id", "number"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    request_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("onboarding_requests.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int]
    business_info: Mapped[dict[str, Any]] = mapped_column(default=dict)
    submitted_by: Mapped[str] = mapped_column(String(320), default="")
    rejection_reason: Mapped[str | None] = mapped_column(String(1000), default=None)
