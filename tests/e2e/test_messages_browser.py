"""Use Case 1 step 9 / Test Case 4 "Send test messages": from a connected channel's page in headless
Chromium, through the send job, to the sandbox Telegram Bot API the app serves itself."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx2 as httpx
import pytest
from playwright.sync_api import Page, expect

from switchboard.core.config import Settings
from tests.support import jobs as job_support
from tests.support.jobs import JobRunner
from tests.support.tenants import Tenant

pytestmark = pytest.mark.browser
# The job runner fixtures (tests/support/jobs.py), used here without a conftest of their own.
job_runner = job_support.job_runner
jobs = job_support.jobs

TG_TOKEN = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"


def test_send_a_test_message_from_the_channel_page(
    page: Page,
    tenant: Tenant,
    live_server: str,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    jobs: JobRunner,
    screenshot: Callable[[str], Path],
) -> None:
    # The send job runs here, in the test's worker thread: it reaches the live server's sandbox too.
    monkeypatch.setattr(settings, "telegram_base_url", f"{live_server}/sandbox/telegram")
    with httpx.Client(base_url=live_server, headers=tenant.headers, timeout=10) as c:
        body = {
            "name": "Support bot",
            "type": "TELEGRAM",
            "settings": {"bot_token": TG_TOKEN},
            "is_active": True,
        }
        account = c.post("/rest/v1/channel_accounts", json=body).json()
        assert c.post(f"/rest/v1/channel_accounts/{account['id']}/test").json()["ok"] is True

    page.goto("/settings/channels")
    page.get_by_label("E-mail").fill(tenant.email)
    page.get_by_label("Password").fill(tenant.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/settings/channels$"))
    page.goto(f"/settings/channels/{account['id']}/edit")
    card = page.get_by_test_id("messages-card")
    expect(card).to_contain_text("No messages sent yet.")

    card.get_by_label("Chat id").fill("not a chat")
    card.get_by_label("Text").fill("Hello from the channel page")
    card.get_by_role("button", name="Send test message").click()
    expect(card.get_by_text("Must be a Telegram chat id")).to_be_visible()
    screenshot("1-invalid-recipient")

    card.get_by_label("Chat id").fill("4242")
    card.get_by_role("button", name="Send test message").click()
    expect(page.get_by_text("Test message queued for 4242")).to_be_visible()
    expect(card.get_by_test_id("message-status")).to_have_text("queued")
    screenshot("2-queued")

    assert jobs.run()["send_outbound_message"] == 1
    page.reload()
    expect(card.get_by_test_id("message-status")).to_have_text("sent")
    expect(card).to_contain_text("Hello from the channel page")
    screenshot("3-sent")
