"""In sandbox mode the emulators are mounted in the app, labelled, and the adapters default to them."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from switchboard.connectors.http import base_url
from switchboard.connectors.sms_adapter import SmsAdapter
from switchboard.core.config import Settings
from switchboard.sms.provider import TwilioSmsProvider
from switchboard.voice.provider import TwilioVoiceProvider
from switchboard.voice.service import TwilioSetupService


@pytest.mark.parametrize("name", ["telegram", "shopify", "push", "shrinkit", "rbm", "twilio"])
def test_emulator_pages_are_labelled_sandbox(client: TestClient, name: str) -> None:
    r = client.get(f"/sandbox/{name}/")
    assert r.status_code == 200
    assert 'data-testid="sandbox-banner"' in r.text


def test_base_urls_follow_the_provider_mode() -> None:
    sandbox = Settings(provider_mode="sandbox", public_base_url="http://127.0.0.1:8000")
    assert base_url(sandbox, "telegram") == "http://127.0.0.1:8000/sandbox/telegram"
    assert base_url(sandbox, "shopify") == "http://127.0.0.1:8000/sandbox/shopify/{shop}"
    live = Settings(provider_mode="live")
    assert base_url(live, "telegram") == "https://api.telegram.org"
    assert base_url(live, "shopify") == "https://{shop}"
    explicit = Settings(provider_mode="live", telegram_base_url="http://127.0.0.1:9999/")
    assert base_url(explicit, "telegram") == "http://127.0.0.1:9999"


@pytest.mark.parametrize(
    ("mode", "explicit", "expected"),
    [
        ("sandbox", "", "http://127.0.0.1:8000/sandbox/twilio"),
        ("live", "", "https://api.twilio.com"),
        ("sandbox", "http://127.0.0.1:9999/", "http://127.0.0.1:9999"),
        ("live", "http://127.0.0.1:9999/", "http://127.0.0.1:9999"),
    ],
)
def test_every_twilio_reader_resolves_the_base_url_the_same_way(
    mode: str, explicit: str, expected: str
) -> None:
    """The SMS channel adapter, the SMS numbers provider and voice: SWITCHBOARD_TWILIO_BASE_URL wins,
    else the sandbox in sandbox mode, else Twilio."""
    settings = Settings(provider_mode=mode, public_base_url="http://127.0.0.1:8000", twilio_base_url=explicit)
    assert base_url(settings, "twilio") == expected
    assert SmsAdapter(settings).base == expected
    assert TwilioSmsProvider.from_settings(settings).api == expected
    if mode == "live":  # in sandbox mode voice uses its in-process stand-in
        voice = TwilioSetupService(vault=None, settings=settings).provider  # type: ignore[arg-type]
        assert isinstance(voice, TwilioVoiceProvider)
        assert voice.base_url == expected
