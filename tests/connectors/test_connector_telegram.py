from __future__ import annotations

import asyncio
import json
import uuid
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from switchboard.core.config import Settings
from switchboard.core.runtime import Runtime
from switchboard.sandbox.telegram import TelegramSandbox
from switchboard.webhooks.service import process_pending, webhooks
from tests.support.channel_accounts import URL, check_now, create_account
from tests.support.emulator_server import free_port
from tests.support.tenants import Tenant
from tests.support.webhook_rows import count_events, events, inbound

TOKEN = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"


def _connect(client: TestClient, tenant: Tenant, telegram: TelegramSandbox) -> dict:
    account = create_account(client, tenant, "TELEGRAM", {"bot_token": TOKEN})
    assert account["connection_status"] == "pending"
    result = check_now(client, tenant, account["id"])
    assert result["ok"] is True, result
    return account


def test_connect_registers_the_webhook_with_a_secret_token(
    client: TestClient, tenant: Tenant, telegram: TelegramSandbox
) -> None:
    account = _connect(client, tenant, telegram)
    bot = telegram.bots[TOKEN]
    assert bot.webhook_url == f"http://testserver/webhooks/{account['id']}"
    assert len(bot.secret_token) >= 32
    shown = client.get(f"{URL}/{account['id']}", headers=tenant.headers).json()
    assert shown["connection_status"] == "connected"
    assert shown["settings"]["bot_username"] == "sandbox_123456_bot"
    # The generated secret is in the vault, shown masked only.
    assert bot.secret_token not in str(shown)


def test_verified_update_is_stored_once_and_parsed(
    client: TestClient, tenant: Tenant, telegram: TelegramSandbox, db: object
) -> None:
    account = _connect(client, tenant, telegram)
    bot = telegram.bots[TOKEN]
    update = telegram.update("hello from telegram")
    path = urlsplit(bot.webhook_url).path
    headers = {"X-Telegram-Bot-Api-Secret-Token": bot.secret_token}
    assert client.post(path, json=update, headers=headers).status_code == 200
    assert client.post(path, json=update, headers=headers).status_code == 200  # replayed update_id
    assert count_events(db) == 1
    assert events(db)[0].provider_message_id == str(update["update_id"])
    db.run(process_pending)  # type: ignore[attr-defined]
    [msg] = inbound(db)
    assert (msg.kind, msg.text, msg.sender) == ("message", "hello from telegram", "alice")
    assert str(msg.channel_account_id) == account["id"]


def test_forged_or_missing_secret_token_is_refused_and_nothing_stored(
    client: TestClient, tenant: Tenant, telegram: TelegramSandbox, db: object
) -> None:
    account = _connect(client, tenant, telegram)
    path = f"/webhooks/{account['id']}"
    update = telegram.update("forged")
    forged = client.post(path, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "guess"})
    missing = client.post(path, json=update)
    assert (forged.status_code, missing.status_code) == (401, 401)
    assert forged.json()["error"] == "invalid_signature"
    assert count_events(db) == 0


def test_a_token_in_the_url_is_not_a_credential(
    client: TestClient, tenant: Tenant, telegram: TelegramSandbox, db: object
) -> None:
    account = _connect(client, tenant, telegram)
    secret = telegram.bots[TOKEN].secret_token
    r = client.post(f"/webhooks/{account['id']}?secret_token={secret}", json=telegram.update("x"))
    assert r.status_code == 401
    assert count_events(db) == 0


def test_bad_token_shape_is_refused_before_any_call(client: TestClient, tenant: Tenant) -> None:
    r = client.post(
        URL,
        headers=tenant.headers,
        json={"name": "Bot", "type": "TELEGRAM", "settings": {"bot_token": "nope"}},
    )
    assert r.status_code == 422
    assert r.json()["details"][0]["field"] == "settings.bot_token"


def test_updates_for_an_inactive_channel_are_dropped_by_the_job(
    client: TestClient, tenant: Tenant, telegram: TelegramSandbox, db: object
) -> None:
    account = _connect(client, tenant, telegram)
    bot = telegram.bots[TOKEN]
    client.patch(f"{URL}/{account['id']}", headers=tenant.headers, json={"is_active": False})
    r = client.post(
        urlsplit(bot.webhook_url).path,
        json=telegram.update("while inactive"),
        headers={"X-Telegram-Bot-Api-Secret-Token": bot.secret_token},
    )
    assert r.status_code == 200
    db.run(process_pending)  # type: ignore[attr-defined]
    assert inbound(db) == []
    assert events(db)[0].status == "dropped"


def test_unknown_account_webhook_is_404_and_stores_nothing(client: TestClient, db: object) -> None:
    r = client.post("/webhooks/00000000-0000-0000-0000-000000000001", json={"update_id": 1})
    assert r.status_code == 404
    assert count_events(db) == 0


def test_unreachable_bot_api_is_transient_and_the_token_is_not_logged(
    client: TestClient,
    tenant: Tenant,
    telegram: TelegramSandbox,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    account = _connect(client, tenant, telegram)
    monkeypatch.setattr(settings, "telegram_base_url", f"http://127.0.0.1:{free_port()}")
    result = client.post(f"{URL}/{account['id']}/test", headers=tenant.headers).json()
    assert result["attempt"]["error_kind"] == "transient"
    assert result["connection_status"] == "connected"
    log = client.get(f"{URL}/{account['id']}/connection_log", headers=tenant.headers).text
    assert TOKEN not in log


def test_a_burst_with_replays_is_stored_once_per_update(
    client: TestClient, tenant: Tenant, telegram: TelegramSandbox, db: object
) -> None:
    """Concurrent deliveries share one insert and commit; replays inside that batch still count once."""
    account = _connect(client, tenant, telegram)
    account_id = uuid.UUID(account["id"])
    headers = {"x-telegram-bot-api-secret-token": telegram.bots[TOKEN].secret_token}
    bodies = [
        json.dumps(telegram.update(f"m{i % 10}") | {"update_id": 9000 + i % 10}).encode() for i in range(30)
    ]

    async def burst(rt: Runtime) -> list[bool]:
        url = f"http://testserver/webhooks/{account_id}"
        return list(
            await asyncio.gather(*(webhooks.ingest_account(rt, account_id, headers, b, url) for b in bodies))
        )

    results = db.run(burst)  # type: ignore[attr-defined]
    assert results.count(True) == 10
    assert sorted(e.provider_message_id for e in events(db)) == [str(9000 + i) for i in range(10)]
