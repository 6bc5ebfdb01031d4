"""/v1/twilio-setup: create, list, get, delete, the customer profile review, tenancy."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from switchboard.core.config import Settings
from switchboard.models import AuditLog, TwilioSetup, VaultSecret
from switchboard.models.base import utcnow
from switchboard.voice.provider import TwilioVoiceProvider
from switchboard.voice.tasks import approve_sandbox_profiles, poll_live_profiles
from switchboard.webhooks.signatures import twilio_signature
from tests.emulators.twilio import TwilioEmulator
from tests.support.tenants import Tenant
from tests.support.voice import (
    SETUP_URL,
    approved_twilio_setup,
    create_twilio_setup,
    set_profile_status,
    setup_body,
    voice_use_case,
)


@pytest.fixture
def live_twilio(client: TestClient, twilio: TwilioEmulator, settings: Settings) -> Iterator[TwilioEmulator]:
    """The API's voice provider switched to the live adapter, pointed at the emulator."""
    svc = client.app.state.twilio_setups  # type: ignore[attr-defined]
    old = svc._provider
    svc.provider = TwilioVoiceProvider(twilio.url, twilio.url, timeout=5.0)
    yield twilio
    svc._provider = old


def test_create_returns_every_field_with_the_token_masked(
    client: TestClient, tenant: Tenant, db: Any
) -> None:
    body = setup_body()
    r = client.post(SETUP_URL, json=body, headers=tenant.headers)
    assert r.status_code == 201, r.text
    data = r.json()
    assert set(data) == {
        "id",
        "organization_id",
        "name",
        "account_sid",
        "auth_token",
        "customer_profile",
        "phone_numbers",
        "provider_mode",
        "created_at",
        "updated_at",
    }
    assert data["name"] == body["name"]
    assert data["account_sid"] == body["account_sid"]
    assert data["auth_token"] == "••••" + body["auth_token"][-4:]
    assert body["auth_token"] not in r.text
    profile = data["customer_profile"]
    assert profile["status"] == "pending"
    assert profile["submitted_at"] is not None
    assert profile["decided_at"] is None
    assert profile["status_reason"] is None
    assert profile["business_name"] == "Acme Inc"
    assert data["phone_numbers"] == 0
    assert data["provider_mode"] == "sandbox"
    assert client.get(f"{SETUP_URL}/{data['id']}", headers=tenant.headers).json() == data

    async def stored(session: Any) -> tuple[TwilioSetup, list[VaultSecret], list[AuditLog]]:
        row = await session.get(TwilioSetup, uuid.UUID(data["id"]))
        secrets = list(await session.scalars(select(VaultSecret).where(VaultSecret.owner_id == row.id)))
        entries = list(await session.scalars(select(AuditLog).where(AuditLog.object_id == data["id"])))
        return row, secrets, entries

    row, secrets, entries = db.session(stored)
    # The token is only in the vault, encrypted; the audit trail has the mask.
    assert body["auth_token"] not in str(vars(row))
    assert [s.field for s in secrets] == ["auth_token"]
    assert body["auth_token"].encode() not in secrets[0].ciphertext
    assert [e.action for e in entries] == ["twilio_setup.created"]
    assert body["auth_token"] not in str(entries[0].after)


BAD_INPUT: list[tuple[dict[str, Any], str, str]] = [
    ({"name": ""}, "name", "string_too_short"),
    ({"name": "x" * 65}, "name", "string_too_long"),
    ({"account_sid": "AC" + "0" * 31}, "account_sid", "string_pattern_mismatch"),
    ({"account_sid": "XX" + "0" * 32}, "account_sid", "string_pattern_mismatch"),
    ({"auth_token": "g" * 32}, "auth_token", "string_pattern_mismatch"),
    ({"auth_token": "0" * 33}, "auth_token", "string_pattern_mismatch"),
    ({"business_type": "Cartel"}, "business_type", "enum"),
    ({"website": "acme"}, "website", "value_error"),
    ({"contact_email": "nobody"}, "contact_email", "value_error"),
    ({"business_name": ""}, "business_name", "string_too_short"),
    ({"colour": "red"}, "colour", "extra_forbidden"),
]


def test_bad_input_names_the_field_and_rule(client: TestClient, tenant: Tenant) -> None:
    for override, field, rule in BAD_INPUT:
        r = client.post(SETUP_URL, json=setup_body(**override), headers=tenant.headers)
        assert r.status_code == 422, (override, r.text)
        assert any(d["field"] == field and d["rule"] == rule for d in r.json()["details"]), (
            override,
            r.json(),
        )
    assert client.get(SETUP_URL, headers=tenant.headers).json() == {"items": []}


def test_token_never_echoes_in_validation_errors(client: TestClient, tenant: Tenant) -> None:
    r = client.post(SETUP_URL, json=setup_body(auth_token="secret-" + "a" * 25), headers=tenant.headers)
    assert r.status_code == 422
    assert "secret-" not in r.text


def test_duplicate_name_and_account_are_conflicts(
    client: TestClient, make_tenant: Callable[..., Tenant]
) -> None:
    a, b = make_tenant(), make_tenant()
    first = create_twilio_setup(client, a, name="Main")
    r = client.post(SETUP_URL, json=setup_body(name="Main"), headers=a.headers)
    assert r.status_code == 409
    assert r.json()["error"] == "duplicate_name"
    # The same name in another organization is fine; the same account anywhere is not.
    create_twilio_setup(client, b, name="Main")
    r = client.post(SETUP_URL, json=setup_body(account_sid=first["account_sid"]), headers=b.headers)
    assert r.status_code == 409
    assert r.json()["error"] == "account_in_use"


def test_other_tenants_setups_are_404_and_unlisted(
    client: TestClient, make_tenant: Callable[..., Tenant]
) -> None:
    a, b = make_tenant(), make_tenant()
    setup = create_twilio_setup(client, a)
    assert client.get(f"{SETUP_URL}/{setup['id']}", headers=b.headers).status_code == 404
    assert client.delete(f"{SETUP_URL}/{setup['id']}", headers=b.headers).status_code == 404
    assert client.get(SETUP_URL, headers=b.headers).json() == {"items": []}
    assert [s["id"] for s in client.get(SETUP_URL, headers=a.headers).json()["items"]] == [setup["id"]]
    assert client.get(f"{SETUP_URL}/{uuid.uuid4()}", headers=a.headers).status_code == 404


def test_members_read_but_cannot_create_or_delete(
    client: TestClient, tenant: Tenant, member_of: Callable[[Tenant], Tenant]
) -> None:
    setup = create_twilio_setup(client, tenant)
    member = member_of(tenant)
    assert client.get(f"{SETUP_URL}/{setup['id']}", headers=member.headers).status_code == 200
    assert client.post(SETUP_URL, json=setup_body(), headers=member.headers).status_code == 403
    assert client.delete(f"{SETUP_URL}/{setup['id']}", headers=member.headers).status_code == 403


def test_delete_removes_setup_numbers_and_token(client: TestClient, tenant: Tenant, db: Any) -> None:
    setup = create_twilio_setup(client, tenant)
    r = client.post(
        "/v1/phone-number",
        json={"twilio_setup_id": setup["id"], "phone_number": "+14155550100"},
        headers=tenant.headers,
    )
    assert r.status_code == 201
    assert client.delete(f"{SETUP_URL}/{setup['id']}", headers=tenant.headers).status_code == 204
    assert client.get(f"{SETUP_URL}/{setup['id']}", headers=tenant.headers).status_code == 404
    assert client.get("/v1/phone-number", headers=tenant.headers).json() == {"items": []}

    async def secrets(session: Any) -> int:
        return len(
            list(
                await session.scalars(
                    select(VaultSecret).where(VaultSecret.owner_id == uuid.UUID(setup["id"]))
                )
            )
        )

    assert db.session(secrets) == 0


def test_delete_refused_while_use_cases_use_the_setup(client: TestClient, tenant: Tenant, db: Any) -> None:
    setup = approved_twilio_setup(client, db, tenant)
    use_case = voice_use_case(client, tenant, setup["id"])
    r = client.delete(f"{SETUP_URL}/{setup['id']}", headers=tenant.headers)
    assert r.status_code == 409
    assert r.json()["error"] == "setup_in_use"
    assert client.delete(f"/v1/use-case/{use_case['id']}", headers=tenant.headers).status_code == 204
    assert client.delete(f"{SETUP_URL}/{setup['id']}", headers=tenant.headers).status_code == 204


def test_sandbox_review_approves_after_the_configured_delay(
    client: TestClient, tenant: Tenant, db: Any, settings: Settings
) -> None:
    setup = create_twilio_setup(client, tenant)
    soon = utcnow() + timedelta(seconds=settings.sandbox_profile_approval_seconds - 5)
    assert db.run(lambda rt: approve_sandbox_profiles(rt, soon)) == 0
    assert (
        client.get(f"{SETUP_URL}/{setup['id']}", headers=tenant.headers).json()["customer_profile"]["status"]
        == "pending"
    )
    later = utcnow() + timedelta(seconds=settings.sandbox_profile_approval_seconds + 1)
    assert db.run(lambda rt: approve_sandbox_profiles(rt, later)) == 1
    profile = client.get(f"{SETUP_URL}/{setup['id']}", headers=tenant.headers).json()["customer_profile"]
    assert profile["status"] == "approved"
    assert profile["decided_at"] is not None
    assert profile["status_reason"] == "Approved by the sandbox review."
    # Idempotent: a second run finds nothing pending.
    assert db.run(lambda rt: approve_sandbox_profiles(rt, later)) == 0


def test_platform_admin_forces_approval(client: TestClient, tenant: Tenant, platform_admin: Tenant) -> None:
    setup = create_twilio_setup(client, tenant)
    r = client.post(f"{SETUP_URL}/{setup['id']}/customer-profile/approve", headers=platform_admin.headers)
    assert r.status_code == 200, r.text
    assert r.json()["customer_profile"]["status"] == "approved"
    # Decisions are final: the table of transitions has nothing after approved.
    r = client.post(
        f"{SETUP_URL}/{setup['id']}/customer-profile/reject",
        json={"reason": "late"},
        headers=platform_admin.headers,
    )
    assert r.status_code == 409
    assert r.json()["current_status"] == "approved"


def test_platform_admin_rejects_with_a_reason(
    client: TestClient, tenant: Tenant, platform_admin: Tenant, db: Any
) -> None:
    setup = create_twilio_setup(client, tenant)
    url = f"{SETUP_URL}/{setup['id']}/customer-profile/reject"
    r = client.post(url, json={}, headers=platform_admin.headers)
    assert r.status_code == 422
    assert r.json()["details"][0]["field"] == "reason"
    r = client.post(
        url, json={"reason": "Website does not match the business"}, headers=platform_admin.headers
    )
    assert r.status_code == 200
    profile = r.json()["customer_profile"]
    assert profile["status"] == "rejected"
    assert profile["status_reason"] == "Website does not match the business"
    # A rejected profile is never approved by the sandbox schedule.
    assert db.run(lambda rt: approve_sandbox_profiles(rt, utcnow() + timedelta(days=1))) == 0


def test_tenants_cannot_force_a_decision(client: TestClient, tenant: Tenant) -> None:
    setup = create_twilio_setup(client, tenant)
    r = client.post(f"{SETUP_URL}/{setup['id']}/customer-profile/approve", headers=tenant.headers)
    assert r.status_code == 403
    assert (
        client.get(f"{SETUP_URL}/{setup['id']}", headers=tenant.headers).json()["customer_profile"]["status"]
        == "pending"
    )


def test_live_create_validates_the_account_and_submits_the_profile(
    client: TestClient,
    tenant: Tenant,
    live_twilio: TwilioEmulator,
    db: Any,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    account = live_twilio.add_account()
    setup = create_twilio_setup(client, tenant, account_sid=account.sid, auth_token=account.auth_token)
    assert setup["provider_mode"] == "live"
    assert setup["customer_profile"]["status"] == "pending"
    (profile_sid,) = live_twilio.profiles
    assert live_twilio.profiles[profile_sid]["status"] == "pending-review"
    # The sandbox schedule never decides a live profile; Twilio's answer does.
    assert db.run(lambda rt: approve_sandbox_profiles(rt, utcnow() + timedelta(days=1))) == 0
    monkeypatch.setattr(settings, "provider_mode", "live")
    monkeypatch.setattr(settings, "twilio_base_url", live_twilio.url)
    monkeypatch.setattr(settings, "twilio_trusthub_base_url", live_twilio.url)
    assert db.run(poll_live_profiles) == 0
    live_twilio.set_profile_status(profile_sid, "twilio-approved")
    assert db.run(poll_live_profiles) == 1
    assert (
        client.get(f"{SETUP_URL}/{setup['id']}", headers=tenant.headers).json()["customer_profile"]["status"]
        == "approved"
    )


def test_live_create_with_a_wrong_token_is_422_and_stores_nothing(
    client: TestClient, tenant: Tenant, live_twilio: TwilioEmulator
) -> None:
    account = live_twilio.add_account()
    r = client.post(
        SETUP_URL, json=setup_body(account_sid=account.sid, auth_token="0" * 32), headers=tenant.headers
    )
    assert r.status_code == 422
    assert r.json()["details"][0] == {
        "field": "auth_token",
        "rule": "rejected_by_provider",
        "message": "Twilio rejected this Account SID and Auth Token.",
    }
    assert client.get(SETUP_URL, headers=tenant.headers).json() == {"items": []}


def test_live_create_when_twilio_is_down_is_503(
    client: TestClient, tenant: Tenant, live_twilio: TwilioEmulator
) -> None:
    account = live_twilio.add_account()
    live_twilio.inject_fault(status=500, code=20500)
    r = client.post(
        SETUP_URL,
        json=setup_body(account_sid=account.sid, auth_token=account.auth_token),
        headers=tenant.headers,
    )
    assert r.status_code == 503
    assert r.json()["error"] == "provider_unavailable"
    assert client.get(SETUP_URL, headers=tenant.headers).json() == {"items": []}


def test_pending_profile_blocks_voice_use_cases_until_approved(
    client: TestClient, tenant: Tenant, db: Any
) -> None:
    setup = create_twilio_setup(client, tenant)
    body = {
        "channel": "inbound_voice",
        "entity_name": "Acme",
        "name": "Support",
        "twilio_setup_id": setup["id"],
    }
    r = client.post("/v1/use-case", json=body, headers=tenant.headers)
    assert r.status_code == 409
    assert r.json()["error"] == "customer_profile_not_approved"
    set_profile_status(db, setup["id"], "approved")
    assert client.post("/v1/use-case", json=body, headers=tenant.headers).status_code == 201


def test_trusthub_status_callback_is_signed_and_reads_the_status_back(
    client: TestClient, tenant: Tenant, live_twilio: TwilioEmulator, settings: Settings
) -> None:
    account = live_twilio.add_account()
    setup = create_twilio_setup(client, tenant, account_sid=account.sid, auth_token=account.auth_token)
    (profile,) = live_twilio.profiles.values()
    path = f"/webhooks/twilio/customer-profile/{setup['id']}"
    url = settings.public_base_url.rstrip("/") + path
    # The profile was created with our callback URL.
    assert profile["status_callback"] == url
    live_twilio.set_profile_status(profile["sid"], "twilio-approved")
    params = {"BundleSid": profile["sid"], "Status": "twilio-approved", "AccountSid": account.sid}

    def profile_status() -> str:
        return str(
            client.get(f"{SETUP_URL}/{setup['id']}", headers=tenant.headers).json()["customer_profile"][
                "status"
            ]
        )

    forged = twilio_signature("0" * 32, url, {k: [v] for k, v in params.items()})
    r = client.post(path, data=params, headers={"X-Twilio-Signature": forged})
    assert r.status_code == 403
    assert client.post(path, data=params).status_code == 403
    assert profile_status() == "pending"
    signature = twilio_signature(account.auth_token, url, {k: [v] for k, v in params.items()})
    r = client.post(path, data=params, headers={"X-Twilio-Signature": signature})
    assert r.status_code == 204, r.text
    assert profile_status() == "approved"
    # Repeats change nothing; an unknown setup is 404.
    assert client.post(path, data=params, headers={"X-Twilio-Signature": signature}).status_code == 204
    other = f"/webhooks/twilio/customer-profile/{uuid.uuid4()}"
    assert client.post(other, data=params, headers={"X-Twilio-Signature": signature}).status_code == 404
