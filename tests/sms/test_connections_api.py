"""The SMS table's API: sorting, the agent selector, the Active switch, delete, and the degraded
states (number reclaimed by the provider, knowledge base that cannot be resolved) until reassigned."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from switchboard.models import Agent, KnowledgeBase, Workspace
from switchboard.sms import tasks
from switchboard.sms.provider import SandboxSmsProvider
from tests.emulators.twilio_sms import TwilioSmsEmulator
from tests.sms.conftest import Destination
from tests.support.tenants import Tenant

LIST = "/channels/sms/connections"


def one(client: TestClient, t: Tenant, conn_id: str) -> dict[str, Any]:
    r = client.get(f"{LIST}/{conn_id}", headers=t.headers)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


def add_destination(db: Any, t: Tenant, ws_name: str, kb_name: str | None, agent_name: str) -> Destination:
    """A destination in a workspace of its own (created if needed)."""

    async def go(session: Any) -> Destination:
        from sqlalchemy import select

        ws = await session.scalar(
            select(Workspace).where(Workspace.organization_id == t.organization_id, Workspace.name == ws_name)
        )
        if ws is None:
            ws = Workspace(id=uuid.uuid4(), organization_id=t.organization_id, name=ws_name)
            session.add(ws)
            await session.flush()
        kb = None
        if kb_name:
            kb = KnowledgeBase(
                id=uuid.uuid4(), organization_id=t.organization_id, workspace_id=ws.id, name=kb_name
            )
            session.add(kb)
            await session.flush()
        agent = Agent(
            id=uuid.uuid4(),
            organization_id=t.organization_id,
            workspace_id=ws.id,
            knowledge_base_id=kb.id if kb else None,
            name=agent_name,
        )
        session.add(agent)
        return Destination(str(ws.id), str(kb.id) if kb else None, str(agent.id))

    return db.session(go)


def test_sorting_by_phone_number_workspace_and_knowledge_base(
    client: TestClient,
    tenant: Tenant,
    sandbox: SandboxSmsProvider,
    connect: Callable[..., dict[str, Any]],
    db: Any,
) -> None:
    a = add_destination(db, tenant, "Bravo", "Zulu KB", "Agent A")
    b = add_destination(db, tenant, "alpha", "Mike KB", "Agent B")
    c = add_destination(db, tenant, "Charlie", None, "Agent C")
    connect(tenant, a, "+14155550103")
    connect(tenant, b, "+14155550101")
    connect(tenant, c, "+14155550102")

    def order(**params: str) -> list[str]:
        r = client.get(LIST, params=params, headers=tenant.headers)
        assert r.status_code == 200, r.text
        return [row["phone_number"] for row in r.json()["items"]]

    assert order() == ["+14155550101", "+14155550102", "+14155550103"]
    assert order(sort="phone_number", order="desc") == ["+14155550103", "+14155550102", "+14155550101"]
    # Case-insensitive, like a person reads them.
    assert order(sort="workspace") == ["+14155550101", "+14155550103", "+14155550102"]
    assert order(sort="workspace", order="desc") == ["+14155550102", "+14155550103", "+14155550101"]
    # Rows without a resolvable knowledge base sort last either way.
    assert order(sort="knowledge_base") == ["+14155550101", "+14155550103", "+14155550102"]
    assert order(sort="knowledge_base", order="desc") == ["+14155550103", "+14155550101", "+14155550102"]
    bad = client.get(LIST, params={"sort": "agent"}, headers=tenant.headers)
    assert bad.status_code == 422
    assert bad.json()["details"][0]["field"] == "sort"


def test_tenants_only_see_their_own_connections(
    client: TestClient,
    tenant: Tenant,
    make_tenant: Callable[..., Tenant],
    sandbox: SandboxSmsProvider,
    make_destination: Callable[..., Destination],
    connect: Callable[..., dict[str, Any]],
    platform_admin: Tenant,
) -> None:
    connect(tenant, make_destination(tenant), "+14155550101")
    other = make_tenant("Other")
    connect(other, make_destination(other), "+14155550102")
    assert [r["phone_number"] for r in client.get(LIST, headers=tenant.headers).json()["items"]] == [
        "+14155550101"
    ]
    assert [r["phone_number"] for r in client.get(LIST, headers=other.headers).json()["items"]] == [
        "+14155550102"
    ]
    assert (
        client.get(
            LIST, params={"organization_id": str(other.organization_id)}, headers=tenant.headers
        ).status_code
        == 404
    )
    assert client.get(LIST, headers=platform_admin.headers).json()["total"] == 2


def test_agent_selector_reassigns_and_the_kb_follows_the_agent(
    client: TestClient,
    tenant: Tenant,
    sandbox: SandboxSmsProvider,
    make_destination: Callable[..., Destination],
    connect: Callable[..., dict[str, Any]],
    db: Any,
) -> None:
    first = make_destination(tenant, kb_name="Returns KB")
    second = make_destination(tenant, kb_name="Billing KB")
    conn = connect(tenant, first, "+14155550101")
    assert conn["knowledge_base"]["name"] == "Returns KB"
    r = client.patch(f"{LIST}/{conn['id']}", json={"agent_id": second.agent_id}, headers=tenant.headers)
    assert r.status_code == 200, r.text
    assert r.json()["agent"]["id"] == second.agent_id
    assert r.json()["knowledge_base"]["name"] == "Billing KB"
    # The knowledge base is never edited on the connection.
    r = client.patch(
        f"{LIST}/{conn['id']}", json={"knowledge_base_id": first.knowledge_base_id}, headers=tenant.headers
    )
    assert r.status_code == 422
    assert r.json()["details"][0]["rule"] == "extra_forbidden"
    # An agent is required; another workspace's agent needs that workspace too.
    r = client.patch(f"{LIST}/{conn['id']}", json={"agent_id": None}, headers=tenant.headers)
    assert r.status_code == 422
    assert r.json()["details"][0]["rule"] == "required"
    elsewhere = add_destination(db, tenant, "Sales", "Sales KB", "Sales agent")
    r = client.patch(f"{LIST}/{conn['id']}", json={"agent_id": elsewhere.agent_id}, headers=tenant.headers)
    assert r.status_code == 422
    assert r.json()["details"][0]["rule"] == "workspace_mismatch"
    r = client.patch(
        f"{LIST}/{conn['id']}",
        json={"agent_id": elsewhere.agent_id, "workspace_id": elsewhere.workspace_id},
        headers=tenant.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["workspace"]["name"] == "Sales"
    account = client.get(
        f"/rest/v1/channel_accounts/{conn['channel_account_id']}", headers=tenant.headers
    ).json()
    assert account["workspace_id"] == elsewhere.workspace_id


def test_active_switch_and_rename_go_through_the_channel_account(
    client: TestClient,
    tenant: Tenant,
    member_of: Callable[[Tenant], Tenant],
    sandbox: SandboxSmsProvider,
    make_destination: Callable[..., Destination],
    connect: Callable[..., dict[str, Any]],
) -> None:
    conn = connect(tenant, make_destination(tenant), "+14155550101")
    r = client.patch(
        f"{LIST}/{conn['id']}", json={"is_active": True, "name": "Front desk"}, headers=tenant.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["is_active"] is True
    account = client.get(
        f"/rest/v1/channel_accounts/{conn['channel_account_id']}", headers=tenant.headers
    ).json()
    assert account["is_active"] is True
    assert account["name"] == "Front desk"
    audit = client.get(
        f"/rest/v1/channel_accounts/{conn['channel_account_id']}/audit", headers=tenant.headers
    ).json()
    assert audit[0]["action"] == "channel_account.updated"
    member = member_of(tenant)
    assert (
        client.patch(f"{LIST}/{conn['id']}", json={"is_active": False}, headers=member.headers).status_code
        == 403
    )


def test_delete_releases_a_platform_number_and_removes_everything(
    client: TestClient,
    tenant: Tenant,
    live: TwilioSmsEmulator,
    make_destination: Callable[..., Destination],
    connect: Callable[..., dict[str, Any]],
    db: Any,
) -> None:
    live.add_available("+14155550111")
    conn = connect(
        tenant, make_destination(tenant), "+14155550111", compliance={"brand": {"companyName": "Acme Inc"}}
    )
    assert any(n["phone_number"] == "+14155550111" for n in live.incoming.values())
    r = client.delete(f"{LIST}/{conn['id']}", headers=tenant.headers)
    assert r.status_code == 204
    assert not any(n["phone_number"] == "+14155550111" for n in live.incoming.values())
    assert client.get(f"{LIST}/{conn['id']}", headers=tenant.headers).status_code == 404
    assert (
        client.get(
            f"/rest/v1/channel_accounts/{conn['channel_account_id']}", headers=tenant.headers
        ).status_code
        == 404
    )

    from sqlalchemy import func, select

    from switchboard.models import VaultSecret

    async def secrets(session: Any) -> int:
        return int(await session.scalar(select(func.count()).select_from(VaultSecret)))

    assert db.session(secrets) == 0


def test_deleting_through_channel_accounts_leaves_no_compliance_behind(
    client: TestClient,
    tenant: Tenant,
    sandbox: SandboxSmsProvider,
    make_destination: Callable[..., Destination],
    connect: Callable[..., dict[str, Any]],
    db: Any,
) -> None:
    payload = {"brand": {"companyName": "Acme Inc"}}
    conn = connect(tenant, make_destination(tenant), "+14155550101", compliance=payload)
    r = client.delete(f"/rest/v1/channel_accounts/{conn['channel_account_id']}", headers=tenant.headers)
    assert r.status_code == 204
    assert client.get(f"{LIST}/{conn['id']}", headers=tenant.headers).status_code == 404

    from sqlalchemy import select

    from switchboard.models import VaultSecret

    async def owners(session: Any) -> list[str]:
        return list(await session.scalars(select(VaultSecret.owner_type)))

    assert "sms_connection" in db.session(owners)
    # The cascade cannot reach the vault; the inventory sync sweeps the orphaned payload.
    db.run(tasks.sync_inventory)
    assert "sms_connection" not in db.session(owners)


# --- degraded ---------------------------------------------------------------------------------------


def test_agent_without_a_knowledge_base_is_degraded_until_reassigned(
    client: TestClient,
    tenant: Tenant,
    sandbox: SandboxSmsProvider,
    make_destination: Callable[..., Destination],
    connect: Callable[..., dict[str, Any]],
) -> None:
    bare = make_destination(tenant, kb=False)
    conn = connect(tenant, bare, "+14155550101")
    assert conn["status"] == "degraded"
    assert conn["degraded_reason"] == "Knowledge base cannot be resolved"
    assert conn["knowledge_base"] is None
    good = make_destination(tenant)
    r = client.patch(f"{LIST}/{conn['id']}", json={"agent_id": good.agent_id}, headers=tenant.headers)
    assert r.json()["status"] == "complete"
    assert r.json()["degraded_reason"] is None


def test_deleting_the_knowledge_base_degrades_and_relinking_restores(
    client: TestClient,
    tenant: Tenant,
    sandbox: SandboxSmsProvider,
    make_destination: Callable[..., Destination],
    connect: Callable[..., dict[str, Any]],
) -> None:
    dest = make_destination(tenant)
    conn = connect(tenant, dest, "+14155550101")
    assert (
        client.delete(
            f"/rest/v1/knowledge_bases/{dest.knowledge_base_id}", headers=tenant.headers
        ).status_code
        == 204
    )
    row = one(client, tenant, conn["id"])
    assert row["status"] == "degraded"
    assert row["degraded_reason"] == "Knowledge base cannot be resolved"
    kb = client.post(
        "/rest/v1/knowledge_bases",
        json={"workspace_id": dest.workspace_id, "name": "New KB"},
        headers=tenant.headers,
    ).json()
    client.patch(
        f"/rest/v1/agents/{dest.agent_id}", json={"knowledge_base_id": kb["id"]}, headers=tenant.headers
    )
    row = one(client, tenant, conn["id"])
    assert row["status"] == "complete"
    assert row["knowledge_base"]["name"] == "New KB"


def test_deleting_the_agent_asks_for_one_in_agents(
    client: TestClient,
    tenant: Tenant,
    sandbox: SandboxSmsProvider,
    make_destination: Callable[..., Destination],
    connect: Callable[..., dict[str, Any]],
) -> None:
    dest = make_destination(tenant)
    conn = connect(tenant, dest, "+14155550101")
    assert client.delete(f"/rest/v1/agents/{dest.agent_id}", headers=tenant.headers).status_code == 204
    row = one(client, tenant, conn["id"])
    assert row["agent"] is None
    assert row["needs_agent"] is True
    assert row["status"] == "degraded"
    assert row["degraded_reason"].startswith("Knowledge base cannot be resolved")
    again = make_destination(tenant)
    row = client.patch(
        f"{LIST}/{conn['id']}", json={"agent_id": again.agent_id}, headers=tenant.headers
    ).json()
    assert row["needs_agent"] is False
    assert row["status"] == "complete"


def test_a_number_reclaimed_by_the_provider_is_degraded_until_it_is_back(
    client: TestClient,
    tenant: Tenant,
    live: TwilioSmsEmulator,
    make_destination: Callable[..., Destination],
    connect: Callable[..., dict[str, Any]],
    db: Any,
) -> None:
    live.add_available("+14155550111")
    live.add_available("+14155550122")
    dest = make_destination(tenant)
    conn = connect(tenant, dest, "+14155550111")
    keep = connect(tenant, dest, "+14155550122")
    sid = next(s for s, n in live.incoming.items() if n["phone_number"] == "+14155550111")

    assert db.run(tasks.sync_inventory)["reclaimed"] == 0
    live.reclaim("+14155550111")
    assert db.run(tasks.sync_inventory)["reclaimed"] == 1
    row = one(client, tenant, conn["id"])
    assert row["status"] == "degraded"
    assert row["degraded_reason"] == "Number reclaimed by provider"
    assert row["number_status"] == "reclaimed"
    account = client.get(
        f"/rest/v1/channel_accounts/{conn['channel_account_id']}", headers=tenant.headers
    ).json()
    assert account["connection_status"] == "error"
    assert account["status_reason"] == "Number reclaimed by provider"
    assert one(client, tenant, keep["id"])["status"] == "complete"
    # Idempotent: a second run changes nothing.
    assert db.run(tasks.sync_inventory) == {
        "reclaimed": 0,
        "restored": 0,
        "hosted_completed": 0,
        "hosted_failed": 0,
    }
    # A degraded number cannot send.
    client.patch(f"{LIST}/{conn['id']}", json={"is_active": True}, headers=tenant.headers)
    r = client.post(
        f"{LIST}/{conn['id']}/messages", json={"to": "+14155552671", "body": "hi"}, headers=tenant.headers
    )
    assert r.status_code == 409

    live.restore(sid, "+14155550111")
    assert db.run(tasks.sync_inventory)["restored"] == 1
    row = one(client, tenant, conn["id"])
    assert row["status"] == "complete"
    assert row["degraded_reason"] is None


def test_a_failed_hosted_number_order_is_degraded(
    client: TestClient,
    tenant: Tenant,
    live: TwilioSmsEmulator,
    make_destination: Callable[..., Destination],
    allow_byom: Callable[[Tenant], None],
    db: Any,
) -> None:
    allow_byom(tenant)
    dest = make_destination(tenant)
    body = {
        "mode": "byon",
        "phone_number": "+14155551234",
        "workspace_id": dest.workspace_id,
        "agent_id": dest.agent_id,
        "hosted_order": {"email": "ops@example.com"},
    }
    conn = client.post("/channels/sms/connect", json=body, headers=tenant.headers).json()
    live.fail_hosted_order(next(iter(live.hosted_orders)), "The letter of authorization was not signed.")
    assert db.run(tasks.sync_inventory)["hosted_failed"] == 1
    row = one(client, tenant, conn["id"])
    assert row["status"] == "degraded"
    assert row["degraded_reason"] == "Hosted number order failed: The letter of authorization was not signed."


@pytest.mark.parametrize("path", [LIST, f"{LIST}/{uuid.uuid4()}", "/channels/sms/numbers"])
def test_sms_reads_need_a_key(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 401
