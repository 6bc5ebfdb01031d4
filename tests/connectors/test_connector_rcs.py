from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from switchboard.connectors.adapter import ErrorKind, ProviderError
from switchboard.sandbox.rbm import RbmSandbox
from switchboard.webhooks.service import process_pending
from tests.support.adapters import send
from tests.support.channel_accounts import check_now, create_direct
from tests.support.tenants import Tenant
from tests.support.webhook_rows import count_events, inbound

EMAIL = "rbm-agent@acme-rcs.iam.gserviceaccount.com"
CLIENT_TOKEN = "rbm-client-token-123"


def _connected(client: TestClient, tenant: Tenant, db: Any, rbm: RbmSandbox) -> str:
    key = rbm.add_service_account(EMAIL)
    secrets = {"service_account_key": key, "webhook_client_token": CLIENT_TOKEN}
    account_id = create_direct(db, tenant, "RCS", {"brand_name": "Acme", "agent_id": "acme_agent"}, secrets)
    assert check_now(client, tenant, account_id)["connection_status"] == "connected"
    return account_id


def test_token_grant_send_and_verified_user_message(
    client: TestClient, tenant: Tenant, db: Any, rbm: RbmSandbox
) -> None:
    account_id = _connected(client, tenant, db, rbm)
    result = send(db, account_id, "+14155550999", {"text": "Your table is ready"})
    [sent] = rbm.sent
    assert (sent["phone"], sent["agentId"], sent["messageId"]) == (
        "+14155550999",
        "acme_agent",
        result.provider_message_id,
    )
    assert sent["contentMessage"] == {"text": "Your table is ready"}
    assert uuid.UUID(result.provider_message_id)  # RBM requires a UUID messageId

    body, headers = rbm.user_event(
        CLIENT_TOKEN,
        {
            "senderPhoneNumber": "+14155550999",
            "messageId": "MxUSER1",
            "text": "Thanks!",
            "agentId": "acme_agent",
        },
    )
    assert client.post(f"/webhooks/{account_id}", content=body, headers=headers).status_code == 200
    forged_body, forged_headers = rbm.user_event("wrong-token", {"messageId": "MxEVIL", "text": "x"})
    assert (
        client.post(f"/webhooks/{account_id}", content=forged_body, headers=forged_headers).status_code == 401
    )
    assert client.post(f"/webhooks/{account_id}", content=forged_body).status_code == 401
    assert count_events(db) == 1
    db.run(process_pending)
    [msg] = inbound(db)
    assert (msg.kind, msg.text, msg.sender) == ("message", "Thanks!", "+14155550999")


def test_webhook_url_check_echoes_the_secret_only_for_our_client_token(
    client: TestClient, tenant: Tenant, db: Any, rbm: RbmSandbox
) -> None:
    account_id = _connected(client, tenant, db, rbm)
    body, headers, secret = rbm.webhook_check(CLIENT_TOKEN)
    r = client.post(f"/webhooks/{account_id}", content=body, headers=headers)
    assert (r.status_code, r.text) == (200, secret)
    assert r.headers["content-type"].startswith("text/plain")
    wrong, headers, _ = rbm.webhook_check("someone-elses-token")
    assert client.post(f"/webhooks/{account_id}", content=wrong, headers=headers).status_code == 401
    assert count_events(db) == 0  # the check is answered, not stored


def test_delivery_and_read_events_refer_to_our_message_id(
    client: TestClient, tenant: Tenant, db: Any, rbm: RbmSandbox
) -> None:
    account_id = _connected(client, tenant, db, rbm)
    sent = send(db, account_id, "+14155550999", {"text": "Order shipped"})
    for event_type, event_id in (("DELIVERED", "ev1"), ("READ", "ev2"), ("IS_TYPING", "ev3")):
        event = {"senderPhoneNumber": "+14155550999", "eventType": event_type, "eventId": event_id,
                 "agentId": "acme_agent"}  # fmt: skip
        if event_type != "IS_TYPING":
            event["messageId"] = sent.provider_message_id
        body, headers = rbm.user_event(CLIENT_TOKEN, event)
        assert client.post(f"/webhooks/{account_id}", content=body, headers=headers).status_code == 200
    db.run(process_pending)
    rows = inbound(db)
    assert sorted((r.kind, r.provider_message_id) for r in rows) == [
        ("delivery", sent.provider_message_id),
        ("read", sent.provider_message_id),
    ]  # typing indicators are not stored


def test_number_without_rcs_is_a_permanent_send_failure(
    client: TestClient, tenant: Tenant, db: Any, rbm: RbmSandbox
) -> None:
    account_id = _connected(client, tenant, db, rbm)
    rbm.unreachable.add("+14155550123")
    try:
        with pytest.raises(ProviderError) as failed:
            send(db, account_id, "+14155550123", {"text": "Hello"})
    finally:
        rbm.unreachable.clear()
    assert (failed.value.kind, failed.value.status) == (ErrorKind.PERMANENT, 404)


def test_disabled_service_account_disconnects(
    client: TestClient, tenant: Tenant, db: Any, rbm: RbmSandbox
) -> None:
    account_id = _connected(client, tenant, db, rbm)
    rbm.disable(EMAIL)
    result = check_now(client, tenant, account_id)
    assert result["connection_status"] == "disconnected"
    assert result["status_reason"].startswith("reauthorization required")


def test_a_key_whose_token_uri_points_elsewhere_is_refused_without_calling_it(
    client: TestClient, tenant: Tenant, db: Any, rbm: RbmSandbox
) -> None:
    """token_uri comes from the tenant's key: only Google's (live) or the configured RBM host's is
    called, so a key cannot make the service post to another address."""
    received: list[str] = []
    for target in ("https://oauth2.googleapis.com/token", "http://127.0.0.1:9/internal"):
        key = json.loads(rbm.add_service_account(EMAIL)) | {"token_uri": target}
        secrets = {"service_account_key": json.dumps(key), "webhook_client_token": CLIENT_TOKEN}
        account_id = create_direct(
            db, tenant, "RCS", {"brand_name": "Acme", "agent_id": "acme_agent"}, secrets
        )
        shown = check_now(client, tenant, account_id)
        assert shown["connection_status"] == "disconnected"
        assert "token_uri must be" in shown["status_reason"]
        received.append(shown["status_reason"])
    assert "create a key at /sandbox/rbm" in received[0]  # sandbox mode: a real Google key is not used
