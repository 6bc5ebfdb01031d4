"""Fixtures for the SES setup API: the app's service pointed at a local DNS server (and, when
asked, at the local SES v2 emulator), so nothing leaves 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from switchboard.core.config import Settings
from switchboard.email.service import SesSetupService
from tests.emulators.ses import SesEmulator
from tests.emulators.ses_fixtures import (  # noqa: F401 - fixtures
    TEST_ACCESS_KEY_ID,
    TEST_SECRET_ACCESS_KEY,
    aws_test_env,
    ses_emulator,
)
from tests.support.dns_fixtures import dns_server  # noqa: F401 - fixture
from tests.support.dns_server import LocalDnsServer

# Generous: a loaded machine must not turn a slow answer into a timeout (tests of timeouts set
# their own, short one).
DNS_TIMEOUT = 3.0


@pytest.fixture
def use_settings(
    client: TestClient,
    settings: Settings,
    dns_server: LocalDnsServer,  # noqa: F811
) -> Iterator[Callable[..., SesSetupService]]:
    """Swap the app's SES setup service for one built from settings with `overrides`; DNS always
    goes to the local server. The app's own service comes back afterwards."""
    state = client.app.state  # type: ignore[attr-defined]
    original = state.ses_setups

    def use(**overrides: Any) -> SesSetupService:
        values = {"dns_nameservers": dns_server.nameserver, "dns_timeout": DNS_TIMEOUT, **overrides}
        state.ses_setups = SesSetupService(settings.model_copy(update=values))
        return state.ses_setups  # type: ignore[no-any-return]

    # Restored by hand: monkeypatch cannot restore attributes of Starlette's State.
    yield use
    state.ses_setups = original


@pytest.fixture
def api(client: TestClient, use_settings: Callable[..., SesSetupService]) -> TestClient:
    """The session client, with sandbox SES and DNS answered by the `dns_server` fixture."""
    use_settings()
    return client


@pytest.fixture
def live_api(
    client: TestClient,
    use_settings: Callable[..., SesSetupService],
    ses_emulator: SesEmulator,  # noqa: F811
) -> Iterator[TestClient]:
    """The session client in live provider mode, speaking SES v2 to the local emulator."""
    ses_emulator.reset()
    use_settings(
        provider_mode="live",
        ses_endpoint_url=ses_emulator.url,
        ses_access_key_id=TEST_ACCESS_KEY_ID,
        ses_secret_access_key=TEST_SECRET_ACCESS_KEY,
    )
    yield client
    ses_emulator.reset()
