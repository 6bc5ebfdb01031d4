from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.models.base import Base, IdMixin, utcnow


class EmailEvent(IdMixin, Base):
    """One SES event (Send, Delivery, Bounce, Complaint, ...) received through SNS.

    `sns_message_id` is unique, so a redelivered notification is stored once. Events for a
    configuration set no use case owns keep use_case_id and organization_id null.
    """

    __tablename__ = "email_events"
    __table_args__ = (Index("ix_email_events_use_case_occurred", "use_case_id", "occurred_at"),)

    sns_message_id: Mapped[str] = mapped_column(String(100), unique=True)
    topic_arn: Mapped[str] = mapped_column(String(300))
    organization_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True, default=None
    )
    use_case_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("use_cases.id", ondelete="SET NULL"), default=None
    )
    configuration_set_name: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
    # send | delivery | bounce | complaint | reject | delivery_delay | ... (SES eventType, snake_case)
    kind: Mapped[str] = mapped_column(String(32))
    # Bounce type (Permanent/Transient/Undetermined) or complaint feedback type.
    subtype: Mapped[str | None] = mapped_column(String(32), default=None)
    ses_message_id: Mapped[str | None] = mapped_column(String(200), default=None)
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
