"""POST/GET /rest/v1/channel_accounts/{id}/messages: accept, validate, refuse, scope."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from switchboard.sandbox.telegram import TelegramSandbox
from tests.messages.conftest import TELEGRAM_TOKEN, account, message, send, url
from tests.support.channel_accounts import create_direct
from tests.support.jobs import JobRunner
from tests.support.tenants import Tenant


def test_send_is_accepted_queued_then_sent_by_the_job(
    client: TestClient, tenant: Tenant, telegram_account: str, telegram: TelegramSandbox, jobs: JobRunner
) -> None:
    r = send(client, tenant, telegram_account, {"to": "4242", "body": {"text": "Hello from the API"}})
    assert r.status_code == 202, r.text
    queued = r.json()
    assert queued["status"] == "queued"
    assert (queued["to"], queued["body"], queued["routed_via"]) == (
        "4242",
        {"text": "Hello from the API"},
        "direct",
    )
    assert queued["channel_type"] == "TELEGRAM"
    assert queued["provider_message_id"] is None
    assert telegram.bots[TELEGRAM_TOKEN].sent == []  # nothing leaves before the job runs

    assert jobs.run()["send_outbound_message"] == 1
    sent = message(client, tenant, telegram_account, queued["id"])
    [wire] = telegram.bots[TELEGRAM_TOKEN].sent
    assert (wire["chat"]["id"], wire["text"]) == ("4242", "Hello from the API")
    assert sent["status"] == "sent"
    assert sent["provider_message_id"] == str(wire["message_id"])
    assert sent["attempts"] == 1
    assert sent["sent_at"] is not None
    assert sent["error_kind"] is None


def test_list_is_paginated_newest_first_and_filters_by_status(
    client: TestClient, tenant: Tenant, telegram_account: str, jobs: JobRunner
) -> None:
    ids = [
        send(client, tenant, telegram_account, {"to": "4242", "body": {"text": f"n{i}"}}).json()["id"]
        for i in range(3)
    ]
    page = client.get(url(telegram_account), headers=tenant.headers, params={"limit": 2}).json()
    assert (page["total"], page["limit"], page["offset"]) == (3, 2, 0)
    assert [m["id"] for m in page["items"]] == [ids[2], ids[1]]
    rest = client.get(url(telegram_account), headers=tenant.headers, params={"limit": 2, "offset": 2}).json()
    assert [m["id"] for m in rest["items"]] == [ids[0]]
    jobs.run()
    sent = client.get(url(telegram_account), headers=tenant.headers, params={"status": "sent"}).json()
    assert sent["total"] == 3
    queued = client.get(url(telegram_account), headers=tenant.headers, params={"status": "queued"}).json()
    assert queued["total"] == 0
    bad = client.get(url(telegram_account), headers=tenant.headers, params={"status": "lost"})
    assert bad.status_code == 422


def test_same_client_reference_returns_the_first_message_and_sends_once(
    client: TestClient, tenant: Tenant, telegram_account: str, telegram: TelegramSandbox, jobs: JobRunner
) -> None:
    payload = {"to": "4242", "body": {"text": "Order 1042 confirmed"}, "client_reference": "order-1042"}
    first = send(client, tenant, telegram_account, payload)
    again = send(client, tenant, telegram_account, payload)
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["id"] == first.json()["id"]
    jobs.run()
    replay = send(client, tenant, telegram_account, payload)
    assert (replay.status_code, replay.json()["status"]) == (200, "sent")
    assert len(telegram.bots[TELEGRAM_TOKEN].sent) == 1
    assert client.get(url(telegram_account), headers=tenant.headers).json()["total"] == 1
    # A reference is per channel: another send with a new reference is a new message.
    other = send(client, tenant, telegram_account, {**payload, "client_reference": "order-1043"})
    assert other.status_code == 202
    assert other.json()["id"] != first.json()["id"]


def test_inactive_channel_is_409_channel_inactive(
    client: TestClient, tenant: Tenant, telegram_account: str, jobs: JobRunner
) -> None:
    client.patch(
        f"/rest/v1/channel_accounts/{telegram_account}", headers=tenant.headers, json={"is_active": False}
    )
    r = send(client, tenant, telegram_account, {"to": "4242", "body": {"text": "hi"}})
    assert r.status_code == 409
    assert r.json()["error"] == "channel_inactive"
    assert client.get(url(telegram_account), headers=tenant.headers).json()["total"] == 0
    assert jobs.pending() == []


def test_disconnected_channel_is_409_channel_disconnected_with_the_reason(
    client: TestClient, tenant: Tenant, telegram_account: str, telegram: TelegramSandbox
) -> None:
    telegram.revoke(TELEGRAM_TOKEN)
    client.post(f"/rest/v1/channel_accounts/{telegram_account}/test", headers=tenant.headers)
    r = send(client, tenant, telegram_account, {"to": "4242", "body": {"text": "hi"}})
    assert r.status_code == 409
    assert r.json()["error"] == "channel_disconnected"
    assert "reauthorization required" in r.json()["message"]


def test_a_message_queued_before_deactivation_fails_with_the_reason(
    client: TestClient, tenant: Tenant, telegram_account: str, telegram: TelegramSandbox, jobs: JobRunner
) -> None:
    queued = send(client, tenant, telegram_account, {"to": "4242", "body": {"text": "hi"}}).json()
    client.patch(
        f"/rest/v1/channel_accounts/{telegram_account}", headers=tenant.headers, json={"is_active": False}
    )
    jobs.run()
    failed = message(client, tenant, telegram_account, queued["id"])
    assert (failed["status"], failed["error_code"]) == ("failed", "channel_inactive")
    assert "deactivated" in failed["error_message"]
    assert telegram.bots[TELEGRAM_TOKEN].sent == []


Case = tuple[str, dict[str, Any], str, str]
TELEGRAM_CASES: list[Case] = [
    ("no recipient", {"body": {"text": "hi"}}, "to", "missing"),
    ("blank recipient", {"to": "  ", "body": {"text": "hi"}}, "to", "missing"),
    ("not a chat id", {"to": "alice smith", "body": {"text": "hi"}}, "to", "invalid"),
    ("no text", {"to": "4242", "body": {}}, "body.text", "missing"),
    ("blank text", {"to": "4242", "body": {"text": "   "}}, "body.text", "missing"),
    ("text too long", {"to": "4242", "body": {"text": "x" * 4097}}, "body.text", "max_length"),
    ("email fields", {"to": "4242", "body": {"text": "hi", "subject": "S"}}, "body.subject", "not_allowed"),
    (
        "unknown body key",
        {"to": "4242", "body": {"text": "hi", "colour": "red"}},
        "body.colour",
        "extra_forbidden",
    ),
    (
        "bad reference",
        {"to": "4242", "body": {"text": "hi"}, "client_reference": "has space"},
        "client_reference",
        "string_pattern_mismatch",
    ),
    ("no body", {"to": "4242"}, "body", "missing"),
]


@pytest.mark.parametrize(
    ("case", "payload", "field", "rule"), TELEGRAM_CASES, ids=[c[0] for c in TELEGRAM_CASES]
)
def test_invalid_telegram_sends_are_422_naming_the_field(
    client: TestClient,
    tenant: Tenant,
    telegram_account: str,
    case: str,
    payload: dict[str, Any],
    field: str,
    rule: str,
) -> None:
    r = send(client, tenant, telegram_account, payload)
    assert r.status_code == 422, r.text
    detail = r.json()["details"][0]
    assert (detail["field"], detail["rule"]) == (field, rule)
    assert r.json()["message"].startswith(field)


def test_per_type_recipients_and_limits(client: TestClient, tenant: Tenant, db: Any) -> None:
    sms = create_direct(db, tenant, "SMS", {"account_sid": "AC" + "0" * 32, "phone_number": "+14155550100"})
    wa = create_direct(db, tenant, "WHATSAPP_CLOUD", {"phone_number_id": "4010000000001"})
    email = create_direct(
        db,
        tenant,
        "EMAIL",
        {"email_address": "a@acme.test", "smtp_host": "127.0.0.1", "smtp_security": "none"},
    )
    shop = create_direct(db, tenant, "SHOPIFY_INBOX", {"shop_domain": "acme.myshopify.com"})

    def rule_of(account_id: str, payload: dict[str, Any]) -> tuple[int, str, str]:
        r = send(client, tenant, account_id, payload)
        detail = r.json().get("details", [{}])[0] if r.status_code >= 400 else {}
        return r.status_code, detail.get("field", ""), detail.get("rule", "")

    assert rule_of(sms, {"to": "0415 555", "body": {"text": "hi"}}) == (422, "to", "invalid")
    assert rule_of(sms, {"to": "+14155550123", "body": {"text": "x" * 1601}}) == (
        422,
        "body.text",
        "max_length",
    )
    ok = send(client, tenant, sms, {"to": "+1 (415) 555-0123", "body": {"text": "x" * 1600}})
    assert (ok.status_code, ok.json()["to"]) == (202, "+14155550123")  # normalised to E.164
    assert rule_of(wa, {"to": "16505551234", "body": {"text": "hi"}}) == (422, "to", "invalid")
    assert rule_of(wa, {"to": "+16505551234", "body": {"text": "x" * 4097}}) == (
        422,
        "body.text",
        "max_length",
    )

    def mail(body: dict[str, Any], to: str = "customer@example.net") -> tuple[int, str, str]:
        return rule_of(email, {"to": to, "body": body})

    assert mail({"subject": "Hi", "text": "x"}, to="not-an-address") == (422, "to", "invalid")
    assert mail({"text": "x"}) == (422, "body.subject", "missing")
    assert mail({"subject": "Hi\r\nBcc: everyone@example.net", "text": "x"}) == (
        422,
        "body.subject",
        "no_line_breaks",
    )
    assert mail({"subject": "Hi"}) == (422, "body.text", "missing")
    assert mail({"subject": "Hi", "html": "<p>x</p>", "title": "t"}) == (422, "body.title", "not_allowed")
    bad64 = {"filename": "a.pdf", "content_type": "application/pdf", "content_base64": "%%%"}
    assert mail({"subject": "Hi", "text": "x", "attachments": [bad64]}) == (
        422,
        "body.attachments.0.content_base64",
        "base64",
    )
    path = {"filename": "../etc/passwd", "content_base64": base64.b64encode(b"x").decode()}
    assert mail({"subject": "Hi", "text": "x", "attachments": [path]}) == (
        422,
        "body.attachments.0.filename",
        "invalid",
    )
    big = base64.b64encode(b"\0" * (300 * 1024)).decode()
    two = [{"filename": f"{i}.bin", "content_base64": big} for i in range(2)]
    assert mail({"subject": "Hi", "text": "x", "attachments": two}) == (422, "body.attachments", "max_size")
    assert rule_of(shop, {"to": "customer-1", "body": {"text": "hi"}})[0] == 422
    assert (
        send(client, tenant, shop, {"to": "c", "body": {"text": "hi"}}).json()["error"]
        == "send_not_supported"
    )


def test_another_tenants_channel_and_messages_are_404(
    client: TestClient,
    tenant: Tenant,
    make_tenant: Callable[..., Tenant],
    telegram_account: str,
    jobs: JobRunner,
    db: Any,
) -> None:
    mine = send(client, tenant, telegram_account, {"to": "4242", "body": {"text": "hi"}}).json()
    other = make_tenant("Globex")
    payload = {"to": "4242", "body": {"text": "from another tenant"}}
    assert send(client, other, telegram_account, payload).status_code == 404
    assert client.get(url(telegram_account), headers=other.headers).status_code == 404
    assert client.get(url(telegram_account, mine["id"]), headers=other.headers).status_code == 404
    # The right tenant asking for a message under another of its channels gets 404 too.
    second = create_direct(db, tenant, "TELEGRAM", {}, {"bot_token": TELEGRAM_TOKEN})
    assert client.get(url(second, mine["id"]), headers=tenant.headers).status_code == 404
    jobs.run()
    assert client.get(url(telegram_account), headers=tenant.headers).json()["total"] == 1
    assert client.get(url(telegram_account), headers=other.headers).status_code == 404


def test_members_read_messages_but_cannot_send(
    client: TestClient, tenant: Tenant, member_of: Callable[[Tenant], Tenant], telegram_account: str
) -> None:
    member = member_of(tenant)
    r = send(client, member, telegram_account, {"to": "4242", "body": {"text": "hi"}})
    assert r.status_code == 403
    assert "channels.send" in r.json()["message"]
    assert client.get(url(telegram_account), headers=member.headers).status_code == 200


def test_message_bodies_and_recipients_stay_out_of_logs_and_analytics(
    client: TestClient, tenant: Tenant, telegram_account: str, jobs: JobRunner, log_lines: Any, db: Any
) -> None:
    from sqlalchemy import select

    from switchboard.models import AnalyticsEvent

    secret_text = "my-very-private-message-text"
    queued = send(client, tenant, telegram_account, {"to": "987654321", "body": {"text": secret_text}}).json()
    jobs.run()
    assert message(client, tenant, telegram_account, queued["id"])["status"] == "sent"
    # What an operator's log (INFO and up) holds; DEBUG is the database driver tracing its statements.
    text = "\n".join(line for line in log_lines.lines if '"level": "debug"' not in line)
    assert secret_text not in text
    assert "987654321" not in text
    assert TELEGRAM_TOKEN not in text
    assert queued["id"] in text  # the job's outcome is logged, by id

    async def events(s: Any) -> list[AnalyticsEvent]:
        return list(await s.scalars(select(AnalyticsEvent).where(AnalyticsEvent.name == "message.sent")))

    [event] = db.session(events)
    assert event.properties["outbound_message_id"] == queued["id"]
    assert secret_text not in str(event.properties)
    assert account(client, tenant, telegram_account)["connection_status"] == "connected"


def test_a_whatsapp_lite_number_on_a_warming_campaign_takes_its_daily_limit(
    client: TestClient, tenant: Tenant, db: Any
) -> None:
    settings = {
        "phone_number": "+14155550111",
        "sender_id": "Acme",
        "warming_enabled": True,
        "warming_daily_limit": 2,
    }
    warming = create_direct(db, tenant, "WHATSAPP_LITE", settings)
    for i in range(2):
        assert (
            send(client, tenant, warming, {"to": "+14155550123", "body": {"text": f"hi {i}"}}).status_code
            == 202
        )
    over = send(client, tenant, warming, {"to": "+14155550123", "body": {"text": "one too many"}})
    assert over.status_code == 429
    assert over.json()["error"] == "warming_limit_reached"
    assert over.json()["details"][0]["rule"] == "warming_daily_limit"
    # Without a campaign the number is not capped here.
    free = create_direct(db, tenant, "WHATSAPP_LITE", settings | {"warming_enabled": False})
    for i in range(3):
        assert (
            send(client, tenant, free, {"to": "+14155550123", "body": {"text": f"hi {i}"}}).status_code == 202
        )
