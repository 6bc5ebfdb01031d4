"""/rest/v1/knowledge_bases and /rest/v1/agents: the rules agent-managed channels rely on."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from switchboard.models import Workspace
from tests.support.tenants import Tenant

KBS = "/rest/v1/knowledge_bases"
AGENTS = "/rest/v1/agents"


def default_workspace(client: TestClient, t: Tenant) -> str:
    ws: str = client.get("/rest/v1/workspaces", headers=t.headers).json()[0]["id"]
    return ws


def test_knowledge_base_and_agent_lifecycle(client: TestClient, tenant: Tenant) -> None:
    ws = default_workspace(client, tenant)
    kb = client.post(KBS, json={"workspace_id": ws, "name": " Returns "}, headers=tenant.headers)
    assert kb.status_code == 201, kb.text
    assert kb.json()["name"] == "Returns"
    agent = client.post(
        AGENTS,
        json={"workspace_id": ws, "name": "Ava", "knowledge_base_id": kb.json()["id"]},
        headers=tenant.headers,
    )
    assert agent.status_code == 201, agent.text
    agent_id = agent.json()["id"]
    assert (
        client.get(f"{AGENTS}/{agent_id}", headers=tenant.headers).json()["knowledge_base_id"]
        == kb.json()["id"]
    )
    assert [
        a["name"] for a in client.get(AGENTS, params={"workspace_id": ws}, headers=tenant.headers).json()
    ] == ["Ava"]

    renamed = client.patch(f"{AGENTS}/{agent_id}", json={"name": "Ava 2"}, headers=tenant.headers).json()
    assert renamed["name"] == "Ava 2"
    assert renamed["knowledge_base_id"] == kb.json()["id"]
    unlinked = client.patch(
        f"{AGENTS}/{agent_id}", json={"knowledge_base_id": None}, headers=tenant.headers
    ).json()
    assert unlinked["knowledge_base_id"] is None
    client.patch(f"{AGENTS}/{agent_id}", json={"knowledge_base_id": kb.json()["id"]}, headers=tenant.headers)

    assert (
        client.patch(f"{KBS}/{kb.json()['id']}", json={"name": "Refunds"}, headers=tenant.headers).status_code
        == 200
    )
    # Deleting the knowledge base unlinks it from its agents.
    assert client.delete(f"{KBS}/{kb.json()['id']}", headers=tenant.headers).status_code == 204
    assert client.get(f"{AGENTS}/{agent_id}", headers=tenant.headers).json()["knowledge_base_id"] is None
    assert client.delete(f"{AGENTS}/{agent_id}", headers=tenant.headers).status_code == 204
    assert client.get(f"{AGENTS}/{agent_id}", headers=tenant.headers).status_code == 404


def test_names_are_unique_per_workspace(client: TestClient, tenant: Tenant) -> None:
    ws = default_workspace(client, tenant)
    assert (
        client.post(KBS, json={"workspace_id": ws, "name": "FAQ"}, headers=tenant.headers).status_code == 201
    )
    r = client.post(KBS, json={"workspace_id": ws, "name": "FAQ"}, headers=tenant.headers)
    assert r.status_code == 409
    assert r.json()["error"] == "duplicate_name"
    assert (
        client.post(AGENTS, json={"workspace_id": ws, "name": "Bo"}, headers=tenant.headers).status_code
        == 201
    )
    assert (
        client.post(AGENTS, json={"workspace_id": ws, "name": "Bo"}, headers=tenant.headers).status_code
        == 409
    )


def test_an_agents_knowledge_base_is_from_its_workspace(client: TestClient, tenant: Tenant, db: Any) -> None:
    ws = default_workspace(client, tenant)
    other_ws = uuid.uuid4()

    async def add(session: Any) -> None:
        session.add(Workspace(id=other_ws, organization_id=tenant.organization_id, name="Other"))

    db.session(add)
    kb = client.post(
        KBS, json={"workspace_id": str(other_ws), "name": "Elsewhere"}, headers=tenant.headers
    ).json()
    r = client.post(
        AGENTS, json={"workspace_id": ws, "name": "Cy", "knowledge_base_id": kb["id"]}, headers=tenant.headers
    )
    assert r.status_code == 422
    assert r.json()["details"][0] == {
        "field": "knowledge_base_id",
        "rule": "workspace_mismatch",
        "message": "The knowledge base belongs to another workspace.",
    }


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        ({"name": ""}, "name", "string_too_short"),
        ({"name": "x" * 101}, "name", "string_too_long"),
        ({"workspace_id": "nope"}, "workspace_id", "uuid_parsing"),
        ({"colour": "red"}, "colour", "extra_forbidden"),
    ],
)
def test_validation(client: TestClient, tenant: Tenant, body: dict[str, Any], field: str, rule: str) -> None:
    base = {"workspace_id": default_workspace(client, tenant), "name": "Dee"}
    for url in (KBS, AGENTS):
        r = client.post(url, json=base | body, headers=tenant.headers)
        assert r.status_code == 422
        assert (r.json()["details"][0]["field"], r.json()["details"][0]["rule"]) == (field, rule)


def test_tenancy_and_permissions(
    client: TestClient,
    tenant: Tenant,
    make_tenant: Callable[..., Tenant],
    member_of: Callable[[Tenant], Tenant],
) -> None:
    ws = default_workspace(client, tenant)
    kb = client.post(KBS, json={"workspace_id": ws, "name": "Mine"}, headers=tenant.headers).json()
    agent = client.post(AGENTS, json={"workspace_id": ws, "name": "Mine"}, headers=tenant.headers).json()
    other = make_tenant("Other")
    for url in (f"{KBS}/{kb['id']}", f"{AGENTS}/{agent['id']}"):
        assert client.get(url, headers=other.headers).status_code == 404
        assert client.delete(url, headers=other.headers).status_code == 404
    assert client.get(KBS, headers=other.headers).json() == []
    # Another tenant's workspace and knowledge base do not exist for you.
    assert client.post(KBS, json={"workspace_id": ws, "name": "x"}, headers=other.headers).status_code == 404
    other_ws = default_workspace(client, other)
    r = client.post(
        AGENTS,
        json={"workspace_id": other_ws, "name": "x", "knowledge_base_id": kb["id"]},
        headers=other.headers,
    )
    assert r.status_code == 404
    member = member_of(tenant)
    assert client.get(KBS, headers=member.headers).status_code == 200
    assert client.post(KBS, json={"workspace_id": ws, "name": "y"}, headers=member.headers).status_code == 403
    assert (
        client.patch(f"{AGENTS}/{agent['id']}", json={"name": "z"}, headers=member.headers).status_code == 403
    )
    assert client.get(AGENTS).status_code == 401
