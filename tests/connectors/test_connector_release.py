"""Deleting a channel undoes what connecting registered at the provider (Telegram's webhook,
ShrinkIt's receipt webhook), so its events stop arriving for nobody. It is best effort: a provider
that fails, cannot be reached or does not answer never keeps the channel; the audit entry of the
deletion says how it went and the log names ids, kind and code, never a secret."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from switchboard.channels.service import ChannelAccountService
from switchboard.core.config import Settings
from switchboard.sandbox.shrinkit import ShrinkItSandbox
from switchboard.sandbox.telegram import TelegramSandbox
from tests.support.channel_accounts import URL, check_now, create_account
from tests.support.emulator_server import free_port
from tests.support.tenants import Tenant

TOKEN = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"


def _connected(client: TestClient, tenant: Tenant, type_: str, settings: dict[str, Any]) -> str:
    account = create_account(client, tenant, type_, settings)
    assert check_now(client, tenant, account["id"])["connection_status"] == "connected"
    return str(account["id"])


def _delete(client: TestClient, tenant: Tenant, account_id: str) -> dict[str, Any]:
    """DELETE through the API; the account is gone; returns the deletion's audit entry."""
    assert client.delete(f"{URL}/{account_id}", headers=tenant.headers).status_code == 204
    assert client.get(f"{URL}/{account_id}", headers=tenant.headers).status_code == 404
    trail = client.get(f"{URL}/{account_id}/audit", headers=tenant.headers).json()
    assert trail[0]["action"] == "channel_account.deleted"
    return dict(trail[0])


def _release_logs(logs: Any, account_id: str) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in logs.lines]
    return [r for r in rows if r.get("channel_account_id") == account_id and "release" in r["message"]]


def test_deleting_a_telegram_channel_deletes_its_webhook(
    client: TestClient, tenant: Tenant, telegram: TelegramSandbox
) -> None:
    account_id = _connected(client, tenant, "TELEGRAM", {"bot_token": TOKEN})
    bot = telegram.bots[TOKEN]
    assert bot.webhook_url == f"http://testserver/webhooks/{account_id}"

    entry = _delete(client, tenant, account_id)
    assert entry["after"] == {"provider_release": "done"}
    assert (bot.webhook_url, bot.secret_token) == ("", "")


def test_a_bot_connected_again_as_another_channel_keeps_its_webhook(
    client: TestClient, tenant: Tenant, telegram: TelegramSandbox
) -> None:
    """A bot has one webhook: the channel it points at now is not the one being deleted."""
    old = _connected(client, tenant, "TELEGRAM", {"bot_token": TOKEN})
    new = _connected(client, tenant, "TELEGRAM", {"bot_token": TOKEN})
    assert _delete(client, tenant, old)["after"] == {"provider_release": "not needed"}
    assert telegram.bots[TOKEN].webhook_url == f"http://testserver/webhooks/{new}"
    assert _delete(client, tenant, new)["after"] == {"provider_release": "done"}
    assert telegram.bots[TOKEN].webhook_url == ""


def test_a_channel_never_connected_calls_nobody(
    client: TestClient, tenant: Tenant, telegram: TelegramSandbox
) -> None:
    account = create_account(client, tenant, "TELEGRAM", {"bot_token": TOKEN})
    telegram.fail_next.append(502)  # would be consumed by any call
    assert _delete(client, tenant, account["id"])["after"] == {"provider_release": "not needed"}
    assert telegram.fail_next == [502]


def test_a_provider_error_still_deletes_and_is_recorded(
    client: TestClient, tenant: Tenant, telegram: TelegramSandbox, log_lines: Any
) -> None:
    account_id = _connected(client, tenant, "TELEGRAM", {"bot_token": TOKEN})
    telegram.fail_next.append(502)

    entry = _delete(client, tenant, account_id)
    assert entry["after"] == {"provider_release": "failed: telegram_502"}
    # Telegram still posts to the old URL: the trail says so, and nothing else was kept.
    assert telegram.bots[TOKEN].webhook_url.endswith(account_id)
    [logged] = _release_logs(log_lines, account_id)
    assert logged["message"] == "provider release failed"
    assert (logged["channel_type"], logged["error_kind"], logged["error_code"]) == (
        "TELEGRAM",
        "transient",
        "telegram_502",
    )
    assert logged["organization_id"] == str(tenant.organization_id)
    assert TOKEN not in log_lines.text
    assert TOKEN.split(":")[1] not in json.dumps(entry)


def test_an_unreachable_provider_still_deletes(
    client: TestClient,
    tenant: Tenant,
    telegram: TelegramSandbox,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    log_lines: Any,
) -> None:
    account_id = _connected(client, tenant, "TELEGRAM", {"bot_token": TOKEN})
    monkeypatch.setattr(settings, "telegram_base_url", f"http://127.0.0.1:{free_port()}")
    assert _delete(client, tenant, account_id)["after"] == {"provider_release": "failed: unreachable"}
    assert TOKEN not in log_lines.text


@pytest.fixture
def silent_provider() -> Iterator[str]:
    """A provider that accepts connections and never answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


def test_a_provider_that_does_not_answer_does_not_hold_the_deletion(
    client: TestClient,
    tenant: Tenant,
    telegram: TelegramSandbox,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    silent_provider: str,
) -> None:
    account_id = _connected(client, tenant, "TELEGRAM", {"bot_token": TOKEN})
    service: ChannelAccountService = client.app.state.channel_accounts  # type: ignore[attr-defined]
    monkeypatch.setattr(service, "release_timeout", 0.5)
    monkeypatch.setattr(settings, "telegram_base_url", silent_provider)
    assert _delete(client, tenant, account_id)["after"] == {"provider_release": "failed: timeout"}


def test_deleting_a_shrinkit_channel_removes_its_receipt_webhook(
    client: TestClient, tenant: Tenant, shrinkit: ShrinkItSandbox
) -> None:
    settings = {"app_id": "com.acme.app", "api_key": "sk_live_123"}
    account_id = _connected(client, tenant, "SHRINKIT_PUSH", settings)
    app = shrinkit.apps["com.acme.app"]
    assert app.webhook_url == f"http://testserver/webhooks/{account_id}"
    assert _delete(client, tenant, account_id)["after"] == {"provider_release": "done"}
    assert (app.webhook_url, app.webhook_secret) == ("", "")


def test_a_shrinkit_app_another_channel_uses_keeps_its_webhook(
    client: TestClient, tenant: Tenant, shrinkit: ShrinkItSandbox
) -> None:
    settings = {"app_id": "com.acme.app", "api_key": "sk_live_123"}
    first = _connected(client, tenant, "SHRINKIT_PUSH", settings)
    second = _connected(client, tenant, "SHRINKIT_PUSH", settings)
    app = shrinkit.apps["com.acme.app"]
    assert _delete(client, tenant, first)["after"] == {"provider_release": "not needed"}
    assert app.webhook_url == f"http://testserver/webhooks/{second}"
    assert _delete(client, tenant, second)["after"] == {"provider_release": "done"}
    assert app.webhook_url == ""


def test_types_without_a_registration_record_not_needed(client: TestClient, tenant: Tenant) -> None:
    account = create_account(
        client, tenant, "WEB_PUSH", {"site_url": "https://shop.example.com", "vapid_subject": "mailto:a@b.co"}
    )
    assert _delete(client, tenant, account["id"])["after"] == {"provider_release": "not needed"}
