"""Provisioning in live mode, over real HTTP against provider emulators on 127.0.0.1: the wire format
each adapter sends, replay safety, and how provider errors become step retries or failures."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from tests.emulators.onboarding import TOKEN, ProviderEmulator
from tests.support.dns_server import LocalDnsServer
from tests.support.jobs import JobRunner
from tests.support.onboarding import act, admin_get, ok, publish, request_channel
from tests.support.tenants import Tenant


def provision(
    client: TestClient, org: Tenant, admin: Tenant, jobs: JobRunner, channel: str
) -> dict[str, Any]:
    rid = request_channel(client, org, channel)["id"]
    ok(act(client, admin, rid, "start"))
    ok(act(client, admin, rid, "provision"))
    jobs.run()
    return admin_get(client, admin, rid)


def test_whatsapp_registers_the_number_and_the_webhook_with_meta(
    client: TestClient,
    org: Tenant,
    admin: Tenant,
    jobs: JobRunner,
    providers: ProviderEmulator,
    settings: Any,
) -> None:
    data = provision(client, org, admin, jobs, "whatsapp")
    assert [s["status"] for s in data["steps"]] == ["succeeded"] * 4, data["steps"]
    number = data["steps"][0]["result"]["phone_number"]
    assert re.fullmatch(r"\+1415555\d{4}", number)
    phone_id = data["steps"][1]["result"]["phone_number_id"]

    [register] = providers.calls(rf"^/v21\.0/{phone_id}/register$")
    assert register.headers["authorization"] == f"Bearer {TOKEN}"
    assert register.body["messaging_product"] == "whatsapp"
    assert re.fullmatch(r"\d{6}", register.body["pin"])
    [subscribe] = providers.calls(r"^/v21\.0/120000000000001/subscribed_apps$")
    assert subscribe.body["override_callback_uri"] == f"{settings.public_base_url}/webhooks/whatsapp"
    assert len(subscribe.body["verify_token"]) >= 20
    [added] = providers.calls(r"^/v21\.0/120000000000001/phone_numbers$")
    assert added.body == {"cc": "1", "phone_number": number[2:], "verified_name": "Acme Ltd"}
    # Secrets stay out of results and responses.
    text = str(data)
    assert register.body["pin"] not in text
    assert subscribe.body["verify_token"] not in text


def test_a_transient_meta_error_is_retried_with_backoff(
    client: TestClient, org: Tenant, admin: Tenant, jobs: JobRunner, providers: ProviderEmulator
) -> None:
    # Graph code 2 ("service temporarily unavailable") twice, then the real answer.
    providers.fail(
        r"/register$", 503, {"error": {"message": "Service temporarily unavailable", "code": 2}}, times=2
    )
    data = provision(client, org, admin, jobs, "whatsapp")
    register = next(s for s in data["steps"] if s["name"] == "register_number")
    assert register["status"] == "succeeded"
    assert register["attempts"] == 3
    assert register["last_error"] is None
    assert jobs.ran["advance_provisioning"] >= 3
    # The same PIN was sent every time (a replay must not change it).
    pins = {c.body["pin"] for c in providers.calls(r"/register$")}
    assert len(pins) == 1


def test_a_permanent_error_fails_the_step_and_an_admin_retry_recovers(
    client: TestClient, org: Tenant, admin: Tenant, jobs: JobRunner, providers: ProviderEmulator
) -> None:
    providers.fail(r"/headers$", 400, {"error": {"code": "invalid_header", "message": "header blocked"}})
    data = provision(client, org, admin, jobs, "sms")
    steps = {s["name"]: s for s in data["steps"]}
    assert steps["register_entity"]["status"] == "succeeded"
    assert steps["configure_sender_ids"]["status"] == "failed"
    assert "header blocked" in steps["configure_sender_ids"]["last_error"]
    assert steps["allocate_number"]["status"] == "pending"  # later steps wait
    assert data["allowed_actions"] == ["retry_step", "reject"]
    assert act(client, admin, data["id"], "activate").status_code == 409

    retried = ok(act(client, admin, data["id"], "steps/configure_sender_ids/retry"))
    assert {s["name"]: s["status"] for s in retried["steps"]}["configure_sender_ids"] == "pending"
    jobs.run()
    data = admin_get(client, admin, data["id"])
    assert [s["status"] for s in data["steps"]] == ["succeeded"] * 3
    assert data["steps"][1]["result"]["sender_ids"][0]["header"] == "ACMELT"
    # The DLT entity was registered once; the replayed call carried the same idempotency key.
    entity_calls = providers.calls(r"^/v1/entities$")
    assert len(entity_calls) == 1
    assert len(providers.entities) == 1
    failed = [e for e in data["audit"] if e["action"] == "onboarding_step.failed"]
    assert failed
    assert failed[0]["after"]["step"] == "configure_sender_ids"


def test_rcs_submits_brand_verification_to_google(
    client: TestClient, org: Tenant, admin: Tenant, jobs: JobRunner, providers: ProviderEmulator
) -> None:
    data = provision(client, org, admin, jobs, "rcs")
    assert [s["status"] for s in data["steps"]] == ["succeeded"] * 3, data["steps"]
    agent = data["steps"][0]["result"]["agent"]
    [verify] = providers.calls(rf"^/v1/{re.escape(agent)}:requestVerification$")
    contact = verify.body["agentVerificationContact"]
    assert contact["brandWebsiteUrl"] == "https://www.acme-shop.example"
    assert contact["brandContactEmailAddress"] == org.email
    assert contact["partnerName"]
    assert contact["partnerEmailAddress"]
    [record] = data["steps"][2]["result"]["records"]
    assert record["address"] == "_rbm-verification.acme-shop.example"
    assert record["type"] == "TXT"
    assert record["record"].startswith("rbm-verification=")


def test_rcs_brand_lookup_makes_a_replay_reuse_the_agent(
    client: TestClient, org: Tenant, admin: Tenant, jobs: JobRunner, providers: ProviderEmulator
) -> None:
    # The verification request fails once for good; the retried step must not create a second agent.
    providers.fail(
        r":requestVerification$",
        400,
        {"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "contact rejected"}},
    )
    data = provision(client, org, admin, jobs, "rcs")
    assert data["steps"][1]["status"] == "failed"
    ok(act(client, admin, data["id"], "steps/submit_brand_verification/retry"))
    jobs.run()
    assert [s["status"] for s in admin_get(client, admin, data["id"])["steps"]] == ["succeeded"] * 3
    assert len(providers.brands) == 1
    assert len(providers.agents) == 1


def test_a_missing_provider_token_is_a_clear_step_error(
    client: TestClient,
    org: Tenant,
    admin: Tenant,
    jobs: JobRunner,
    providers: ProviderEmulator,
    monkeypatch: Any,
    settings: Any,
) -> None:
    monkeypatch.setattr(settings, "meta_system_token", "")
    data = provision(client, org, admin, jobs, "whatsapp")
    step = next(s for s in data["steps"] if s["status"] == "failed")
    assert step["name"] == "add_to_waba"
    assert "Invalid OAuth access token" in step["last_error"]
    assert step["attempts"] == 1  # needs action, not retried


def test_rcs_activates_once_the_txt_record_and_google_both_verify(
    client: TestClient,
    org: Tenant,
    admin: Tenant,
    jobs: JobRunner,
    providers: ProviderEmulator,
    dns_server: LocalDnsServer,
    settings: Any,
    monkeypatch: Any,
) -> None:
    monkeypatch.setattr(settings, "dns_nameservers", dns_server.nameserver)
    providers.verify_immediately = False  # Google is still talking to the brand
    data = provision(client, org, admin, jobs, "rcs")
    issued = ok(act(client, admin, data["id"], "issue-dns"))
    publish(dns_server, issued["dns_records"])
    ok(client.post(f"/rest/v1/onboarding/requests/{data['id']}/confirm-dns", headers=org.headers))
    jobs.run()
    now = admin_get(client, admin, data["id"])
    assert [r["verified"] for r in now["dns_records"]] == [True]
    assert now["verification"] == {"brand_verification": "VERIFICATION_STATE_PENDING"}
    assert now["dns_verified"] is True  # the record is there; Google is what is missing
    r = act(client, admin, data["id"], "activate")
    assert (r.status_code, r.json()["error"]) == (409, "precondition_failed")
    assert "Google has not verified the brand" in r.json()["message"]

    # Google verifies; the admin checks again and activates.
    agent = data["steps"][0]["result"]["agent"]
    providers.verifications[agent]["verificationState"] = "VERIFICATION_STATE_VERIFIED"
    ok(client.post(f"/rest/v1/admin/onboarding/requests/{data['id']}/check-dns", headers=admin.headers))
    jobs.run()
    assert admin_get(client, admin, data["id"])["verification"]["brand_verification"].endswith("VERIFIED")
    active = ok(act(client, admin, data["id"], "activate"))
    account = client.get(
        f"/rest/v1/channel_accounts/{active['channel_account_id']}", headers=org.headers
    ).json()
    assert (account["type"], account["settings"]["agent_id"]) == ("RCS", agent)
