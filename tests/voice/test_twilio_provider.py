"""The live Twilio adapter over real HTTP against the local Twilio emulator."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest

from switchboard.voice.provider import (
    BusinessProfile,
    SandboxVoiceProvider,
    TwilioVoiceProvider,
    VoiceProviderError,
    profile_status,
)
from tests.emulators.twilio import TwilioEmulator

PROFILE = BusinessProfile("Acme Inc", "Corporation", "https://acme.example", "ops@acme.example")


def provider(emulator: TwilioEmulator, timeout: float = 5.0) -> TwilioVoiceProvider:
    return TwilioVoiceProvider(emulator.url, emulator.url, policy_sid="RN" + "0" * 32, timeout=timeout)


def test_validates_the_account_with_basic_auth(twilio: TwilioEmulator) -> None:
    account = twilio.add_account()
    info = asyncio.run(provider(twilio).validate_account(account.sid, account.auth_token))
    assert info.sid == account.sid
    assert info.status == "active"
    assert twilio.requests[-1].path == f"/2010-04-01/Accounts/{account.sid}.json"
    assert twilio.requests[-1].account == account.sid


def test_a_wrong_token_is_a_permanent_unauthorized_error(twilio: TwilioEmulator) -> None:
    account = twilio.add_account()
    with pytest.raises(VoiceProviderError) as caught:
        asyncio.run(provider(twilio).validate_account(account.sid, "0" * 32))
    assert caught.value.unauthorized
    assert not caught.value.retriable
    assert caught.value.code == "20003"
    assert "0" * 32 not in str(caught.value)


def test_another_accounts_sid_is_not_found(twilio: TwilioEmulator) -> None:
    mine, other = twilio.add_account(), twilio.add_account()
    # Twilio checks the SID in the path against the credentials.
    with pytest.raises(VoiceProviderError) as caught:
        asyncio.run(
            provider(twilio)._request(
                "GET", provider(twilio)._account_url(other.sid), mine.sid, mine.auth_token
            )
        )
    assert caught.value.not_found


def test_customer_profile_is_created_assigned_and_submitted(twilio: TwilioEmulator) -> None:
    account = twilio.add_account()
    result = asyncio.run(provider(twilio).create_customer_profile(account.sid, account.auth_token, PROFILE))
    assert result.sid.startswith("BU")
    assert result.provider_status == "pending-review"
    assert result.status == "pending"
    profile = twilio.profiles[result.sid]
    assert profile["email"] == "ops@acme.example"
    assert profile["policy_sid"] == "RN" + "0" * 32
    (end_user,) = twilio.end_users.values()
    assert end_user["type"] == "customer_profile_business_information"
    assert end_user["attributes"]["business_name"] == "Acme Inc"
    assert end_user["attributes"]["website_url"] == "https://acme.example"
    assert twilio.assignments[0]["object_sid"] == end_user["sid"]
    # Requests are form-urlencoded, the way Twilio expects them.
    create = next(r for r in twilio.requests if r.path == "/v1/CustomerProfiles")
    assert create.form["FriendlyName"] == "Acme Inc"
    assert json.loads(next(r for r in twilio.requests if r.path == "/v1/EndUsers").form["Attributes"])


def test_profile_status_is_fetched_and_folded(twilio: TwilioEmulator) -> None:
    account = twilio.add_account()
    p = provider(twilio)
    created = asyncio.run(p.create_customer_profile(account.sid, account.auth_token, PROFILE))
    twilio.set_profile_status(created.sid, "twilio-rejected", [{"message": "Website unreachable"}])
    fetched = asyncio.run(p.fetch_customer_profile(account.sid, account.auth_token, created.sid))
    assert fetched.status == "rejected"
    assert "Website unreachable" in (fetched.reason or "")
    twilio.set_profile_status(created.sid, "twilio-approved")
    assert (
        asyncio.run(p.fetch_customer_profile(account.sid, account.auth_token, created.sid)).status
        == "approved"
    )


@pytest.mark.parametrize(
    ("provider_status", "status"),
    [
        ("draft", "pending"),
        ("pending-review", "pending"),
        ("in-review", "pending"),
        ("twilio-approved", "approved"),
        ("twilio-rejected", "rejected"),
    ],
)
def test_trusthub_statuses_fold_into_three(provider_status: str, status: str) -> None:
    assert profile_status(provider_status) == status


def test_incoming_numbers_follow_every_page(twilio: TwilioEmulator) -> None:
    account = twilio.add_account()
    for i in range(105):
        twilio.add_number(account.sid, f"+1415555{i:04d}", voice=i % 2 == 0)
    numbers = asyncio.run(provider(twilio).list_incoming_numbers(account.sid, account.auth_token))
    assert len(numbers) == 105
    assert numbers[0].phone_number == "+14155550000"
    assert numbers[0].sid.startswith("PN")
    assert [n.voice for n in numbers[:2]] == [True, False]
    pages = [r for r in twilio.requests if r.path.endswith("IncomingPhoneNumbers.json")]
    assert len(pages) == 2


def test_server_errors_are_retriable_and_carry_twilios_code(twilio: TwilioEmulator) -> None:
    account = twilio.add_account()
    twilio.inject_fault(status=503, code=20503)
    with pytest.raises(VoiceProviderError) as caught:
        asyncio.run(provider(twilio).validate_account(account.sid, account.auth_token))
    assert caught.value.retriable
    assert caught.value.status == 503
    assert caught.value.code == "20503"
    twilio.inject_fault(status=429, code=20429)
    with pytest.raises(VoiceProviderError) as caught:
        asyncio.run(provider(twilio).validate_account(account.sid, account.auth_token))
    assert caught.value.retriable


def test_unreachable_twilio_is_retriable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # Nothing listens on the port once the socket is closed.
    p = TwilioVoiceProvider(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port}", timeout=1.0)
    with pytest.raises(VoiceProviderError) as caught:
        asyncio.run(p.validate_account("AC" + "0" * 32, "0" * 32))
    assert caught.value.retriable
    assert caught.value.code == "ConnectionError"


def test_sandbox_numbers_are_fictional_and_stable() -> None:
    sandbox = SandboxVoiceProvider()
    first = asyncio.run(sandbox.list_incoming_numbers("AC" + "1" * 32, ""))
    again = asyncio.run(sandbox.list_incoming_numbers("AC" + "1" * 32, ""))
    assert [n.phone_number for n in first] == [n.phone_number for n in again]
    for number in first:
        assert number.phone_number.startswith("+1202555")
        assert 100 <= int(number.phone_number[-4:]) <= 199
