"""API keys: shown once, stored hashed, recognisable, revocable, last use recorded."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from switchboard.models import ApiKey
from tests.support.tenants import Tenant


def test_keys_are_shown_once_and_stored_hashed(client: TestClient, tenant: Tenant, db: Any) -> None:
    r = client.post("/rest/v1/api_keys", json={"name": "ci"}, headers=tenant.headers)
    assert r.status_code == 201
    raw = r.json()["api_key"]
    assert raw.startswith("sbk_")
    listed = client.get("/rest/v1/api_keys", headers=tenant.headers).json()
    assert {k["name"] for k in listed} == {"default", "ci"}
    assert raw not in str(listed)
    assert all(k["prefix"].startswith("sbk_") and k["prefix"].endswith("…") for k in listed)

    async def stored(session: Any) -> list[str]:
        return [k.key_hash for k in await session.scalars(select(ApiKey))]

    assert all(raw not in h for h in db.session(stored))
    assert (
        client.get("/rest/v1/channel_accounts", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    )


def test_last_used_is_kept_and_revoked_keys_stop_working(client: TestClient, tenant: Tenant) -> None:
    r = client.post("/rest/v1/api_keys", json={"name": "temp"}, headers=tenant.headers).json()
    h = {"Authorization": f"Bearer {r['api_key']}"}
    assert r["last_used_at"] is None
    client.get("/rest/v1/channel_accounts", headers=h)
    listed = {k["id"]: k for k in client.get("/rest/v1/api_keys", headers=tenant.headers).json()}
    assert listed[r["id"]]["last_used_at"] is not None
    revoked = client.delete(f"/rest/v1/api_keys/{r['id']}", headers=tenant.headers).json()
    assert revoked["revoked_at"] is not None
    assert client.get("/rest/v1/channel_accounts", headers=h).status_code == 401


def test_cannot_revoke_someone_elses_key(client: TestClient, make_tenant: Any) -> None:
    a, b = make_tenant(), make_tenant()
    key_id = client.get("/rest/v1/api_keys", headers=a.headers).json()[0]["id"]
    assert client.delete(f"/rest/v1/api_keys/{key_id}", headers=b.headers).status_code == 404
    assert client.get("/rest/v1/channel_accounts", headers=a.headers).status_code == 200


def test_organizations_are_scoped(client: TestClient, make_tenant: Any, platform_admin: Tenant) -> None:
    a, b = make_tenant("A"), make_tenant("B")
    assert client.get(f"/rest/v1/organizations/{b.organization_id}", headers=a.headers).status_code == 404
    assert client.get(f"/rest/v1/organizations/{a.organization_id}", headers=a.headers).status_code == 200
    assert len(client.get("/rest/v1/organizations", headers=platform_admin.headers).json()) == 2
    r = client.post(
        "/rest/v1/organizations", json={"name": "X", "admin_email": "x@x.example.com"}, headers=a.headers
    )
    assert r.status_code == 403
