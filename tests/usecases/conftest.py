from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from switchboard.core.config import Settings
from tests.support.sns import URL_PATTERN, CertServer, SnsSigner


@pytest.fixture(scope="session")
def cert_server() -> Iterator[CertServer]:
    server = CertServer().start()
    yield server
    server.stop()


@pytest.fixture
def signer(cert_server: CertServer, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> SnsSigner:
    """Signs like SNS with a fresh key; the service accepts certificates from the local server."""
    monkeypatch.setattr(settings, "sns_url_pattern", URL_PATTERN)
    cert_server.confirmations.clear()
    cert_server.cert_fetches.clear()
    return SnsSigner(cert_server, path=f"/SimpleNotificationService-{uuid.uuid4().hex}.pem")
