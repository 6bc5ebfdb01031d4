"""The credential vault: encryption at rest, row binding, and key rotation while serving."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from switchboard.core.config import Settings
from switchboard.core.vault import Keyring, Vault, VaultError, encode_key, new_key
from switchboard.models import VaultSecret
from tests.support.tenants import Tenant

TOKEN = "123456:VAULTtest-token-abcdefghij0123456789"


def make_vault(tmp_path: Path, env_key: str = "") -> Vault:
    return Vault(Keyring.from_settings(Settings(var_dir=tmp_path, vault_key=env_key)))


def test_key_file_is_created_private(tmp_path: Path) -> None:
    make_vault(tmp_path)
    mode = stat.S_IMODE(os.stat(tmp_path / "vault.keys").st_mode)
    assert mode == 0o600


def test_env_key_must_be_32_bytes(tmp_path: Path) -> None:
    with pytest.raises(VaultError, match="32 bytes"):
        make_vault(tmp_path, env_key=encode_key(b"short"))


def test_secrets_are_encrypted_at_rest_and_bound_to_their_row(
    client: TestClient, tenant: Tenant, db: Any
) -> None:
    r = client.post(
        "/rest/v1/channel_accounts",
        json={"name": "bot", "type": "TELEGRAM", "settings": {"bot_token": TOKEN}},
        headers=tenant.headers,
    )
    account_id = uuid.UUID(r.json()["id"])

    async def rows(session: Any) -> list[VaultSecret]:
        return list(await session.scalars(select(VaultSecret).where(VaultSecret.owner_id == account_id)))

    (row,) = db.session(rows)
    assert TOKEN.encode() not in row.ciphertext
    assert row.key_id.startswith("k")
    assert db.runtime.vault.open(row) == TOKEN

    # Moving a ciphertext to another row (or field) must fail authentication, not decrypt.
    other = VaultSecret(
        id=uuid.uuid4(),
        owner_type=row.owner_type,
        owner_id=uuid.uuid4(),
        field=row.field,
        key_id=row.key_id,
        ciphertext=row.ciphertext,
    )
    with pytest.raises(VaultError):
        db.runtime.vault.open(other)
    tampered = VaultSecret(
        id=row.id,
        owner_type=row.owner_type,
        owner_id=row.owner_id,
        field=row.field,
        key_id=row.key_id,
        ciphertext=row.ciphertext[:-1] + bytes([row.ciphertext[-1] ^ 1]),
    )
    with pytest.raises(VaultError):
        db.runtime.vault.open(tampered)


def test_rotate_key_reencrypts_everything_while_the_service_runs(
    client: TestClient, tenant: Tenant, db: Any, settings: Settings
) -> None:
    ids = []
    for i in range(3):
        r = client.post(
            "/rest/v1/channel_accounts",
            json={"name": f"bot {i}", "type": "TELEGRAM", "settings": {"bot_token": f"{TOKEN}{i}"}},
            headers=tenant.headers,
        )
        ids.append(r.json()["id"])
    old_kid = db.runtime.vault.keyring.active

    env = {**os.environ}
    out = subprocess.run(
        [sys.executable, "-m", "switchboard.cli", "vault", "rotate-key"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    assert "re-encrypted 3 secrets" in out

    async def key_ids(session: Any) -> set[str]:
        return set(await session.scalars(select(VaultSecret.key_id)))

    (new_kid,) = db.session(key_ids)
    assert new_kid != old_kid
    # The running service picks up the new key and still reads every secret.
    r = client.patch(
        f"/rest/v1/channel_accounts/{ids[0]}",
        json={"settings": {"bot_username": "renamed_bot"}},
        headers=tenant.headers,
    )
    assert r.status_code == 200
    assert r.json()["settings"]["bot_token"] == "••••" + f"{TOKEN}0"[-4:]
    # Writes after the rotation use the new key.
    client.post(
        "/rest/v1/channel_accounts",
        json={"name": "late", "type": "TELEGRAM", "settings": {"bot_token": TOKEN}},
        headers=tenant.headers,
    )
    assert db.session(key_ids) == {new_kid}


def test_old_ciphertexts_stay_readable_until_reencrypted(tmp_path: Path) -> None:
    vault = make_vault(tmp_path)
    row = VaultSecret(id=uuid.uuid4(), owner_type="t", owner_id=uuid.uuid4(), field="f")
    vault._seal(row, "s3cret-value-long")
    old_kid = row.key_id
    vault.keyring.add_active_key()
    assert vault.keyring.active != old_kid
    assert vault.open(row) == "s3cret-value-long"
    # Another process (a fresh key ring from the same file) reads it too.
    assert make_vault(tmp_path).open(row) == "s3cret-value-long"


def test_env_key_and_file_keys_form_one_ring(tmp_path: Path) -> None:
    env_key = encode_key(new_key())
    vault = make_vault(tmp_path, env_key)
    row = VaultSecret(id=uuid.uuid4(), owner_type="t", owner_id=uuid.uuid4(), field="f")
    vault._seal(row, "abc")
    vault.keyring.add_active_key()
    assert make_vault(tmp_path, env_key).open(row) == "abc"
    # Without the env key, the ciphertext written under it cannot be opened.
    with pytest.raises(VaultError):
        make_vault(tmp_path).open(row)


def test_unknown_key_id_is_a_clear_error(tmp_path: Path, db: Any) -> None:
    vault = make_vault(tmp_path)
    row = VaultSecret(
        id=uuid.uuid4(),
        owner_type="t",
        owner_id=uuid.uuid4(),
        field="f",
        key_id="knope",
        ciphertext=b"x" * 40,
    )
    with pytest.raises(VaultError, match="not in the key ring"):
        vault.open(row)
