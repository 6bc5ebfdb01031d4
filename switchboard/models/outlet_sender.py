from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.models.base import Base, IdMixin, TimestampMixin


class OutletSender(IdMixin, TimestampMixin, Base):
    """A sender (phone number) serving an outlet on one channel.

    `included` numbers are the one per outlet the platform provides with a managed channel;
    further numbers are `billable` at `rental_rate`. `phone_number` is empty while the number is
    being allocated by a job (`status` = allocating).
    """

    __tablename__ = "outlet_senders"
    __table_args__ = (UniqueConstraint("channel", "phone_number"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    outlet_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("outlets.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16), index=True)
    phone_number: Mapped[str | None] = mapped_column(String(32), default=None)
    status: Mapped[str] = mapped_column(String(16), default="allocating")
    is_primary: Mapped[bool] = mapped_column(default=False)
    provided: Mapped[bool] = mapped_column(default=True)
    included: Mapped[bool] = mapped_column(default=False)
    billable: Mapped[bool] = mapped_column(default=False)
    rental_rate: Mapped[str | None] = mapped_column(String(32), default=None)
    provider_ref: Mapped[str | None] = mapped_column(String(100), default=None)
    channel_account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("channel_accounts.id", ondelete="SET NULL"), default=None
    )
