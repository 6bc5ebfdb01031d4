"""Every lifecycle action from every state, legal and illegal, for a DNS channel (Email) and one
without DNS (WhatsApp). The expected outcomes are written out here, independently of the service's
table: an illegal action answers 409 with the current status and version and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.dns_server import LocalDnsServer
from tests.support.jobs import JobRunner
from tests.support.onboarding import TENANT_URL, act, admin_get, business_info, ok, publish, request_channel
from tests.support.tenants import Tenant

ACTIONS = ("start", "issue_dns", "activate", "reject", "resubmit", "confirm_dns")

# (channel, state) -> {action: resulting state}; every action not listed must be refused.
LEGAL: dict[tuple[str, str], dict[str, str]] = {
    ("email", "pending"): {"start": "in_progress", "reject": "rejected"},
    ("email", "in_progress"): {"issue_dns": "dns_setup", "reject": "rejected"},
    ("email", "dns_setup"): {"activate": "active", "reject": "rejected", "confirm_dns": "dns_setup"},
    ("email", "active"): {},
    ("email", "rejected"): {"resubmit": "pending"},
    ("whatsapp", "pending"): {"start": "in_progress", "reject": "rejected"},
    ("whatsapp", "in_progress"): {"activate": "active", "reject": "rejected"},
    ("whatsapp", "active"): {},
    ("whatsapp", "rejected"): {"resubmit": "pending"},
}

CASES = [(channel, state, action) for (channel, state) in LEGAL for action in ACTIONS]


@pytest.fixture
def dns(dns_server: LocalDnsServer, settings: Any, monkeypatch: pytest.MonkeyPatch) -> LocalDnsServer:
    monkeypatch.setattr(settings, "dns_nameservers", dns_server.nameserver)
    monkeypatch.setattr(settings, "dns_timeout", 2.0)
    return dns_server


def bring_to(
    client: TestClient,
    org: Tenant,
    admin: Tenant,
    jobs: JobRunner,
    dns: LocalDnsServer,
    channel: str,
    state: str,
) -> str:
    """A request in `state`, reached by the legal path (provisioned, DNS verified where relevant)."""
    rid = str(request_channel(client, org, channel)["id"])
    if state == "pending":
        return rid
    if state == "rejected":
        ok(act(client, admin, rid, "reject", reason="Business verification failed"))
        return rid
    ok(act(client, admin, rid, "start"))
    ok(act(client, admin, rid, "provision"))
    jobs.run()
    if state == "in_progress":
        return rid
    if channel == "email":
        issued = ok(act(client, admin, rid, "issue-dns"))
        publish(dns, issued["dns_records"])
        ok(client.post(f"{TENANT_URL}/{rid}/confirm-dns", headers=org.headers))
        jobs.run()
        assert admin_get(client, admin, rid)["dns_verified"] is True
        if state == "dns_setup":
            return rid
    ok(act(client, admin, rid, "activate"))
    return rid


def perform(client: TestClient, org: Tenant, admin: Tenant, rid: str, action: str, version: int) -> Any:
    if action == "resubmit":
        body = {"business_info": business_info(notes="Now with references"), "version": version}
        return client.post(f"{TENANT_URL}/{rid}/resubmit", json=body, headers=org.headers)
    if action == "confirm_dns":
        return client.post(f"{TENANT_URL}/{rid}/confirm-dns", headers=org.headers)
    extra = {"reason": "Prohibited use case"} if action == "reject" else {}
    return act(client, admin, rid, action.replace("_", "-"), version, **extra)


@pytest.mark.parametrize(("channel", "state", "action"), CASES, ids=["-".join(c) for c in CASES])
def test_action_from_state(
    client: TestClient,
    org: Tenant,
    admin: Tenant,
    jobs: JobRunner,
    dns: LocalDnsServer,
    channel: str,
    state: str,
    action: str,
) -> None:
    rid = bring_to(client, org, admin, jobs, dns, channel, state)
    before = admin_get(client, admin, rid)
    assert before["status"] == state
    r = perform(client, org, admin, rid, action, before["version"])
    after = admin_get(client, admin, rid)
    expected = LEGAL[(channel, state)].get(action)
    if expected is None:
        assert r.status_code == 409, r.text
        body = r.json()
        assert body["error"] in {"illegal_transition", "precondition_failed"}
        assert (body["status"], body["version"]) == (state, before["version"])
        assert (after["status"], after["version"]) == (state, before["version"])
        assert after["audit"] == before["audit"]
    else:
        assert r.status_code == 200, r.text
        assert after["status"] == expected
        # A state change bumps the version; a DNS confirmation is progress, not a decision.
        bumped = expected != state
        assert after["version"] == before["version"] + (1 if bumped else 0)


def test_provision_and_retry_only_while_in_progress(
    client: TestClient, org: Tenant, admin: Tenant, jobs: JobRunner
) -> None:
    rid = request_channel(client, org, "push")["id"]
    r = act(client, admin, rid, "provision")
    assert (r.status_code, r.json()["error"], r.json()["status"]) == (409, "illegal_transition", "pending")
    ok(act(client, admin, rid, "start"))
    r = act(client, admin, rid, "steps/generate_vapid_keys/retry")
    assert r.status_code == 404  # no steps yet
    ok(act(client, admin, rid, "provision"))
    r = act(client, admin, rid, "steps/generate_vapid_keys/retry")
    assert (r.status_code, r.json()["error"]) == (409, "precondition_failed")  # pending, not failed
    jobs.run()
    r = act(client, admin, rid, "provision")
    assert (r.status_code, r.json()["error"]) == (409, "precondition_failed")  # already complete
    ok(act(client, admin, rid, "activate"))
    r = act(client, admin, rid, "provision")
    assert (r.status_code, r.json()["status"]) == (409, "active")


def test_stale_or_missing_version_is_refused(client: TestClient, org: Tenant, admin: Tenant) -> None:
    rid = request_channel(client, org, "sms")["id"]
    url = f"/rest/v1/admin/onboarding/requests/{rid}/start"
    r = client.post(url, headers=admin.headers)
    assert r.status_code == 422
    assert r.json()["details"][0]["field"] == "version"
    r = client.post(url, json={"version": 7}, headers=admin.headers)
    assert (r.status_code, r.json()["error"], r.json()["version"]) == (409, "stale_version", 1)
    # The version may come as If-Match (the ETag of the GET).
    etag = client.get(f"/rest/v1/admin/onboarding/requests/{rid}", headers=admin.headers).headers["etag"]
    assert etag == '"1"'
    r = client.post(url, headers=admin.headers | {"If-Match": etag})
    assert r.status_code == 200
    assert r.headers["etag"] == '"2"'
    r = client.post(url, headers=admin.headers | {"If-Match": "nonsense"})
    assert r.status_code == 422
