"""Channel Management Test Cases 1, 2 and 5, end to end in headless Chromium, plus the table's
empty, loading and error states. Signs in through the real login form."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from playwright.sync_api import BrowserContext, Locator, Page, Route, expect
from sqlalchemy import func, select

from switchboard.models import VaultSecret
from tests.support.tenants import Tenant
from tests.support.web import allow_byom

pytestmark = pytest.mark.browser

Shot = Callable[[str], Path]
TG_TOKEN = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"


@pytest.fixture
def tenant(make_tenant: Any, db: Any) -> Tenant:
    """A tenant whose platform admin has allowed bring-your-own WhatsApp, SMS, email and RCS."""
    t: Tenant = make_tenant()
    allow_byom(db, t.organization_id)
    return t


def sign_in(page: Page, who: Tenant) -> None:
    page.goto("/settings/channels")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("E-mail").fill(who.email)
    page.get_by_label("Password").fill(who.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/settings/channels$"))


def go_to_channels(page: Page) -> None:
    """Settings -> Channels, through the navigation."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Channels").click()
    expect(page).to_have_url(re.compile(r"/settings/channels$"))
    expect(page.locator("#channels .js-loading")).to_be_hidden()


def row_for(page: Page, name: str) -> Locator:
    return page.get_by_test_id("channels-table").locator("tbody tr", has_text=name)


def add_whatsapp_lite(page: Page, name: str, shot: Shot | None = None) -> None:
    page.get_by_role("link", name="Add Channel").first.click()
    expect(page.get_by_role("heading", name="Add Channel")).to_be_visible()
    if shot:
        shot("2-choose-type")
    page.get_by_role("link", name="WhatsApp Lite", exact=True).click()
    expect(page.get_by_role("heading", name="Add WhatsApp Lite")).to_be_visible()
    page.get_by_label("Channel name").fill(name)
    page.get_by_label("Sender ID").fill("123456")
    page.get_by_label("Phone number").fill("+1234567890")
    if shot:
        shot("3-form-filled")
    page.get_by_role("button", name="Save channel").click()
    expect(page).to_have_url(re.compile(r"/settings/channels(/[0-9a-f-]{36}/pair)?$"))
    if page.url.endswith("/pair"):
        # QR types go on to the pairing step (tested with the pairing flow); the list is one click away.
        if shot:
            shot("4-pairing-step")
        page.goto("/settings/channels")
    expect(row_for(page, name)).to_be_visible()


def api(live_server: str, who: Tenant) -> httpx.Client:
    return httpx.Client(base_url=live_server, headers=who.headers, timeout=10)


def test_case_1_add_channel(page: Page, tenant: Tenant, live_server: str, screenshot: Shot) -> None:
    sign_in(page, tenant)
    go_to_channels(page)
    expect(page.get_by_text("No channels yet")).to_be_visible()
    screenshot("1-channels")
    add_whatsapp_lite(page, "Sales WhatsApp", screenshot)
    row = row_for(page, "Sales WhatsApp")
    expect(row.get_by_text("WhatsApp Lite")).to_be_visible()
    expect(row.get_by_test_id("active-badge")).to_have_text("Inactive")
    expect(row.get_by_test_id("status-badge")).to_have_text("Pending")
    # The connection status explains itself in a tooltip.
    row.get_by_test_id("status-badge").hover()
    expect(page.get_by_role("tooltip")).to_contain_text("Not verified yet")
    expect(row.get_by_role("switch")).not_to_be_checked()
    screenshot("5-listed")
    with api(live_server, tenant) as c:
        [acc] = c.get("/rest/v1/channel_accounts").json()["items"]
    assert acc["name"] == "Sales WhatsApp"
    assert acc["type"] == "WHATSAPP_LITE"
    assert acc["settings"]["sender_id"] == "123456"
    assert acc["settings"]["phone_number"] == "+1234567890"
    assert (acc["is_active"], acc["connection_status"]) == (False, "pending")


def test_case_1_validation_message_next_to_the_field(page: Page, tenant: Tenant, screenshot: Shot) -> None:
    sign_in(page, tenant)
    page.goto("/settings/channels/new/whatsapp_lite")
    page.get_by_label("Channel name").fill("Sales WhatsApp")
    page.get_by_label("Sender ID").fill("123456")
    page.get_by_label("Phone number").fill("555-0100")
    page.get_by_role("button", name="Save channel").click()
    phone = page.get_by_label("Phone number")
    expect(phone).to_have_class(re.compile("is-invalid"))
    expect(page.locator("#f-settings-phone_number-error")).to_contain_text("Must be an E.164 phone number")
    expect(phone).to_have_value("555-0100")
    screenshot("validation")


def test_case_2_activate_and_deactivate(
    page: Page, tenant: Tenant, live_server: str, screenshot: Shot
) -> None:
    sign_in(page, tenant)
    go_to_channels(page)
    add_whatsapp_lite(page, "Sales WhatsApp")
    row = row_for(page, "Sales WhatsApp")
    switch = row.get_by_role("switch", name="Active: Sales WhatsApp")
    # Default status: inactive.
    expect(row.get_by_test_id("active-badge")).to_have_text("Inactive")
    expect(switch).not_to_be_checked()
    screenshot("1-default-inactive")
    # Toggle active: the row updates in place.
    switch.click()
    expect(row.get_by_test_id("active-badge")).to_have_text("Active")
    expect(row.get_by_role("switch")).to_be_checked()
    expect(page.get_by_text("is now active")).to_be_visible()
    screenshot("2-active")
    # It was saved: a reload shows the same.
    page.reload()
    expect(row.get_by_test_id("active-badge")).to_have_text("Active")
    expect(row.get_by_role("switch")).to_be_checked()
    screenshot("3-active-after-reload")
    # Toggle inactive.
    row.get_by_role("switch").click()
    expect(row.get_by_test_id("active-badge")).to_have_text("Inactive")
    expect(row.get_by_role("switch")).not_to_be_checked()
    screenshot("4-inactive")
    page.reload()
    expect(row.get_by_test_id("active-badge")).to_have_text("Inactive")
    screenshot("5-inactive-after-reload")
    # Channel behaviour: the API agrees, and each change is in the audit trail.
    with api(live_server, tenant) as c:
        [acc] = c.get("/rest/v1/channel_accounts", params={"is_active": "false"}).json()["items"]
        assert c.get("/rest/v1/channel_accounts", params={"is_active": "true"}).json()["total"] == 0
        trail = c.get(f"/rest/v1/channel_accounts/{acc['id']}/audit").json()
    assert [e["action"] for e in trail] == [
        "channel_account.deactivated",
        "channel_account.activated",
        "channel_account.created",
    ]
    # The edit page shows the same trail.
    row.get_by_role("link", name="Edit").click()
    trail_box = page.get_by_test_id("audit-trail")
    expect(trail_box).to_contain_text("Deactivated")
    expect(trail_box).to_contain_text("Activated")
    expect(trail_box).to_contain_text(tenant.email)
    screenshot("6-audit-trail")


def test_case_5_delete_channel(
    page: Page, tenant: Tenant, live_server: str, db: Any, screenshot: Shot
) -> None:
    with api(live_server, tenant) as c:
        body = {"name": "Support bot", "type": "TELEGRAM", "settings": {"bot_token": TG_TOKEN}}
        acc = c.post("/rest/v1/channel_accounts", json=body).json()
    sign_in(page, tenant)
    go_to_channels(page)
    add_whatsapp_lite(page, "Sales WhatsApp")
    # The channel exists.
    row = row_for(page, "Support bot")
    expect(row).to_be_visible()
    screenshot("1-exists")
    # Delete, then confirm in the dialog.
    row.get_by_role("link", name="Delete").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Delete Support bot?")
    screenshot("2-confirm")
    # Cancelling keeps it.
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(row).to_be_visible()
    row.get_by_role("link", name="Delete").click()
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Delete channel").click()
    expect(page).to_have_url(re.compile(r"/settings/channels$"))
    expect(page.get_by_text("Channel “Support bot” deleted.")).to_be_visible()
    # Removed from the list; the other channel is untouched.
    expect(row_for(page, "Support bot")).to_have_count(0)
    expect(row_for(page, "Sales WhatsApp")).to_be_visible()
    screenshot("3-removed")
    # Related data: the API has no such account, its secrets are erased, the audit trail remains.
    with api(live_server, tenant) as c:
        assert c.get(f"/rest/v1/channel_accounts/{acc['id']}").status_code == 404
        names = [a["name"] for a in c.get("/rest/v1/channel_accounts").json()["items"]]
        trail = c.get(f"/rest/v1/channel_accounts/{acc['id']}/audit").json()
    assert names == ["Sales WhatsApp"]
    assert [e["action"] for e in trail] == ["channel_account.deleted", "channel_account.created"]
    assert trail[0]["actor"] == tenant.email
    assert trail[0]["before"]["settings"]["bot_token"] == "••••ew11"

    async def secrets_left(s: Any) -> int:
        stmt = (
            select(func.count()).select_from(VaultSecret).where(VaultSecret.owner_id == uuid.UUID(acc["id"]))
        )
        return int(await s.scalar(stmt) or 0)

    assert db.session(secrets_left) == 0


def test_empty_state(page: Page, tenant: Tenant, screenshot: Shot) -> None:
    sign_in(page, tenant)
    empty = page.get_by_test_id("empty-state")
    expect(empty).to_be_visible()
    expect(empty.get_by_role("heading", name="No channels yet")).to_be_visible()
    expect(empty.get_by_role("link", name="Add Channel")).to_be_visible()
    screenshot("empty")
    empty.get_by_role("link", name="Add Channel").click()
    expect(page.get_by_role("heading", name="Add Channel")).to_be_visible()


def test_loading_then_error_then_retry(page: Page, tenant: Tenant, screenshot: Shot) -> None:
    sign_in(page, tenant)
    held: list[Route] = []
    page.route("**/settings/channels/table", lambda route: held.append(route))
    page.goto("/settings/channels")
    # While the fragment request is held, the page shows its loading state.
    loading = page.get_by_role("status").filter(has_text="Loading channels")
    expect(loading).to_be_visible()
    page.wait_for_function("document.querySelector('#channels').getAttribute('aria-busy') === 'true'")
    assert len(held) == 1
    screenshot("1-loading")
    # The request fails: the error state offers Retry.
    held[0].abort()
    error = page.get_by_role("alert").filter(has_text="could not be loaded")
    expect(error).to_be_visible()
    expect(loading).to_be_hidden()
    screenshot("2-error")
    # Retry once the network is back.
    page.unroute("**/settings/channels/table")
    error.get_by_role("button", name="Retry").click()
    expect(page.get_by_text("No channels yet")).to_be_visible()
    expect(error).to_be_hidden()
    screenshot("3-retried")


def test_sign_in_failure_and_sign_out(page: Page, tenant: Tenant, screenshot: Shot) -> None:
    page.goto("/login")
    page.get_by_label("E-mail").fill(tenant.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("login-error")).to_have_text("The e-mail or password is incorrect.")
    screenshot("1-login-failed")
    sign_in(page, tenant)
    expect(page.get_by_test_id("whoami")).to_contain_text(tenant.email)
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_text("You have been signed out.")).to_be_visible()
    screenshot("2-signed-out")
    page.goto("/settings/channels")
    expect(page).to_have_url(re.compile(r"/login\?next="))


def test_webhook_card_copies_the_url_to_register(
    page: Page, context: BrowserContext, tenant: Tenant, live_server: str, screenshot: Shot
) -> None:
    """A Shopify Inbox channel: the tenant registers the webhook in its custom app, so the channel
    page shows the URL with a Copy button, where it goes and how deliveries are signed."""
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    with api(live_server, tenant) as c:
        body = {
            "name": "Store chat",
            "type": "SHOPIFY_INBOX",
            "settings": {"shop_domain": "acme.myshopify.com", "client_secret": "shpss_not_for_display"},
        }
        acc = c.post("/rest/v1/channel_accounts", json=body).json()
    url = f"{live_server}/webhooks/{acc['id']}"
    assert acc["webhook_url"] == url
    sign_in(page, tenant)
    row_for(page, "Store chat").get_by_role("link", name="Edit").click()
    card = page.get_by_test_id("webhook-card")
    expect(card).to_be_visible()
    expect(card.get_by_role("heading", name="Webhook")).to_be_visible()
    expect(card.get_by_label("Webhook subscription endpoint")).to_have_value(url)
    expect(card.get_by_test_id("webhook-signature")).to_contain_text("X-Shopify-Hmac-SHA256")
    expect(card).not_to_contain_text("shpss_not_for_display")
    copy = card.get_by_role("button", name="Copy the webhook URL")
    copy.click()
    expect(copy).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == url
    screenshot("1-copied")
    expect(copy).to_have_text("Copy")
