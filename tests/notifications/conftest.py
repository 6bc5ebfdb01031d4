"""Notification tests: a local SMTP server, API-only users and the job runner."""

from __future__ import annotations

import pytest

from switchboard.core.config import Settings
from tests.support.api_users import admin, make_org, org  # noqa: F401
from tests.support.jobs import job_runner, jobs  # noqa: F401
from tests.support.smtp import SmtpSink, smtp_server  # noqa: F401


@pytest.fixture
def smtp(
    smtp_server: SmtpSink,  # noqa: F811 (the fixture imported above)
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> SmtpSink:
    """SWITCHBOARD_SMTP_URL pointing at the local server."""
    monkeypatch.setattr(settings, "smtp_url", smtp_server.url)
    return smtp_server
