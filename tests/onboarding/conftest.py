"""Fixtures for onboarding tests: a job runner, API-only users, provider emulators on loopback, live mode."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from switchboard.core.config import Settings
from tests.emulators.onboarding import TOKEN, ProviderEmulator
from tests.support.api_users import admin, make_org, org  # noqa: F401
from tests.support.dns_fixtures import dns_server  # noqa: F401
from tests.support.emulator_server import serve
from tests.support.jobs import job_runner, jobs  # noqa: F401


@pytest.fixture(scope="session")
def _emulator_server() -> Iterator[tuple[ProviderEmulator, str]]:
    emulator = ProviderEmulator()
    with serve(emulator.app) as url:
        yield emulator, url


@pytest.fixture
def providers(
    _emulator_server: tuple[ProviderEmulator, str], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> ProviderEmulator:
    """Live provider mode, every onboarding provider pointed at the emulators on 127.0.0.1."""
    emulator, url = _emulator_server
    emulator.reset()
    for name, value in {
        "provider_mode": "live",
        "meta_base_url": url,
        "meta_system_token": TOKEN,
        "meta_waba_id": "120000000000001",
        "business_communications_base_url": url,
        "business_communications_token": TOKEN,
        "dlt_base_url": url,
        "dlt_api_key": TOKEN,
        "number_pool_base_url": url,
        "number_pool_api_key": TOKEN,
        # Nothing in these tests may reach AWS: a closed port.
        "ses_endpoint_url": "http://127.0.0.1:9",
    }.items():
        monkeypatch.setattr(settings, name, value)
    return emulator
