from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.emulators.twilio import TwilioEmulator


@pytest.fixture(scope="session")
def twilio_server() -> Iterator[TwilioEmulator]:
    with TwilioEmulator() as emulator:
        yield emulator


@pytest.fixture
def twilio(twilio_server: TwilioEmulator) -> Iterator[TwilioEmulator]:
    """The running Twilio emulator, emptied for each test."""
    twilio_server.reset()
    yield twilio_server
    twilio_server.reset()
