"""Offline (`make run`, sandbox mode): deleting a channel undoes its registration at the in-process
emulators just as it does at the real providers. The Telegram bot's webhook is deleted, the LinkedIn
organization's event subscription removed, the Messenger Page unsubscribed from the sandbox app, as
each emulator's own page shows."""

from __future__ import annotations

import re
from typing import Any

import httpx2 as httpx

from tests.support.oauth_env import consent
from tests.support.sandbox_server import SandboxServer, login
from tests.support.tenants import Tenant
from tests.support.web import csrf_from

API = "/rest/v1/channel_accounts"
TOKEN = "7654321:sandbox-release-token_0123456789abc"


def _oauth(browser: httpx.Client, type_key: str, name: str) -> None:
    csrf = csrf_from(browser.get(f"/settings/channels/new/{type_key}").text)
    r = browser.post(f"/oauth/{type_key}/start", data={"csrf_token": csrf, "name": name})
    assert r.status_code == 303, r.text
    r = browser.get(consent(r.headers["location"]))
    assert r.status_code == 303, r.text
    select_url = r.headers["location"]
    choice = re.findall(r'name="choice" value="([^"]+)"', browser.get(select_url).text)[0]
    assert browser.post(select_url, data={"csrf_token": csrf, "choice": choice}).status_code == 303


def _delete_from_page(browser: httpx.Client, account_id: str) -> None:
    """Settings -> Channels -> Delete, confirmed."""
    csrf = csrf_from(browser.get(f"/settings/channels/{account_id}/delete").text)
    r = browser.post(f"/settings/channels/{account_id}/delete", data={"csrf_token": csrf})
    assert r.status_code == 303, r.text


def _released(api: httpx.Client, account_id: str) -> Any:
    assert api.get(f"{API}/{account_id}").status_code == 404
    return api.get(f"{API}/{account_id}/audit").json()[0]["after"]


def test_deleting_channels_offline_releases_their_registrations(
    sandbox_server: SandboxServer, tenant: Tenant, db: Any
) -> None:
    base = sandbox_server.url
    browser = login(base, tenant)
    api = httpx.Client(base_url=base, headers=tenant.headers, timeout=15)
    try:
        # Telegram: Test connection sets the webhook, deleting deletes it.
        r = api.post(API, json={"name": "Offline bot", "type": "TELEGRAM", "settings": {"bot_token": TOKEN}})
        assert r.status_code == 201, r.text
        bot_id = r.json()["id"]
        assert api.post(f"{API}/{bot_id}/test").json()["ok"] is True
        assert f"/webhooks/{bot_id}" in httpx.get(f"{base}/sandbox/telegram/").text
        _delete_from_page(browser, bot_id)
        assert _released(api, bot_id) == {"provider_release": "done"}
        assert "webhook not set" in httpx.get(f"{base}/sandbox/telegram/").text

        # LinkedIn: connecting subscribes the organization, deleting removes the subscription.
        _oauth(browser, "linkedin", "Offline LI")
        [li] = api.get(API).json()["items"]
        org = li["settings"]["organization_urn"]
        assert f"<code>{org}</code> by" in httpx.get(f"{base}/sandbox/linkedin/").text
        _delete_from_page(browser, li["id"])
        assert _released(api, li["id"]) == {"provider_release": "done"}
        assert f"<code>{org}</code> by" not in httpx.get(f"{base}/sandbox/linkedin/").text

        # Messenger: connecting subscribes the Page to the sandbox app, deleting unsubscribes it.
        _oauth(browser, "messenger", "Offline FB")
        [fb] = api.get(API).json()["items"]
        page_id = fb["settings"]["page_id"]
        listing = httpx.get(f"{base}/sandbox/meta/").text
        assert re.search(rf'data-testid="subscription-{page_id}">Webhooks: subscribed to', listing)
        _delete_from_page(browser, fb["id"])
        assert _released(api, fb["id"]) == {"provider_release": "done"}
        listing = httpx.get(f"{base}/sandbox/meta/").text
        assert re.search(rf'data-testid="subscription-{page_id}">Webhooks: not subscribed', listing)
    finally:
        browser.close()
        api.close()
