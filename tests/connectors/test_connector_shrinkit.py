from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from switchboard.sandbox.shrinkit import ShrinkItSandbox
from switchboard.webhooks.service import process_pending
from tests.support.adapters import send
from tests.support.channel_accounts import check_now, create_account
from tests.support.tenants import Tenant
from tests.support.webhook_rows import count_events, inbound


def _connected(client: TestClient, tenant: Tenant) -> str:
    account = create_account(
        client, tenant, "SHRINKIT_PUSH", {"app_id": "com.acme.app", "api_key": "sk_live_123"}
    )
    assert check_now(client, tenant, account["id"])["connection_status"] == "connected"
    return str(account["id"])


def test_connect_send_and_signed_receipts(
    client: TestClient, tenant: Tenant, shrinkit: ShrinkItSandbox, db: Any
) -> None:
    account_id = _connected(client, tenant)
    app = shrinkit.apps["com.acme.app"]
    assert app.webhook_url == f"http://testserver/webhooks/{account_id}"
    result = send(db, account_id, "device-1", {"title": "Hi", "text": "Your order shipped"})
    assert app.sent[-1]["id"] == result.provider_message_id
    assert app.sent[-1]["body"] == "Your order shipped"

    url, body, headers = shrinkit.receipt("com.acme.app", result.provider_message_id, "opened")
    assert client.post(urlsplit(url).path, content=body, headers=headers).status_code == 200
    assert client.post(urlsplit(url).path, content=body, headers=headers).status_code == 200  # replay
    forged = {**headers, "X-ShrinkIt-Signature": "sha256=" + "0" * 64}
    assert (
        client.post(
            urlsplit(url).path, content=body.replace(b"opened", b"delivered"), headers=forged
        ).status_code
        == 401
    )
    assert count_events(db) == 1
    db.run(process_pending)
    [receipt] = inbound(db)
    assert (receipt.kind, receipt.provider_message_id) == ("read", result.provider_message_id)


def test_revoked_api_key_disconnects(client: TestClient, tenant: Tenant, shrinkit: ShrinkItSandbox) -> None:
    account_id = _connected(client, tenant)
    shrinkit.apps["com.acme.app"].revoked = True
    result = check_now(client, tenant, account_id)
    assert result["connection_status"] == "disconnected"
    assert result["status_reason"].startswith("reauthorization required")
