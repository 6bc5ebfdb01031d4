from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.models.base import Base, IdMixin, TimestampMixin


class OAuthState(IdMixin, TimestampMixin, Base):
    """One OAuth connection flow, from "Connect" to the selection step, so the provider's callback
    works in any process. The `state` sent to the provider is stored as its SHA-256, bound to the
    browser session that started it; tokens and the PKCE verifier live in the vault (owner
    `oauth_flow`), never in these columns."""

    __tablename__ = "oauth_states"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    web_session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("web_sessions.id", ondelete="CASCADE"), index=True
    )
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    provider: Mapped[str] = mapped_column(String(16))
    channel_type: Mapped[str] = mapped_column(String(32))
    channel_account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("channel_accounts.id", ondelete="CASCADE"), default=None
    )
    pending_name: Mapped[str | None] = mapped_column(String(100), default=None)
    status: Mapped[str] = mapped_column(String(16), default="authorizing")  # -> selecting -> done | failed
    choices: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"items": [{"id", "label", ...}]}
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)
