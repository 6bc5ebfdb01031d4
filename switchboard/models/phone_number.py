from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.models.base import Base, IdMixin, TimestampMixin


class PhoneNumber(IdMixin, TimestampMixin, Base):
    """A number of a Twilio setup, optionally assigned to one voice use case of that setup.

    E.164 numbers are unique on the whole platform: a number belongs to one account.
    """

    __tablename__ = "phone_numbers"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    twilio_setup_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("twilio_setups.id", ondelete="CASCADE"), index=True
    )
    phone_number: Mapped[str] = mapped_column(String(16), unique=True)
    friendly_name: Mapped[str | None] = mapped_column(String(64), default=None)
    # Twilio's IncomingPhoneNumber SID (PN...) when imported from the account.
    provider_sid: Mapped[str | None] = mapped_column(String(34), default=None)
    # No cascade: a use case cannot be deleted while numbers are assigned (the API answers 409 first).
    use_case_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("use_cases.id"), index=True, default=None
    )
