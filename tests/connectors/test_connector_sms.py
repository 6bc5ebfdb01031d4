from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient

from switchboard.core.config import Settings
from switchboard.webhooks.service import process_pending
from switchboard.webhooks.signatures import twilio_signature
from tests.emulators.twilio_sms import TwilioSmsEmulator
from tests.support.adapters import send
from tests.support.channel_accounts import check_now, create_direct
from tests.support.tenants import Tenant
from tests.support.webhook_rows import inbound

NUMBER = "+14155550100"


@pytest.fixture(scope="module")
def _twilio() -> Iterator[TwilioSmsEmulator]:
    with TwilioSmsEmulator() as emulator:
        yield emulator


@pytest.fixture
def twilio(
    _twilio: TwilioSmsEmulator, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> TwilioSmsEmulator:
    _twilio.reset()
    _twilio.add_incoming(NUMBER)
    monkeypatch.setattr(settings, "twilio_base_url", _twilio.url)
    monkeypatch.setattr(settings, "public_base_url", "http://testserver")
    return _twilio


def _account(db: Any, tenant: Tenant, twilio: TwilioSmsEmulator) -> str:
    settings = {"phone_number": NUMBER, "provider": "twilio", "account_sid": twilio.account_sid}
    return create_direct(db, tenant, "SMS", settings, {"auth_token": twilio.auth_token})


def test_connects_sends_through_messages_json_and_receives_a_verified_reply(
    client: TestClient, tenant: Tenant, db: Any, twilio: TwilioSmsEmulator
) -> None:
    account_id = _account(db, tenant, twilio)
    assert check_now(client, tenant, account_id)["connection_status"] == "connected"

    sid = send(db, account_id, "+14155550999", {"text": "Your code is 1234"}).provider_message_id
    [sent] = twilio.outbox
    assert (sent["sid"], sent["from"], sent["to"], sent["body"]) == (
        sid,
        NUMBER,
        "+14155550999",
        "Your code is 1234",
    )
    assert sent["status_callback"] == "http://testserver/webhooks/twilio/sms"

    reply = {"MessageSid": "SM" + "9" * 32, "From": "+14155550999", "To": NUMBER, "Body": "STOP"}
    signature = twilio_signature(
        twilio.auth_token, "http://testserver/webhooks/twilio/sms", {k: [v] for k, v in reply.items()}
    )
    r = client.post(
        "/webhooks/twilio/sms",
        content=urlencode(reply),
        headers={"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200
    db.run(process_pending)
    assert [(m.kind, m.text) for m in inbound(db)] == [("message", "STOP")]


def test_rotated_auth_token_disconnects(
    client: TestClient, tenant: Tenant, db: Any, twilio: TwilioSmsEmulator
) -> None:
    account_id = _account(db, tenant, twilio)
    original = twilio.auth_token
    twilio.auth_token = "rotated-elsewhere"
    try:
        result = check_now(client, tenant, account_id)
    finally:
        twilio.auth_token = original
    assert result["connection_status"] == "disconnected"
    assert result["status_reason"].startswith("reauthorization required")


def test_a_number_no_longer_on_the_account_disconnects_with_the_reason(
    client: TestClient, tenant: Tenant, db: Any, twilio: TwilioSmsEmulator
) -> None:
    account_id = _account(db, tenant, twilio)
    assert check_now(client, tenant, account_id)["connection_status"] == "connected"
    twilio.reclaim(NUMBER)  # released from the account
    shown = check_now(client, tenant, account_id)
    assert shown["connection_status"] == "disconnected"
    assert f"{NUMBER} is not a number of Twilio account" in shown["status_reason"]
