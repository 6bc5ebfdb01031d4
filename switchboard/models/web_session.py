from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.models.base import Base, IdMixin, TimestampMixin


class WebSession(IdMixin, TimestampMixin, Base):
    """Server-side login session; the cookie carries a random token whose hash is stored."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), default=None
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]


class LoginAttempt(IdMixin, Base):
    """Failed logins, counted per e-mail and per client address for rate limiting."""

    __tablename__ = "login_attempts"

    key: Mapped[str] = mapped_column(String(400), index=True)
    at: Mapped[datetime]
