"""Test connection and the connection log on a channel's edit page."""

from __future__ import annotations

from fastapi.testclient import TestClient

from switchboard.sandbox.telegram import TelegramSandbox
from tests.support.channel_accounts import create_account
from tests.support.tenants import Tenant
from tests.support.web import Browser

TOKEN = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"


def test_test_connection_button_updates_status_and_log(
    client: TestClient, tenant: Tenant, telegram: TelegramSandbox
) -> None:
    account = create_account(client, tenant, "TELEGRAM", {"bot_token": TOKEN})
    web = Browser(client)
    web.login(tenant)
    edit = f"/settings/channels/{account['id']}/edit"
    page = web.get(edit).text
    assert 'data-testid="test-connection"' in page
    assert "No connection attempts yet." in page

    r = web.post(f"/settings/channels/{account['id']}/test", {"action": "test"})
    assert (r.status_code, r.headers["location"]) == (303, edit)
    page = web.get(edit).text
    assert "Connected" in page
    assert 'data-testid="connection-log"' in page
    assert "Connection status changed" in page  # the audit trail says it in words

    telegram.revoke(TOKEN)
    web.post(f"/settings/channels/{account['id']}/test", {"action": "test"})
    page = web.get(edit).text
    assert "reauthorization required" in page
    assert "needs_action (token_revoked): Telegram getMe: Unauthorized" in page
    assert 'data-testid="reconnect"' in page  # disconnected: Reconnect runs the connect flow again


def test_test_connection_needs_the_csrf_token(
    client: TestClient, tenant: Tenant, telegram: TelegramSandbox
) -> None:
    account = create_account(client, tenant, "TELEGRAM", {"bot_token": TOKEN})
    web = Browser(client)
    web.login(tenant)
    r = web.post(f"/settings/channels/{account['id']}/test", {"action": "test"}, csrf="forged")
    assert r.status_code == 403
    assert TOKEN not in telegram.bots
