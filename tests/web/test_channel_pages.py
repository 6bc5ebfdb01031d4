"""Settings -> Channels through its forms, as a browser without JavaScript would use it."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.tenants import Tenant
from tests.support.web import Browser, allow_byom, csrf_from

API = "/rest/v1/channel_accounts"
TG_TOKEN = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"
WA = {"name": "Sales WhatsApp", "settings.sender_id": "123456", "settings.phone_number": "+1234567890"}


@pytest.fixture
def web(client: TestClient) -> Iterator[Browser]:
    client.cookies.clear()
    yield Browser(client)
    client.cookies.clear()


@pytest.fixture
def tenant(make_tenant: Any, db: Any) -> Tenant:
    """A tenant whose platform admin has allowed bring-your-own WhatsApp, SMS, email and RCS."""
    t: Tenant = make_tenant()
    allow_byom(db, t.organization_id)
    return t


def _api_create(client: TestClient, t: Tenant, **over: Any) -> dict[str, Any]:
    body = {"name": "Support bot", "type": "TELEGRAM", "settings": {"bot_token": TG_TOKEN}} | over
    r = client.post(API, json=body, headers=t.headers)
    assert r.status_code == 201, r.text
    return dict(r.json())


def _accounts(client: TestClient, t: Tenant) -> list[dict[str, Any]]:
    return list(client.get(API, headers=t.headers).json()["items"])


def _invalid_feedback(html: str, dom_id: str) -> str:
    match = re.search(rf'id="{re.escape(dom_id)}-error" class="invalid-feedback">([^<]*)<', html)
    assert match, f"no error shown for {dom_id}"
    return match.group(1)


def test_page_shell_has_loading_and_error_states(web: Browser, tenant: Tenant) -> None:
    web.login(tenant)
    page = web.get("/settings/channels").text
    assert 'data-src="/settings/channels/table"' in page
    assert "Loading channels…" in page
    assert "spinner-border" in page
    assert "could not be loaded" in page
    assert "Retry" in page
    assert 'href="/settings/channels/new"' in page  # Add Channel


def test_empty_state(web: Browser, tenant: Tenant) -> None:
    web.login(tenant)
    r = web.fragment()
    assert r.status_code == 200
    assert "No channels yet" in r.text
    assert 'href="/settings/channels/new"' in r.text
    assert "<html" not in r.text  # a fragment, not a page
    # Opened without JavaScript, the same table comes inside the whole page.
    page = web.get("/settings/channels/table")
    assert "<html" in page.text
    assert "No channels yet" in page.text


def test_table_fragment_lists_channels_with_badges(web: Browser, tenant: Tenant) -> None:
    wa = _api_create(
        web.client,
        tenant,
        name="Sales WhatsApp",
        type="WHATSAPP_LITE",
        settings={"sender_id": "1", "phone_number": "+14155550100"},
        is_active=True,
    )
    tg = _api_create(web.client, tenant, name="<b>Bot</b>")
    web.login(tenant)
    html = web.fragment().text
    assert html.index("Sales WhatsApp") < html.index("&lt;b&gt;Bot&lt;/b&gt;")  # escaped
    assert "<b>Bot</b>" not in html
    assert "WhatsApp Lite" in html
    assert "Telegram" in html
    row_wa = html[html.index(f'id="channel-{wa["id"]}"') :].split("</tr>", 1)[0]
    row_tg = html[html.index(f'id="channel-{tg["id"]}"') :].split("</tr>", 1)[0]
    assert ">Active<" in row_wa
    assert "checked" in row_wa
    assert ">Inactive<" in row_tg
    assert "checked" not in row_tg
    # The connection status shows with its reason as the tooltip.
    assert ">Pending<" in row_tg
    assert "Not verified yet" in row_tg
    for action in ("/toggle", "/edit", "/delete"):
        assert f"/settings/channels/{tg['id']}{action}" in row_tg


def test_add_channel_through_the_form(web: Browser, tenant: Tenant) -> None:
    web.login(tenant)
    chooser = web.get("/settings/channels/new").text
    assert "WhatsApp Lite" in chooser
    assert 'href="/settings/channels/new/whatsapp_lite"' in chooser
    form = web.get("/settings/channels/new/whatsapp_lite").text
    # The form is generated from the type's schema: inputs, required markers and help text.
    assert 'name="settings.sender_id"' in form
    assert 'type="tel"' in form
    assert 'type="checkbox"' in form
    assert 'type="number"' in form
    assert "E.164, e.g. +14155550100" in form
    # The pairing session is set by the QR flow, never typed in.
    assert "session_token" not in form
    assert 'type="password"' in web.get("/settings/channels/new/telegram").text
    assert form.count("(required)") == 3  # name, sender id, phone number
    r = web.post("/settings/channels/new/whatsapp_lite", WA)
    assert r.status_code == 303
    [acc] = _accounts(web.client, tenant)
    # Back to the list, or (QR types) on to the pairing step for the new account.
    assert r.headers["location"] in {"/settings/channels", f"/settings/channels/{acc['id']}/pair"}
    assert "Sales WhatsApp" in web.get("/settings/channels").text  # the flash message
    assert acc["name"] == "Sales WhatsApp"
    assert acc["type"] == "WHATSAPP_LITE"
    assert acc["settings"]["phone_number"] == "+1234567890"
    assert acc["settings"]["warming_enabled"] is False
    assert acc["settings"]["warming_daily_limit"] == 50
    assert (acc["is_active"], acc["connection_status"]) == (False, "pending")
    assert "Sales WhatsApp" in web.fragment().text


def test_every_type_has_a_working_form(web: Browser, tenant: Tenant) -> None:
    web.login(tenant)
    chooser = web.get("/settings/channels/new").text
    keys = re.findall(r'href="/settings/channels/new/([a-z_]+)"', chooser)
    assert len(keys) == 13
    for key in keys:
        r = web.get(f"/settings/channels/new/{key}")
        assert r.status_code == 200, key
        assert 'name="name"' in r.text
    assert web.get("/settings/channels/new/fax").status_code == 404


def test_validation_message_is_shown_next_to_the_field(web: Browser, tenant: Tenant) -> None:
    web.login(tenant)
    r = web.post(
        "/settings/channels/new/whatsapp_lite",
        {**WA, "settings.phone_number": "555-0100", "settings.warming_daily_limit": "lots"},
    )
    assert r.status_code == 422
    assert "Must be an E.164 phone number" in _invalid_feedback(r.text, "f-settings-phone_number")
    assert "integer" in _invalid_feedback(r.text, "f-settings-warming_daily_limit")
    assert 'value="555-0100"' in r.text  # what was typed stays in the form
    r = web.post(
        "/settings/channels/new/whatsapp_lite", {"name": "x", "settings.phone_number": "+14155550100"}
    )
    assert _invalid_feedback(r.text, "f-settings-sender_id") == "This field is required."
    r = web.post("/settings/channels/new/whatsapp_lite", {**WA, "name": "  "})
    assert r.status_code == 422
    assert _invalid_feedback(r.text, "f-name")
    r = web.post("/settings/channels/new/telegram", {"name": "tg", "settings.bot_token": "not-a-token"})
    assert "Must look like" in _invalid_feedback(r.text, "f-settings-bot_token")
    assert "not-a-token" not in r.text  # a secret is never echoed back, even a wrong one
    assert _accounts(web.client, tenant) == []


def test_edit_keeps_blank_secrets_and_shows_the_mask(web: Browser, tenant: Tenant) -> None:
    acc = _api_create(web.client, tenant)
    web.login(tenant)
    page = web.get(f"/settings/channels/{acc['id']}/edit").text
    assert 'placeholder="••••ew11"' in page
    assert TG_TOKEN not in page
    assert "Leave blank to keep the current value." in page
    r = web.post(
        f"/settings/channels/{acc['id']}/edit",
        {"name": "Renamed bot", "settings.bot_token": "", "settings.bot_username": "acme_bot"},
    )
    assert r.status_code == 303, r.text
    after = web.client.get(f"{API}/{acc['id']}", headers=tenant.headers).json()
    assert after["name"] == "Renamed bot"
    assert after["settings"]["bot_username"] == "acme_bot"
    assert after["settings"]["bot_token"] == "••••ew11"  # unchanged
    # A new secret replaces the old one; clearing an optional field clears it.
    new_token = "999999:ZYXWVUTSRQPONMLKJIHGFEDCBA_new1"
    r = web.post(
        f"/settings/channels/{acc['id']}/edit",
        {"name": "Renamed bot", "settings.bot_token": new_token, "settings.bot_username": ""},
    )
    assert r.status_code == 303
    after = web.client.get(f"{API}/{acc['id']}", headers=tenant.headers).json()
    assert after["settings"]["bot_token"] == "••••new1"
    assert after["settings"]["bot_username"] is None


def test_edit_validation_errors_rerender(web: Browser, tenant: Tenant) -> None:
    acc = _api_create(
        web.client,
        tenant,
        name="Sales WhatsApp",
        type="WHATSAPP_LITE",
        settings={"sender_id": "1", "phone_number": "+14155550100"},
    )
    web.login(tenant)
    url = f"/settings/channels/{acc['id']}/edit"
    r = web.post(url, {"name": "Sales WhatsApp", "settings.sender_id": "", "settings.phone_number": "12"})
    assert r.status_code == 422
    assert _invalid_feedback(r.text, "f-settings-sender_id") == "This field is required."
    assert "E.164" in _invalid_feedback(r.text, "f-settings-phone_number")
    assert "Audit trail" in r.text
    after = web.client.get(f"{API}/{acc['id']}", headers=tenant.headers).json()
    assert after["settings"]["sender_id"] == "1"


def test_toggle_through_the_form(web: Browser, tenant: Tenant) -> None:
    acc = _api_create(web.client, tenant)
    web.login(tenant)
    url = f"/settings/channels/{acc['id']}/toggle"
    r = web.post(url, {"is_active": "true"})
    assert r.status_code == 303
    assert web.client.get(f"{API}/{acc['id']}", headers=tenant.headers).json()["is_active"] is True
    assert "is now active" in web.get("/settings/channels").text
    # Submitting the same state again changes nothing (and writes no audit entry).
    web.post(url, {"is_active": "true"})
    # An unchecked switch sends no value: that means inactive.
    web.post(url, {})
    assert web.client.get(f"{API}/{acc['id']}", headers=tenant.headers).json()["is_active"] is False
    trail = web.client.get(f"{API}/{acc['id']}/audit", headers=tenant.headers).json()
    assert [e["action"] for e in trail] == [
        "channel_account.deactivated",
        "channel_account.activated",
        "channel_account.created",
    ]
    assert all(e["actor"] in (tenant.email,) for e in trail)


def test_delete_with_confirmation(web: Browser, tenant: Tenant) -> None:
    acc = _api_create(web.client, tenant, name="Old bot")
    web.login(tenant)
    confirm = web.get(f"/settings/channels/{acc['id']}/delete").text
    assert "Delete channel?" in confirm
    assert "Old bot" in confirm
    assert f'action="/settings/channels/{acc["id"]}/delete"' in confirm
    r = web.post(f"/settings/channels/{acc['id']}/delete")
    assert r.status_code == 303
    assert "Channel “Old bot” deleted." in web.get("/settings/channels").text
    assert _accounts(web.client, tenant) == []
    assert "No channels yet" in web.fragment().text
    trail = web.client.get(f"{API}/{acc['id']}/audit", headers=tenant.headers).json()
    assert trail[0]["action"] == "channel_account.deleted"
    # Gone means 404 for the pages too.
    assert web.get(f"/settings/channels/{acc['id']}/edit").status_code == 404
    assert web.post(f"/settings/channels/{acc['id']}/delete").status_code == 404


def test_audit_trail_is_visible_on_the_edit_page(web: Browser, tenant: Tenant) -> None:
    acc = _api_create(web.client, tenant)
    web.login(tenant)
    web.post(f"/settings/channels/{acc['id']}/toggle", {"is_active": "true"})
    web.post(
        f"/settings/channels/{acc['id']}/edit",
        {"name": "Renamed bot", "settings.bot_token": "", "settings.bot_username": ""},
    )
    page = web.get(f"/settings/channels/{acc['id']}/edit").text
    trail = page[page.index('data-testid="audit-trail"') :]
    assert trail.index("Updated") < trail.index("Activated") < trail.index("Created")
    assert "<code>name</code>: Support bot → Renamed bot" in trail
    assert "<code>is_active</code>: off → on" in trail
    assert trail.count(f"by {tenant.email}") == 3
    assert TG_TOKEN not in page


def test_members_are_read_only(web: Browser, tenant: Tenant, member_of: Any) -> None:
    acc = _api_create(web.client, tenant)
    member = member_of(tenant)
    web.login(member)
    index = web.get("/settings/channels").text
    assert 'href="/settings/channels/new"' not in index
    table = web.fragment().text
    assert "Support bot" in table
    assert "/toggle" not in table
    assert "/delete" not in table
    assert ">View<" in table
    details = web.get(f"/settings/channels/{acc['id']}/edit")
    assert details.status_code == 200
    assert "Channel details" in details.text
    assert "<fieldset disabled>" in details.text
    assert "Save changes" not in details.text
    # Forged POSTs (valid CSRF token, missing permission) are refused.
    assert web.get("/settings/channels/new").status_code == 403
    assert web.get(f"/settings/channels/{acc['id']}/delete").status_code == 403
    assert (
        web.post("/settings/channels/new/telegram", {"name": "x", "settings.bot_token": TG_TOKEN}).status_code
        == 403
    )
    assert web.post(f"/settings/channels/{acc['id']}/toggle", {"is_active": "true"}).status_code == 403
    assert web.post(f"/settings/channels/{acc['id']}/edit", {"name": "Mine now"}).status_code == 403
    r = web.post(f"/settings/channels/{acc['id']}/delete")
    assert r.status_code == 403
    assert "channels.manage" in r.text
    after = web.client.get(f"{API}/{acc['id']}", headers=tenant.headers).json()
    assert (after["name"], after["is_active"]) == ("Support bot", False)


def test_another_tenants_channel_is_404(web: Browser, make_tenant: Any) -> None:
    alice, bob = make_tenant("Alice Co"), make_tenant("Bob Co")
    acc = _api_create(web.client, alice)
    web.login(bob)
    assert "Support bot" not in web.fragment().text
    base = f"/settings/channels/{acc['id']}"
    for url in (f"{base}/edit", f"{base}/delete"):
        r = web.get(url)
        assert r.status_code == 404
        assert "Channel account not found." in r.text
    for url in (f"{base}/edit", f"{base}/toggle", f"{base}/delete"):
        assert web.post(url, {"name": "x", "is_active": "true"}).status_code == 404
    assert web.get(f"/settings/channels/{uuid.uuid4()}/edit").status_code == 404
    assert web.get("/settings/channels/not-a-uuid/edit").status_code == 404
    after = web.client.get(f"{API}/{acc['id']}", headers=alice.headers).json()
    assert (after["name"], after["is_active"]) == ("Support bot", False)


def test_toggle_by_fetch_returns_the_new_row(web: Browser, tenant: Tenant) -> None:
    acc = _api_create(web.client, tenant)
    web.login(tenant)
    r = web.client.post(
        f"/settings/channels/{acc['id']}/toggle",
        data={"is_active": "true", "csrf_token": web.csrf},
        headers={"X-Requested-With": "fetch"},
    )
    assert r.status_code == 200
    assert r.text.lstrip().startswith(f'<tr id="channel-{acc["id"]}"')
    assert ">Active<" in r.text
    assert csrf_from(r.text) == web.csrf


def test_platform_admin_sees_every_organization(
    web: Browser, make_tenant: Any, platform_admin: Tenant
) -> None:
    a, b = make_tenant("Alpha Org"), make_tenant("Beta Org")
    _api_create(web.client, a, name="Alpha bot")
    acc = _api_create(web.client, b, name="Beta bot")
    web.login(platform_admin)
    table = web.fragment().text
    assert "Alpha bot" in table
    assert "Beta Org" in table
    r = web.post(f"/settings/channels/{acc['id']}/toggle", {"is_active": "true"})
    assert r.status_code == 303
    assert web.client.get(f"{API}/{acc['id']}", headers=b.headers).json()["is_active"] is True


def test_byom_gated_types_are_locked_until_allowed(web: Browser, make_tenant: Any, db: Any) -> None:
    t = make_tenant()
    web.login(t)
    chooser = web.get("/settings/channels/new").text
    assert 'href="/settings/channels/new/telegram"' in chooser
    assert 'href="/settings/channels/new/whatsapp_lite"' not in chooser
    assert "Bring-your-own whatsapp is not enabled for your organization" in chooser
    r = web.get("/settings/channels/new/whatsapp_lite")
    assert r.status_code == 403
    assert "byom_allowed.whatsapp is off" in r.text
    # The service refuses the save too, whatever the page showed.
    r = web.post("/settings/channels/new/whatsapp_lite", WA)
    assert r.status_code == 403
    assert _accounts(web.client, t) == []
    allow_byom(db, t.organization_id)
    assert 'href="/settings/channels/new/whatsapp_lite"' in web.get("/settings/channels/new").text
    assert web.post("/settings/channels/new/whatsapp_lite", WA).status_code == 303


def test_unexpected_errors_render_a_page_and_roll_back(
    web: Browser, tenant: Tenant, monkeypatch: pytest.MonkeyPatch, log_lines: Any
) -> None:
    web.login(tenant)
    svc = web.client.app.state.channel_accounts  # type: ignore[attr-defined]

    async def boom(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(svc, "list_accounts", boom)
    r = web.fragment()
    assert r.status_code == 500
    assert "An unexpected error occurred." in r.text
    assert "database on fire" not in r.text  # the cause goes to the log, not the browser
    assert "database on fire" in log_lines.text
    page = web.get("/settings/channels/table")
    assert page.status_code == 500
    assert "<html" in page.text
