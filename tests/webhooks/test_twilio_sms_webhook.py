"""Twilio SMS webhooks: the auth token of the owning account, including Messaging Service pools."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient

from switchboard.core.config import Settings
from switchboard.webhooks.service import process_pending
from switchboard.webhooks.signatures import twilio_signature
from tests.support.channel_accounts import create_direct
from tests.support.tenants import Tenant
from tests.support.webhook_rows import count_events, events, inbound

PUBLIC = "https://switchboard.example.com"
SIGNED_URL = f"{PUBLIC}/webhooks/twilio/sms"
MG = "MG" + "a" * 32


@pytest.fixture(autouse=True)
def _public_url(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "public_base_url", PUBLIC)


def _sms_account(db: Any, tenant: Tenant, number: str, token: str, **extra: str) -> str:
    settings = {"phone_number": number, "provider": "twilio", "account_sid": "AC" + "1" * 32, **extra}
    return create_direct(db, tenant, "SMS", settings, {"auth_token": token})


def _post(client: TestClient, params: dict[str, str], token: str, url: str = SIGNED_URL) -> int:
    signature = twilio_signature(token, url, {k: [v] for k, v in params.items()})
    headers = {"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"}
    return client.post("/webhooks/twilio/sms", content=urlencode(params), headers=headers).status_code


def _inbound(to: str, sid: str = "SM" + "0" * 32, **extra: str) -> dict[str, str]:
    return {
        "MessageSid": sid,
        "AccountSid": "AC" + "1" * 32,
        "From": "+14155550999",
        "To": to,
        "Body": "hi",
        **extra,
    }


def test_inbound_sms_verified_with_the_owning_accounts_token(
    client: TestClient, tenant: Tenant, db: Any
) -> None:
    account_id = _sms_account(db, tenant, "+14155550100", "token-one")
    _sms_account(db, tenant, "+14155550101", "token-two")
    assert _post(client, _inbound("+14155550100"), "token-one") == 200
    assert _post(client, _inbound("+14155550100"), "token-one") == 200  # Twilio retried
    assert (
        _post(client, _inbound("+14155550100", sid="SM" + "1" * 32), "token-two") == 401
    )  # other account's token
    assert [str(e.channel_account_id) for e in events(db)] == [account_id]
    db.run(process_pending)
    [msg] = inbound(db)
    assert (msg.kind, msg.sender, msg.text) == ("message", "+14155550999", "hi")


def test_messaging_service_pool_number_is_verified_by_the_service_owner(
    client: TestClient, tenant: Tenant, db: Any
) -> None:
    # The pool sends and receives on numbers that are not the account's own number: a lookup by To fails.
    owner = _sms_account(db, tenant, "+14155550100", "pool-token", messaging_service_sid=MG)
    params = _inbound("+14155550123", MessagingServiceSid=MG)
    assert _post(client, params, "pool-token") == 200
    assert [str(e.channel_account_id) for e in events(db)] == [owner]


def test_delivery_status_callback_is_a_delivery_receipt(client: TestClient, tenant: Tenant, db: Any) -> None:
    _sms_account(db, tenant, "+14155550100", "token-one", messaging_service_sid=MG)
    status = {
        "MessageSid": "SM" + "2" * 32,
        "MessageStatus": "delivered",
        "From": "+14155550177",  # a pool number sent it
        "To": "+14155550999",
        "MessagingServiceSid": MG,
        "AccountSid": "AC" + "1" * 32,
    }
    assert _post(client, status, "token-one") == 200
    db.run(process_pending)
    [receipt] = inbound(db)
    assert receipt.kind == "delivery"


def test_signature_with_default_port_is_accepted(client: TestClient, tenant: Tenant, db: Any) -> None:
    _sms_account(db, tenant, "+14155550100", "token-one")
    url = "https://switchboard.example.com:443/webhooks/twilio/sms"
    assert _post(client, _inbound("+14155550100"), "token-one", url=url) == 200


def test_forged_missing_or_unknown_number_is_refused(client: TestClient, tenant: Tenant, db: Any) -> None:
    _sms_account(db, tenant, "+14155550100", "token-one")
    assert _post(client, _inbound("+14155550100"), "forged") == 401
    missing = client.post(
        "/webhooks/twilio/sms",
        content=urlencode(_inbound("+14155550100")),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert missing.status_code == 401
    assert _post(client, _inbound("+19999999999"), "token-one") == 401
    assert count_events(db) == 0
