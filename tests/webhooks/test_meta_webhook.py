"""The platform-level Meta app webhook: handshake, signature, routing by phone_number_id / page id."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from switchboard.core.config import Settings
from switchboard.models import ChannelAccount
from switchboard.webhooks.service import process_pending
from tests.support.tenants import Tenant
from tests.support.webhook_rows import count_events, events, inbound

APP_SECRET = "meta-app-secret-for-tests"


@pytest.fixture(autouse=True)
def _meta_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "meta_app_secret", APP_SECRET)
    monkeypatch.setattr(settings, "meta_verify_token", "verify-me")


def _account(db: Any, tenant: Tenant, type_: str, settings: dict[str, Any]) -> uuid.UUID:
    async def go(s: Any) -> uuid.UUID:
        account = ChannelAccount(
            organization_id=tenant.organization_id,
            name=type_,
            type=type_,
            settings=settings,
            is_active=True,
            connection_status="connected",
        )
        s.add(account)
        await s.flush()
        return account.id

    return uuid.UUID(str(db.session(go)))


def _signed(client: TestClient, payload: dict[str, Any], secret: str = APP_SECRET) -> int:
    body = json.dumps(payload).encode()
    sig = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {"X-Hub-Signature-256": sig, "Content-Type": "application/json"}
    return client.post("/webhooks/meta", content=body, headers=headers).status_code


def _wa_change(phone_number_id: str, wamid: str, text: str) -> dict[str, Any]:
    return {
        "field": "messages",
        "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550001111", "phone_number_id": phone_number_id},
            "messages": [
                {
                    "from": "16505551234",
                    "id": wamid,
                    "timestamp": "1700000000",
                    "type": "text",
                    "text": {"body": text},
                }
            ],
        },
    }


def test_handshake_echoes_the_challenge_only_with_the_verify_token(client: TestClient) -> None:
    ok = client.get(
        "/webhooks/meta",
        params={"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": "verify-me"},
    )
    assert (ok.status_code, ok.text) == (200, "1158201444")
    bad = client.get(
        "/webhooks/meta", params={"hub.mode": "subscribe", "hub.challenge": "1", "hub.verify_token": "wrong"}
    )
    assert bad.status_code == 403
    assert client.get("/webhooks/meta").status_code == 403


def test_one_delivery_is_routed_to_each_number_and_page(client: TestClient, tenant: Tenant, db: Any) -> None:
    sales = _account(db, tenant, "WHATSAPP_CLOUD", {"phone_number_id": "1111"})
    support = _account(db, tenant, "WHATSAPP_CLOUD", {"phone_number_id": "2222"})
    page = _account(db, tenant, "MESSENGER", {"page_id": "3333"})
    wa = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "WABA1",
                "changes": [
                    _wa_change("1111", "wamid.A", "to sales"),
                    _wa_change("2222", "wamid.B", "to support"),
                ],
            }
        ],
    }
    fb = {
        "object": "page",
        "entry": [
            {
                "id": "3333",
                "time": 1700000000000,
                "messaging": [
                    {
                        "sender": {"id": "PSID1"},
                        "recipient": {"id": "3333"},
                        "timestamp": 1700000000000,
                        "message": {"mid": "m_1", "text": "to the page"},
                    },
                    {
                        "sender": {"id": "PSID1"},
                        "recipient": {"id": "3333"},
                        "read": {"watermark": 1700000000500},
                    },
                ],
            }
        ],
    }
    assert _signed(client, wa) == 200
    assert _signed(client, fb) == 200
    assert _signed(client, wa) == 200  # replay: stored once
    routed = {(e.channel_account_id, e.provider_message_id) for e in events(db)}
    assert routed == {(sales, "wamid.A"), (support, "wamid.B"), (page, "m_1"), (page, "read:1700000000500")}
    db.run(process_pending)
    got = {(m.channel_account_id, m.kind, m.text) for m in inbound(db)}
    assert got == {
        (sales, "message", "to sales"),
        (support, "message", "to support"),
        (page, "message", "to the page"),
        (page, "read", None),
    }


def test_forged_or_unsigned_meta_delivery_is_refused(client: TestClient, tenant: Tenant, db: Any) -> None:
    _account(db, tenant, "WHATSAPP_CLOUD", {"phone_number_id": "1111"})
    wa = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "W", "changes": [_wa_change("1111", "wamid.X", "x")]}],
    }
    assert _signed(client, wa, secret="not-the-app-secret") == 401
    assert client.post("/webhooks/meta", json=wa).status_code == 401
    assert count_events(db) == 0


def test_instagram_routes_by_business_account_id(client: TestClient, tenant: Tenant, db: Any) -> None:
    ig = _account(db, tenant, "INSTAGRAM", {"instagram_business_account_id": "4444"})
    payload = {
        "object": "instagram",
        "entry": [
            {
                "id": "4444",
                "messaging": [
                    {
                        "sender": {"id": "IGSID"},
                        "recipient": {"id": "4444"},
                        "message": {"mid": "ig_1", "text": "hi"},
                    }
                ],
            }
        ],
    }
    assert _signed(client, payload) == 200
    assert [(e.channel_account_id, e.provider_message_id) for e in events(db)] == [(ig, "ig_1")]


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"object": "whatsapp_business_account", "entry": [{"changes": ["not-a-change"]}]}, 400),
        ({"object": "page", "entry": [{"id": "3333", "messaging": "nope"}]}, 400),
        ({"object": "whatsapp_business_account", "entry": "x"}, 200),  # no entries: nothing to route
        ({"unknown": True}, 200),
    ],
)
def test_signed_but_malformed_payloads_never_500(
    client: TestClient, db: Any, payload: dict[str, Any], status: int
) -> None:
    assert _signed(client, payload) == status
    assert count_events(db) == 0
