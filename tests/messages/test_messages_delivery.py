"""The send job against the provider emulators: sent with the provider's id, receipts, retries,
credentials that stopped working, and nothing lost when a worker dies."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser
from typing import Any

from fastapi.testclient import TestClient

from switchboard.core.db import transaction
from switchboard.core.runtime import Runtime
from switchboard.messages.service import outbound
from switchboard.messages.tasks import sweep
from switchboard.sandbox.mail import MailSandbox
from switchboard.sandbox.meta import MetaSandbox
from switchboard.sandbox.push import PushSandbox
from switchboard.sandbox.telegram import TelegramSandbox
from tests.messages.conftest import (
    MAIL_ADDRESS,
    PAGE_TOKEN,
    TELEGRAM_TOKEN,
    account,
    message,
    messenger_event,
    meta_webhook,
    send,
    whatsapp_status,
)
from tests.support.jobs import JobRunner
from tests.support.tenants import Tenant

HELLO = {"text": "Hello from Switchboard"}


def connection_log(client: TestClient, tenant: Tenant, account_id: str) -> list[dict[str, Any]]:
    r = client.get(f"/rest/v1/channel_accounts/{account_id}/connection_log", headers=tenant.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    return list(body["attempts"] if isinstance(body, dict) else body)


# --- Telegram: retries and a revoked token ----------------------------------------------------------


def test_transient_5xx_is_retried_with_backoff_and_the_channel_stays_connected(
    client: TestClient, tenant: Tenant, telegram_account: str, telegram: TelegramSandbox, jobs: JobRunner
) -> None:
    telegram.fail_next.extend([502, 503])
    queued = send(client, tenant, telegram_account, {"to": "4242", "body": HELLO}).json()
    jobs.run(fast_forward=False)  # the first attempt only; the retry waits for its back-off
    waiting = message(client, tenant, telegram_account, queued["id"])
    assert (waiting["status"], waiting["attempts"], waiting["error_kind"]) == ("queued", 1, "transient")
    assert "Bad Gateway" in waiting["error_message"]
    assert datetime.fromisoformat(waiting["next_attempt_at"]) > datetime.now(UTC)
    assert jobs.pending() == ["send_outbound_message"]
    assert account(client, tenant, telegram_account)["connection_status"] == "connected"

    jobs.run()  # the back-off elapses
    sent = message(client, tenant, telegram_account, queued["id"])
    assert (sent["status"], sent["attempts"], sent["error_kind"]) == ("sent", 3, None)
    assert len(telegram.bots[TELEGRAM_TOKEN].sent) == 1
    assert account(client, tenant, telegram_account)["connection_status"] == "connected"


def test_transient_failures_give_up_after_the_last_attempt(
    client: TestClient, tenant: Tenant, telegram_account: str, telegram: TelegramSandbox, jobs: JobRunner
) -> None:
    telegram.fail_next.extend([502] * 20)
    queued = send(client, tenant, telegram_account, {"to": "4242", "body": HELLO}).json()
    jobs.run()
    failed = message(client, tenant, telegram_account, queued["id"])
    assert (failed["status"], failed["attempts"], failed["error_kind"]) == ("failed", 8, "transient")
    assert failed["error_message"].startswith("gave up after 8 attempts")
    assert account(client, tenant, telegram_account)["connection_status"] == "connected"
    telegram.fail_next.clear()


def test_revoked_token_fails_the_message_and_disconnects_the_channel(
    client: TestClient, tenant: Tenant, telegram_account: str, telegram: TelegramSandbox, jobs: JobRunner
) -> None:
    first = send(client, tenant, telegram_account, {"to": "4242", "body": HELLO}).json()
    second = send(client, tenant, telegram_account, {"to": "4243", "body": HELLO}).json()
    telegram.revoke(TELEGRAM_TOKEN)
    jobs.run()
    failed = message(client, tenant, telegram_account, first["id"])
    assert (failed["status"], failed["error_kind"], failed["error_code"]) == (
        "failed",
        "needs_action",
        "token_revoked",
    )
    assert failed["attempts"] == 1
    assert TELEGRAM_TOKEN not in json.dumps(failed)
    channel = account(client, tenant, telegram_account)
    assert channel["connection_status"] == "disconnected"
    assert channel["status_reason"].startswith("reauthorization required")
    # The message queued behind it fails without calling the provider again.
    later = message(client, tenant, telegram_account, second["id"])
    assert (later["status"], later["error_code"]) == ("failed", "channel_disconnected")
    [entry] = [a for a in connection_log(client, tenant, telegram_account) if a["action"] == "send"]
    assert (entry["ok"], entry["error_kind"]) == (False, "needs_action")
    assert send(client, tenant, telegram_account, {"to": "4242", "body": HELLO}).status_code == 409


# --- WhatsApp Cloud and Messenger (Meta Graph emulator): receipts ----------------------------------


def test_whatsapp_cloud_send_then_delivery_and_read_receipts(
    client: TestClient, tenant: Tenant, whatsapp_account: str, meta: MetaSandbox, db: Any, jobs: JobRunner
) -> None:
    queued = send(client, tenant, whatsapp_account, {"to": "+16505551234", "body": HELLO}).json()
    jobs.run()
    sent = message(client, tenant, whatsapp_account, queued["id"])
    [wire] = meta.sent
    assert (wire["to"], wire["text"]["body"], wire["type"]) == ("+16505551234", HELLO["text"], "text")
    wamid = sent["provider_message_id"]
    assert sent["status"] == "sent"
    assert wamid.startswith("wamid.")

    meta_webhook(client, db, whatsapp_status(wamid, "delivered"))
    delivered = message(client, tenant, whatsapp_account, queued["id"])
    assert delivered["status"] == "delivered"
    assert delivered["delivered_at"] is not None
    meta_webhook(client, db, whatsapp_status(wamid, "read"))
    read = message(client, tenant, whatsapp_account, queued["id"])
    assert (read["status"], read["delivered_at"]) == ("read", delivered["delivered_at"])
    assert read["read_at"] is not None
    # The same receipt again (a provider retry) changes nothing.
    meta_webhook(client, db, whatsapp_status(wamid, "delivered"))
    assert message(client, tenant, whatsapp_account, queued["id"])["status"] == "read"


def test_a_receipt_for_another_accounts_message_changes_nothing(
    client: TestClient, tenant: Tenant, whatsapp_account: str, meta: MetaSandbox, db: Any, jobs: JobRunner
) -> None:
    queued = send(client, tenant, whatsapp_account, {"to": "+16505551234", "body": HELLO}).json()
    jobs.run()
    meta_webhook(client, db, whatsapp_status("wamid.someone-elses", "delivered"))
    assert message(client, tenant, whatsapp_account, queued["id"])["status"] == "sent"


def test_whatsapp_failure_reported_later_marks_the_message_failed(
    client: TestClient, tenant: Tenant, whatsapp_account: str, meta: MetaSandbox, db: Any, jobs: JobRunner
) -> None:
    queued = send(client, tenant, whatsapp_account, {"to": "+16505551234", "body": HELLO}).json()
    jobs.run()
    wamid = message(client, tenant, whatsapp_account, queued["id"])["provider_message_id"]
    payload = whatsapp_status(wamid, "failed")
    status = payload["entry"][0]["changes"][0]["value"]["statuses"][0]
    status["errors"] = [{"code": 131047, "title": "Re-engagement message"}]
    meta_webhook(client, db, payload)
    failed = message(client, tenant, whatsapp_account, queued["id"])
    assert (failed["status"], failed["error_code"]) == ("failed", "131047")
    assert "Re-engagement message" in failed["error_message"]
    assert account(client, tenant, whatsapp_account)["connection_status"] == "connected"


def test_whatsapp_revoked_token_fails_and_disconnects_with_reauthorization(
    client: TestClient, tenant: Tenant, whatsapp_account: str, meta: MetaSandbox, jobs: JobRunner
) -> None:
    meta.tokens[meta.system_user_token].revoked = True
    queued = send(client, tenant, whatsapp_account, {"to": "+16505551234", "body": HELLO}).json()
    jobs.run()
    failed = message(client, tenant, whatsapp_account, queued["id"])
    assert (failed["status"], failed["error_kind"]) == ("failed", "needs_action")
    channel = account(client, tenant, whatsapp_account)
    assert channel["connection_status"] == "disconnected"
    assert "reauthorization required" in channel["status_reason"]
    assert meta.sent == []


def test_messenger_send_then_delivery_and_read_watermark(
    client: TestClient, tenant: Tenant, messenger_account: str, meta: MetaSandbox, db: Any, jobs: JobRunner
) -> None:
    psid = "24011111111111111"
    queued = send(client, tenant, messenger_account, {"to": psid, "body": HELLO}).json()
    jobs.run()
    sent = message(client, tenant, messenger_account, queued["id"])
    [wire] = meta.sent
    assert (wire["recipient"], wire["message"]) == ({"id": psid}, {"text": HELLO["text"]})
    mid = sent["provider_message_id"]
    assert sent["status"] == "sent"
    assert mid.startswith("m_")

    delivery = {"timestamp": 1900000000000, "delivery": {"mids": [mid], "watermark": 1900000000000}}
    meta_webhook(client, db, messenger_event(delivery, psid))
    assert message(client, tenant, messenger_account, queued["id"])["status"] == "delivered"
    # Messenger says "read up to this time" for the whole conversation.
    watermark = int((datetime.now(UTC) + timedelta(seconds=5)).timestamp() * 1000)
    meta_webhook(
        client, db, messenger_event({"timestamp": watermark, "read": {"watermark": watermark}}, psid)
    )
    assert message(client, tenant, messenger_account, queued["id"])["status"] == "read"
    # A delivery receipt arriving after the read one never moves the message back.
    late = {"timestamp": 1900000000999, "delivery": {"mids": [mid], "watermark": 1900000000999}}
    meta_webhook(client, db, messenger_event(late, psid))
    assert message(client, tenant, messenger_account, queued["id"])["status"] == "read"
    assert PAGE_TOKEN not in json.dumps(sent)


# --- Email (sandbox SMTP) ------------------------------------------------------------------------------


def test_email_with_html_and_attachment_is_sent_over_smtp(
    client: TestClient, tenant: Tenant, email_account: str, mail: MailSandbox, jobs: JobRunner
) -> None:
    pdf = b"%PDF-1.4 invoice"
    body = {
        "subject": "Your invoice",
        "text": "Invoice attached.",
        "html": "<p>Invoice <b>attached</b>.</p>",
        "attachments": [
            {
                "filename": "invoice.pdf",
                "content_type": "application/pdf",
                "content_base64": base64.b64encode(pdf).decode(),
            }
        ],
    }
    r = send(client, tenant, email_account, {"to": "Customer@Example.net", "body": body})
    assert r.status_code == 202, r.text
    queued = r.json()
    assert queued["to"] == "Customer@example.net"  # the domain is normalised
    assert queued["body"]["attachments"] == [
        {"filename": "invoice.pdf", "content_type": "application/pdf", "size": len(pdf)}
    ]
    jobs.run()
    sent = message(client, tenant, email_account, queued["id"])
    [(mail_from, rcpts, data)] = mail.sent
    parsed = BytesParser(policy=policy.default).parsebytes(data)
    assert (mail_from, rcpts) == (MAIL_ADDRESS, ["Customer@example.net"])
    assert parsed["Subject"] == "Your invoice"
    assert sent["status"] == "sent"
    assert sent["provider_message_id"] == parsed["Message-ID"]
    [attachment] = list(parsed.iter_attachments())
    assert (attachment.get_filename(), attachment.get_content()) == ("invoice.pdf", pdf)
    assert "content_base64" not in json.dumps(sent)


def test_email_login_refused_fails_and_disconnects(
    client: TestClient, tenant: Tenant, email_account: str, mail: MailSandbox, jobs: JobRunner
) -> None:
    mail.users.clear()
    mail.add_user(MAIL_ADDRESS, "a-new-password")
    queued = send(
        client, tenant, email_account, {"to": "customer@example.net", "body": {"subject": "Hi", "text": "x"}}
    ).json()
    jobs.run()
    failed = message(client, tenant, email_account, queued["id"])
    assert (failed["status"], failed["error_kind"]) == ("failed", "needs_action")
    assert account(client, tenant, email_account)["connection_status"] == "disconnected"
    assert mail.sent == []


# --- Web Push ------------------------------------------------------------------------------------------


def test_web_push_to_a_subscription_is_encrypted_and_delivered(
    client: TestClient, tenant: Tenant, push_account: str, push_service: PushSandbox, jobs: JobRunner
) -> None:
    browser, info = push_service.new_subscription()
    created = client.post(f"/push/{push_account}/subscriptions", json=info)
    subscription_id = created.json()["id"]
    unknown = send(client, tenant, push_account, {"to": str(uuid.uuid4()), "body": {"title": "Hi"}})
    assert (unknown.status_code, unknown.json()["details"][0]["field"]) == (422, "to")
    no_title = send(client, tenant, push_account, {"to": subscription_id, "body": {"text": "x"}})
    assert no_title.json()["details"][0]["field"] == "body.title"

    payload = {"title": "Sale", "text": "20% off today", "url": "https://shop.example.com/sale"}
    queued = send(client, tenant, push_account, {"to": subscription_id, "body": payload}).json()
    jobs.run()
    assert message(client, tenant, push_account, queued["id"])["status"] == "sent"
    shown = json.loads(push_service.decrypt(browser))
    assert shown == {"title": "Sale", "body": "20% off today", "url": "https://shop.example.com/sale"}

    browser.gone = True  # the browser unsubscribed
    again = send(client, tenant, push_account, {"to": subscription_id, "body": payload}).json()
    jobs.run()
    gone = message(client, tenant, push_account, again["id"])
    assert (gone["status"], gone["error_code"]) == ("failed", "gone")
    assert account(client, tenant, push_account)["connection_status"] == "connected"
    third = send(client, tenant, push_account, {"to": subscription_id, "body": payload})
    assert third.status_code == 422  # the subscription was removed


# --- nothing accepted is lost --------------------------------------------------------------------------


def test_a_lost_job_and_a_worker_dying_mid_send_are_recovered_by_the_sweep(
    client: TestClient,
    tenant: Tenant,
    telegram_account: str,
    telegram: TelegramSandbox,
    jobs: JobRunner,
    db: Any,
) -> None:
    lost = send(client, tenant, telegram_account, {"to": "4242", "body": {"text": "job lost"}}).json()
    crashed = send(client, tenant, telegram_account, {"to": "4243", "body": {"text": "worker died"}}).json()
    jobs.flush()  # the queue lost both jobs

    async def claim(rt: Runtime) -> None:
        # A worker claims the second message, then dies before the provider answers.
        async with transaction(rt.sessionmaker) as session:
            assert await outbound.claim(session, uuid.UUID(crashed["id"])) is not None

    db.run(claim)
    assert message(client, tenant, telegram_account, crashed["id"])["status"] == "sending"
    assert db.run(sweep) == 0  # too early: the jobs may still be on their way
    later = datetime.now(UTC) + timedelta(minutes=11)
    assert db.run(lambda rt: sweep(rt, later)) == 2
    jobs.run()
    for queued in (lost, crashed):
        assert message(client, tenant, telegram_account, queued["id"])["status"] == "sent"
    assert sorted(m["text"] for m in telegram.bots[TELEGRAM_TOKEN].sent) == ["job lost", "worker died"]
    assert db.run(lambda rt: sweep(rt, later)) == 0  # nothing left behind
