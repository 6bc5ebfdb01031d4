from __future__ import annotations

import uuid

from sqlalchemy import LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.models.base import Base, IdMixin, TimestampMixin


class VaultSecret(IdMixin, TimestampMixin, Base):
    """One encrypted value. AES-256-GCM; AAD binds the row id and field so rows can't be swapped."""

    __tablename__ = "vault_secrets"
    __table_args__ = (UniqueConstraint("owner_type", "owner_id", "field"),)

    organization_id: Mapped[uuid.UUID | None] = mapped_column(index=True, default=None)
    owner_type: Mapped[str] = mapped_column(String(64))
    owner_id: Mapped[uuid.UUID] = mapped_column(index=True)
    field: Mapped[str] = mapped_column(String(100))
    key_id: Mapped[str] = mapped_column(String(32), index=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    hint: Mapped[str] = mapped_column(String(8), default="")
