"""Email domains end to end in headless Chromium: add a domain, read its DNS records, publish them
on a local authoritative DNS server, Check now, see every record verified."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import BrowserContext, Page, expect

from switchboard.app import create_app
from switchboard.core.config import Settings
from tests.support.dns_server import LocalDnsServer
from tests.support.tenants import Tenant

pytestmark = pytest.mark.browser

Shot = Callable[[str], Path]


@pytest.fixture(scope="module")
def email_dns() -> Iterator[LocalDnsServer]:
    with LocalDnsServer() as server:
        yield server


@pytest.fixture(scope="module")
def live_server(db: Any, settings: Settings, email_dns: LocalDnsServer) -> Iterator[str]:
    """Like the shared live server, but the app's DNS checks go to `email_dns` (settings are read
    when the app is created, so this module serves its own app)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = create_app(
        settings.model_copy(
            update={"public_base_url": base_url, "dns_nameservers": email_dns.nameserver, "dns_timeout": 3.0}
        )
    )
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="email-live")
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.02)
    try:
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


def test_add_domain_publish_records_and_check_now(
    page: Page,
    context: BrowserContext,
    live_server: str,
    tenant: Tenant,
    email_dns: LocalDnsServer,
    screenshot: Shot,
) -> None:
    email_dns.clear()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    page.goto("/settings/email-domains")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("E-mail").fill(tenant.email)
    page.get_by_label("Password").fill(tenant.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/settings/email-domains$"))
    nav_link = page.get_by_role("navigation", name="Main").get_by_role("link", name="Email domains")
    expect(nav_link).to_have_attribute("aria-current", "page")
    expect(page.get_by_test_id("empty-state")).to_be_visible()
    screenshot("1-empty")

    page.get_by_role("link", name="Add domain").first.click()
    page.get_by_label("Domain").fill("mail.customer.com")
    page.get_by_label("Tenant name").fill("acme-mail")
    screenshot("2-form")
    page.get_by_role("button", name="Add domain").click()
    expect(page).to_have_url(re.compile(r"/settings/email-domains/[0-9a-f-]{36}$"))
    expect(page.get_by_role("status").filter(has_text="mail.customer.com added")).to_be_visible()
    rows = page.get_by_test_id("dns-records").locator("tbody tr")
    expect(rows).to_have_count(7)
    expect(page.get_by_test_id("record-status")).to_have_text(["Not checked"] * 7)
    screenshot("3-records")

    # Copy a value the way a customer would, straight to the clipboard.
    first_value = page.get_by_test_id("record-value").first.inner_text()
    copy = rows.first.get_by_role("button", name=f"Copy value {first_value}")
    copy.click()
    expect(copy).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == first_value

    # Publish every record at "the DNS provider", exactly as the page shows them.
    names = page.get_by_test_id("record-name").all_inner_texts()
    values = page.get_by_test_id("record-value").all_inner_texts()
    types = [t.split()[0] for t in rows.locator("td:first-child").all_inner_texts()]
    email_dns.set_many([(n, t, [v]) for n, t, v in zip(names, types, values, strict=True)])

    page.get_by_test_id("check-now").click()
    expect(page.get_by_role("status").filter(has_text="All 7 DNS records are verified.")).to_be_visible()
    expect(page.get_by_test_id("record-status")).to_have_text(["Verified"] * 7)
    expect(page.get_by_test_id("verified-count")).to_have_text("7 of 7 records verified")
    assert email_dns.queries == 7
    screenshot("4-verified")

    nav_link.click()
    row = page.get_by_test_id("email-domains-table").locator("tbody tr", has_text="mail.customer.com")
    expect(row.get_by_test_id("verification-badge")).to_have_text("Verified")
    screenshot("5-list")
