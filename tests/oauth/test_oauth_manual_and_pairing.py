"""WhatsApp Cloud by system-user token (verified against the Graph API before saving) and WhatsApp
Lite QR pairing (payload from the gateway, QR drawn by us, polled until paired)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from typing import Any

import httpx2 as httpx
from fastapi.testclient import TestClient

from tests.support.oauth_env import Providers, account_by_name
from tests.support.tenants import Tenant
from tests.support.web import Browser, allow_byom

MANUAL = "/rest/v1/whatsapp_cloud/connections"


def _entry(providers: Providers, **over: Any) -> dict[str, Any]:
    return {
        "name": "Partner WABA",
        "waba_id": "3010000000001",
        "phone_number_id": "4010000000001",
        "access_token": providers.meta.system_user_token,
        **over,
    }


def test_manual_whatsapp_cloud_is_verified_then_saved_connected(
    oauth_client: TestClient, tenant: Tenant, providers: Providers, db: Any
) -> None:
    allow_byom(db, tenant.organization_id)
    r = oauth_client.post(MANUAL, json=_entry(providers), headers=tenant.headers)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["connection_status"] == "connected"
    assert body["settings"]["display_phone_number"] == "+14155550101"
    assert body["settings"]["access_token"].startswith("••")
    assert providers.meta.system_user_token not in r.text


def test_manual_whatsapp_cloud_errors_name_the_field(
    oauth_client: TestClient, tenant: Tenant, providers: Providers, db: Any
) -> None:
    allow_byom(db, tenant.organization_id)
    cases = [
        (_entry(providers, access_token="EAAnot-a-real-token-at-all"), "settings.access_token"),
        (_entry(providers, phone_number_id="4019999999999"), "settings.phone_number_id"),
        (_entry(providers, waba_id="3019999999999"), "settings.waba_id"),
        (_entry(providers, waba_id="abc"), "waba_id"),
    ]
    for payload, field in cases:
        r = oauth_client.post(MANUAL, json=payload, headers=tenant.headers)
        assert r.status_code == 422, r.text
        assert r.json()["details"][0]["field"].endswith(field), r.json()
    assert oauth_client.get("/rest/v1/channel_accounts", headers=tenant.headers).json()["total"] == 0


def test_manual_whatsapp_cloud_page(
    web: Browser, oauth_client: TestClient, tenant: Tenant, providers: Providers, db: Any
) -> None:
    allow_byom(db, tenant.organization_id)
    web.login(tenant)
    assert "system-user token" in web.get("/settings/channels/new/whatsapp_cloud").text
    bad = web.post("/oauth/whatsapp_cloud/manual", _entry(providers, phone_number_id="4019999999999"))
    assert bad.status_code == 422
    assert "No such phone number id" in bad.text
    assert providers.meta.system_user_token not in bad.text
    ok = web.post("/oauth/whatsapp_cloud/manual", _entry(providers, name="Manual page"))
    assert ok.status_code == 303
    assert account_by_name(oauth_client, tenant.headers, "Manual page")["connection_status"] == "connected"


def _add_lite(web: Browser, name: str, phone: str) -> str:
    r = web.post(
        "/settings/channels/new/whatsapp_lite",
        {"name": name, "settings.sender_id": name.split()[0].upper(), "settings.phone_number": phone},
    )
    assert r.status_code == 303, r.text
    assert r.headers["location"].endswith("/pair")
    return str(r.headers["location"])


def test_whatsapp_lite_pairs_by_qr_and_connects(
    web: Browser, oauth_client: TestClient, tenant: Tenant, providers: Providers, db: Any
) -> None:
    allow_byom(db, tenant.organization_id)
    web.login(tenant)
    pair_url = _add_lite(web, "Sales WhatsApp", "+14155550111")
    page = web.get(pair_url)
    assert page.status_code == 200
    session_id = re.search(r'data-session-id="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    qr = web.get(pair_url + "/qr.svg")
    assert qr.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in qr.content
    assert web.get(pair_url + "/status").json()["status"] == "pending"
    account = account_by_name(oauth_client, tenant.headers, "Sales WhatsApp")
    assert account["connection_status"] == "pending"
    assert httpx.post(f"{providers.urls['lite']}/sessions/{session_id}/scan").status_code == 200
    assert web.get(pair_url + "/status").json()["status"] == "paired"
    account = account_by_name(oauth_client, tenant.headers, "Sales WhatsApp")
    assert account["connection_status"] == "connected"
    assert account["settings"]["session_token"].startswith("••")

    # a verified webhook is accepted, a forged one refused
    body = json.dumps(
        {"events": [{"type": "message", "id": "wl1", "from": "+14155550999", "text": "hi"}]}
    ).encode()
    good = providers.lite.sign(session_id, body)
    assert (
        oauth_client.post(
            f"/webhooks/{account['id']}", content=body, headers={"X-Lite-Signature": good}
        ).status_code
        == 200
    )
    forged = "sha256=" + hmac.new(b"guess", body, hashlib.sha256).hexdigest()
    assert (
        oauth_client.post(
            f"/webhooks/{account['id']}", content=body, headers={"X-Lite-Signature": forged}
        ).status_code
        == 401
    )

    # the phone unpairs: disconnected, "reauthorization required", then pairing again reconnects
    providers.lite.log_out(session_id)
    r = oauth_client.post(f"/rest/v1/channel_accounts/{account['id']}/test", headers=tenant.headers)
    assert r.status_code == 200
    gone = account_by_name(oauth_client, tenant.headers, "Sales WhatsApp")
    assert gone["connection_status"] == "disconnected"
    assert "reauthorization required" in gone["status_reason"].lower()
    assert f'href="{pair_url}"' in web.fragment().text
    page = web.get(pair_url)
    new_session = re.search(r'data-session-id="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    assert new_session != session_id
    httpx.post(f"{providers.urls['lite']}/sessions/{new_session}/scan")
    assert web.get(pair_url + "/status").json()["status"] == "paired"
    assert account_by_name(oauth_client, tenant.headers, "Sales WhatsApp")["connection_status"] == "connected"


def test_pairing_pages_are_tenant_scoped(
    web: Browser, oauth_client: TestClient, tenant: Tenant, make_tenant: Any, db: Any
) -> None:
    allow_byom(db, tenant.organization_id)
    web.login(tenant)
    pair_url = _add_lite(web, "Private", "+14155550112")
    web.login(make_tenant("Nosy"))
    assert web.get(pair_url).status_code == 404
    assert web.get(pair_url + "/status").status_code == 404


def test_manual_entry_refuses_a_token_that_cannot_travel_in_a_header(client: Any, tenant: Any) -> None:
    r = client.post(
        "/rest/v1/whatsapp_cloud/connections",
        json={"name": "WA", "waba_id": "1", "phone_number_id": "2", "access_token": "abc\U0006cb86defghij"},
        headers=tenant.headers,
    )
    assert r.status_code == 422
    assert r.json()["details"][0]["field"] == "access_token"
