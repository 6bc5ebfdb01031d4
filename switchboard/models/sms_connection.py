from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.models.base import Base, IdMixin, TimestampMixin


class SmsConnection(IdMixin, TimestampMixin, Base):
    """The SMS side of an SMS channel account: its number, destination and 10DLC registration.

    The compliance payload (brand and campaign) is never a column: it is one JSON secret in the
    vault (owner `sms_connection`, field `compliance`). The knowledge base is not stored either:
    it is resolved from the agent on every read.
    """

    __tablename__ = "sms_connections"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    channel_account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("channel_accounts.id", ondelete="CASCADE"), unique=True
    )
    # A number is connected once on the whole platform.
    phone_number: Mapped[str] = mapped_column(String(16), unique=True)
    country: Mapped[str] = mapped_column(String(2), default="US")
    workspace_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("workspaces.id", ondelete="SET NULL"), index=True, default=None
    )
    agent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), index=True, default=None
    )
    mode: Mapped[str] = mapped_column(String(8))  # new | byon
    # byon: how ownership was shown (code) or is being transferred (hosted_order).
    byon_method: Mapped[str | None] = mapped_column(String(16), default=None)
    provider: Mapped[str] = mapped_column(String(32))
    number_sid: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
    hosted_order_sid: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
    number_status: Mapped[str] = mapped_column(
        String(16), default="active"
    )  # active|pending|reclaimed|failed
    # Set by the provider's webhook or the inventory sync; cleared when the number is back or replaced.
    degraded_reason: Mapped[str | None] = mapped_column(String(200), default=None)
    # 10DLC registration: draft -> submitted -> approved | rejected (see sms/registration.py).
    registration_status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    brand_registration_sid: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
    brand_status: Mapped[str | None] = mapped_column(String(32), default=None)
    messaging_service_sid: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
    campaign_sid: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
    campaign_status: Mapped[str | None] = mapped_column(String(32), default=None)
    rejection_reason: Mapped[str | None] = mapped_column(String(500), default=None)
    submitted_at: Mapped[datetime | None] = mapped_column(default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    compliance_updated_at: Mapped[datetime | None] = mapped_column(default=None)
