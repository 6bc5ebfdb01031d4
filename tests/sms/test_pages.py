"""The SMS pages without a browser: the tab and its states, the wizard (both modes, errors), the
settings page (compliance accordions, locking, registration wording, test send)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from switchboard.sms.provider import SANDBOX_OUTBOX, SandboxSmsProvider
from tests.sms.conftest import Destination, complete_compliance
from tests.support.tenants import Tenant
from tests.support.web import FETCH, Browser

PHONE = "+14155550101"


@pytest.fixture
def browser(client: TestClient) -> Iterator[Browser]:
    b = Browser(client)
    yield b
    client.cookies.clear()


def flat_form(payload: dict[str, Any]) -> dict[str, Any]:
    """A compliance payload as the settings form posts it."""
    form: dict[str, Any] = {}
    for section, values in payload.items():
        for name, value in values.items():
            key = f"{section}.{name}"
            if isinstance(value, bool):
                if name == "termsAndConditions":
                    if value:
                        form[key] = "true"
                else:
                    form[key] = "yes" if value else "no"
            elif isinstance(value, list):
                form[key] = value if name == "messageSamples" else ", ".join(value)
            elif value is not None:
                form[key] = value
    return form


def test_sms_tab_empty_state_and_navigation(client: TestClient, tenant: Tenant, browser: Browser) -> None:
    browser.login(tenant)
    page = browser.get("/settings/channels")
    assert 'href="/settings/channels/sms"' in page.text  # the SMS tab
    page = browser.get("/settings/channels/sms")
    assert page.status_code == 200
    assert "Loading SMS numbers" in page.text
    fragment = browser.fragment("/settings/channels/sms/table")
    assert 'data-testid="sms-empty-state"' in fragment.text
    assert "No SMS numbers yet" in fragment.text
    # Add Channel -> SMS leads to the wizard, even with bring-your-own SMS off.
    choose = browser.get("/settings/channels/new")
    assert 'href="/settings/channels/new/sms"' in choose.text
    r = browser.get("/settings/channels/new/sms", follow_redirects=False)
    assert r.headers["location"] == "/settings/channels/sms/new"


def test_wizard_new_number_end_to_end(
    client: TestClient,
    tenant: Tenant,
    browser: Browser,
    sandbox: SandboxSmsProvider,
    make_destination: Callable[..., Destination],
) -> None:
    dest = make_destination(tenant, kb_name="Returns KB", agent_name="Ava")
    browser.login(tenant)
    page = browser.get("/settings/channels/sms/new")
    assert page.status_code == 200
    for text in (
        "Step 3 · Connect",
        "Get a new number",
        "Use my number",
        "Country code",
        "Area code",
        "Step 5 · Destination",
    ):
        assert text in page.text
    assert 'data-kb="Returns KB"' in page.text
    numbers = browser.client.get("/settings/channels/sms/numbers", params={"area_code": "415"}, headers=FETCH)
    assert 'data-testid="number-select"' in numbers.text
    assert "1.15 USD/month" in numbers.text
    bad = browser.client.get("/settings/channels/sms/numbers", params={"area_code": "41"}, headers=FETCH)
    assert bad.status_code == 422
    assert "area code" in bad.text

    r = browser.post(
        "/settings/channels/sms/new",
        {
            "mode": "new",
            "phone_number": PHONE,
            "workspace_id": dest.workspace_id,
            "agent_id": dest.agent_id,
            "name": "Front desk",
        },
    )
    assert r.status_code == 303, r.text
    settings_url = r.headers["location"]
    page = browser.get(settings_url)
    assert PHONE in page.text
    assert "Draft — not submitted" in page.text
    assert "Returns KB" in page.text
    table = browser.fragment("/settings/channels/sms/table").text
    assert PHONE in table
    assert 'data-testid="sort-workspace"' in table


def test_wizard_errors_are_shown_in_place(
    client: TestClient,
    tenant: Tenant,
    browser: Browser,
    sandbox: SandboxSmsProvider,
    make_destination: Callable[..., Destination],
) -> None:
    dest = make_destination(tenant)
    browser.login(tenant)
    r = browser.post(
        "/settings/channels/sms/new",
        {"mode": "new", "phone_number": PHONE, "workspace_id": dest.workspace_id},
    )
    assert r.status_code == 422
    assert 'data-testid="error-agent_id"' in r.text
    r = browser.post(
        "/settings/channels/sms/new",
        {
            "mode": "new",
            "phone_number": "+14155559999",
            "workspace_id": dest.workspace_id,
            "agent_id": dest.agent_id,
        },
    )
    assert r.status_code == 422
    assert "no longer available" in r.text
    r = browser.post(
        "/settings/channels/sms/new",
        {
            "mode": "new",
            "phone_number": "+447700900101",
            "workspace_id": dest.workspace_id,
            "agent_id": dest.agent_id,
        },
    )
    assert r.status_code == 422
    assert "Compliance restriction" in r.text


def test_wizard_use_my_number(
    client: TestClient,
    tenant: Tenant,
    browser: Browser,
    sandbox: SandboxSmsProvider,
    make_destination: Callable[..., Destination],
    allow_byom: Callable[[Tenant], None],
) -> None:
    dest = make_destination(tenant)
    browser.login(tenant)
    refused = browser.client.post(
        "/settings/channels/sms/verify",
        data={"phone_number": "+14155551234"},
        headers={"X-CSRF-Token": browser.csrf, **FETCH},
    )
    assert refused.status_code == 403
    assert "not enabled" in refused.text
    allow_byom(tenant)
    sent = browser.client.post(
        "/settings/channels/sms/verify",
        data={"phone_number": "+14155551234"},
        headers={"X-CSRF-Token": browser.csrf, **FETCH},
    )
    assert sent.status_code == 200
    assert "A code is on its way" in sent.text
    code = SANDBOX_OUTBOX[-1].body.split("code is ")[1][:6]
    form = {
        "mode": "byon",
        "byon_phone": "+14155551234",
        "workspace_id": dest.workspace_id,
        "agent_id": dest.agent_id,
    }
    wrong = browser.post(
        "/settings/channels/sms/new", form | {"verification_code": "000000" if code != "000000" else "111111"}
    )
    assert wrong.status_code == 422
    assert "attempts left" in wrong.text
    ok = browser.post("/settings/channels/sms/new", form | {"verification_code": code})
    assert ok.status_code == 303, ok.text


def test_settings_page_compliance_markers_locking_and_wording(
    client: TestClient,
    tenant: Tenant,
    browser: Browser,
    sandbox: SandboxSmsProvider,
    make_destination: Callable[..., Destination],
    connect: Callable[..., dict[str, Any]],
    member_of: Callable[[Tenant], Tenant],
) -> None:
    conn = connect(tenant, make_destination(tenant), PHONE)
    url = f"/settings/channels/sms/{conn['id']}"
    browser.login(tenant)
    page = browser.get(url)
    assert page.status_code == 200
    # Empty defaults: "Not started" but for the keywords, where STOP and HELP come prefilled.
    assert len(re.findall(r'data-testid="marker-\w+">Not started', page.text)) == 4
    assert re.search(r'data-testid="marker-keywords">\d to complete', page.text)
    assert 'value="STOP, UNSUBSCRIBE, CANCEL, END, QUIT"' in page.text

    r = browser.post(f"{url}/compliance", flat_form({"brand": complete_compliance()["brand"]}))
    assert r.status_code == 303, r.text
    page = browser.get(url)
    assert re.search(r'data-testid="marker-brand">✓ Complete', page.text)
    assert re.search(r'data-testid="marker-samples">Not started', page.text)

    bad = flat_form(complete_compliance())
    bad["brand.website"] = "acme.example.com"
    r = browser.post(f"{url}/compliance", bad)
    assert r.status_code == 422
    assert "Enter a full web address" in r.text

    assert browser.post(f"{url}/compliance", flat_form(complete_compliance())).status_code == 303
    page = browser.get(url)
    assert 'data-testid="precheck-ok"' in page.text
    r = browser.post(f"{url}/registration")
    assert r.status_code == 303
    page = browser.get(url)
    assert "Submitted — awaiting carrier review" in page.text
    assert "approved" not in page.text.lower().replace("approval is shown here only once", "")
    assert "Approved by carrier" not in page.text
    # Locked: brand inputs disabled, help still editable.
    assert re.search(r'name="brand.companyName"[^>]*disabled', page.text)
    assert not re.search(r'name="campaign.helpMessage"[^>]*disabled', page.text)
    edit = flat_form(complete_compliance())
    edit["campaign.helpMessage"] = "Acme Widgets: write to help@acme-widgets.example.com for help."
    edit["brand.companyName"] = "Ignored Inc"  # a disabled input: the browser would not even send it
    assert browser.post(f"{url}/compliance", edit).status_code == 303
    saved = client.get(f"/channels/sms/connections/{conn['id']}/compliance", headers=tenant.headers).json()
    assert saved["compliance"]["campaign"]["helpMessage"].startswith("Acme Widgets: write to help@")
    assert saved["compliance"]["brand"]["companyName"] == "Acme Widgets Inc"

    member = member_of(tenant)
    browser.login(member)
    page = browser.get(url)
    assert page.status_code == 200
    assert 'name="brand.companyName"' not in page.text
    assert "Brand: ✓ Complete" in page.text


def test_settings_page_test_send_and_segment_counter(
    client: TestClient,
    tenant: Tenant,
    browser: Browser,
    sandbox: SandboxSmsProvider,
    make_destination: Callable[..., Destination],
    connect: Callable[..., dict[str, Any]],
) -> None:
    conn = connect(tenant, make_destination(tenant), PHONE, is_active=True)
    browser.login(tenant)
    counted = browser.client.get("/settings/channels/sms/segments", params={"body": "Ça va ç"}).json()
    assert (counted["encoding"], counted["ucs2_characters"]) == ("UCS-2", ["ç"])
    r = browser.post(
        f"/settings/channels/sms/{conn['id']}/send",
        {"to": "+14155552671", "body": "See https://shop.example.com/x"},
    )
    assert r.status_code == 200
    assert 'data-testid="sent"' in r.text
    assert "/s/" in r.text
    r = browser.post(f"/settings/channels/sms/{conn['id']}/send", {"to": "nope", "body": "hi"})
    assert r.status_code == 422


def test_table_row_actions(
    client: TestClient,
    tenant: Tenant,
    browser: Browser,
    sandbox: SandboxSmsProvider,
    make_destination: Callable[..., Destination],
    connect: Callable[..., dict[str, Any]],
) -> None:
    first = make_destination(tenant, agent_name="Ava")
    second = make_destination(tenant, agent_name="Bo", kb_name="Billing KB")
    conn = connect(tenant, first, PHONE)
    browser.login(tenant)
    row = browser.client.post(
        f"/settings/channels/sms/{conn['id']}/toggle",
        data={"is_active": "true"},
        headers={"X-CSRF-Token": browser.csrf, **FETCH},
    )
    assert row.status_code == 200
    assert "checked" in row.text
    row = browser.client.post(
        f"/settings/channels/sms/{conn['id']}/agent",
        data={"agent_id": second.agent_id},
        headers={"X-CSRF-Token": browser.csrf, **FETCH},
    )
    assert row.status_code == 200
    assert "Billing KB" in row.text
    client.delete(f"/rest/v1/agents/{second.agent_id}", headers=tenant.headers)
    table = browser.fragment("/settings/channels/sms/table").text
    assert 'data-testid="assign-agent"' in table
    assert "Knowledge base cannot be resolved" in table
    r = browser.post(f"/settings/channels/sms/{conn['id']}/delete")
    assert r.status_code == 303
    assert 'data-testid="sms-empty-state"' in browser.fragment("/settings/channels/sms/table").text
    # Without the CSRF token nothing changes.
    assert browser.post(f"/settings/channels/sms/{conn['id']}/delete", csrf="").status_code == 403
