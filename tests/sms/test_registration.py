"""The 10DLC registration state machine: its table, submission (precheck first), the provider's
answer by polling job and by signed webhook, and that nothing says approved before the provider."""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from switchboard.core.errors import Conflict
from switchboard.sms import tasks
from switchboard.sms.provider import SandboxSmsProvider
from switchboard.sms.registration import TRANSITIONS, RegistrationStatus, check_transition, label
from tests.emulators.twilio_sms import TwilioSmsEmulator, signed_json
from tests.sms.conftest import Destination, complete_compliance
from tests.support.tenants import Tenant

PHONE = "+14155550111"
EVENTS = "/webhooks/twilio/sms/events"
BRAND_EVENT = "com.twilio.messaging.compliance.brand-registration"
CAMPAIGN_EVENT = "com.twilio.messaging.compliance.campaign-registration"

# --- the table --------------------------------------------------------------------------------------

LEGAL = {
    ("draft", "submitted", "user"),
    ("rejected", "submitted", "user"),
    ("submitted", "approved", "provider"),
    ("submitted", "rejected", "provider"),
}


@pytest.mark.parametrize(
    ("current", "target", "actor"),
    list(
        itertools.product(
            [s.value for s in RegistrationStatus], list(RegistrationStatus), ["user", "provider"]
        )
    ),
)
def test_every_transition_is_legal_only_in_the_table(
    current: str, target: RegistrationStatus, actor: Any
) -> None:
    if (current, target.value, actor) in LEGAL:
        assert check_transition(current, target, actor) is target
    else:
        with pytest.raises(Conflict) as info:
            check_transition(current, target, actor)
        assert info.value.status_code == 409
        assert info.value.extra == {"current_state": current}


def test_only_the_provider_approves_or_rejects() -> None:
    for (_, target), actor in TRANSITIONS.items():
        if target in {RegistrationStatus.APPROVED, RegistrationStatus.REJECTED}:
            assert actor == "provider"


def test_labels_never_imply_approval_before_it_exists() -> None:
    for status in ("draft", "submitted", "rejected"):
        assert "approv" not in label(status).lower()
    assert label("submitted") == "Submitted — awaiting carrier review"
    assert label("approved") == "Approved by carrier"
    assert label("rejected", "Brand contact email is invalid") == "Rejected: Brand contact email is invalid"


# --- over the API, against the emulator -------------------------------------------------------------


@pytest.fixture
def conn(
    client: TestClient,
    tenant: Tenant,
    live: TwilioSmsEmulator,
    make_destination: Callable[..., Destination],
    connect: Callable[..., dict[str, Any]],
) -> dict[str, Any]:
    live.add_available(PHONE)
    return connect(tenant, make_destination(tenant), PHONE, compliance=complete_compliance())


def submit(client: TestClient, tenant: Tenant, conn: dict[str, Any]) -> Any:
    return client.post(f"/channels/sms/connections/{conn['id']}/registration", headers=tenant.headers)


def compliance(client: TestClient, tenant: Tenant, conn: dict[str, Any]) -> dict[str, Any]:
    r = client.get(f"/channels/sms/connections/{conn['id']}/compliance", headers=tenant.headers)
    assert r.status_code == 200
    data: dict[str, Any] = r.json()
    return data


def refresh(db: Any, conn: dict[str, Any]) -> str:
    status: str = db.run(lambda rt: tasks.refresh_one(rt, uuid.UUID(conn["id"])))
    return status


def assert_not_approved_anywhere(client: TestClient, tenant: Tenant, conn: dict[str, Any]) -> None:
    """No API surface says or implies approval."""
    texts = [
        client.get(f"/channels/sms/connections/{conn['id']}", headers=tenant.headers).text,
        client.get("/channels/sms/connections", headers=tenant.headers).text,
        client.get(f"/channels/sms/connections/{conn['id']}/compliance", headers=tenant.headers).text,
        client.get("/rest/v1/channel_accounts", headers=tenant.headers).text,
    ]
    for text in texts:
        assert "approved" not in text.lower()


def test_submission_needs_a_passing_precheck(
    client: TestClient,
    tenant: Tenant,
    live: TwilioSmsEmulator,
    make_destination: Callable[..., Destination],
    connect: Callable[..., dict[str, Any]],
) -> None:
    live.add_available(PHONE)
    conn = connect(tenant, make_destination(tenant), PHONE)
    r = submit(client, tenant, conn)
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "precheck_failed"
    assert {"field": "brand.companyName", "rule": "missing"} in [
        {"field": d["field"], "rule": d["rule"]} for d in body["details"]
    ]
    assert all(d["message"] for d in body["details"])
    assert compliance(client, tenant, conn)["registration"]["status"] == "draft"
    assert not live.brands, "nothing reached the provider"


def test_full_registration_through_the_provider(
    client: TestClient, tenant: Tenant, live: TwilioSmsEmulator, conn: dict[str, Any], db: Any
) -> None:
    r = submit(client, tenant, conn)
    assert r.status_code == 200, r.text
    assert r.json()["registration"]["status"] == "submitted"
    assert r.json()["registration"]["label"] == "Submitted — awaiting carrier review"
    (brand_sid,) = live.brands
    brand = live.brands[brand_sid]
    # The business profile carries the brand data to the provider.
    business = next(
        u for u in live.end_users.values() if u["type"] == "customer_profile_business_information"
    )
    assert business["attributes"]["business_name"] == "Acme Widgets Inc"
    assert business["attributes"]["business_registration_number"] == "12-3456789"
    messaging = next(
        u for u in live.end_users.values() if u["type"] == "us_a2p_messaging_profile_information"
    )
    assert messaging["attributes"] == {
        "company_type": "private",
        "brand_contact_email": "compliance@acme-widgets.example.com",
    }
    assert live.bundles[brand["customer_profile_bundle_sid"]]["status"] == "pending-review"
    assert live.bundles[brand["a2p_profile_bundle_sid"]]["items"][-1] == brand["customer_profile_bundle_sid"]
    assert_not_approved_anywhere(client, tenant, conn)

    # A second submit while with the carrier is a 409 with the current state.
    again = submit(client, tenant, conn)
    assert again.status_code == 409
    assert again.json()["current_state"] == "submitted"

    # Brand still pending: nothing moves.
    assert refresh(db, conn) == "submitted"
    assert not live.campaigns

    # Brand registered: the campaign is created (still not approved).
    live.set_brand_status(brand_sid, "APPROVED")
    assert refresh(db, conn) == "submitted"
    (campaign_sid,) = live.campaigns
    form = live.campaigns[campaign_sid]["form"]
    assert form["UsAppToPersonUsecase"] == ["ACCOUNT_NOTIFICATION"]
    assert len(form["MessageSamples"]) == 5
    assert form["OptOutKeywords"] == ["STOP", "END"]
    assert form["HasEmbeddedLinks"] == ["false"]
    service_sid = live.campaigns[campaign_sid]["messaging_service_sid"]
    assert live.services[service_sid]["numbers"], "the number joined the messaging service"
    data = compliance(client, tenant, conn)
    assert data["registration"]["brand_status"] == "registered"
    assert data["registration"]["campaign_status"] == "in_review"
    assert_not_approved_anywhere(client, tenant, conn)

    # Campaign verified: only now is it approved.
    live.set_campaign_status(campaign_sid, "VERIFIED")
    assert refresh(db, conn) == "approved"
    data = compliance(client, tenant, conn)
    assert data["registration"]["label"] == "Approved by carrier"
    assert data["registration"]["decided_at"]
    row = client.get(f"/channels/sms/connections/{conn['id']}", headers=tenant.headers).json()
    assert row["registration_label"] == "Approved by carrier"
    # Approved is final.
    assert submit(client, tenant, conn).status_code == 409


def test_a_rejected_brand_can_be_fixed_and_resubmitted(
    client: TestClient, tenant: Tenant, live: TwilioSmsEmulator, conn: dict[str, Any], db: Any
) -> None:
    submit(client, tenant, conn)
    (brand_sid,) = live.brands
    live.set_brand_status(brand_sid, "FAILED", "The Brand contact email is invalid.")
    assert refresh(db, conn) == "rejected"
    data = compliance(client, tenant, conn)
    assert data["registration"]["label"] == "Rejected: The Brand contact email is invalid."
    assert data["locked"] is False
    # The reason is registration detail: the table only says "Rejected".
    row = client.get(f"/channels/sms/connections/{conn['id']}", headers=tenant.headers).json()
    assert row["registration_label"] == "Rejected"

    fixed = complete_compliance()
    fixed["brand"]["contactEmail"] = "brand@acme-widgets.example.com"
    assert (
        client.put(
            f"/channels/sms/connections/{conn['id']}/compliance", json=fixed, headers=tenant.headers
        ).status_code
        == 200
    )
    r = submit(client, tenant, conn)
    assert r.status_code == 200
    assert r.json()["registration"]["status"] == "submitted"
    assert r.json()["registration"]["rejection_reason"] is None
    assert len(live.brands) == 2


def test_a_rejected_campaign_is_rejected(
    client: TestClient, tenant: Tenant, live: TwilioSmsEmulator, conn: dict[str, Any], db: Any
) -> None:
    submit(client, tenant, conn)
    (brand_sid,) = live.brands
    live.set_brand_status(brand_sid, "APPROVED")
    refresh(db, conn)
    (campaign_sid,) = live.campaigns
    live.set_campaign_status(campaign_sid, "FAILED", "Sample messages do not match the use case.")
    assert refresh(db, conn) == "rejected"
    assert (
        compliance(client, tenant, conn)["registration"]["rejection_reason"]
        == "Sample messages do not match the use case."
    )


def test_provider_outage_during_submission_is_503_and_changes_nothing(
    client: TestClient, tenant: Tenant, live: TwilioSmsEmulator, conn: dict[str, Any]
) -> None:
    live.inject_fault("/v1/EndUsers", status=503)
    r = submit(client, tenant, conn)
    assert r.status_code == 503
    assert compliance(client, tenant, conn)["registration"]["status"] == "draft"


def test_registration_applies_to_us_and_canadian_numbers(
    client: TestClient,
    tenant: Tenant,
    sandbox: SandboxSmsProvider,
    make_destination: Callable[..., Destination],
    connect: Callable[..., dict[str, Any]],
    allow_byom: Callable[[Tenant], None],
) -> None:
    allow_byom(tenant)
    dest = make_destination(tenant)
    body = {
        "mode": "byon",
        "phone_number": "+442071838750",
        "workspace_id": dest.workspace_id,
        "agent_id": dest.agent_id,
        "hosted_order": {"email": "ops@example.com"},
        "compliance": complete_compliance(),
    }
    r = client.post("/channels/sms/connect", json=body, headers=tenant.headers)
    assert r.status_code == 201, r.text
    r = submit(client, tenant, r.json())
    assert r.status_code == 422
    assert r.json()["details"][0]["rule"] == "not_applicable"


def test_sandbox_registration_is_decided_by_the_sandbox(
    client: TestClient,
    tenant: Tenant,
    sandbox: SandboxSmsProvider,
    make_destination: Callable[..., Destination],
    connect: Callable[..., dict[str, Any]],
    db: Any,
) -> None:
    dest = make_destination(tenant)
    ok = connect(tenant, dest, "+14155550101", compliance=complete_compliance())
    refused = connect(tenant, dest, "+14155550102", compliance=complete_compliance("Reject Test"))
    for c in (ok, refused):
        assert submit(client, tenant, c).status_code == 200
    # First poll: the brand is registered and the campaign created; the next one has its answer.
    assert refresh(db, ok) == "submitted"
    assert refresh(db, ok) == "approved"
    assert refresh(db, refused) == "rejected"


# --- the provider's answer by webhook ---------------------------------------------------------------


def post_event(client: TestClient, token: str, events: list[dict[str, Any]]) -> Any:
    body = json.dumps(events).encode()
    url, headers = signed_json(token, "http://127.0.0.1:8000" + EVENTS, body)
    return client.post(url.removeprefix("http://127.0.0.1:8000"), content=body, headers=headers)


def event(kind: str, **data: Any) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "type": kind,
        "source": "AB00000000000000000000000001",
        "id": "NO" + uuid.uuid4().hex,
        "datacontenttype": "application/json",
        "data": {"accountsid": "AC1"} | data,
    }


def test_events_must_carry_a_valid_twilio_signature(
    client: TestClient, tenant: Tenant, live: TwilioSmsEmulator, conn: dict[str, Any]
) -> None:
    submit(client, tenant, conn)
    (brand_sid,) = live.brands
    failure = [event(f"{BRAND_EVENT}.brand-failure", brandsid=brand_sid)]
    assert post_event(client, "wrong-token", failure).status_code == 401
    body = json.dumps(failure).encode()
    url, headers = signed_json(live.auth_token, "http://127.0.0.1:8000" + EVENTS, body)
    tampered = body.replace(b"brand-failure", b"brand-registered")
    r = client.post(url.removeprefix("http://127.0.0.1:8000"), content=tampered, headers=headers)
    assert r.status_code == 401
    r = client.post(EVENTS, content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 401
    assert compliance(client, tenant, conn)["registration"]["status"] == "submitted"


def test_brand_failure_event_rejects_with_the_providers_reason(
    client: TestClient, tenant: Tenant, live: TwilioSmsEmulator, conn: dict[str, Any]
) -> None:
    submit(client, tenant, conn)
    (brand_sid,) = live.brands
    errors = [
        {
            "registrationerrorcode": 21736,
            "registrationerrordescription": "The Brand contact email is invalid.",
        }
    ]
    r = post_event(
        client,
        live.auth_token,
        [event(f"{BRAND_EVENT}.brand-failure", brandsid=brand_sid, brandregistrationerrors=errors)],
    )
    assert r.status_code == 200, r.text
    data = compliance(client, tenant, conn)
    assert data["registration"]["status"] == "rejected"
    assert data["registration"]["rejection_reason"] == "The Brand contact email is invalid."
    # A late, replayed event changes nothing.
    r = post_event(client, live.auth_token, [event(f"{BRAND_EVENT}.brand-registered", brandsid=brand_sid)])
    assert r.status_code == 200
    assert compliance(client, tenant, conn)["registration"]["status"] == "rejected"


def test_brand_registered_then_campaign_approved_by_events(
    client: TestClient, tenant: Tenant, live: TwilioSmsEmulator, conn: dict[str, Any], db: Any
) -> None:
    submit(client, tenant, conn)
    (brand_sid,) = live.brands
    live.set_brand_status(brand_sid, "APPROVED")
    r = post_event(client, live.auth_token, [event(f"{BRAND_EVENT}.brand-registered", brandsid=brand_sid)])
    assert r.status_code == 200
    data = compliance(client, tenant, conn)
    assert data["registration"]["status"] == "submitted"
    assert data["registration"]["brand_status"] == "registered"
    assert_not_approved_anywhere(client, tenant, conn)
    # The follow-up job creates the campaign (the worker would run it after the commit).
    refresh(db, conn)
    (campaign_sid,) = live.campaigns
    service_sid = live.campaigns[campaign_sid]["messaging_service_sid"]
    # An event for another service is not ours.
    post_event(
        client, live.auth_token, [event(f"{CAMPAIGN_EVENT}.campaign-approved", messagingservicesid="MGother")]
    )
    assert compliance(client, tenant, conn)["registration"]["status"] == "submitted"
    r = post_event(
        client,
        live.auth_token,
        [event(f"{CAMPAIGN_EVENT}.campaign-approved", brandsid=brand_sid, messagingservicesid=service_sid)],
    )
    assert r.status_code == 200
    assert compliance(client, tenant, conn)["registration"]["label"] == "Approved by carrier"


def test_the_sweeper_polls_every_submitted_registration(
    client: TestClient, tenant: Tenant, live: TwilioSmsEmulator, conn: dict[str, Any], db: Any
) -> None:
    submit(client, tenant, conn)
    (brand_sid,) = live.brands
    live.set_brand_status(brand_sid, "SUSPENDED")
    assert db.run(tasks.refresh_submitted) == 1
    assert compliance(client, tenant, conn)["registration"]["status"] == "rejected"
    assert db.run(tasks.refresh_submitted) == 0
