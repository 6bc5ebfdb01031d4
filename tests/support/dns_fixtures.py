"""Pytest fixture for the local DNS server.

Import it into a test module with
``from tests.support.dns_fixtures import dns_server  # noqa: F401``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.dns_server import LocalDnsServer


@pytest.fixture
def dns_server() -> Iterator[LocalDnsServer]:
    """A fresh server per test, so no test sees another's records or faults."""
    with LocalDnsServer() as server:
        yield server
