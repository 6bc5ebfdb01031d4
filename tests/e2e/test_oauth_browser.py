"""Use Case 2 (Messenger through the Facebook consent page and Page selection) and Use Case 3 (two
WhatsApp Lite channels, each paired by QR, independently active), in headless Chromium against the
provider emulators on 127.0.0.1."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
import uvicorn
from playwright.sync_api import Locator, Page, expect

from switchboard.app import create_app
from switchboard.core.config import Settings
from tests.support.oauth_env import Providers, provider_settings, providers  # noqa: F401
from tests.support.tenants import Tenant
from tests.support.web import allow_byom

pytestmark = pytest.mark.browser
Shot = Callable[[str], Path]


@pytest.fixture(scope="module")
def live_server(db: Any, settings: Settings, providers: Providers) -> Iterator[str]:  # noqa: F811
    """This module's own live server: same database, provider URLs pointing at the emulators and the
    public base URL it really listens on (OAuth redirect URIs are built from it)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = create_app(provider_settings(settings, providers, url))
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.02)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


@pytest.fixture
def tenant(make_tenant: Any, db: Any) -> Tenant:
    t: Tenant = make_tenant()
    allow_byom(db, t.organization_id)
    return t


def sign_in(page: Page, who: Tenant) -> None:
    page.goto("/settings/channels")
    page.get_by_label("E-mail").fill(who.email)
    page.get_by_label("Password").fill(who.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/settings/channels$"))
    expect(page.locator("#channels .js-loading")).to_be_hidden()


def row_for(page: Page, name: str) -> Locator:
    return page.get_by_test_id("channels-table").locator("tbody tr", has_text=name)


def add_channel(page: Page, type_label: str) -> None:
    page.get_by_role("link", name="Add Channel").first.click()
    page.get_by_role("link", name=type_label, exact=True).click()


def test_use_case_2_connect_messenger(
    page: Page,
    tenant: Tenant,
    live_server: str,
    providers: Providers,  # noqa: F811
    screenshot: Shot,
) -> None:
    sign_in(page, tenant)
    screenshot("1-channels")
    add_channel(page, "Facebook Messenger")
    expect(page.get_by_role("heading", name="Add Facebook Messenger")).to_be_visible()
    page.get_by_label("Channel name").fill("Facebook Support")
    screenshot("2-connect-via-facebook")
    page.get_by_role("button", name="Connect via Facebook").click()

    # The sandbox Facebook Login dialog, served by the Meta emulator on its own port.
    expect(page).to_have_url(re.compile(re.escape(providers.urls["meta"]) + r"/v21\.0/dialog/oauth\?"))
    expect(page.get_by_test_id("sandbox-banner")).to_be_visible()
    expect(page.get_by_text("pages_messaging")).to_be_visible()
    screenshot("3-consent")
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="Choose the Facebook Page")).to_be_visible()
    screenshot("4-select-page")
    page.get_by_label("Acme Shop").check()
    page.get_by_role("button", name="Connect").click()

    expect(page).to_have_url(re.compile(r"/settings/channels$"))
    row = row_for(page, "Facebook Support")
    expect(row.get_by_test_id("status-badge")).to_have_text("Connected")
    expect(row.get_by_test_id("active-badge")).to_have_text("Inactive")
    screenshot("5-connected")
    row.get_by_role("switch").check()
    expect(row.get_by_test_id("active-badge")).to_have_text("Active")
    screenshot("6-active")

    # Test by receiving a message: a signed webhook for the chosen Page is accepted.
    accounts = httpx.get(f"{live_server}/rest/v1/channel_accounts", headers=tenant.headers).json()["items"]
    assert accounts[0]["settings"]["page_id"] == "1010000000002"
    assert accounts[0]["is_active"] is True
    body = (
        b'{"object":"page","entry":[{"id":"1010000000002","time":1700000000000,"messaging":[{"sender":'
        b'{"id":"77"},"recipient":{"id":"1010000000002"},"timestamp":1700000000000,"message":{"mid":"m_uc2",'
        b'"text":"Hi"}}]}]}'
    )
    hook = httpx.post(
        f"{live_server}/webhooks/meta",
        content=body,
        headers={"X-Hub-Signature-256": providers.meta.sign(body)},
    )
    assert hook.status_code == 200


def _pair(
    page: Page,
    live_server: str,
    providers: Providers,  # noqa: F811
    name: str,
    phone: str,
    shot: Shot,
    step: str,
) -> None:
    add_channel(page, "WhatsApp Lite")
    page.get_by_label("Channel name").fill(name)
    page.get_by_label("Sender ID").fill(name.split()[0].upper())
    page.get_by_label("Phone number").fill(phone)
    page.get_by_role("button", name="Save channel").click()
    expect(page).to_have_url(re.compile(r"/settings/channels/[0-9a-f-]{36}/pair$"))
    qr = page.get_by_test_id("pair-qr")
    expect(qr).to_be_visible()
    # the server-drawn QR image loaded
    deadline = time.monotonic() + 10
    while not qr.evaluate("img => img.complete && img.naturalWidth > 0"):
        assert time.monotonic() < deadline, "the QR image did not load"
        time.sleep(0.05)
    expect(page.get_by_test_id("pair-status")).to_have_attribute("data-status", "pending")
    shot(f"{step}-qr")
    session_id = qr.get_attribute("data-session-id")
    # What the phone does when it scans the code.
    assert httpx.post(f"{providers.urls['lite']}/sessions/{session_id}/scan").status_code == 200
    expect(page.get_by_test_id("pair-status")).to_have_attribute("data-status", "paired")
    expect(page.get_by_test_id("pair-status")).to_contain_text("Paired and connected")
    shot(f"{step}-paired")
    page.get_by_test_id("pair-done").click()
    expect(page).to_have_url(re.compile(r"/settings/channels$"))
    row = row_for(page, name)
    expect(row.get_by_test_id("status-badge")).to_have_text("Connected")
    row.get_by_role("switch").check()
    expect(row.get_by_test_id("active-badge")).to_have_text("Active")


def test_use_case_3_two_whatsapp_lite_channels(
    page: Page,
    tenant: Tenant,
    live_server: str,
    providers: Providers,  # noqa: F811
    screenshot: Shot,
) -> None:
    sign_in(page, tenant)
    _pair(page, live_server, providers, "Sales WhatsApp", "+14155550121", screenshot, "1-sales")
    _pair(page, live_server, providers, "Support WhatsApp", "+14155550122", screenshot, "2-support")
    sales, support = row_for(page, "Sales WhatsApp"), row_for(page, "Support WhatsApp")
    for row in (sales, support):
        expect(row.get_by_test_id("active-badge")).to_have_text("Active")
        expect(row.get_by_test_id("status-badge")).to_have_text("Connected")
    screenshot("3-both-active")
    sales.get_by_role("switch").uncheck()
    expect(sales.get_by_test_id("active-badge")).to_have_text("Inactive")
    page.reload()
    expect(row_for(page, "Sales WhatsApp").get_by_test_id("active-badge")).to_have_text("Inactive")
    expect(row_for(page, "Support WhatsApp").get_by_test_id("active-badge")).to_have_text("Active")
    expect(row_for(page, "Support WhatsApp").get_by_test_id("status-badge")).to_have_text("Connected")
    screenshot("4-one-deactivated")
    accounts = httpx.get(f"{live_server}/rest/v1/channel_accounts", headers=tenant.headers).json()["items"]
    by_name = {a["name"]: a for a in accounts}
    assert (
        by_name["Sales WhatsApp"]["settings"]["session_token"]
        != by_name["Support WhatsApp"]["settings"]["session_token"]
    )
    assert {a["connection_status"] for a in accounts} == {"connected"}
