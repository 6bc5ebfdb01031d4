"""Outlets and their senders: one platform-provided number per outlet on activation, extra numbers
billable, routing settings available once a channel has more than one sender."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.support.jobs import JobRunner
from tests.support.onboarding import act, admin_get, ok, request_channel
from tests.support.tenants import Tenant

OUTLETS = "/rest/v1/outlets"


def add_outlet(client: TestClient, who: Tenant, name: str) -> dict[str, Any]:
    r = client.post(OUTLETS, json={"name": name}, headers=who.headers)
    assert r.status_code == 201, r.text
    return dict(r.json())


def activate_managed(
    client: TestClient, org: Tenant, admin: Tenant, jobs: JobRunner, channel: str
) -> dict[str, Any]:
    rid = request_channel(client, org, channel)["id"]
    ok(act(client, admin, rid, "start"))
    ok(act(client, admin, rid, "provision"))
    jobs.run()
    active = ok(act(client, admin, rid, "activate"))
    jobs.run()  # allocates the other outlets' numbers, sends the email
    return active


def senders(client: TestClient, who: Tenant, channel: str) -> dict[str, Any]:
    r = client.get(f"/rest/v1/channels/{channel}/senders", headers=who.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_outlet_crud_and_tenancy(client: TestClient, org: Tenant, make_org: Any, member_of: Any) -> None:
    a = add_outlet(client, org, "Downtown")
    assert a["senders"] == []
    assert client.post(OUTLETS, json={"name": "downtown"}, headers=org.headers).status_code == 409
    assert client.post(OUTLETS, json={"name": ""}, headers=org.headers).status_code == 422
    r = client.patch(f"{OUTLETS}/{a['id']}", json={"name": "Harbour"}, headers=org.headers)
    assert r.json()["name"] == "Harbour"
    other = make_org("Other")
    assert client.get(f"{OUTLETS}/{a['id']}", headers=other.headers).status_code == 404
    assert client.delete(f"{OUTLETS}/{a['id']}", headers=other.headers).status_code == 404
    assert client.get(OUTLETS, headers=other.headers).json() == []
    member = member_of(org)
    assert client.get(OUTLETS, headers=member.headers).status_code == 200
    assert client.post(OUTLETS, json={"name": "Mall"}, headers=member.headers).status_code == 403
    assert client.delete(f"{OUTLETS}/{a['id']}", headers=org.headers).status_code == 204
    assert client.get(OUTLETS, headers=org.headers).json() == []


def test_every_outlet_gets_one_number_and_extra_numbers_are_billable(
    client: TestClient, org: Tenant, admin: Tenant, jobs: JobRunner, settings: Any
) -> None:
    outlets = [add_outlet(client, org, name) for name in ("Downtown", "Harbour", "Airport")]
    active = activate_managed(client, org, admin, jobs, "whatsapp")
    provisioned = admin_get(client, admin, active["id"])["steps"][0]["result"]["phone_number"]

    listed = senders(client, org, "whatsapp")
    assert listed["senderCount"] == 3
    assert listed["routingAvailable"] is True
    by_outlet = {s["outlet_id"]: s for s in listed["senders"]}
    assert set(by_outlet) == {o["id"] for o in outlets}
    numbers = [s["phone_number"] for s in listed["senders"]]
    assert len(set(numbers)) == 3
    assert all(numbers)
    # The number provisioned with the channel serves the first outlet.
    assert by_outlet[outlets[0]["id"]]["phone_number"] == provisioned
    for s in listed["senders"]:
        assert (s["status"], s["included"], s["billable"], s["is_primary"]) == ("active", True, False, True)
        assert s["rental_rate"] is None
        assert s["channel_account_id"] == active["channel_account_id"]

    # Another number for an outlet is billable at the rental rate.
    r = client.post(
        f"{OUTLETS}/{outlets[1]['id']}/senders", json={"channel": "whatsapp"}, headers=org.headers
    )
    assert r.status_code == 202, r.text
    extra = r.json()
    assert (extra["status"], extra["billable"], extra["included"]) == ("allocating", True, False)
    assert extra["rental_rate"] == settings.sender_rental_rate == "1.00 USD/month"
    assert extra["is_primary"] is False  # the outlet keeps its included number as primary
    jobs.run()
    listed = senders(client, org, "whatsapp")
    assert listed["senderCount"] == 4
    extra = next(s for s in listed["senders"] if s["id"] == extra["id"])
    assert extra["status"] == "active"
    assert extra["phone_number"] not in numbers

    # An outlet opened later gets its own included number too.
    late = add_outlet(client, org, "Station")
    assert [s["status"] for s in late["senders"]] == ["allocating"]
    jobs.run()
    late = client.get(f"{OUTLETS}/{late['id']}", headers=org.headers).json()
    assert [(s["included"], s["billable"], s["status"]) for s in late["senders"]] == [(True, False, "active")]
    assert late["senders"][0]["channel_account_id"] == active["channel_account_id"]
    # SMS is a separate channel with no senders yet.
    assert senders(client, org, "sms")["senderCount"] == 0


def test_organization_without_outlets_gets_a_main_outlet(
    client: TestClient, org: Tenant, admin: Tenant, jobs: JobRunner
) -> None:
    activate_managed(client, org, admin, jobs, "sms")
    [main] = client.get(OUTLETS, headers=org.headers).json()
    assert main["name"] == "Main"
    listed = senders(client, org, "sms")
    assert listed["senderCount"] == 1
    assert listed["routingAvailable"] is False


def test_routing_moves_a_sender_and_sets_the_primary(
    client: TestClient, org: Tenant, admin: Tenant, jobs: JobRunner
) -> None:
    first, second = add_outlet(client, org, "Downtown"), add_outlet(client, org, "Harbour")
    activate_managed(client, org, admin, jobs, "sms")
    listed = senders(client, org, "sms")["senders"]
    a = next(s for s in listed if s["outlet_id"] == first["id"])
    b = next(s for s in listed if s["outlet_id"] == second["id"])
    # Harbour's number also serves Downtown, as its primary.
    r = client.put(
        f"{OUTLETS}/{first['id']}/routing",
        json={"channel": "sms", "sender_id": b["id"], "primary": True},
        headers=org.headers,
    )
    assert r.status_code == 200, r.text
    served = {s["id"]: s["is_primary"] for s in r.json()}
    assert served == {a["id"]: False, b["id"]: True}
    now = {s["id"]: s for s in senders(client, org, "sms")["senders"]}
    assert now[b["id"]]["outlet_id"] == first["id"]
    # Routing a channel that has no senders is refused.
    r = client.put(
        f"{OUTLETS}/{first['id']}/routing",
        json={"channel": "whatsapp", "sender_id": b["id"]},
        headers=org.headers,
    )
    assert r.status_code == 409  # no WhatsApp senders at all: routing does not apply


def test_routing_needs_more_than_one_sender_whatever_the_byom_flags(
    client: TestClient, org: Tenant, admin: Tenant, jobs: JobRunner
) -> None:
    only = add_outlet(client, org, "Only")
    activate_managed(client, org, admin, jobs, "whatsapp")
    [sender] = senders(client, org, "whatsapp")["senders"]
    body = {"channel": "whatsapp", "sender_id": sender["id"]}
    client.put(
        f"/rest/v1/admin/organizations/{org.organization_id}/byom",
        json={"whatsapp": True},
        headers=admin.headers,
    )
    r = client.put(f"{OUTLETS}/{only['id']}/routing", json=body, headers=org.headers)
    assert (r.status_code, r.json()["error"]) == (409, "routing_unavailable")
    # A second sender (billable) makes routing available, with BYOM on or off.
    client.put(
        f"/rest/v1/admin/organizations/{org.organization_id}/byom",
        json={"whatsapp": False},
        headers=admin.headers,
    )
    client.post(f"{OUTLETS}/{only['id']}/senders", json={"channel": "whatsapp"}, headers=org.headers)
    jobs.run()
    assert senders(client, org, "whatsapp")["routingAvailable"] is True
    r = client.put(f"{OUTLETS}/{only['id']}/routing", json=body, headers=org.headers)
    assert r.status_code == 200


def test_extra_numbers_need_an_active_managed_channel(client: TestClient, org: Tenant) -> None:
    outlet = add_outlet(client, org, "Downtown")
    r = client.post(f"{OUTLETS}/{outlet['id']}/senders", json={"channel": "sms"}, headers=org.headers)
    assert (r.status_code, r.json()["error"]) == (409, "no_managed_channel")
    r = client.post(f"{OUTLETS}/{outlet['id']}/senders", json={"channel": "email"}, headers=org.headers)
    assert r.status_code == 422
