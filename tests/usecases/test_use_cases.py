"""/v1/use-case exactly as the spec describes it: both shapes, every field rule and error code."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from switchboard.models import AuditLog
from tests.support.tenants import Tenant
from tests.support.voice import (
    USE_CASE_URL,
    approved_twilio_setup,
    create_twilio_setup,
    email_use_case,
    ses_setup_row,
    set_profile_status,
    voice_use_case,
)

VOICE_FIELDS = {
    "id",
    "entity_name",
    "name",
    "description",
    "channel",
    "twilio_setup_id",
    "created_at",
    "updated_at",
}
EMAIL_FIELDS = {
    "id",
    "entity_name",
    "name",
    "description",
    "channel",
    "ses_setup_id",
    "configuration_set_name",
    "sender_email_address",
    "email_type",
    "tier",
    "created_at",
    "updated_at",
}


def post(client: TestClient, t: Tenant, body: dict[str, Any]) -> Any:
    return client.post(USE_CASE_URL, json=body, headers=t.headers)


@pytest.fixture
def twilio_setup(client: TestClient, db: Any, tenant: Tenant) -> dict[str, Any]:
    return approved_twilio_setup(client, db, tenant)


@pytest.fixture
def ses(db: Any, tenant: Tenant) -> dict[str, str]:
    return ses_setup_row(db, tenant, domain="mail.acme.example")


def voice_body(setup: dict[str, Any], **over: Any) -> dict[str, Any]:
    return {
        "channel": "outbound_voice",
        "entity_name": "Acme",
        "name": "Reminders",
        "twilio_setup_id": setup["id"],
    } | over


def email_body(ses: dict[str, str], **over: Any) -> dict[str, Any]:
    return {
        "channel": "email",
        "entity_name": "Acme",
        "name": "Receipts",
        "ses_setup_id": ses["id"],
        "sender_email_address": f"receipts@{ses['domain']}",
        "email_type": "transactional",
    } | over


# --------------------------------------------------------------------------- create: voice


def test_voice_use_case_has_exactly_the_spec_fields(
    client: TestClient, tenant: Tenant, twilio_setup: dict[str, Any]
) -> None:
    for channel in ("outbound_voice", "inbound_voice", "ringless_voicemail"):
        body = voice_body(
            twilio_setup, channel=channel, name=channel.replace("_", " "), description="Reminders"
        )
        r = post(client, tenant, body)
        assert r.status_code == 201, r.text
        data = r.json()
        assert set(data) == VOICE_FIELDS
        assert data["channel"] == channel
        assert data["entity_name"] == "Acme"
        assert data["name"] == channel.replace("_", " ")
        assert data["description"] == "Reminders"
        assert data["twilio_setup_id"] == twilio_setup["id"]
        assert client.get(f"{USE_CASE_URL}/{data['id']}", headers=tenant.headers).json() == data


def test_voice_needs_an_existing_setup(
    client: TestClient, tenant: Tenant, make_tenant: Callable[..., Tenant], db: Any
) -> None:
    r = post(client, tenant, voice_body({"id": str(uuid.uuid4())}))
    assert r.status_code == 404
    # Another tenant's setup, even approved, is just as missing.
    other = approved_twilio_setup(client, db, make_tenant())
    r = post(client, tenant, voice_body(other))
    assert r.status_code == 404
    assert r.json()["error"] == "not_found"


def test_voice_needs_an_approved_customer_profile(client: TestClient, tenant: Tenant, db: Any) -> None:
    for status in ("pending", "rejected"):
        setup = create_twilio_setup(client, tenant)
        set_profile_status(db, setup["id"], status)
        r = post(client, tenant, voice_body(setup))
        assert r.status_code == 409, status
        assert r.json()["error"] == "customer_profile_not_approved"
        assert r.json()["customer_profile_status"] == status


# --------------------------------------------------------------------------- create: email


def test_email_use_case_has_exactly_the_spec_fields(
    client: TestClient, tenant: Tenant, ses: dict[str, str]
) -> None:
    r = post(client, tenant, email_body(ses, email_type="marketing"))
    assert r.status_code == 201, r.text
    data = r.json()
    assert set(data) == EMAIL_FIELDS
    assert data["channel"] == "email"
    assert data["ses_setup_id"] == ses["id"]
    assert data["configuration_set_name"] == "acme--receipts"
    assert data["sender_email_address"] == "receipts@mail.acme.example"
    assert data["email_type"] == "marketing"
    assert data["tier"] == "onboarding"
    assert data["description"] is None
    assert client.get(f"{USE_CASE_URL}/{data['id']}", headers=tenant.headers).json() == data


def test_configuration_set_name_is_derived_and_provider_safe(
    client: TestClient, tenant: Tenant, ses: dict[str, str]
) -> None:
    data = email_use_case(client, tenant, ses, entity_name="Acme Holdings", name="Password - Resets")
    assert data["configuration_set_name"] == "acme-holdings--password-resets"
    longest = email_use_case(
        client, tenant, ses, entity_name="A" * 31, name="B" * 31, sender_email_address=f"b@{ses['domain']}"
    )
    assert longest["configuration_set_name"] == "a" * 31 + "--" + "b" * 31
    assert len(longest["configuration_set_name"]) <= 64


def test_email_needs_an_existing_setup(
    client: TestClient, tenant: Tenant, make_tenant: Callable[..., Tenant], db: Any
) -> None:
    r = post(client, tenant, email_body({"id": str(uuid.uuid4()), "domain": "mail.acme.example"}))
    assert r.status_code == 404
    other = ses_setup_row(db, make_tenant())
    r = post(client, tenant, email_body(other))
    assert r.status_code == 404


def test_email_needs_verified_dns(client: TestClient, tenant: Tenant, db: Any) -> None:
    unverified = ses_setup_row(db, tenant, verified=False)
    r = post(client, tenant, email_body(unverified))
    assert r.status_code == 409
    assert r.json()["error"] == "dns_not_verified"


def test_sender_domain_must_be_the_setups_domain(
    client: TestClient, tenant: Tenant, ses: dict[str, str]
) -> None:
    for sender in (
        "receipts@acme.example",
        "receipts@other.example",
        "receipts@sub.mail.acme.example",
        "receipts@mail.acme.example.org",
    ):
        r = post(client, tenant, email_body(ses, sender_email_address=sender))
        assert r.status_code == 422, sender
        body = r.json()
        assert body["error"] == "sender_domain_mismatch"
        assert body["expected_domain"] == "mail.acme.example"
        assert body["details"][0]["field"] == "sender_email_address"
        assert body["details"][0]["rule"] == "sender_domain_mismatch"


def test_sender_domain_comparison_ignores_case(
    client: TestClient, tenant: Tenant, ses: dict[str, str]
) -> None:
    data = email_use_case(client, tenant, ses, sender_email_address="Receipts@MAIL.Acme.Example")
    assert data["sender_email_address"] == "receipts@mail.acme.example"


def test_duplicate_entity_and_name_is_409(
    client: TestClient,
    tenant: Tenant,
    ses: dict[str, str],
    twilio_setup: dict[str, Any],
    make_tenant: Callable[..., Tenant],
    db: Any,
) -> None:
    email_use_case(client, tenant, ses)
    r = post(client, tenant, email_body(ses, sender_email_address=f"other@{ses['domain']}"))
    assert r.status_code == 409
    assert r.json()["error"] == "duplicate_use_case"
    # The pair names one use case in the organization, whatever its channel.
    r = post(client, tenant, voice_body(twilio_setup, entity_name="Acme", name="Receipts"))
    assert r.status_code == 409
    assert r.json()["error"] == "duplicate_use_case"
    # Another organization may use the same names for voice (no platform-wide resource).
    other = make_tenant()
    assert (
        post(client, other, voice_body(approved_twilio_setup(client, db, other), name="Receipts")).status_code
        == 201
    )


def test_configuration_set_name_in_use_is_409(
    client: TestClient, tenant: Tenant, ses: dict[str, str], make_tenant: Callable[..., Tenant], db: Any
) -> None:
    email_use_case(client, tenant, ses, entity_name="Acme Co", name="Receipts")
    # Different names, same derived set.
    r = post(
        client,
        tenant,
        email_body(ses, entity_name="Acme-Co", name="Receipts", sender_email_address=f"x@{ses['domain']}"),
    )
    assert r.status_code == 409
    assert r.json()["error"] == "configuration_set_name_in_use"
    assert r.json()["configuration_set_name"] == "acme-co--receipts"
    # Set names are account-wide at SES, so another organization collides too.
    other = make_tenant()
    other_ses = ses_setup_row(db, other)
    r = post(client, other, email_body(other_ses, entity_name="Acme Co", name="Receipts"))
    assert r.status_code == 409
    assert r.json()["error"] == "configuration_set_name_in_use"


def test_sender_address_bound_to_another_use_case_is_409(
    client: TestClient, tenant: Tenant, ses: dict[str, str]
) -> None:
    email_use_case(client, tenant, ses, sender_email_address=f"hello@{ses['domain']}")
    r = post(
        client, tenant, email_body(ses, name="Newsletter", sender_email_address=f"HELLO@{ses['domain']}")
    )
    assert r.status_code == 409
    assert r.json()["error"] == "sender_address_in_use"


# --------------------------------------------------------------------------- field rules


# 0, 1, 31 and 32 characters; digits, underscores, punctuation and accents are refused.
NAME_CASES: list[tuple[str, str | None]] = [
    ("", "string_too_short"),
    ("A", None),
    ("A" * 31, None),
    ("A" * 32, "string_too_long"),
    ("Acme 2", "string_pattern_mismatch"),
    ("Acme_Co", "string_pattern_mismatch"),
    ("Acme, Inc", "string_pattern_mismatch"),
    ("Café", "string_pattern_mismatch"),
    ("Acme Co-op", None),
]


@pytest.mark.parametrize("field", ["entity_name", "name"])
def test_name_rules(client: TestClient, tenant: Tenant, twilio_setup: dict[str, Any], field: str) -> None:
    other = "name" if field == "entity_name" else "entity_name"
    for value, rule in NAME_CASES:
        r = post(client, tenant, voice_body(twilio_setup, **{field: value, other: "Fixed"}))
        if rule is None:
            assert r.status_code == 201, (value, r.text)
            assert r.json()[field] == value
        else:
            assert r.status_code == 422, value
            pairs = [{"field": d["field"], "rule": d["rule"]} for d in r.json()["details"]]
            assert {"field": field, "rule": rule} in pairs, (value, pairs)


@pytest.mark.parametrize("field", ["entity_name", "name"])
def test_name_rules_apply_to_email_too(
    client: TestClient, tenant: Tenant, ses: dict[str, str], field: str
) -> None:
    for value, status in (("A" * 32, 422), ("Acme1", 422), ("", 422)):
        r = post(client, tenant, email_body(ses, **{field: value}))
        assert r.status_code == status
        assert r.json()["details"][0]["field"] == field


def test_description_is_at_most_2000_characters(
    client: TestClient, tenant: Tenant, twilio_setup: dict[str, Any], ses: dict[str, str]
) -> None:
    assert post(client, tenant, voice_body(twilio_setup, description="d" * 2000)).status_code == 201
    r = post(client, tenant, voice_body(twilio_setup, name="Other", description="d" * 2001))
    assert r.status_code == 422
    assert r.json()["details"][0] == {
        "field": "description",
        "rule": "string_too_long",
        "message": "String should have at most 2000 characters",
    }
    r = post(client, tenant, email_body(ses, description="d" * 2001))
    assert r.status_code == 422
    assert r.json()["details"][0]["field"] == "description"


UNION_CASES: list[tuple[dict[str, Any], str, str]] = [
    ({"channel": "fax"}, "channel", "union_tag_invalid"),
    ({"channel": None}, "channel", "union_tag_invalid"),
    ({}, "channel", "union_tag_not_found"),
    ({"channel": "email", "entity_name": "A", "name": "B"}, "ses_setup_id", "missing"),
    ({"channel": "email", "entity_name": "A", "name": "B"}, "sender_email_address", "missing"),
    ({"channel": "email", "entity_name": "A", "name": "B"}, "email_type", "missing"),
    ({"channel": "inbound_voice", "entity_name": "A", "name": "B"}, "twilio_setup_id", "missing"),
    (
        {
            "channel": "outbound_voice",
            "entity_name": "A",
            "name": "B",
            "twilio_setup_id": str(uuid.uuid4()),
            "email_type": "marketing",
        },
        "email_type",
        "extra_forbidden",
    ),
    (email_body({"id": "nope", "domain": "b.co"}), "ses_setup_id", "uuid_parsing"),
    (
        email_body({"id": str(uuid.uuid4()), "domain": "b.co"}, sender_email_address="not-an-address"),
        "sender_email_address",
        "value_error",
    ),
    (email_body({"id": str(uuid.uuid4()), "domain": "b.co"}, email_type="promotional"), "email_type", "enum"),
]


def test_the_union_reports_fields_as_sent(client: TestClient, tenant: Tenant) -> None:
    for body, field, rule in UNION_CASES:
        r = post(client, tenant, body)
        assert r.status_code == 422, (body, r.text)
        details = r.json()["details"]
        assert any(d["field"] == field and d["rule"] == rule for d in details), (body, details)


def test_malformed_bodies_never_500(client: TestClient, tenant: Tenant) -> None:
    for content in (b"[]", b"null", b"{", b'"email"', b"42"):
        r = client.post(
            USE_CASE_URL, content=content, headers=tenant.headers | {"Content-Type": "application/json"}
        )
        assert r.status_code == 422, content


# --------------------------------------------------------------------------- email_type and description


def test_email_type_is_immutable(client: TestClient, tenant: Tenant, ses: dict[str, str]) -> None:
    created = email_use_case(client, tenant, ses)
    url = f"{USE_CASE_URL}/{created['id']}"
    r = client.patch(url, json={"email_type": "marketing"}, headers=tenant.headers)
    assert r.status_code == 409
    assert r.json()["error"] == "email_type_immutable"
    assert client.get(url, headers=tenant.headers).json()["email_type"] == "transactional"
    r = client.patch(
        url, json={"email_type": "transactional", "description": "Order receipts"}, headers=tenant.headers
    )
    assert r.status_code == 200
    assert r.json()["description"] == "Order receipts"
    r = client.patch(url, json={"configuration_set_name": "mine"}, headers=tenant.headers)
    assert r.status_code == 422
    r = client.patch(url, json={"description": None}, headers=tenant.headers)
    assert r.json()["description"] is None


# --------------------------------------------------------------------------- list


def test_list_with_each_filter(
    client: TestClient, tenant: Tenant, db: Any, ses: dict[str, str], make_tenant: Callable[..., Tenant]
) -> None:
    setup_a = approved_twilio_setup(client, db, tenant)
    setup_b = approved_twilio_setup(client, db, tenant)
    ses_b = ses_setup_row(db, tenant)
    v1 = voice_use_case(client, tenant, setup_a["id"], entity_name="Acme", name="Sales")
    v2 = voice_use_case(
        client, tenant, setup_b["id"], entity_name="Beta", name="Support", channel="inbound_voice"
    )
    e1 = email_use_case(client, tenant, ses, entity_name="Acme", name="Receipts")
    e2 = email_use_case(client, tenant, ses_b, entity_name="Beta", name="News", email_type="marketing")

    def ids(**params: Any) -> list[str]:
        r = client.get(USE_CASE_URL, params=params, headers=tenant.headers)
        assert r.status_code == 200, r.text
        return [item["id"] for item in r.json()["items"]]

    assert ids() == [v1["id"], v2["id"], e1["id"], e2["id"]]
    assert ids(entity_name="Acme") == [v1["id"], e1["id"]]
    assert ids(channel="email") == [e1["id"], e2["id"]]
    assert ids(channel="inbound_voice") == [v2["id"]]
    assert ids(twilio_setup_id=setup_a["id"]) == [v1["id"]]
    assert ids(ses_setup_id=ses_b["id"]) == [e2["id"]]
    assert ids(entity_name="Beta", channel="email") == [e2["id"]]
    assert ids(entity_name="Nobody") == []
    # Items are discriminated by channel: each carries its own shape.
    items = client.get(USE_CASE_URL, headers=tenant.headers).json()["items"]
    assert set(items[0]) == VOICE_FIELDS
    assert set(items[2]) == EMAIL_FIELDS
    assert client.get(USE_CASE_URL, params={"channel": "fax"}, headers=tenant.headers).status_code == 422
    assert client.get(USE_CASE_URL, params={"ses_setup_id": "x"}, headers=tenant.headers).status_code == 422
    # Another tenant sees none of them, even filtering by these setups.
    other = make_tenant()
    assert client.get(USE_CASE_URL, params={"ses_setup_id": ses["id"]}, headers=other.headers).json() == {
        "items": []
    }
    assert client.get(USE_CASE_URL, headers=other.headers).json() == {"items": []}


# --------------------------------------------------------------------------- delete, tenancy, permissions


def test_delete_email_use_case(client: TestClient, tenant: Tenant, ses: dict[str, str], db: Any) -> None:
    created = email_use_case(client, tenant, ses)
    url = f"{USE_CASE_URL}/{created['id']}"
    assert client.delete(url, headers=tenant.headers).status_code == 204
    assert client.get(url, headers=tenant.headers).status_code == 404
    assert client.delete(url, headers=tenant.headers).status_code == 404
    # Names, set name and sender are free again.
    email_use_case(client, tenant, ses)

    async def actions(session: Any) -> list[str]:
        rows = await session.scalars(
            select(AuditLog.action).where(AuditLog.object_id == created["id"]).order_by(AuditLog.created_at)
        )
        return list(rows)

    assert db.session(actions) == ["use_case.created", "use_case.deleted"]


def test_other_tenants_use_cases_are_404(
    client: TestClient, db: Any, make_tenant: Callable[..., Tenant]
) -> None:
    a, b = make_tenant(), make_tenant()
    created = email_use_case(client, a, ses_setup_row(db, a))
    url = f"{USE_CASE_URL}/{created['id']}"
    assert client.get(url, headers=b.headers).status_code == 404
    assert client.patch(url, json={"description": "x"}, headers=b.headers).status_code == 404
    assert client.delete(url, headers=b.headers).status_code == 404
    assert client.get(f"{url}/reputation", headers=b.headers).status_code == 404
    assert client.get(url, headers=a.headers).status_code == 200
    assert client.get(f"{USE_CASE_URL}/{uuid.uuid4()}", headers=a.headers).status_code == 404


def test_members_read_only(
    client: TestClient, tenant: Tenant, ses: dict[str, str], member_of: Callable[[Tenant], Tenant]
) -> None:
    created = email_use_case(client, tenant, ses)
    member = member_of(tenant)
    assert [i["id"] for i in client.get(USE_CASE_URL, headers=member.headers).json()["items"]] == [
        created["id"]
    ]
    r = post(client, member, email_body(ses, name="Other", sender_email_address=f"o@{ses['domain']}"))
    assert r.status_code == 403
    assert client.delete(f"{USE_CASE_URL}/{created['id']}", headers=member.headers).status_code == 403
    assert client.get(USE_CASE_URL).status_code == 401


def test_platform_admin_creates_in_the_setups_organization(
    client: TestClient, tenant: Tenant, ses: dict[str, str], platform_admin: Tenant
) -> None:
    r = post(client, platform_admin, email_body(ses))
    assert r.status_code == 201, r.text
    assert [i["id"] for i in client.get(USE_CASE_URL, headers=tenant.headers).json()["items"]] == [
        r.json()["id"]
    ]


def test_email_names_need_a_letter_for_the_configuration_set(
    client: TestClient, tenant: Tenant, ses: dict[str, str], twilio_setup: dict[str, Any]
) -> None:
    for field in ("entity_name", "name"):
        r = post(client, tenant, email_body(ses, **{field: "- -"}))
        assert r.status_code == 422
        assert r.json()["details"][0]["field"] == field
        assert r.json()["details"][0]["rule"] == "needs_letter"
    # Voice use cases name no provider resource, so the spec's rule alone applies.
    assert post(client, tenant, voice_body(twilio_setup, name="- -")).status_code == 201
