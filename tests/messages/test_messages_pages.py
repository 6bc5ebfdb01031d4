"""Send test message on a channel's page: the same service as the API, with the recent messages."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from switchboard.sandbox.telegram import TelegramSandbox
from tests.messages.conftest import TELEGRAM_TOKEN
from tests.support.jobs import JobRunner
from tests.support.tenants import Tenant
from tests.support.web import Browser


def test_send_test_message_from_the_channel_page(
    client: TestClient, tenant: Tenant, telegram_account: str, telegram: TelegramSandbox, jobs: JobRunner
) -> None:
    web = Browser(client)
    web.login(tenant)
    edit = f"/settings/channels/{telegram_account}/edit"
    page = web.get(edit).text
    assert 'data-testid="send-test-message"' in page
    assert "Chat id" in page
    assert "No messages sent yet." in page

    r = web.post(f"/settings/channels/{telegram_account}/messages", {"to": "4242", "text": "Testing 1 2 3"})
    assert (r.status_code, r.headers["location"]) == (303, edit)
    page = web.get(edit).text
    assert "Test message queued for 4242" in page  # the flash
    assert 'data-testid="recent-messages"' in page
    assert ">queued</span>" in page
    assert "Testing 1 2 3" in page

    jobs.run()
    assert ">sent</span>" in web.get(edit).text
    assert telegram.bots[TELEGRAM_TOKEN].sent[0]["text"] == "Testing 1 2 3"


def test_invalid_test_message_shows_the_error_and_keeps_the_input(
    client: TestClient, tenant: Tenant, telegram_account: str, jobs: JobRunner
) -> None:
    web = Browser(client)
    web.login(tenant)
    r = web.post(f"/settings/channels/{telegram_account}/messages", {"to": "not a chat", "text": "kept text"})
    assert r.status_code == 422
    assert "Must be a Telegram chat id" in r.text
    assert 'value="not a chat"' in r.text
    assert "kept text</textarea>" in r.text
    assert jobs.pending() == []

    web.post(f"/settings/channels/{telegram_account}/toggle", {"is_active": "false"})
    r = web.post(f"/settings/channels/{telegram_account}/messages", {"to": "4242", "text": "hi"})
    assert r.status_code == 409
    assert "activate it before sending" in r.text


def test_members_see_messages_but_no_send_form_and_csrf_is_required(
    client: TestClient, tenant: Tenant, member_of: Callable[[Tenant], Tenant], telegram_account: str
) -> None:
    web = Browser(client)
    web.login(tenant)
    forged = web.post(
        f"/settings/channels/{telegram_account}/messages", {"to": "4242", "text": "x"}, csrf="forged"
    )
    assert forged.status_code == 403
    web.login(member_of(tenant))
    page = web.get(f"/settings/channels/{telegram_account}/edit").text
    assert 'data-testid="messages-card"' in page
    assert 'data-testid="send-test-message"' not in page
    r = web.post(f"/settings/channels/{telegram_account}/messages", {"to": "4242", "text": "x"})
    assert r.status_code == 403
