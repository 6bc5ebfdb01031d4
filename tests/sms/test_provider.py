"""The number provider adapters: TwilioSmsProvider over real HTTP against the emulator (wire format,
paging, errors classified), and the stateless sandbox."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

import pytest

from switchboard.connectors.adapter import ErrorKind, ProviderError
from switchboard.sms.compliance import SmsCompliance
from switchboard.sms.provider import (
    SANDBOX_OUTBOX,
    SandboxSmsProvider,
    TwilioSmsProvider,
    build_number_provider,
    campaign_form,
    contains_regex,
)
from tests.emulators.twilio_sms import TwilioSmsEmulator
from tests.sms.conftest import complete_compliance, live_provider

T = TypeVar("T")


def run(coro: Awaitable[T]) -> T:
    return asyncio.run(coro)  # type: ignore[arg-type]


@pytest.fixture
def provider(twilio: TwilioSmsEmulator) -> TwilioSmsProvider:
    return live_provider(twilio)


def test_search_sends_twilio_filters_and_reads_capabilities(
    provider: TwilioSmsProvider, twilio: TwilioSmsEmulator
) -> None:
    twilio.add_available("+14155550111", mms=False)
    twilio.add_available("+14155550122", address_requirements="local")
    twilio.add_available("+12125550133")
    found = run(provider.search_available("US", "415", None))
    assert [n.phone_number for n in found] == ["+14155550111", "+14155550122"]
    assert (found[0].capabilities.sms, found[0].capabilities.mms, found[0].capabilities.voice) == (
        True,
        False,
        True,
    )
    assert found[0].region == "CA"
    assert found[0].locality == "San Francisco"
    assert found[1].address_required is True
    search = twilio.requests[-1]
    assert search.method == "GET"
    assert search.path == f"/2010-04-01/Accounts/{twilio.account_sid}/AvailablePhoneNumbers/US/Local.json"


def test_http_basic_with_the_account_sid_and_token(
    provider: TwilioSmsProvider, twilio: TwilioSmsEmulator
) -> None:
    provider.auth_token = "not-the-token"
    with pytest.raises(ProviderError) as info:
        run(provider.search_available("US", None, None))
    assert info.value.kind is ErrorKind.NEEDS_ACTION
    assert info.value.code == "20003"
    assert twilio.requests[-1].status == 401


def test_monthly_price_from_the_pricing_api_is_cached(
    provider: TwilioSmsProvider, twilio: TwilioSmsEmulator
) -> None:
    price = run(provider.monthly_price("US"))
    assert price is not None
    assert (price.amount, price.currency) == ("1.15", "USD")
    run(provider.monthly_price("US"))
    assert len([p for p in twilio.paths("GET") if p.startswith("/v1/PhoneNumbers")]) == 1
    assert run(provider.monthly_price("FR")) is None


def test_buy_release_and_inventory_with_paging(
    provider: TwilioSmsProvider, twilio: TwilioSmsEmulator
) -> None:
    for n in range(3):
        twilio.add_available(f"+1415555011{n}")
    bought = [run(provider.buy_number(f"+1415555011{n}", "Switchboard Acme")) for n in range(3)]
    assert all(b.sid.startswith("PN") for b in bought)
    buy = next(r for r in twilio.requests if r.method == "POST")
    assert buy.form == {"PhoneNumber": ["+14155550110"], "FriendlyName": ["Switchboard Acme"]}
    for n in range(1100):  # more than one page of 1000
        twilio.add_incoming(f"+1202555{n:04d}")
    sids = {b.sid for b in bought}
    assert run(provider.owned_number_sids(sids)) == sids
    pages = [
        r.query.get("Page", "0") for r in twilio.requests if r.path.endswith("IncomingPhoneNumbers.json")
    ]
    assert pages[-2:] == ["0", "1"]
    run(provider.release_number(bought[0].sid))
    run(provider.release_number(bought[0].sid))  # already gone is fine
    assert run(provider.owned_number_sids(sids)) == sids - {bought[0].sid}


def test_buying_a_taken_number_is_twilio_error_21422(provider: TwilioSmsProvider) -> None:
    with pytest.raises(ProviderError) as info:
        run(provider.buy_number("+14155550999", "x"))
    assert (info.value.code, info.value.kind, info.value.status) == ("21422", ErrorKind.PERMANENT, 400)
    assert "+14155550999" not in str(info.value)  # provider text (which can echo input) stays out


@pytest.mark.parametrize(
    ("status", "kind"), [(503, ErrorKind.TRANSIENT), (429, ErrorKind.TRANSIENT), (500, ErrorKind.TRANSIENT)]
)
def test_provider_trouble_is_transient(
    provider: TwilioSmsProvider, twilio: TwilioSmsEmulator, status: int, kind: ErrorKind
) -> None:
    twilio.inject_fault("/2010-04-01", status=status)
    with pytest.raises(ProviderError) as info:
        run(provider.search_available("US", None, None))
    assert info.value.kind is kind


def test_unreachable_provider_is_transient() -> None:
    provider = TwilioSmsProvider(
        account_sid="AC1", auth_token="t", api_base_url="http://127.0.0.1:9", timeout=1
    )
    with pytest.raises(ProviderError) as info:
        run(provider.search_available("US", None, None))
    assert info.value.kind is ErrorKind.TRANSIENT


def test_unconfigured_account_needs_action() -> None:
    with pytest.raises(ProviderError) as info:
        run(TwilioSmsProvider(account_sid="", auth_token="").search_available("US", None, None))
    assert (info.value.kind, info.value.code) == (ErrorKind.NEEDS_ACTION, "not_configured")


def test_send_uses_from_or_messaging_service(provider: TwilioSmsProvider, twilio: TwilioSmsEmulator) -> None:
    twilio.add_incoming("+14155550100")
    sent = run(
        provider.send_sms("+14155552671", "hello", from_="+14155550100", status_callback="https://x/cb")
    )
    assert sent.sid.startswith("SM")
    assert sent.status == "queued"
    assert twilio.outbox[-1]["from"] == "+14155550100"
    assert twilio.outbox[-1]["status_callback"] == "https://x/cb"
    with pytest.raises(ProviderError) as info:
        run(provider.send_sms("+14155552671", "hello", from_="+14155550199"))
    assert info.value.code == "21606"


def test_brand_campaign_and_hosted_order_round_trip(
    provider: TwilioSmsProvider, twilio: TwilioSmsEmulator
) -> None:
    compliance = SmsCompliance.model_validate(complete_compliance())
    assert compliance.brand is not None
    assert compliance.campaign is not None
    brand = run(provider.register_brand(compliance.brand, "Switchboard test"))
    assert brand.sid.startswith("BN")
    assert brand.status == "PENDING"
    stored = twilio.brands[brand.sid]
    assert twilio.bundles[stored["customer_profile_bundle_sid"]]["policy_sid"] == "RNcustomerprofile"
    assert twilio.bundles[stored["a2p_profile_bundle_sid"]]["policy_sid"] == "RNa2pprofile"
    assert stored["brand_type"] == "STANDARD"

    twilio.set_brand_status(brand.sid, "APPROVED")
    assert run(provider.fetch_brand(brand.sid)).status == "APPROVED"
    number = twilio.add_incoming("+14155550100")
    service = run(provider.create_messaging_service("Switchboard SMS", number))
    assert twilio.services[service]["numbers"] == [number]
    campaign = run(provider.register_campaign(service, brand.sid, compliance.campaign))
    assert campaign.status == "IN_PROGRESS"
    twilio.set_campaign_status(campaign.sid, "FAILED", "Opt-in flow is unclear.")
    fetched = run(provider.fetch_campaign(service, campaign.sid))
    assert (fetched.status, fetched.failure_reason) == ("FAILED", "Opt-in flow is unclear.")

    order = run(provider.create_hosted_order("+14155551234", "ops@example.com", "Front desk"))
    assert (order.status, order.number_sid) == ("received", None)
    number_sid = twilio.complete_hosted_order(order.sid)
    done = run(provider.fetch_hosted_order(order.sid))
    assert (done.status, done.number_sid) == ("completed", number_sid)


def test_campaign_form_follows_the_usa2p_parameters() -> None:
    compliance = SmsCompliance.model_validate(complete_compliance())
    assert compliance.campaign is not None
    form = campaign_form("BN1", compliance.campaign)
    assert form["BrandRegistrationSid"] == "BN1"
    assert form["HasEmbeddedPhone"] == "false"
    assert form["AgeGated"] == "false"
    assert form["OptInKeywords"] == ["START"]
    assert isinstance(form["MessageSamples"], list)
    assert len(form["MessageSamples"]) == 5
    assert "NumberPooling" not in form  # not a Twilio Usa2p parameter


def test_contains_pattern_is_twilios() -> None:
    assert contains_regex("JJJ*1").pattern == r"555\d1"
    assert contains_regex("415").search("14155550101")


def test_sandbox_is_deterministic_and_stateless() -> None:
    a, b = SandboxSmsProvider(), SandboxSmsProvider()
    assert run(a.search_available("US", "415", None)) == run(b.search_available("US", "415", None))
    assert run(a.buy_number("+14155550105", "x")) == run(b.buy_number("+14155550105", "x"))
    assert run(a.search_available("FR", None, None)) == []
    assert run(a.search_available("US", "000", None)) == []
    with pytest.raises(ProviderError) as info:
        run(a.buy_number("+14155551234", "x"))
    assert info.value.code == "21422"
    gb = run(a.search_available("GB", None, None))
    assert gb
    assert all(n.address_required for n in gb)
    compliance = SmsCompliance.model_validate(complete_compliance())
    assert compliance.brand is not None
    brand = run(a.register_brand(compliance.brand, "x"))
    # Another instance (the worker) reads the same answer.
    assert run(b.fetch_brand(brand.sid)).status == "APPROVED"
    sent = run(a.send_sms("+14155552671", "code 123456", from_="+14155550100"))
    assert SANDBOX_OUTBOX[-1].sid == sent.sid


def test_provider_mode_picks_the_adapter() -> None:
    from switchboard.core.config import Settings

    assert isinstance(build_number_provider(Settings(provider_mode="sandbox")), SandboxSmsProvider)
    assert isinstance(build_number_provider(Settings(provider_mode="live")), TwilioSmsProvider)
