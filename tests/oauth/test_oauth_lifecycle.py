"""After connecting: verified webhooks accepted and forged ones refused; expiring tokens refreshed
ahead of time; an expired or revoked authorization -> disconnected "reauthorization required" ->
Reconnect runs the same flow and the same account is connected again."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from switchboard.core.config import Settings
from switchboard.webhooks.service import process_pending
from tests.support.jobs import JobRunner, job_runner  # noqa: F401
from tests.support.jobs import jobs as jobs
from tests.support.oauth_env import META_APP_SECRET, Providers, account_by_name, connect, provider_settings
from tests.support.tenants import Tenant
from tests.support.web import Browser, allow_byom
from tests.support.webhook_rows import events, inbound


def _test_connection(client: TestClient, tenant: Tenant, account_id: str) -> dict[str, Any]:
    r = client.post(f"/rest/v1/channel_accounts/{account_id}/test", headers=tenant.headers)
    assert r.status_code == 200, r.text
    return client.get(f"/rest/v1/channel_accounts/{account_id}", headers=tenant.headers).json()


def _meta_signature(body: bytes, secret: str = META_APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_messenger_webhook_verified_and_forgery_refused(
    web: Browser, oauth_client: TestClient, tenant: Tenant, providers: Providers
) -> None:
    web.login(tenant)
    connect(web, "messenger", "Hooked")
    page_id = account_by_name(oauth_client, tenant.headers, "Hooked")["settings"]["page_id"]
    body = json.dumps(
        {
            "object": "page",
            "entry": [
                {
                    "id": page_id,
                    "time": 1700000000000,
                    "messaging": [
                        {
                            "sender": {"id": "2400001"},
                            "recipient": {"id": page_id},
                            "timestamp": 1700000000000,
                            "message": {"mid": "m_hooked_1", "text": "hello"},
                        }
                    ],
                }
            ],
        }
    ).encode()
    ok = oauth_client.post(
        "/webhooks/meta",
        content=body,
        headers={"X-Hub-Signature-256": providers.meta.sign(body), "Content-Type": "application/json"},
    )
    assert ok.status_code == 200, ok.text
    forged = oauth_client.post(
        "/webhooks/meta",
        content=body,
        headers={"X-Hub-Signature-256": _meta_signature(body, "not-the-secret")},
    )
    assert forged.status_code == 401


def _signed_account_hook(client: TestClient, account_id: str, body: bytes, headers: dict[str, str]) -> int:
    return client.post(f"/webhooks/{account_id}", content=body, headers=headers).status_code


def test_tiktok_linkedin_webhooks_verified_and_forgeries_refused(
    web: Browser, oauth_client: TestClient, tenant: Tenant, providers: Providers
) -> None:
    web.login(tenant)
    connect(web, "tiktok", "TT hooks")
    connect(web, "linkedin", "LI hooks")
    tt = account_by_name(oauth_client, tenant.headers, "TT hooks")["id"]
    li = account_by_name(oauth_client, tenant.headers, "LI hooks")["id"]
    body, headers = providers.tiktok.message_event("hi", conversation_id="conv-42")
    ts = str(int(time.time()))
    sig = hmac.new(b"tt-client-secret", ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers["TikTok-Signature"].startswith("t=")
    assert _signed_account_hook(oauth_client, tt, body, {"TikTok-Signature": f"t={ts},s={sig}"}) == 200
    assert _signed_account_hook(oauth_client, tt, body, {"TikTok-Signature": f"t={ts},s={'0' * 64}"}) == 401
    echo, echo_headers = providers.tiktok.message_event("our reply", "conv-42", event="im_send_msg")
    assert _signed_account_hook(oauth_client, tt, echo, echo_headers) == 200
    li_body = json.dumps(
        {"notifications": [{"action": "COMMENT", "id": "n1", "actor": "urn:li:person:x"}]}
    ).encode()
    # LinkedIn signs "hmacsha256=" + the raw body and sends the hex digest alone.
    li_sig = hmac.new(b"li-client-secret", b"hmacsha256=" + li_body, hashlib.sha256).hexdigest()
    assert _signed_account_hook(oauth_client, li, li_body, {"X-LI-Signature": li_sig}) == 200
    body_only = hmac.new(b"li-client-secret", li_body, hashlib.sha256).hexdigest()
    assert _signed_account_hook(oauth_client, li, li_body, {"X-LI-Signature": body_only}) == 401
    assert _signed_account_hook(oauth_client, li, li_body, {}) == 401


def test_tiktok_app_webhook_is_routed_by_the_business_open_id(
    web: Browser, oauth_client: TestClient, tenant: Tenant, providers: Providers, db: Any
) -> None:
    """TikTok calls one URL per developer app: /webhooks/tiktok verifies with the app secret and
    stores the event on the account connected with the payload's user_openid."""
    web.login(tenant)
    connect(web, "tiktok", "TT app hook")
    account = account_by_name(oauth_client, tenant.headers, "TT app hook")
    url = f"/rest/v1/channel_accounts/{account['id']}"
    assert oauth_client.patch(url, json={"is_active": True}, headers=tenant.headers).status_code == 200
    body, headers = providers.tiktok.message_event("hello via the app webhook", conversation_id="conv-7")
    assert oauth_client.post("/webhooks/tiktok", content=body, headers=headers).status_code == 200
    assert oauth_client.post("/webhooks/tiktok", content=body, headers=headers).status_code == 200  # replay
    forged = oauth_client.post("/webhooks/tiktok", content=body, headers={"TikTok-Signature": "t=1,s=00"})
    assert forged.status_code == 401
    stale = {"TikTok-Signature": providers.tiktok.sign(body, timestamp=int(time.time()) - 3600)}
    assert (
        oauth_client.post("/webhooks/tiktok", content=body, headers=stale).status_code == 401
    )  # an old capture
    stranger = json.loads(body) | {"user_openid": "someone-not-connected"}
    stray = json.dumps(stranger).encode()
    ack = oauth_client.post(
        "/webhooks/tiktok", content=stray, headers={"TikTok-Signature": providers.tiktok.sign(stray)}
    )
    assert ack.status_code == 200  # signed by our app: acknowledged so TikTok does not retry, not stored
    [event] = events(db)
    assert str(event.channel_account_id) == account["id"]
    db.run(process_pending)
    [message] = inbound(db)
    assert (message.text, message.thread_key) == ("hello via the app webhook", "conv-7")


def test_expired_facebook_token_disconnects_and_reconnect_restores(
    web: Browser, oauth_client: TestClient, tenant: Tenant, providers: Providers
) -> None:
    web.login(tenant)
    connect(web, "messenger", "Expiring")
    account = account_by_name(oauth_client, tenant.headers, "Expiring")
    assert _test_connection(oauth_client, tenant, account["id"])["connection_status"] == "connected"
    providers.meta.expire_all()
    after = _test_connection(oauth_client, tenant, account["id"])
    assert after["connection_status"] == "disconnected"
    assert "reauthorization required" in after["status_reason"].lower()
    table = web.fragment().text
    assert f'href="/oauth/messenger/reconnect/{account["id"]}"' in table  # the Reconnect button
    page = web.get(f"/oauth/messenger/reconnect/{account['id']}")
    assert "Reconnect via Facebook" in page.text
    csp = page.headers["content-security-policy"]
    assert "form-action" not in csp or providers.urls["meta"] in csp  # the form may lead to the provider
    done = connect(web, "messenger", account_id=account["id"], choice=1)
    assert done.status_code == 303, done.text
    again = account_by_name(oauth_client, tenant.headers, "Expiring")
    assert again["id"] == account["id"]
    assert again["connection_status"] == "connected"
    assert oauth_client.get("/rest/v1/channel_accounts", headers=tenant.headers).json()["total"] == 1


def test_whatsapp_cloud_token_refreshed_before_expiry(
    web: Browser, oauth_client: TestClient, tenant: Tenant, providers: Providers, db: Any
) -> None:
    allow_byom(db, tenant.organization_id)
    web.login(tenant)
    providers.meta.long_ttl = 3600  # inside the 7-day refresh margin
    try:
        connect(web, "whatsapp_cloud", "WA refresh")
        account = account_by_name(oauth_client, tenant.headers, "WA refresh")
        providers.meta.long_ttl = 60 * 86400
        after = _test_connection(oauth_client, tenant, account["id"])
    finally:
        providers.meta.long_ttl = 60 * 86400
    assert after["connection_status"] == "connected"
    assert after["settings"]["access_token_expires_at"] > account["settings"]["access_token_expires_at"]
    assert after["settings"]["access_token"] != account["settings"]["access_token"]  # new mask: new token


def test_tiktok_and_linkedin_refresh_ahead_then_revoked_then_reconnect(
    web: Browser, oauth_client: TestClient, tenant: Tenant, providers: Providers
) -> None:
    web.login(tenant)
    for emulator, key, name in ((providers.tiktok, "tiktok", "TT"), (providers.linkedin, "linkedin", "LI")):
        saved = emulator.access_ttl
        emulator.access_ttl = 120  # expires within the refresh margin
        try:
            connect(web, key, name)
            account = account_by_name(oauth_client, tenant.headers, name)
            refreshed = _test_connection(oauth_client, tenant, account["id"])
        finally:
            emulator.access_ttl = saved
        assert refreshed["connection_status"] == "connected"
        assert (
            refreshed["settings"]["access_token_expires_at"] != account["settings"]["access_token_expires_at"]
        )
        assert refreshed["settings"]["refresh_token"] != account["settings"]["refresh_token"]

        emulator.access_ttl = 120
        try:
            emulator.revoke_all()  # the member revoked the app: refresh is refused
            gone = _test_connection(oauth_client, tenant, account["id"])
        finally:
            emulator.access_ttl = saved
        assert gone["connection_status"] == "disconnected"
        assert "reauthorization required" in gone["status_reason"].lower()
        assert connect(web, key, account_id=account["id"]).status_code == 303
        assert account_by_name(oauth_client, tenant.headers, name)["connection_status"] == "connected"


def test_a_send_with_a_lapsing_tiktok_token_refreshes_it_first(
    web: Browser,
    oauth_client: TestClient,
    tenant: Tenant,
    providers: Providers,
    jobs: JobRunner,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """TikTok access tokens live a day: the send job refreshes one about to lapse, then sends with it."""
    # The job runs with the worker's settings: point them at the same providers as the app's.
    for name, value in provider_settings(settings, providers, "http://testserver").model_dump().items():
        monkeypatch.setattr(settings, name, value)
    web.login(tenant)
    saved = providers.tiktok.access_ttl
    providers.tiktok.access_ttl = 120  # lapses within minutes
    try:
        connect(web, "tiktok", "TT sends")
    finally:
        providers.tiktok.access_ttl = saved
    account = account_by_name(oauth_client, tenant.headers, "TT sends")
    url = f"/rest/v1/channel_accounts/{account['id']}"
    assert oauth_client.patch(url, json={"is_active": True}, headers=tenant.headers).status_code == 200
    sent = oauth_client.post(
        f"{url}/messages", json={"to": "conv-9", "body": {"text": "hi"}}, headers=tenant.headers
    )
    assert sent.status_code == 202, sent.text
    jobs.run()
    message = oauth_client.get(f"{url}/messages/{sent.json()['id']}", headers=tenant.headers).json()
    assert message["status"] == "sent", message
    after = oauth_client.get(url, headers=tenant.headers).json()
    assert after["settings"]["access_token_expires_at"] > account["settings"]["access_token_expires_at"]
    assert after["connection_status"] == "connected"
