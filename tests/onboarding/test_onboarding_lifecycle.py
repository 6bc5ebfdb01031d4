"""A managed request's whole life through the API, per channel: request, review, provision, (DNS,)
activate; and reject, resubmit, approve."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.dns_server import LocalDnsServer
from tests.support.jobs import JobRunner
from tests.support.onboarding import ADMIN_URL, TENANT_URL, act, admin_get, ok, publish, request_channel
from tests.support.tenants import Tenant


@pytest.fixture
def dns(dns_server: LocalDnsServer, settings: Any, monkeypatch: pytest.MonkeyPatch) -> LocalDnsServer:
    monkeypatch.setattr(settings, "dns_nameservers", dns_server.nameserver)
    monkeypatch.setattr(settings, "dns_timeout", 2.0)
    return dns_server


def provisioned(client: TestClient, admin: Tenant, jobs: JobRunner, request_id: str) -> dict[str, Any]:
    ok(act(client, admin, request_id, "start"))
    ok(act(client, admin, request_id, "provision"))
    jobs.run()
    data = admin_get(client, admin, request_id)
    assert [s["status"] for s in data["steps"]] == ["succeeded"] * len(data["steps"]), data["steps"]
    return data


def test_managed_email_from_request_to_active_channel(
    client: TestClient, org: Tenant, admin: Tenant, jobs: JobRunner, dns: LocalDnsServer
) -> None:
    created = request_channel(client, org, "email")
    rid = created["id"]
    assert (created["status"], created["version"], created["domain"]) == ("pending", 1, "acme-shop.example")
    assert created["revisions"][0]["business_info"]["company_name"] == "Acme Ltd"

    data = provisioned(client, admin, jobs, rid)
    assert [s["name"] for s in data["steps"]] == ["provision_domain", "generate_dns_records"]
    assert data["allowed_actions"] == ["issue_dns", "reject"]
    records = data["steps"][1]["result"]["records"]
    assert {r["purpose"] for r in records} == {"dkim", "mail_from_mx", "spf", "dmarc", "inbound_mx"}

    issued = ok(act(client, admin, rid, "issue-dns"))
    assert issued["status"] == "dns_setup"
    # The tenant sees the records in its wizard.
    mine = client.get(f"{TENANT_URL}/{rid}", headers=org.headers).json()
    assert mine["status"] == "dns_setup"
    assert [r["address"] for r in mine["dns_records"]] == [r["address"] for r in records]

    # Confirming before publishing: the check runs and says what is missing; activation waits.
    assert client.post(f"{TENANT_URL}/{rid}/confirm-dns", headers=org.headers).status_code == 200
    jobs.run()
    mine = client.get(f"{TENANT_URL}/{rid}", headers=org.headers).json()
    assert mine["dns_verified"] is False
    assert all(not r["verified"] and r["reason"] for r in mine["dns_records"])
    r = act(client, admin, rid, "activate")
    assert r.status_code == 409
    assert r.json()["error"] == "precondition_failed"

    publish(dns, records)
    client.post(f"{TENANT_URL}/{rid}/confirm-dns", headers=org.headers)
    jobs.run()
    mine = client.get(f"{TENANT_URL}/{rid}", headers=org.headers).json()
    assert mine["dns_verified"] is True, mine["dns_records"]

    active = ok(act(client, admin, rid, "activate"))
    assert active["status"] == "active"
    account = client.get(
        f"/rest/v1/channel_accounts/{active['channel_account_id']}", headers=org.headers
    ).json()
    assert account["type"] == "EMAIL"
    assert account["is_active"] is True
    assert account["connection_status"] == "connected"
    assert account["settings"]["email_address"] == "notifications@acme-shop.example"
    # The tenant's admin is told, through the outbox.
    outbox = client.get("/rest/v1/admin/notifications", headers=admin.headers).json()["items"]
    assert [(n["to"], n["kind"]) for n in outbox] == [(org.email, "onboarding.activated")]
    assert "is active" in outbox[0]["subject"]


@pytest.mark.parametrize(
    ("channel", "account_type", "steps"),
    [
        (
            "whatsapp",
            "WHATSAPP_CLOUD",
            ["allocate_number", "add_to_waba", "register_number", "configure_webhook"],
        ),
        ("sms", "SMS", ["register_entity", "configure_sender_ids", "allocate_number"]),
        ("push", "WEB_PUSH", ["generate_vapid_keys"]),
    ],
)
def test_channels_without_dns_activate_after_provisioning(
    client: TestClient,
    org: Tenant,
    admin: Tenant,
    jobs: JobRunner,
    channel: str,
    account_type: str,
    steps: list[str],
) -> None:
    rid = request_channel(client, org, channel)["id"]
    data = provisioned(client, admin, jobs, rid)
    assert [s["name"] for s in data["steps"]] == steps
    assert "issue_dns" not in data["allowed_actions"]
    assert act(client, admin, rid, "issue-dns").status_code == 409
    active = ok(act(client, admin, rid, "activate"))
    account = client.get(
        f"/rest/v1/channel_accounts/{active['channel_account_id']}", headers=org.headers
    ).json()
    assert (account["type"], account["is_active"], account["connection_status"]) == (
        account_type,
        True,
        "connected",
    )
    if channel == "push":
        key = data["steps"][0]["result"]["application_server_key"]
        raw = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
        assert len(raw) == 65
        assert raw[0] == 4  # uncompressed P-256 point
        assert account["settings"]["vapid_public_key"] == key
        assert account["settings"]["vapid_private_key"].startswith("••")  # in the vault, masked
    else:
        number = data["steps"][steps.index("allocate_number")]["result"]["phone_number"]
        field = "display_phone_number" if channel == "whatsapp" else "phone_number"
        assert account["settings"][field] == number


def test_reject_with_reason_then_resubmit_and_approve(
    client: TestClient, org: Tenant, admin: Tenant, jobs: JobRunner
) -> None:
    rid = request_channel(client, org, "sms", website="https://new-shop.example")["id"]
    ok(act(client, admin, rid, "start"))
    r = act(client, admin, rid, "reject")
    assert r.status_code == 422  # a reason is required
    assert r.json()["details"][0]["field"] == "reason"
    rejected = ok(act(client, admin, rid, "reject", reason="Website less than 3 months old"))
    assert rejected["status"] == "rejected"

    mine = client.get(f"{TENANT_URL}/{rid}", headers=org.headers).json()
    assert mine["rejection_reason"] == "Website less than 3 months old"
    outbox = client.get("/rest/v1/admin/notifications", headers=admin.headers).json()["items"]
    assert outbox[0]["kind"] == "onboarding.rejected"
    assert "Website less than 3 months old" in outbox[0]["body"]

    r = client.post(
        f"{TENANT_URL}/{rid}/resubmit",
        json={"business_info": mine["business_info"] | {"website": "https://acme-since-2019.example"}},
        headers=org.headers,
    )
    assert r.status_code == 200, r.text
    again = r.json()
    assert (again["status"], again["revision"], again["rejection_reason"]) == ("pending", 2, None)
    assert [(v["number"], v["rejection_reason"]) for v in again["revisions"]] == [
        (2, None),
        (1, "Website less than 3 months old"),
    ]
    assert again["revisions"][1]["business_info"]["website"] == "https://new-shop.example"

    provisioned(client, admin, jobs, rid)
    assert ok(act(client, admin, rid, "activate"))["status"] == "active"
    trail = [e["action"] for e in admin_get(client, admin, rid)["audit"]]
    for action in ("created", "start", "reject", "resubmit", "provision", "activate"):
        assert f"onboarding_request.{action}" in trail


def test_queue_filters_sorts_and_pages(client: TestClient, make_org: Any, admin: Tenant) -> None:
    a, b = make_org("Alpha Org"), make_org("Beta Org")
    first = request_channel(client, a, "email")
    request_channel(client, a, "sms")
    request_channel(client, b, "email")
    h = admin.headers
    page = client.get(ADMIN_URL, params={"limit": 2}, headers=h).json()
    assert page["total"] == 3
    assert len(page["items"]) == 2
    oldest = client.get(ADMIN_URL, params={"sort": "asc", "limit": 1}, headers=h).json()["items"][0]
    assert oldest["id"] == first["id"]
    assert oldest["organization"] == {"id": str(a.organization_id), "name": "Alpha Org"}
    emails = client.get(ADMIN_URL, params={"channel": "email"}, headers=h).json()
    assert emails["total"] == 2
    assert client.get(ADMIN_URL, params={"status": "active"}, headers=h).json()["total"] == 0
    assert client.get(ADMIN_URL, params={"status": "bogus"}, headers=h).status_code == 422
    # Tenants have no access to the queue, and see only their own requests.
    assert client.get(ADMIN_URL, headers=a.headers).status_code == 403
    assert client.get(TENANT_URL, headers=b.headers).json()["total"] == 1
    assert client.get(f"{TENANT_URL}/{first['id']}", headers=b.headers).status_code == 404


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"company_name": ""}, "business_info.company_name"),
        ({"website": "ftp://acme.example"}, "business_info.website"),
        ({"website": "https://user:pw@acme.example"}, "business_info.website"),
        ({"vertical": "casino"}, "business_info.vertical"),
        ({"expected_monthly_volume": 0}, "business_info.expected_monthly_volume"),
        ({"use_case": "x" * 2001}, "business_info.use_case"),
        ({"notes": "bell\x07"}, "business_info.notes"),
    ],
)
def test_bad_business_info_names_the_field(
    client: TestClient, org: Tenant, override: dict[str, Any], field: str
) -> None:
    from tests.support.onboarding import business_info

    body = {"channel": "email", "business_info": business_info(**override)}
    r = client.post(TENANT_URL, json=body, headers=org.headers)
    assert r.status_code == 422, r.text
    assert r.json()["details"][0]["field"] == field


def test_nul_characters_in_business_info_are_refused(client: TestClient, org: Tenant) -> None:
    from tests.support.onboarding import business_info

    body = {"channel": "email", "business_info": business_info(company_name="Acme\x00Ltd")}
    r = client.post(TENANT_URL, json=body, headers=org.headers)
    assert r.status_code == 422
    assert r.json()["details"][0]["rule"] == "no_nul_characters"


def test_email_and_rcs_need_a_website_on_a_domain(client: TestClient, org: Tenant) -> None:
    from tests.support.onboarding import business_info

    for website in ("https://203.0.113.7", "http://localhost:8080"):
        body = {"channel": "rcs", "business_info": business_info(website=website)}
        r = client.post(TENANT_URL, json=body, headers=org.headers)
        assert r.status_code == 422, r.text
        assert r.json()["details"][0]["field"] == "business_info.website"
    # Push has no domain to verify, so any website will do.
    body = {"channel": "push", "business_info": business_info(website="http://localhost:8080")}
    assert client.post(TENANT_URL, json=body, headers=org.headers).status_code == 201


def test_one_open_request_per_channel(client: TestClient, org: Tenant, admin: Tenant) -> None:
    first = request_channel(client, org, "sms")
    r = client.post(
        TENANT_URL, json={"channel": "sms", "business_info": first["business_info"]}, headers=org.headers
    )
    assert (r.status_code, r.json()["error"], r.json()["request_id"]) == (409, "request_open", first["id"])
    ok(act(client, admin, first["id"], "reject", reason="Incomplete business information"))
    # Still open for a resubmission, so no second one.
    r = client.post(
        TENANT_URL, json={"channel": "sms", "business_info": first["business_info"]}, headers=org.headers
    )
    assert r.status_code == 409
    assert request_channel(client, org, "email")["channel"] == "email"
    r = act(client, admin, first["id"], "reject", reason="\x00")
    assert r.status_code == 422


def test_members_and_other_tenants(client: TestClient, org: Tenant, make_org: Any, member_of: Any) -> None:
    rid = request_channel(client, org, "push")["id"]
    member = member_of(org)
    assert client.get(f"{TENANT_URL}/{rid}", headers=member.headers).status_code == 200
    info = client.get(f"{TENANT_URL}/{rid}", headers=org.headers).json()["business_info"]
    body = {"channel": "sms", "business_info": info}
    r = client.post(TENANT_URL, json=body, headers=member.headers)
    assert r.status_code == 403
    assert "channels.connect" in r.json()["message"]
    other = make_org("Other")
    assert client.post(f"{TENANT_URL}/{rid}/confirm-dns", headers=other.headers).status_code == 404
    r = client.post(f"{TENANT_URL}/{rid}/resubmit", json={"business_info": info}, headers=other.headers)
    assert r.status_code == 404
    assert client.get(f"{ADMIN_URL}/{rid}", headers=org.headers).status_code == 403
