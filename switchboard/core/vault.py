"""Credential vault: AES-256-GCM with a key id beside each ciphertext and the row bound as AAD.

Keys come from SWITCHBOARD_VAULT_KEY (base64, 32 bytes) and/or a 0600 key file under var/.
`rotate-key` adds a key to the file and re-encrypts every row; older keys stay in the ring,
so ciphertexts written under them remain readable until they are re-encrypted.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.core.config import Settings
from switchboard.models import VaultSecret

MASK = "••••"


class VaultError(Exception):
    pass


def _kid(key: bytes) -> str:
    return "k" + hashlib.sha256(key).hexdigest()[:12]


def _decode_key(value: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(value.strip() + "=" * (-len(value.strip()) % 4))
    except ValueError as exc:
        raise VaultError("SWITCHBOARD_VAULT_KEY must be base64 of 32 random bytes") from exc
    if len(raw) != 32:
        raise VaultError("SWITCHBOARD_VAULT_KEY must decode to exactly 32 bytes (AES-256)")
    return raw


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def encode_key(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode().rstrip("=")


@dataclass
class Keyring:
    path: Path
    env_key: str = ""
    keys: dict[str, bytes] = field(default_factory=dict)
    active: str = ""
    _mtime: float = -1.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_settings(cls, settings: Settings) -> Keyring:
        ring = cls(path=settings.var_dir / "vault.keys", env_key=settings.vault_key)
        ring.load(create=True)
        return ring

    def load(self, create: bool = False) -> None:
        with self._lock:
            keys: dict[str, bytes] = {}
            active = ""
            if self.env_key:
                env = _decode_key(self.env_key)
                keys[_kid(env)] = env
                active = _kid(env)
            if self.path.exists():
                data = json.loads(self.path.read_text())
                for kid, enc in data.get("keys", {}).items():
                    keys[kid] = _decode_key(enc)
                active = data.get("active") or active
                self._mtime = self.path.stat().st_mtime
            elif not keys and create:
                key = new_key()
                keys[_kid(key)] = key
                active = _kid(key)
                self._write(keys, active)
            if not keys:
                raise VaultError("no vault key: set SWITCHBOARD_VAULT_KEY or let the service create one")
            self.keys, self.active = keys, active

    def refresh(self) -> None:
        """Pick up a rotation done by another process (the CLI) without a restart."""
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            return
        if mtime != self._mtime:
            self.load()

    def _write(self, keys: dict[str, bytes], active: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        env_kid = _kid(_decode_key(self.env_key)) if self.env_key else None
        data = {"active": active, "keys": {k: encode_key(v) for k, v in keys.items() if k != env_kid}}
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh)
        os.replace(tmp, self.path)
        self._mtime = self.path.stat().st_mtime

    def add_active_key(self) -> str:
        key = new_key()
        kid = _kid(key)
        with self._lock:
            keys = dict(self.keys)
            keys[kid] = key
            self._write(keys, kid)
            self.keys, self.active = keys, kid
        return kid

    def get(self, kid: str) -> bytes:
        if kid not in self.keys:
            self.refresh()
        try:
            return self.keys[kid]
        except KeyError as exc:
            raise VaultError(f"vault key {kid} is not in the key ring") from exc


def _aad(row: VaultSecret) -> bytes:
    return f"{row.id}|{row.owner_type}|{row.owner_id}|{row.field}".encode()


def hint_for(value: str) -> str:
    # Only long values show their tail: a short secret's last 4 would be most of it.
    return value[-4:] if len(value) >= 12 else ""


def mask(hint: str) -> str:
    return MASK + hint if hint else MASK * 2


class Vault:
    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring

    def _seal(self, row: VaultSecret, plaintext: str) -> None:
        self.keyring.refresh()
        kid = self.keyring.active
        nonce = secrets.token_bytes(12)
        ct = AESGCM(self.keyring.get(kid)).encrypt(nonce, plaintext.encode(), _aad(row))
        row.key_id, row.ciphertext, row.hint = kid, nonce + ct, hint_for(plaintext)

    def open(self, row: VaultSecret) -> str:
        key = self.keyring.get(row.key_id)
        try:
            pt = AESGCM(key).decrypt(row.ciphertext[:12], row.ciphertext[12:], _aad(row))
        except Exception as exc:  # InvalidTag: tampered, swapped or wrong key
            raise VaultError(f"secret {row.id} failed authentication") from exc
        return pt.decode()

    async def put(
        self,
        session: AsyncSession,
        owner_type: str,
        owner_id: uuid.UUID,
        field_name: str,
        value: str,
        organization_id: uuid.UUID | None = None,
    ) -> VaultSecret:
        row = await session.scalar(
            select(VaultSecret).where(
                VaultSecret.owner_type == owner_type,
                VaultSecret.owner_id == owner_id,
                VaultSecret.field == field_name,
            )
        )
        if row is None:
            row = VaultSecret(
                id=uuid.uuid4(),
                owner_type=owner_type,
                owner_id=owner_id,
                field=field_name,
                organization_id=organization_id,
            )
            session.add(row)
        self._seal(row, value)
        return row

    async def rows(self, session: AsyncSession, owner_type: str, owner_id: uuid.UUID) -> list[VaultSecret]:
        result = await session.scalars(
            select(VaultSecret).where(VaultSecret.owner_type == owner_type, VaultSecret.owner_id == owner_id)
        )
        return list(result)

    async def read_all(self, session: AsyncSession, owner_type: str, owner_id: uuid.UUID) -> dict[str, str]:
        return {r.field: self.open(r) for r in await self.rows(session, owner_type, owner_id)}

    async def get(
        self, session: AsyncSession, owner_type: str, owner_id: uuid.UUID, field_name: str
    ) -> str | None:
        row = await session.scalar(
            select(VaultSecret).where(
                VaultSecret.owner_type == owner_type,
                VaultSecret.owner_id == owner_id,
                VaultSecret.field == field_name,
            )
        )
        return self.open(row) if row else None

    async def masks(self, session: AsyncSession, owner_type: str, owner_id: uuid.UUID) -> dict[str, str]:
        return {r.field: mask(r.hint) for r in await self.rows(session, owner_type, owner_id)}

    async def remove(
        self, session: AsyncSession, owner_type: str, owner_id: uuid.UUID, field_name: str | None = None
    ) -> None:
        stmt = delete(VaultSecret).where(
            VaultSecret.owner_type == owner_type, VaultSecret.owner_id == owner_id
        )
        if field_name is not None:
            stmt = stmt.where(VaultSecret.field == field_name)
        await session.execute(stmt)

    async def reencrypt_batch(self, session: AsyncSession, batch_size: int = 200) -> int:
        """Re-encrypt up to batch_size rows not yet under the active key; returns how many."""
        self.keyring.refresh()
        rows = list(
            await session.scalars(
                select(VaultSecret)
                .where(VaultSecret.key_id != self.keyring.active)
                .limit(batch_size)
                .with_for_update()
            )
        )
        for row in rows:
            self._seal(row, self.open(row))
        return len(rows)
