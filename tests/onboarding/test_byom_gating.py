"""BYOM channel gating: the platform admin's four flags, and what they lock and unlock for tenants."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.tenants import Tenant

ACCOUNTS = "/rest/v1/channel_accounts"
TG_TOKEN = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"

BYOM_BODIES: dict[str, tuple[str, dict[str, Any]]] = {
    "WHATSAPP_LITE": ("whatsapp", {"sender_id": "s1", "phone_number": "+14155550100"}),
    "WHATSAPP_CLOUD": ("whatsapp", {"waba_id": "1234", "phone_number_id": "5678"}),
    "SMS": ("sms", {"phone_number": "+14155550101"}),
    "EMAIL": ("email", {"email_address": "help@example.com", "smtp_host": "smtp.example.com"}),
    "RCS": ("rcs", {"brand_name": "Acme"}),
}


def byom_url(org_id: Any) -> str:
    return f"/rest/v1/admin/organizations/{org_id}/byom"


def connect(
    client: TestClient, who: Tenant, channel_type: str, settings: dict[str, Any], **extra: Any
) -> Any:
    body = {"name": f"Own {channel_type}", "type": channel_type, "settings": settings} | extra
    return client.post(ACCOUNTS, json=body, headers=who.headers)


def test_flags_start_off_and_only_platform_admins_change_them(
    client: TestClient, org: Tenant, admin: Tenant
) -> None:
    url = byom_url(org.organization_id)
    assert client.get(url, headers=admin.headers).json() == {
        "whatsapp": False,
        "sms": False,
        "email": False,
        "rcs": False,
    }
    r = client.put(url, json={"whatsapp": True}, headers=org.headers)
    assert r.status_code == 403
    r = client.put(url, json={"whatsapp": True, "sms": True}, headers=admin.headers)
    assert r.status_code == 200
    assert r.json() == {"whatsapp": True, "sms": True, "email": False, "rcs": False}
    # Persisted at organizations.metadata.channels.<ch>.byom_allowed, next to other metadata.
    org = client.get(f"/rest/v1/organizations/{org.organization_id}", headers=org.headers).json()
    assert org["metadata"]["channels"]["whatsapp"]["byom_allowed"] is True
    assert org["metadata"]["channels"]["sms"]["byom_allowed"] is True
    assert "email" not in org["metadata"]["channels"]
    r = client.put(url, json={"sms": False}, headers=admin.headers)
    assert r.json()["sms"] is False
    assert r.json()["whatsapp"] is True
    assert client.put(url, json={"push": True}, headers=admin.headers).status_code == 422
    assert client.put(url, json={"sms": "maybe"}, headers=admin.headers).status_code == 422


def test_flag_changes_are_audit_logged(client: TestClient, org: Tenant, admin: Tenant, db: Any) -> None:
    from switchboard.core.audit import history

    client.put(byom_url(org.organization_id), json={"email": True}, headers=admin.headers)
    client.put(byom_url(org.organization_id), json={"email": True}, headers=admin.headers)  # no-op
    entries = db.session(lambda s: history(s, "organization", org.organization_id))
    changes = [e for e in entries if e.action == "organization.byom_updated"]
    assert len(changes) == 1
    assert changes[0].actor == admin.email
    assert changes[0].before["byom_allowed.email"] is False
    assert changes[0].after["byom_allowed.email"] is True


@pytest.mark.parametrize("channel_type", sorted(BYOM_BODIES))
def test_byom_connect_is_refused_until_the_flag_is_on(
    client: TestClient, org: Tenant, admin: Tenant, channel_type: str
) -> None:
    family, settings = BYOM_BODIES[channel_type]
    r = connect(client, org, channel_type, settings)
    assert r.status_code == 403
    body = r.json()
    assert body["error"] == "byom_not_allowed"
    assert f"byom_allowed.{family}" in body["message"]
    assert client.get(ACCOUNTS, headers=org.headers).json()["total"] == 0
    client.put(byom_url(org.organization_id), json={family: True}, headers=admin.headers)
    assert connect(client, org, channel_type, settings).status_code == 201


def test_other_flags_and_other_channels_are_independent(
    client: TestClient, org: Tenant, admin: Tenant
) -> None:
    client.put(byom_url(org.organization_id), json={"sms": True}, headers=admin.headers)
    assert connect(client, org, "SMS", BYOM_BODIES["SMS"][1]).status_code == 201
    assert connect(client, org, "EMAIL", BYOM_BODIES["EMAIL"][1]).status_code == 403
    # Push and the social inboxes are not gated.
    push = {"site_url": "https://acme.example", "vapid_subject": "mailto:ops@acme.example"}
    assert connect(client, org, "WEB_PUSH", push).status_code == 201
    assert connect(client, org, "TELEGRAM", {"bot_token": TG_TOKEN}).status_code == 201


def test_platform_admins_are_not_gated(client: TestClient, org: Tenant, admin: Tenant) -> None:
    r = connect(client, admin, "RCS", {"brand_name": "Acme"}, organization_id=str(org.organization_id))
    assert r.status_code == 201


def test_another_tenants_flags_are_404(client: TestClient, make_org: Any, admin: Tenant) -> None:
    a, b = make_org("A"), make_org("B")
    assert client.get(byom_url(a.organization_id), headers=b.headers).status_code == 404
    assert client.get(byom_url(a.organization_id), headers=a.headers).status_code == 200
    unknown = "00000000-0000-0000-0000-00000000abcd"
    assert client.put(byom_url(unknown), json={"sms": True}, headers=admin.headers).status_code == 404


def test_perception_rule_and_sender_pin_unlock_with_the_flag(
    client: TestClient, org: Tenant, admin: Tenant
) -> None:
    url = "/rest/v1/channels/whatsapp/preferences"
    prefs = client.get(url, headers=org.headers).json()
    assert prefs == {
        "channel": "whatsapp",
        "byom_allowed": False,
        "perception_rule": "brand_unified",
        "sender_pin": None,
    }
    r = client.put(url, json={"perception_rule": "per_outlet"}, headers=org.headers)
    assert r.status_code == 403
    assert "byom_allowed.whatsapp" in r.json()["message"]
    client.put(byom_url(org.organization_id), json={"whatsapp": True}, headers=admin.headers)
    r = client.put(url, json={"perception_rule": "per_outlet"}, headers=org.headers)
    assert r.status_code == 200, r.text
    assert r.json()["perception_rule"] == "per_outlet"
    assert client.get(url, headers=org.headers).json()["byom_allowed"] is True
    # A pin must name one of the organization's senders of that channel.
    r = client.put(url, json={"sender_pin": "00000000-0000-0000-0000-000000000001"}, headers=org.headers)
    assert r.status_code == 404
    # Unlocking WhatsApp does not unlock SMS.
    r = client.put(
        "/rest/v1/channels/sms/preferences", json={"perception_rule": "per_outlet"}, headers=org.headers
    )
    assert r.status_code == 403
