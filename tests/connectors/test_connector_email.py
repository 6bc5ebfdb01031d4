from __future__ import annotations

import base64
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from fastapi.testclient import TestClient

from switchboard.sandbox.mail import MailSandbox
from switchboard.webhooks.service import poll_mailboxes
from tests.support.adapters import send
from tests.support.channel_accounts import check_now, create_direct
from tests.support.emulator_server import free_port
from tests.support.provider_fixtures import MAIL_ADDRESS, MAIL_PASSWORD
from tests.support.provider_fixtures import _mail as _mail
from tests.support.provider_fixtures import mail as mail
from tests.support.tenants import Tenant
from tests.support.webhook_rows import inbound


def _account(
    db: Any, tenant: Tenant, mail: MailSandbox, password: str = MAIL_PASSWORD, smtp_port: int = 0
) -> str:
    settings = {
        "email_address": MAIL_ADDRESS,
        "display_name": "Acme Support",
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp_port or mail.smtp_port,
        "smtp_security": "none",
        "smtp_username": MAIL_ADDRESS,
        "imap_host": "127.0.0.1",
        "imap_port": mail.imap_port,
        "imap_security": "none",
        "imap_username": MAIL_ADDRESS,
    }
    return create_direct(
        db, tenant, "EMAIL", settings, {"smtp_password": password, "imap_password": password}
    )


def _reply(to_id: str, text: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Customer <customer@example.net>"
    msg["To"] = MAIL_ADDRESS
    msg["Subject"] = "Re: Your invoice"
    msg["Message-ID"] = "<reply-1@example.net>"
    msg["In-Reply-To"] = to_id
    msg["References"] = to_id
    msg.set_content(text)
    return msg.as_bytes()


def test_smtp_and_imap_login_send_html_with_attachment_and_receive_threaded_reply(
    client: TestClient, tenant: Tenant, db: Any, mail: MailSandbox
) -> None:
    account_id = _account(db, tenant, mail)
    assert check_now(client, tenant, account_id)["connection_status"] == "connected"

    pdf = b"%PDF-1.4 fake invoice"
    result = send(
        db,
        account_id,
        "customer@example.net",
        {
            "subject": "Your invoice",
            "html": "<p>Hello <b>there</b></p>",
            "text": "Hello there",
            "attachments": [
                {
                    "filename": "invoice.pdf",
                    "content_type": "application/pdf",
                    "content_base64": base64.b64encode(pdf).decode(),
                }
            ],
        },
    )
    [(mail_from, rcpts, data)] = mail.sent
    assert (mail_from, rcpts) == (MAIL_ADDRESS, ["customer@example.net"])
    sent = BytesParser(policy=policy.default).parsebytes(data)
    assert sent["Message-ID"] == result.provider_message_id
    assert "<b>there</b>" in sent.get_body(preferencelist=("html",)).get_content()
    [attachment] = list(sent.iter_attachments())
    assert (attachment.get_filename(), attachment.get_content()) == ("invoice.pdf", pdf)

    mail.deliver(MAIL_ADDRESS, _reply(result.provider_message_id, "Paid, thanks"))
    fresh = EmailMessage()
    fresh["From"], fresh["To"], fresh["Subject"], fresh["Message-ID"] = (
        "b@example.net",
        MAIL_ADDRESS,
        "Hi",
        "<new-1@example.net>",
    )
    fresh.set_content("A new question")
    mail.deliver(MAIL_ADDRESS, fresh.as_bytes())

    assert db.run(poll_mailboxes) == 2
    assert db.run(poll_mailboxes) == 0  # marked \Seen: not read twice
    by_id = {m.provider_message_id: m for m in inbound(db)}
    reply, new = by_id["<reply-1@example.net>"], by_id["<new-1@example.net>"]
    assert reply.text.strip() == "Paid, thanks"
    assert reply.thread_key == result.provider_message_id  # threaded onto our message
    assert new.thread_key == "<new-1@example.net>"  # starts its own thread


def test_wrong_password_disconnects_and_unreachable_server_does_not(
    client: TestClient, tenant: Tenant, db: Any, mail: MailSandbox
) -> None:
    bad = _account(db, tenant, mail, password="wrong")
    result = check_now(client, tenant, bad)
    assert result["connection_status"] == "disconnected"
    assert "SMTP login refused" in result["status_reason"]

    closed_port = free_port()
    down = _account(db, tenant, mail, smtp_port=closed_port)
    result = check_now(client, tenant, down)
    assert result["attempt"]["error_kind"] == "transient"
    assert result["connection_status"] == "connected"
