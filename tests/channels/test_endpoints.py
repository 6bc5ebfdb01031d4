"""The /rest/v1/channel_accounts API as a tenant's integration would use it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.channel_accounts import SAMPLE_SETTINGS
from tests.support.tenants import Tenant
from tests.support.web import allow_byom

URL = "/rest/v1/channel_accounts"
TG_TOKEN = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"


# These tests connect the tenant's own (BYOM) WhatsApp, SMS, Email and RCS accounts, which a platform
# admin must allow first (tests/onboarding/test_byom_gating.py covers the refusal); so their organizations do.
@pytest.fixture
def make_tenant(make_tenant: Callable[..., Tenant], db: Any) -> Callable[..., Tenant]:
    def make(*args: Any, **kwargs: Any) -> Tenant:
        t = make_tenant(*args, **kwargs)
        allow_byom(db, t.organization_id)
        return t

    return make


@pytest.fixture
def tenant(make_tenant: Callable[..., Tenant]) -> Tenant:
    return make_tenant()


def spec_body(org_id: uuid.UUID) -> dict[str, Any]:
    # The specification's example body, exactly.
    return {
        "organization_id": str(org_id),
        "name": "Sales WhatsApp",
        "type": "WHATSAPP_LITE",
        "settings": {"sender_id": "123456", "phone_number": "+1234567890"},
        "is_active": True,
    }


def create(client: TestClient, t: Tenant, **over: Any) -> dict[str, Any]:
    body = {"name": "Support bot", "type": "TELEGRAM", "settings": {"bot_token": TG_TOKEN}} | over
    r = client.post(URL, json=body, headers=t.headers)
    assert r.status_code == 201, r.text
    return r.json()


def test_create_with_the_spec_example_body(client: TestClient, tenant: Tenant) -> None:
    r = client.post(URL, json=spec_body(tenant.organization_id), headers=tenant.headers)
    assert r.status_code == 201, r.text
    data = r.json()
    assert data["name"] == "Sales WhatsApp"
    assert data["type"] == "WHATSAPP_LITE"
    assert data["organization_id"] == str(tenant.organization_id)
    assert data["settings"]["sender_id"] == "123456"
    assert data["settings"]["phone_number"] == "+1234567890"
    assert data["is_active"] is True
    assert data["connection_status"] == "pending"
    assert data["status_reason"]
    for key in ("id", "last_checked_at", "created_at", "updated_at"):
        assert key in data
    fetched = client.get(f"{URL}/{data['id']}", headers=tenant.headers).json()
    assert fetched == data


def test_default_status_is_inactive_and_pending(client: TestClient, tenant: Tenant) -> None:
    data = create(client, tenant)
    assert data["is_active"] is False
    assert data["connection_status"] == "pending"


def test_phone_numbers_are_normalised_to_e164(client: TestClient, tenant: Tenant) -> None:
    body = spec_body(tenant.organization_id) | {
        "settings": {"sender_id": "1", "phone_number": "+1 (415) 555-0100"}
    }
    r = client.post(URL, json=body, headers=tenant.headers)
    assert r.status_code == 201
    assert r.json()["settings"]["phone_number"] == "+14155550100"


@pytest.mark.parametrize(
    ("override", "field", "rule"),
    [
        ({"name": ""}, "name", "string_too_short"),
        ({"name": "x" * 101}, "name", "string_too_long"),
        ({"type": "FAX"}, "type", "enum"),
        (
            {"settings": {"sender_id": "1", "phone_number": "555-0100"}},
            "settings.phone_number",
            "value_error",
        ),
        ({"settings": {"phone_number": "+14155550100"}}, "settings.sender_id", "missing"),
        (
            {"settings": {"sender_id": "1", "phone_number": "+14155550100", "colour": "red"}},
            "settings.colour",
            "extra_forbidden",
        ),
        ({"organization_id": "org-uuid"}, "organization_id", "uuid_parsing"),
        ({"is_active": "maybe"}, "is_active", "bool_parsing"),
    ],
)
def test_bad_input_names_the_field_and_rule(
    client: TestClient, tenant: Tenant, override: dict[str, Any], field: str, rule: str
) -> None:
    r = client.post(URL, json=spec_body(tenant.organization_id) | override, headers=tenant.headers)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "validation_error"
    assert field in body["message"]
    assert any(d["field"] == field and d["rule"] == rule for d in body["details"]), body


def test_each_type_validates_its_own_settings(client: TestClient, tenant: Tenant) -> None:
    r = client.post(
        URL,
        json={"name": "tg", "type": "TELEGRAM", "settings": {"bot_token": "nope"}},
        headers=tenant.headers,
    )
    assert r.status_code == 422
    assert r.json()["details"][0]["field"] == "settings.bot_token"
    r = client.post(
        URL,
        json={"name": "shop", "type": "SHOPIFY_INBOX", "settings": {"shop_domain": "evil.com"}},
        headers=tenant.headers,
    )
    assert r.status_code == 422
    assert r.json()["details"][0]["field"] == "settings.shop_domain"
    r = client.post(
        URL,
        json={
            "name": "mail",
            "type": "EMAIL",
            "settings": {"email_address": "not-an-email", "smtp_host": "smtp.example.com"},
        },
        headers=tenant.headers,
    )
    assert r.status_code == 422
    assert r.json()["details"][0]["field"] == "settings.email_address"


def test_every_type_can_be_created(client: TestClient, tenant: Tenant) -> None:
    samples = SAMPLE_SETTINGS
    types = {t["type"] for t in client.get("/rest/v1/channel_types", headers=tenant.headers).json()}
    assert types == set(samples)
    for channel_type, settings in samples.items():
        create(client, tenant, name=f"{channel_type} one", type=channel_type, settings=settings)
    assert client.get(URL, headers=tenant.headers).json()["total"] == len(samples)


def test_many_accounts_of_one_type_are_independent(client: TestClient, tenant: Tenant) -> None:
    sales = create(
        client,
        tenant,
        name="Sales WhatsApp",
        type="WHATSAPP_LITE",
        settings={"sender_id": "s1", "phone_number": "+14155550100"},
    )
    support = create(
        client,
        tenant,
        name="Support WhatsApp",
        type="WHATSAPP_LITE",
        settings={"sender_id": "s2", "phone_number": "+14155550199"},
    )
    client.patch(f"{URL}/{sales['id']}", json={"is_active": True}, headers=tenant.headers)
    listed = {
        a["name"]: a
        for a in client.get(URL, params={"type": "WHATSAPP_LITE"}, headers=tenant.headers).json()["items"]
    }
    assert listed["Sales WhatsApp"]["is_active"] is True
    assert listed["Support WhatsApp"]["is_active"] is False
    assert listed["Support WhatsApp"]["settings"]["sender_id"] == "s2"
    assert support["id"] != sales["id"]


def test_list_filters_and_pagination(client: TestClient, tenant: Tenant) -> None:
    for i in range(5):
        create(client, tenant, name=f"bot {i}", is_active=i % 2 == 0)
    create(client, tenant, name="shop", type="SHOPIFY_INBOX", settings={"shop_domain": "a.myshopify.com"})
    h = tenant.headers
    assert client.get(URL, headers=h).json()["total"] == 6
    assert client.get(URL, params={"type": "TELEGRAM"}, headers=h).json()["total"] == 5
    assert client.get(URL, params={"is_active": "true"}, headers=h).json()["total"] == 3
    assert client.get(URL, params={"is_active": "false", "type": "TELEGRAM"}, headers=h).json()["total"] == 2
    assert (
        client.get(URL, params={"organization_id": str(tenant.organization_id)}, headers=h).json()["total"]
        == 6
    )
    page = client.get(URL, params={"limit": 2, "offset": 2}, headers=h).json()
    assert [a["name"] for a in page["items"]] == ["bot 2", "bot 3"]
    assert (page["limit"], page["offset"], page["total"]) == (2, 2, 6)
    r = client.get(URL, params={"limit": 0}, headers=h)
    assert r.status_code == 422
    assert r.json()["details"][0]["field"] == "limit"
    assert client.get(URL, params={"type": "FAX"}, headers=h).status_code == 422


def test_patch_name_settings_credentials_and_active(client: TestClient, tenant: Tenant) -> None:
    acc = create(client, tenant)
    url = f"{URL}/{acc['id']}"
    r = client.patch(
        url, json={"name": "Renamed", "settings": {"bot_username": "acme_bot"}}, headers=tenant.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Renamed"
    assert r.json()["settings"]["bot_username"] == "acme_bot"
    assert r.json()["settings"]["bot_token"] == "••••ew11"
    new_token = "999999:ZYXWVUTSRQPONMLKJIHGFEDCBA_new1"
    r = client.patch(url, json={"credentials": {"bot_token": new_token}}, headers=tenant.headers)
    assert r.json()["settings"]["bot_token"] == "••••new1"
    assert r.json()["connection_status"] == "pending"
    r = client.patch(url, json={"credentials": {"bot_token": "bad"}}, headers=tenant.headers)
    assert r.status_code == 422
    assert r.json()["details"][0]["field"] == "settings.bot_token"
    r = client.patch(url, json={"credentials": {"sender_id": "x"}}, headers=tenant.headers)
    assert r.status_code == 422
    r = client.patch(url, json={"name": ""}, headers=tenant.headers)
    assert r.status_code == 422
    r = client.patch(url, json={"is_active": True}, headers=tenant.headers)
    assert r.json()["is_active"] is True
    r = client.patch(url, json={"is_active": False}, headers=tenant.headers)
    assert r.json()["is_active"] is False


def test_delete_removes_account_and_keeps_audit_trail(client: TestClient, tenant: Tenant) -> None:
    acc = create(client, tenant)
    url = f"{URL}/{acc['id']}"
    assert client.delete(url, headers=tenant.headers).status_code == 204
    assert client.get(url, headers=tenant.headers).status_code == 404
    assert client.delete(url, headers=tenant.headers).status_code == 404
    trail = client.get(f"{url}/audit", headers=tenant.headers).json()
    assert [e["action"] for e in trail] == ["channel_account.deleted", "channel_account.created"]
    assert trail[0]["before"]["settings"]["bot_token"] == "••••ew11"


def test_audit_log_records_who_what_and_before_after(client: TestClient, tenant: Tenant) -> None:
    acc = create(client, tenant)
    url = f"{URL}/{acc['id']}"
    client.patch(url, json={"is_active": True}, headers=tenant.headers)
    client.patch(url, json={"name": "Renamed"}, headers=tenant.headers)
    trail = client.get(f"{url}/audit", headers=tenant.headers).json()
    assert [e["action"] for e in trail] == [
        "channel_account.updated",
        "channel_account.activated",
        "channel_account.created",
    ]
    assert all(e["actor"] == tenant.email for e in trail)
    assert trail[0]["before"]["name"] == "Support bot"
    assert trail[0]["after"]["name"] == "Renamed"


def test_missing_or_bad_key_is_401(client: TestClient, tenant: Tenant) -> None:
    assert client.get(URL).status_code == 401
    assert client.get(URL, headers={"Authorization": "Bearer nope"}).status_code == 401
    bad = tenant.api_key[:-2] + "xx"
    r = client.get(URL, headers={"Authorization": f"Bearer {bad}"})
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_api_key"


def test_another_tenants_objects_are_404_everywhere(client: TestClient, make_tenant: Any) -> None:
    alice, bob = make_tenant("Alice Co"), make_tenant("Bob Co")
    acc = create(client, alice)
    url = f"{URL}/{acc['id']}"
    assert client.get(url, headers=bob.headers).status_code == 404
    assert client.patch(url, json={"name": "x"}, headers=bob.headers).status_code == 404
    assert client.delete(url, headers=bob.headers).status_code == 404
    assert client.get(f"{url}/audit", headers=bob.headers).status_code == 404
    r = client.get(URL, params={"organization_id": str(alice.organization_id)}, headers=bob.headers)
    assert r.status_code == 404
    body = spec_body(alice.organization_id)
    assert client.post(URL, json=body, headers=bob.headers).status_code == 404
    assert client.get(URL, headers=bob.headers).json()["total"] == 0
    # the account is untouched
    assert client.get(url, headers=alice.headers).json()["name"] == acc["name"]
    # an id that never existed answers the same way
    assert client.get(f"{URL}/{uuid.uuid4()}", headers=bob.headers).json()["error"] == "not_found"


def test_members_can_read_but_not_change(client: TestClient, tenant: Tenant, member_of: Any) -> None:
    acc = create(client, tenant)
    member = member_of(tenant)
    assert client.get(URL, headers=member.headers).json()["total"] == 1
    r = client.post(URL, json=spec_body(tenant.organization_id), headers=member.headers)
    assert r.status_code == 403
    assert "channels.connect" in r.json()["message"]
    assert (
        client.patch(f"{URL}/{acc['id']}", json={"is_active": True}, headers=member.headers).status_code
        == 403
    )
    assert client.delete(f"{URL}/{acc['id']}", headers=member.headers).status_code == 403


def test_platform_admin_sees_every_org_and_must_name_one_to_create(
    client: TestClient, make_tenant: Any, platform_admin: Tenant
) -> None:
    a, b = make_tenant("A"), make_tenant("B")
    create(client, a)
    create(client, b)
    h = platform_admin.headers
    assert client.get(URL, headers=h).json()["total"] == 2
    assert client.get(URL, params={"organization_id": str(a.organization_id)}, headers=h).json()["total"] == 1
    assert client.get(URL, params={"organization_id": str(uuid.uuid4())}, headers=h).status_code == 404
    r = client.post(
        URL, json={"name": "x", "type": "TELEGRAM", "settings": {"bot_token": TG_TOKEN}}, headers=h
    )
    assert r.status_code == 422
    assert r.json()["details"][0]["field"] == "organization_id"
    r = client.post(URL, json=spec_body(b.organization_id), headers=h)
    assert r.status_code == 201


def test_malformed_json_and_oversized_bodies(client: TestClient, tenant: Tenant) -> None:
    h = {**tenant.headers, "content-type": "application/json"}
    r = client.post(URL, content=b'{"name": ', headers=h)
    assert r.status_code == 422
    assert r.json()["error"] == "invalid_json"
    r = client.post(URL, content=b"[1, 2]", headers=h)
    assert r.status_code == 422
    r = client.post(URL, content=b'{"name": "' + b"a" * (1024 * 1024) + b'"}', headers=h)
    assert r.status_code == 413
    assert r.json()["error"] == "payload_too_large"
