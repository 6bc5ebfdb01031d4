"""`SWITCHBOARD_PROVIDER_MODE=sandbox` (the default of `make run`): the emulators are mounted in the
service itself under /sandbox/<provider> and the flows reach them over real HTTP, so a newcomer can
connect Messenger and pair WhatsApp Lite offline."""

from __future__ import annotations

import re
from typing import Any

import httpx2 as httpx

from tests.support.oauth_env import consent
from tests.support.sandbox_server import SandboxServer, login
from tests.support.tenants import Tenant
from tests.support.web import allow_byom, csrf_from


def test_messenger_and_whatsapp_lite_connect_offline_in_sandbox_mode(
    sandbox_server: SandboxServer, tenant: Tenant, db: Any
) -> None:
    base = sandbox_server.url
    allow_byom(db, tenant.organization_id)
    browser = login(base, tenant)
    csrf = csrf_from(browser.get("/settings/channels/new/messenger").text)
    r = browser.post("/oauth/messenger/start", data={"csrf_token": csrf, "name": "Sandbox FB"})
    assert r.status_code == 303
    assert r.headers["location"].startswith(f"{base}/sandbox/meta/v21.0/dialog/oauth?")
    r = browser.get(consent(r.headers["location"]))
    assert r.status_code == 303, r.text
    select_url = r.headers["location"]
    choice = re.findall(r'name="choice" value="([^"]+)"', browser.get(select_url).text)[0]
    assert browser.post(select_url, data={"csrf_token": csrf, "choice": choice}).status_code == 303

    r = browser.post(
        "/settings/channels/new/whatsapp_lite",
        data={
            "csrf_token": csrf,
            "name": "Sandbox Lite",
            "settings.sender_id": "S",
            "settings.phone_number": "+14155550140",
        },
    )
    assert r.status_code == 303
    page = browser.get(r.headers["location"]).text
    assert "Sandbox" in page
    phone = re.search(r'href="([^"]+/phone)"', page).group(1)  # type: ignore[union-attr]
    assert "Simulate scan" in httpx.get(phone).text
    assert "Paired" in httpx.post(phone).text  # the sandbox phone's "Simulate scan" button
    status = browser.get(r.headers["location"] + "/status").json()
    assert status["status"] == "paired"

    api = httpx.get(f"{base}/rest/v1/channel_accounts", headers=tenant.headers).json()["items"]
    assert {a["name"]: a["connection_status"] for a in api} == {
        "Sandbox FB": "connected",
        "Sandbox Lite": "connected",
    }
