"""The `switchboard` command as an operator runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from fastapi.testclient import TestClient


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "switchboard.cli", *args],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_org_create_json_gives_a_working_key(client: TestClient, db: Any) -> None:
    out = cli(
        "org",
        "create",
        "--name",
        "Acme",
        "--admin-email",
        "Ops@Acme.test",
        "--password",
        "pw-long-enough",
        "--json",
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data) == {"organization_id", "user_id", "api_key"}
    assert data["api_key"].startswith("sbk_")
    h = {"Authorization": f"Bearer {data['api_key']}"}
    orgs = client.get("/rest/v1/organizations", headers=h).json()
    assert [(o["id"], o["name"]) for o in orgs] == [(data["organization_id"], "Acme")]
    assert orgs[0]["metadata"] == {}
    assert client.get("/rest/v1/workspaces", headers=h).json()[0]["name"] == "Default"


def test_admin_create_json_has_the_same_shape(client: TestClient, db: Any) -> None:
    out = cli("admin", "create", "--email", "root@platform.test", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data) == {"organization_id", "user_id", "api_key"}
    assert data["organization_id"] is None
    r = client.post(
        "/rest/v1/organizations",
        json={"name": "New Co", "admin_email": "a@new.example.com"},
        headers={"Authorization": f"Bearer {data['api_key']}"},
    )
    assert r.status_code == 201
    assert r.json()["api_key"].startswith("sbk_")


def test_demo_creates_logins_once(client: TestClient, db: Any) -> None:
    out = cli("demo", "--if-empty")
    assert out.returncode == 0, out.stderr
    assert "owner@demo.switchboard" in out.stdout
    # In sandbox mode the demo tenant may connect its own channel of every gated family.
    key = out.stdout.split("tenant API key")[1].split()[0]
    [org] = client.get("/rest/v1/organizations", headers={"Authorization": f"Bearer {key}"}).json()
    families = org["metadata"]["channels"]
    assert {f: v["byom_allowed"] for f, v in families.items()} == dict.fromkeys(families, True)
    assert set(families) == {"email", "sms", "whatsapp", "rcs"}
    again = cli("demo", "--if-empty")
    assert "not created" in again.stdout


def test_migrate_is_idempotent(db: Any) -> None:
    out = cli("migrate")
    assert out.returncode == 0, out.stderr
    assert "up to date" in out.stdout


def test_help_lists_every_command() -> None:
    out = cli("--help").stdout
    for command in ("serve", "worker", "migrate", "org", "admin", "vault", "demo"):
        assert command in out
