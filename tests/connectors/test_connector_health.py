"""Health: transient errors never disconnect; revoked tokens do, and Reconnect recovers."""

from __future__ import annotations

from fastapi.testclient import TestClient

from switchboard.health.tasks import check_active_accounts
from switchboard.sandbox.telegram import TelegramSandbox
from tests.support.channel_accounts import URL, check_now, create_account
from tests.support.tenants import Tenant

TOKEN = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"
NEW_TOKEN = "654321:ZYX-new1234ghIkl-zyx57W2v1u123ew99"


def _connected(client: TestClient, tenant: Tenant) -> str:
    account = create_account(client, tenant, "TELEGRAM", {"bot_token": TOKEN})
    assert check_now(client, tenant, account["id"])["connection_status"] == "connected"
    return str(account["id"])


def _status(client: TestClient, tenant: Tenant, account_id: str) -> tuple[str, str | None]:
    body = client.get(f"{URL}/{account_id}", headers=tenant.headers).json()
    return body["connection_status"], body["status_reason"]


def test_transient_errors_never_disconnect(
    client: TestClient, tenant: Tenant, telegram: TelegramSandbox
) -> None:
    account_id = _connected(client, tenant)
    telegram.fail_next = [502, 429]
    for _ in range(2):
        result = check_now(client, tenant, account_id)
        assert result["ok"] is False
        assert result["attempt"]["error_kind"] == "transient"
        assert result["connection_status"] == "connected"  # below the threshold: unchanged
    telegram.fail_next = [502]
    third = check_now(client, tenant, account_id)
    # After three in a row it shows `error` with the reason, still not `disconnected`.
    assert third["connection_status"] == "error"
    assert "3 consecutive temporary failures" in third["status_reason"]
    assert check_now(client, tenant, account_id)["connection_status"] == "connected"
    log = client.get(f"{URL}/{account_id}/connection_log", headers=tenant.headers).json()
    assert log["health"]["error_count"] == 0
    assert log["health"]["threshold"] == 3
    assert [a["ok"] for a in log["attempts"][:5]] == [True, False, False, False, True]
    assert "Bad Gateway" in log["attempts"][1]["message"]


def test_revoked_token_disconnects_then_reconnect_succeeds(
    client: TestClient, tenant: Tenant, telegram: TelegramSandbox, db: object
) -> None:
    account_id = _connected(client, tenant)
    telegram.revoke(TOKEN)
    assert db.run(check_active_accounts) == 1  # type: ignore[attr-defined]
    status, reason = _status(client, tenant, account_id)
    assert status == "disconnected"
    assert reason is not None
    assert reason.startswith("reauthorization required")
    log = client.get(f"{URL}/{account_id}/connection_log", headers=tenant.headers).json()
    assert log["attempts"][0]["action"] == "health"
    assert log["attempts"][0]["error_kind"] == "needs_action"
    assert log["health"]["last_error"] == "Telegram getMe: Unauthorized"

    # Transient failures afterwards do not hide that the tenant must act.
    telegram.fail_next = [502] * 5
    for _ in range(4):
        check_now(client, tenant, account_id)
    assert _status(client, tenant, account_id)[0] == "disconnected"
    telegram.fail_next.clear()

    r = client.patch(
        f"{URL}/{account_id}", headers=tenant.headers, json={"credentials": {"bot_token": NEW_TOKEN}}
    )
    assert r.status_code == 200
    assert r.json()["connection_status"] == "pending"
    result = check_now(client, tenant, account_id, "reconnect")
    assert result["ok"] is True
    assert result["connection_status"] == "connected"
    assert result["attempt"]["action"] == "reconnect"
    assert telegram.bots[NEW_TOKEN].webhook_url.endswith(f"/webhooks/{account_id}")


def test_periodic_check_skips_inactive_accounts(
    client: TestClient, tenant: Tenant, telegram: TelegramSandbox, db: object
) -> None:
    account_id = _connected(client, tenant)
    client.patch(f"{URL}/{account_id}", headers=tenant.headers, json={"is_active": False})
    telegram.revoke(TOKEN)
    assert db.run(check_active_accounts) == 0  # type: ignore[attr-defined]
    assert _status(client, tenant, account_id)[0] == "connected"


def test_health_check_notices_a_lost_webhook(
    client: TestClient, tenant: Tenant, telegram: TelegramSandbox
) -> None:
    account_id = _connected(client, tenant)
    telegram.bots[TOKEN].webhook_url = ""
    r = client.post(f"{URL}/{account_id}/test", headers=tenant.headers)
    # Test connection re-registers it (the same flow as connect).
    assert r.json()["ok"] is True
    assert telegram.bots[TOKEN].webhook_url.endswith(account_id)


def test_another_tenants_account_is_404(
    client: TestClient, tenant: Tenant, make_tenant: object, telegram: TelegramSandbox
) -> None:
    account_id = _connected(client, tenant)
    other = make_tenant("Other")  # type: ignore[operator]
    assert client.post(f"{URL}/{account_id}/test", headers=other.headers).status_code == 404
    assert client.get(f"{URL}/{account_id}/connection_log", headers=other.headers).status_code == 404


def test_member_cannot_run_test_connection_but_can_read_log(
    client: TestClient, tenant: Tenant, member_of: object, telegram: TelegramSandbox
) -> None:
    account_id = _connected(client, tenant)
    member = member_of(tenant)  # type: ignore[operator]
    assert client.post(f"{URL}/{account_id}/test", headers=member.headers).status_code == 403
    assert client.get(f"{URL}/{account_id}/connection_log", headers=member.headers).status_code == 200
