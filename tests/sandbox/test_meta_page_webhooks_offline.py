"""Offline (`make run`, sandbox mode): a connected Messenger Page is subscribed to the sandbox Meta
app, so a customer's message reaches the channel; once a Page admin removes the app (the sandbox's
"Remove the app from this Page"), Meta sends nothing, the periodic check shows the channel
disconnected with the reason, and Test connection subscribes the Page again."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import httpx2 as httpx

from switchboard.core.runtime import Runtime
from switchboard.health.tasks import check_active_accounts
from switchboard.webhooks.service import process_pending
from tests.support.oauth_env import consent
from tests.support.sandbox_server import SandboxServer, login
from tests.support.tenants import Tenant
from tests.support.web import csrf_from
from tests.support.webhook_rows import inbound

API = "/rest/v1/channel_accounts"


def _connect_messenger(base: str, browser: httpx.Client, name: str) -> None:
    csrf = csrf_from(browser.get("/settings/channels/new/messenger").text)
    r = browser.post("/oauth/messenger/start", data={"csrf_token": csrf, "name": name})
    assert r.status_code == 303, r.text
    r = browser.get(consent(r.headers["location"]))
    assert r.status_code == 303, r.text
    select_url = r.headers["location"]
    choice = re.findall(r'name="choice" value="([^"]+)"', browser.get(select_url).text)[0]
    assert browser.post(select_url, data={"csrf_token": csrf, "choice": choice}).status_code == 303


def _write(base: str, page_id: str, text: str) -> httpx.Response:
    return httpx.post(f"{base}/sandbox/meta/simulate/message", json={"to": page_id, "text": text}, timeout=15)


def test_removed_page_subscription_stops_messages_until_test_connection(
    sandbox_server: SandboxServer, tenant: Tenant, db: Any
) -> None:
    base = sandbox_server.url
    meta = sandbox_server.app.state.sandboxes["meta"]
    browser = login(base, tenant)
    api = httpx.Client(base_url=base, headers=tenant.headers, timeout=15)
    try:
        _connect_messenger(base, browser, "Offline FB")
        [account] = api.get(API).json()["items"]
        page_id = account["settings"]["page_id"]
        assert account["connection_status"] == "connected"
        assert api.patch(f"{API}/{account['id']}", json={"is_active": True}).status_code == 200
        listing = httpx.get(f"{base}/sandbox/meta/").text
        assert re.search(rf'data-testid="subscription-{page_id}">Webhooks: subscribed to messages,', listing)

        assert _write(base, page_id, "first").json()["delivered"] is True

        # A Page admin removes the app, from the sandbox page's button.
        gone = httpx.post(f"{base}/sandbox/meta/simulate/unsubscribe", data={"page": page_id})
        assert gone.status_code == 200
        assert "no longer subscribed" in gone.text
        refused = _write(base, page_id, "never sent")
        assert refused.status_code == 409
        assert (refused.json()["delivered"], refused.json()["field"]) == (False, "to")
        assert "has not subscribed the app" in refused.json()["error"]

        async def periodic(rt: Runtime) -> int:
            served = dataclasses.replace(rt, settings=sandbox_server.app.state.runtime.settings)
            return await check_active_accounts(served)

        assert db.run(periodic) == 1
        after = api.get(f"{API}/{account['id']}").json()
        assert after["connection_status"] == "disconnected"
        assert after["status_reason"].startswith("webhooks are no longer subscribed")
        assert (
            "webhooks are no longer subscribed"
            in browser.get(f"/settings/channels/{account['id']}/edit").text
        )

        test = api.post(f"{API}/{account['id']}/test").json()
        assert (test["ok"], test["connection_status"]) == (True, "connected")
        assert _write(base, page_id, "second").json()["delivered"] is True
        db.run(process_pending)
        texts = [m.text for m in inbound(db) if str(m.channel_account_id) == account["id"]]
        assert texts == ["first", "second"]
    finally:
        meta.page_apps.clear()
        browser.close()
        api.close()
