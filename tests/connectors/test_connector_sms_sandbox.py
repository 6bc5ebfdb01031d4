"""The SMS channel offline: the whole app served in sandbox mode, its adapter reaching the Twilio sandbox
mounted at /sandbox/twilio over real HTTP, and the sandbox's signed webhooks coming back to
/webhooks/twilio/sms."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx2
import pytest

from switchboard.core.config import Settings
from switchboard.sandbox.twilio import TwilioSandbox, new_sid
from switchboard.webhooks.service import process_pending
from tests.support.adapters import send
from tests.support.channel_accounts import URL
from tests.support.sandbox_server import SandboxServer, sandbox_server  # noqa: F401
from tests.support.tenants import Tenant
from tests.support.web import allow_byom
from tests.support.webhook_rows import events, inbound

NUMBER = "+14155550100"
CUSTOMER = "+14155550999"


@pytest.fixture
def served(
    request: pytest.FixtureRequest, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> tuple[str, TwilioSandbox]:
    """The app as `make run` serves it (tests/support/sandbox_server.py), its Twilio sandbox emptied."""
    server: SandboxServer = request.getfixturevalue("sandbox_server")
    url, twilio = server.url, server.app.state.sandboxes["twilio"]
    twilio.reset()
    twilio.accounts.clear()
    # Sends run through tests/support/adapters.py on the test runtime: same resolution, same address.
    monkeypatch.setattr(settings, "provider_mode", "sandbox")
    monkeypatch.setattr(settings, "public_base_url", url)
    monkeypatch.setattr(settings, "twilio_base_url", "")
    return url, twilio


def _wait_for(check: Callable[[], bool], seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _create(api: httpx2.Client, sid: str, token: str) -> dict[str, Any]:
    r = api.post(
        URL,
        json={
            "name": "Front desk SMS",
            "type": "SMS",
            "settings": {"phone_number": NUMBER, "provider": "twilio", "account_sid": sid},
            "credentials": {"auth_token": token},
            "is_active": True,
        },
    )
    assert r.status_code == 201, r.text
    account = r.json()
    assert account["connection_status"] == "pending"
    assert token not in r.text
    return dict(account)


def test_sms_channel_connects_sends_and_receives_through_the_mounted_sandbox(
    served: tuple[str, TwilioSandbox], tenant: Tenant, db: Any
) -> None:
    url, twilio = served
    allow_byom(db, tenant.organization_id)
    sid, token = new_sid("AC"), "sandbox-auth-token-1"
    with httpx2.Client(base_url=url, headers=tenant.headers, timeout=15) as api:
        account = _create(api, sid, token)
        tested = api.post(f"{URL}/{account['id']}/test")
        assert tested.status_code == 200, tested.text
        assert tested.json()["ok"] is True
        shown = api.get(f"{URL}/{account['id']}").json()
        log = api.get(f"{URL}/{account['id']}/connection_log")
    assert (shown["connection_status"], shown["status_reason"]) == ("connected", None)
    assert log.status_code == 200
    # Test connection reached the mounted sandbox, which now knows the account and its number.
    assert twilio.accounts[sid].auth_token == token
    number = twilio.number(NUMBER)
    assert number is not None
    assert (number["account_sid"], number["sms_url"]) == (sid, f"{url}/webhooks/twilio/sms")

    sent = send(db, account["id"], CUSTOMER, {"text": "Your table is ready"})
    assert sent.provider_message_id.startswith("SM")
    assert sent.details == {"status": "queued"}
    [message] = twilio.outbox
    assert (message["from"], message["to"], message["body"]) == (NUMBER, CUSTOMER, "Your table is ready")
    assert message["status_callback"] == f"{url}/webhooks/twilio/sms"

    # The status callbacks (sent, delivered) were signed with the account's token and accepted.
    wanted = {f"{sent.provider_message_id}:sent", f"{sent.provider_message_id}:delivered"}
    _wait_for(lambda: wanted <= {e.provider_message_id for e in events(db)})
    _wait_for(lambda: len(twilio.deliveries) == 2)
    assert [(d.what, d.status_code) for d in twilio.deliveries] == [
        ("status sent", 200),
        ("status delivered", 200),
    ]

    # A customer answers: the sandbox's phone posts Twilio's inbound webhook, signed.
    reply = httpx2.post(
        f"{url}/sandbox/twilio/simulate/inbound",
        data={"to": NUMBER, "from": CUSTOMER, "body": "Thanks, on my way"},
        timeout=15,
    )
    assert reply.status_code == 200, reply.text
    db.run(process_pending)
    stored = {(m.kind, m.provider_message_id, m.sender, m.text) for m in inbound(db)}
    assert stored >= {
        ("status", sent.provider_message_id, CUSTOMER, None),
        ("delivery", sent.provider_message_id, CUSTOMER, None),
    }
    [received] = [m for m in inbound(db) if m.kind == "message"]
    assert (received.sender, received.text) == (CUSTOMER, "Thanks, on my way")
    assert str(received.channel_account_id) == account["id"]
    assert received.provider_message_id.startswith("SM")


def test_a_wrong_auth_token_disconnects_with_a_clear_reason(
    served: tuple[str, TwilioSandbox], tenant: Tenant, db: Any
) -> None:
    url, twilio = served
    allow_byom(db, tenant.organization_id)
    sid = new_sid("AC")
    with httpx2.Client(base_url=url, headers=tenant.headers, timeout=15) as api:
        account = _create(api, sid, "the-right-token")
        assert api.post(f"{URL}/{account['id']}/test").json()["ok"] is True
        # Someone pastes another token: Twilio (the sandbox) refuses it.
        patched = api.patch(f"{URL}/{account['id']}", json={"credentials": {"auth_token": "a-wrong-token"}})
        assert patched.status_code == 200, patched.text
        result = api.post(f"{URL}/{account['id']}/test").json()
        shown = api.get(f"{URL}/{account['id']}").json()
    assert result["ok"] is False
    assert shown["connection_status"] == "disconnected"
    assert shown["status_reason"] == (
        "reauthorization required: Twilio rejected the Account SID and auth token: Authenticate (error 20003)"
    )
    assert "a-wrong-token" not in str(shown)
    assert twilio.requests[-1].status == 401
