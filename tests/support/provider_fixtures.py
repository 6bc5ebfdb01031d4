"""Provider emulators served on 127.0.0.1 for a test module, reset per test, with the shared Settings
pointed at them. A conftest imports a fixture together with its module-scoped server fixture
(`telegram` with `_telegram_server`, `push_service` with `_push_server`, `mail` with `_mail`).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from switchboard.core.config import Settings
from switchboard.sandbox.mail import MailSandbox
from switchboard.sandbox.push import PushSandbox
from switchboard.sandbox.telegram import TelegramSandbox
from tests.support.emulator_server import serve


@pytest.fixture(scope="module")
def _telegram_server() -> Iterator[tuple[TelegramSandbox, str]]:
    sandbox = TelegramSandbox()
    with serve(sandbox.app) as url:
        yield sandbox, url


@pytest.fixture
def telegram(
    _telegram_server: tuple[TelegramSandbox, str], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> TelegramSandbox:
    sandbox, url = _telegram_server
    sandbox.bots.clear()
    sandbox.revoked.clear()
    sandbox.fail_next.clear()
    monkeypatch.setattr(settings, "telegram_base_url", url)
    monkeypatch.setattr(settings, "public_base_url", "http://testserver")
    return sandbox


@pytest.fixture(scope="module")
def _push_server() -> Iterator[PushSandbox]:
    sandbox = PushSandbox()
    with serve(sandbox.app) as url:
        sandbox.base_url = url
        yield sandbox


@pytest.fixture
def push_service(_push_server: PushSandbox) -> PushSandbox:
    """A browser vendor's push service; subscriptions point their endpoints at it."""
    _push_server.subscriptions.clear()
    return _push_server


MAIL_ADDRESS = "support@acme.test"
MAIL_PASSWORD = "mail-password"


@pytest.fixture(scope="module")
def _mail() -> Iterator[MailSandbox]:
    with MailSandbox() as sandbox:
        yield sandbox


@pytest.fixture
def mail(_mail: MailSandbox) -> MailSandbox:
    """SMTP and IMAP servers with one mailbox, MAIL_ADDRESS / MAIL_PASSWORD."""
    _mail.users.clear()
    _mail.sent.clear()
    _mail.add_user(MAIL_ADDRESS, MAIL_PASSWORD)
    return _mail
