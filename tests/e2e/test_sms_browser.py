"""SMS in real headless Chromium: the add-number wizard with a new number and an agent, compliance
filled and saved in the settings accordions, the SMS table sorted and switched on; and the wizard's
"Use my number" with the code read from the sandbox outbox."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from switchboard.models import Agent, KnowledgeBase, Workspace
from switchboard.sms.provider import SANDBOX_OUTBOX
from tests.sms.conftest import complete_compliance
from tests.support.tenants import Tenant
from tests.support.web import allow_byom

pytestmark = pytest.mark.browser

Shot = Callable[[str], Path]


def sign_in(page: Page, who: Tenant, path: str = "/settings/channels") -> None:
    page.goto(path)
    page.get_by_label("E-mail").fill(who.email)
    page.get_by_label("Password").fill(who.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))


def destination(db: Any, t: Tenant, workspace: str, kb: str | None, agent: str) -> dict[str, str]:
    """A workspace (the Default one or a new one) with a knowledge base and an agent."""

    async def go(session: Any) -> dict[str, str]:
        from sqlalchemy import select

        ws = await session.scalar(
            select(Workspace).where(
                Workspace.organization_id == t.organization_id, Workspace.name == workspace
            )
        )
        if ws is None:
            ws = Workspace(id=uuid.uuid4(), organization_id=t.organization_id, name=workspace)
            session.add(ws)
            await session.flush()
        kb_row = None
        if kb:
            kb_row = KnowledgeBase(
                id=uuid.uuid4(), organization_id=t.organization_id, workspace_id=ws.id, name=kb
            )
            session.add(kb_row)
            await session.flush()
        a = Agent(
            id=uuid.uuid4(),
            organization_id=t.organization_id,
            workspace_id=ws.id,
            knowledge_base_id=kb_row.id if kb_row else None,
            name=agent,
        )
        session.add(a)
        return {"workspace_id": str(ws.id), "agent_id": str(a.id)}

    result: dict[str, str] = db.session(go)
    return result


def sms_rows(page: Page) -> Locator:
    return page.get_by_test_id("sms-table").locator("tbody tr")


def phone_order(page: Page) -> list[str]:
    expect(page.locator("#sms-channels .js-loading")).to_be_hidden()
    return [r.get_attribute("data-name") or "" for r in sms_rows(page).all()]


def open_section(page: Page, key: str) -> None:
    button = page.get_by_test_id(f"section-{key}").locator(".accordion-button")
    if button.get_attribute("aria-expanded") != "true":
        button.click()
    expect(page.locator(f"#acc-{key}")).to_be_visible()


def fill_compliance(page: Page) -> None:
    data = complete_compliance("Acme Widgets")
    brand, campaign = data["brand"], data["campaign"]
    open_section(page, "brand")
    page.get_by_label("Legal entity type").select_option(brand["entity"])
    page.get_by_label("Brand type").select_option(brand["brandType"])
    page.get_by_label("Industry (vertical)").select_option(brand["vertical"])
    for label, key in [
        ("Brand display name", "displayName"),
        ("Legal company name", "companyName"),
        ("Registration number (EIN / tax ID)", "registrationNumber"),
        ("Contact phone", "contactPhone"),
        ("Contact email", "contactEmail"),
        ("Website", "website"),
        ("Street address", "address"),
        ("City", "city"),
        ("State / region", "state"),
        ("ZIP / postal code", "zipCode"),
        ("Country (ISO code, e.g. US)", "country"),
    ]:
        page.get_by_label(label, exact=True).fill(brand[key])
    open_section(page, "usecase")
    page.get_by_label("Use case").select_option(campaign["useCaseType"])
    page.get_by_label("Campaign description").fill(campaign["campaignDescription"])
    page.get_by_label("Message flow: how recipients give consent").fill(campaign["messageFlow"])
    page.get_by_label("Privacy policy URL").fill(campaign["privacyPolicyUrl"])
    open_section(page, "samples")
    for i, sample in enumerate(campaign["messageSamples"]):
        page.get_by_label(f"Sample message {i + 1}", exact=True).fill(sample)
    open_section(page, "keywords")
    page.get_by_label("Opt-in keywords").fill("START")
    page.get_by_label("Opt-in confirmation message").fill(campaign["optInMessage"])
    page.get_by_label("Opt-out keywords").fill("STOP, END")
    page.get_by_label("Opt-out confirmation message").fill(campaign["optOutMessage"])
    page.get_by_label("Help keywords").fill("HELP")
    page.get_by_label("Help message").fill(campaign["helpMessage"])
    open_section(page, "attributes")
    for label in (
        "Number pooling",
        "Direct lending",
        "Messages contain links",
        "Messages contain phone numbers",
        "Age-gated content",
    ):
        page.get_by_label(label, exact=True).select_option("no")
    page.get_by_label("I accept the terms and conditions").check()


def test_wizard_new_number_compliance_sort_and_active(
    page: Page, make_tenant: Callable[..., Tenant], db: Any, live_server: str, screenshot: Shot
) -> None:
    tenant = make_tenant("Acme")
    mine = destination(db, tenant, "Default", "Returns KB", "Ava")
    sign_in(page, tenant)

    # Channels -> SMS tab: the empty state.
    page.get_by_test_id("channel-tabs").get_by_role("link", name="SMS").click()
    expect(page).to_have_url(re.compile(r"/settings/channels/sms$"))
    expect(page.get_by_text("No SMS numbers yet")).to_be_visible()
    screenshot("1-empty")

    # The wizard: Step 2 name, Step 3 connect (new number), Step 4 skipped, Step 5 destination.
    page.get_by_role("link", name="Add SMS number").first.click()
    expect(page.get_by_role("heading", name="Step 2 · Name")).to_be_visible()
    page.get_by_label("Channel name").fill("Front desk")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", name="Step 3 · Connect")).to_be_visible()
    expect(page.get_by_role("tab", name="Get a new number")).to_have_attribute("aria-selected", "true")
    page.get_by_label("Country code").select_option("US")
    page.get_by_label("Area code").fill("415")
    page.get_by_role("button", name="Search").click()
    numbers = page.get_by_test_id("number-select")
    expect(numbers.locator("option").first).to_contain_text("+14155550100")
    expect(numbers).to_contain_text("1.15 USD/month")
    numbers.select_option("+14155550101")
    screenshot("2-connect")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", name=re.compile("Step 4"))).to_be_visible()
    expect(page.get_by_test_id("number-chip").first).to_have_text("+14155550101")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", name="Step 5 · Destination")).to_be_visible()
    chip = page.locator("section[data-step='5']").get_by_test_id("number-chip")
    expect(chip).to_have_text("+14155550101")
    expect(page.get_by_label("Knowledge base")).to_have_value("")
    page.get_by_label("Agent").select_option(label="Ava")
    expect(page.get_by_label("Knowledge base")).to_have_value("Returns KB")
    expect(page.get_by_label("Knowledge base")).to_have_attribute("readonly", "")
    screenshot("3-destination")
    page.get_by_role("button", name="Connect number").click()

    # The connection settings page: compliance in accordions, saved, with completion markers.
    expect(page.get_by_role("heading", name="Connection settings")).to_be_visible()
    expect(page.get_by_text("+14155550101 is connected.")).to_be_visible()
    expect(page.get_by_test_id("registration-badge")).to_have_text("Draft — not submitted")
    expect(page.get_by_test_id("marker-brand")).to_have_text("Not started")
    fill_compliance(page)
    screenshot("4-compliance-filled")
    page.get_by_role("button", name="Save compliance").click()
    expect(page.get_by_text("Compliance details saved.")).to_be_visible()
    for key in ("brand", "usecase", "samples", "keywords", "attributes"):
        expect(page.get_by_test_id(f"marker-{key}")).to_have_text("✓ Complete")
    expect(page.get_by_test_id("precheck-ok")).to_be_visible()
    screenshot("5-compliance-saved")
    with httpx.Client(base_url=live_server, headers=tenant.headers, timeout=10) as api:
        conn = api.get("/channels/sms/connections").json()["items"][0]
        saved = api.get(f"/channels/sms/connections/{conn['id']}/compliance").json()
        assert saved["compliance"]["brand"]["registrationNumber"] == "12-3456789"
        assert saved["ready_to_submit"] is True
        # Two more numbers in other workspaces, to sort.
        for ws, kb, agent, phone in (
            ("alpha", "Zulu KB", "Bo", "+12125550101"),
            ("Charlie", "Alpha KB", "Cy", "+13125550101"),
        ):
            d = destination(db, tenant, ws, kb, agent)
            r = api.post("/channels/sms/connect", json={"mode": "new", "phone_number": phone, **d})
            assert r.status_code == 201, r.text

    # The SMS table: sort by phone number, workspace and knowledge base.
    page.goto("/settings/channels/sms")
    assert phone_order(page) == ["+12125550101", "+13125550101", "+14155550101"]
    expect(sms_rows(page).first.get_by_test_id("registration-badge")).to_have_text(
        "10DLC: Draft — not submitted"
    )
    page.get_by_test_id("sort-workspace").click()
    assert phone_order(page) == ["+12125550101", "+13125550101", "+14155550101"]  # alpha, Charlie, Default
    page.get_by_test_id("sort-workspace").click()
    assert phone_order(page) == ["+14155550101", "+13125550101", "+12125550101"]
    expect(page.get_by_role("columnheader", name=re.compile("Workspace"))).to_have_attribute(
        "aria-sort", "descending"
    )
    page.get_by_test_id("sort-knowledge_base").click()
    assert phone_order(page) == ["+13125550101", "+14155550101", "+12125550101"]  # Alpha, Returns, Zulu
    screenshot("6-sorted")

    # The Active switch saves in place, and stays after a reload.
    row = page.locator("tr[data-name='+14155550101']")
    switch = row.get_by_role("switch", name="Active: +14155550101")
    expect(switch).not_to_be_checked()
    switch.click()
    expect(page.get_by_text("is now active")).to_be_visible()
    expect(page.locator("tr[data-name='+14155550101']").get_by_role("switch")).to_be_checked()
    screenshot("7-active")
    page.reload()
    expect(page.locator("tr[data-name='+14155550101']").get_by_role("switch")).to_be_checked()
    with httpx.Client(base_url=live_server, headers=tenant.headers, timeout=10) as api:
        account = api.get(f"/rest/v1/channel_accounts/{conn['channel_account_id']}").json()
    assert account["is_active"] is True
    assert account["name"] == "Front desk"
    assert mine["agent_id"] == conn["agent"]["id"]

    # Before a send: the live segment count, the encoding and the characters that force UCS-2.
    page.locator("tr[data-name='+14155550101']").get_by_role("link", name="Edit").click()
    page.get_by_label("To", exact=True).fill("+14155552671")
    page.get_by_label("Message", exact=True).fill("Merci ç, see https://shop.example.com/sale")
    expect(page.get_by_test_id("segment-info")).to_have_text("UCS-2 · 1 segment · 42 characters")
    expect(page.get_by_test_id("ucs2-chars")).to_have_text("Characters that force UCS-2: ç")
    screenshot("8-compose")
    page.get_by_role("button", name="Send test message").click()
    expect(page.get_by_test_id("sent")).to_contain_text("Sent (delivered)")
    expect(page.get_by_test_id("sent")).to_contain_text(f"see {live_server}/s/")  # the link, shortened
    short = re.search(r"/s/(\w+)", page.get_by_test_id("sent").inner_text())
    assert short
    with httpx.Client(base_url=live_server, timeout=10) as anyone:
        clicked = anyone.get(f"/s/{short.group(1)}")
    assert (clicked.status_code, clicked.headers["location"]) == (302, "https://shop.example.com/sale")


def test_wizard_use_my_number(
    page: Page, make_tenant: Callable[..., Tenant], db: Any, live_server: str, screenshot: Shot
) -> None:
    tenant = make_tenant("Own Numbers Ltd")
    allow_byom(db, tenant.organization_id)
    destination(db, tenant, "Default", "FAQ", "Ava")
    sign_in(page, tenant, "/settings/channels/sms/new")
    page.get_by_role("button", name="Next").click()
    page.get_by_role("tab", name="Use my number").click()
    expect(page.get_by_role("tab", name="Use my number")).to_have_attribute("aria-selected", "true")
    page.get_by_label("Your number").fill("+14155551234")
    page.get_by_role("button", name="Send code").click()
    expect(page.get_by_test_id("verify-status")).to_contain_text("A code is on its way to +14155551234")
    code = next(m for m in reversed(SANDBOX_OUTBOX) if m.to == "+14155551234").body.split("code is ")[1][:6]
    page.get_by_label("Code", exact=True).fill(code)
    screenshot("1-code")
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Next").click()
    expect(page.locator("section[data-step='5']").get_by_test_id("number-chip")).to_have_text("+14155551234")
    # The agent is required: submitting without one keeps you here with the reason.
    page.get_by_role("button", name="Connect number").click()
    expect(page.get_by_test_id("error-agent_id")).to_be_visible()
    expect(page.get_by_role("heading", name="Step 5 · Destination")).to_be_visible()
    # The refused attempt did not use the code up: it still works (typed again, as the form is new).
    page.get_by_label("Agent").select_option(label="Ava")
    expect(page.get_by_label("Knowledge base")).to_have_value("FAQ")
    page.get_by_role("button", name="Back").click()
    page.get_by_role("button", name="Back").click()
    page.get_by_label("Code", exact=True).fill(code)
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Next").click()
    screenshot("2-destination")
    page.get_by_role("button", name="Connect number").click()
    expect(page.get_by_role("heading", name="Connection settings")).to_be_visible()
    expect(page.get_by_text("Your own number")).to_be_visible()
    screenshot("3-connected")
    with httpx.Client(base_url=live_server, headers=tenant.headers, timeout=10) as api:
        [conn] = api.get("/channels/sms/connections").json()["items"]
    assert (conn["phone_number"], conn["mode"], conn["byon_method"]) == ("+14155551234", "byon", "code")
    assert conn["knowledge_base"]["name"] == "FAQ"
