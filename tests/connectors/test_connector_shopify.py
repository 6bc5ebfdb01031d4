from __future__ import annotations

import json
import uuid

from fastapi.testclient import TestClient

from switchboard.connectors.shopify_adapter import shopify_signature
from switchboard.sandbox.shopify import ShopifySandbox
from switchboard.webhooks.service import process_pending
from tests.support.channel_accounts import check_now, create_account
from tests.support.tenants import Tenant
from tests.support.webhook_rows import count_events, inbound

SHOP = "acme-store.myshopify.com"
SECRET = "shpss_client_secret_0123456789"


def _connected(client: TestClient, tenant: Tenant) -> str:
    account = create_account(
        client,
        tenant,
        "SHOPIFY_INBOX",
        {
            "shop_domain": SHOP,
            "client_id": "abc123",
            "client_secret": SECRET,
            "admin_api_access_token": "shpat_0123456789abcdef",
        },
    )
    result = check_now(client, tenant, account["id"])
    assert result["ok"] is True, result
    assert result["connection_status"] == "connected"
    return str(account["id"])


def _post(
    client: TestClient, account_id: str, payload: dict, secret: str = SECRET, webhook_id: str = ""
) -> int:
    body = json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": "inbox/message_created",
        "X-Shopify-Hmac-Sha256": shopify_signature(secret, body),
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
    }
    return client.post(f"/webhooks/{account_id}", content=body, headers=headers).status_code


def test_connects_and_receives_a_signed_message_once(
    client: TestClient, tenant: Tenant, shopify: ShopifySandbox, db: object
) -> None:
    account_id = _connected(client, tenant)
    payload = {
        "id": 9001,
        "conversation_id": 77,
        "body": "Is this in stock?",
        "sender": {"email": "c@example.com"},
    }
    assert _post(client, account_id, payload, webhook_id="wh-1") == 200
    assert _post(client, account_id, payload, webhook_id="wh-1") == 200  # Shopify retried the delivery
    assert count_events(db) == 1
    db.run(process_pending)  # type: ignore[attr-defined]
    [msg] = inbound(db)
    assert (msg.text, msg.sender, msg.provider_message_id) == ("Is this in stock?", "c@example.com", "9001")


def test_forged_hmac_is_refused_and_nothing_stored(
    client: TestClient, tenant: Tenant, shopify: ShopifySandbox, db: object
) -> None:
    account_id = _connected(client, tenant)
    assert _post(client, account_id, {"id": 1, "body": "x"}, secret="not-the-secret") == 401
    r = client.post(f"/webhooks/{account_id}", json={"id": 2})
    assert r.status_code == 401
    assert count_events(db) == 0


def test_revoked_access_token_disconnects_with_reauthorization_required(
    client: TestClient, tenant: Tenant, shopify: ShopifySandbox
) -> None:
    account_id = _connected(client, tenant)
    shopify.revoke(SHOP)
    result = check_now(client, tenant, account_id)
    assert result["connection_status"] == "disconnected"
    assert result["status_reason"].startswith("reauthorization required")
