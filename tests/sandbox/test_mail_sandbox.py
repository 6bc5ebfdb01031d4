"""The service's own sandbox mail: in sandbox mode the app's lifespan runs the SMTP and IMAP servers,
an Email channel connects to them offline, /sandbox/mail writes in as a customer, and mail sent
from one sandbox channel reaches another."""

from __future__ import annotations

import base64
import smtplib
import socket
from collections.abc import Iterator
from email import policy
from email.parser import BytesParser
from typing import Any

import pytest
from fastapi.testclient import TestClient

from switchboard.app import create_app
from switchboard.core.config import Settings
from switchboard.sandbox.mail import MailSandbox
from switchboard.webhooks.service import poll_mailboxes
from tests.support.adapters import send
from tests.support.channel_accounts import URL, check_now
from tests.support.emulator_server import free_port
from tests.support.tenants import Tenant
from tests.support.web import Browser, allow_byom
from tests.support.webhook_rows import inbound

SUPPORT = "support@example.com"
SALES = "sales@example.org"
PASSWORD = "any-password-1"


def _sandbox_app(settings: Settings, **overrides: Any) -> Any:
    update = {
        "provider_mode": "sandbox",
        "sandbox_mail": True,
        "sandbox_smtp_port": 0,
        "sandbox_imap_port": 0,
    }
    return create_app(settings.model_copy(update={**update, **overrides}))


def _accepts(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _greeting(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        return s.recv(200)


@pytest.fixture(scope="module")
def sandbox_client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(_sandbox_app(settings), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def mail(sandbox_client: TestClient) -> MailSandbox:
    sandbox: MailSandbox = sandbox_client.app.state.sandboxes["mail"]  # type: ignore[attr-defined]
    sandbox.users.clear()
    sandbox.sent.clear()
    return sandbox


def _create_email_channel(
    client: TestClient, tenant: Tenant, mail: MailSandbox, address: str, password: str = PASSWORD
) -> str:
    """Through the REST API, with the sandbox's host and ports, as the Add channel form prefills them."""
    r = client.post(
        URL,
        headers=tenant.headers,
        json={
            "name": f"Email {address}",
            "type": "EMAIL",
            "settings": {"email_address": address, **mail.channel_settings()},
            "credentials": {"smtp_password": password, "imap_password": password},
            "is_active": True,
        },
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_lifespan_runs_smtp_and_imap_on_the_configured_ports_and_stops_them(settings: Settings) -> None:
    smtp_port, imap_port = free_port(), free_port()
    app = _sandbox_app(settings, sandbox_smtp_port=smtp_port, sandbox_imap_port=imap_port)
    assert not _accepts(smtp_port)  # nothing runs before the app starts
    with TestClient(app) as client:
        assert _greeting(smtp_port).startswith(b"220 ")
        assert _greeting(imap_port).startswith(b"* OK IMAP4rev1")
        page = client.get("/sandbox/mail/")
        assert page.status_code == 200
        assert 'data-testid="sandbox-banner"' in page.text
        assert f"127.0.0.1:{smtp_port}" in page.text
        assert f"127.0.0.1:{imap_port}" in page.text
    assert not _accepts(smtp_port)
    assert not _accepts(imap_port)


def test_live_mode_starts_no_mail_server(settings: Settings) -> None:
    smtp_port, imap_port = free_port(), free_port()
    app = create_app(
        settings.model_copy(
            update={
                "provider_mode": "live",
                "sandbox_mail": True,
                "sandbox_smtp_port": smtp_port,
                "sandbox_imap_port": imap_port,
            }
        )
    )
    with TestClient(app) as client:
        assert not _accepts(smtp_port)
        assert not _accepts(imap_port)
        assert client.get("/sandbox/mail/").status_code == 404


@pytest.mark.parametrize("protocol", ["smtp", "imap"])
def test_a_busy_port_leaves_the_app_running_and_says_why(settings: Settings, protocol: str) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        app = _sandbox_app(settings, **{f"sandbox_{protocol}_port": port})
        with TestClient(app) as client:
            assert client.get("/healthz").status_code == 200
            page = client.get("/sandbox/mail/").text
            assert "not running" in page
            assert f"{protocol.upper()} port {port}" in page
            assert f"SWITCHBOARD_SANDBOX_{protocol.upper()}_PORT" in page
            mail: MailSandbox = app.state.sandboxes["mail"]
            other = mail.imap_port if protocol == "smtp" else mail.smtp_port
            assert not _accepts(other)  # the other server was not left running either


def test_email_channel_connects_offline_and_receives_a_customer_mail_written_on_the_sandbox_page(
    sandbox_client: TestClient, mail: MailSandbox, tenant: Tenant, db: Any
) -> None:
    allow_byom(db, tenant.organization_id)
    account_id = _create_email_channel(sandbox_client, tenant, mail, SUPPORT)

    result = check_now(sandbox_client, tenant, account_id)
    assert result["ok"] is True, result
    assert result["connection_status"] == "connected"

    r = sandbox_client.post(
        "/sandbox/mail/send",
        json={
            "from": "Customer <customer@example.net>",
            "to": SUPPORT,
            "subject": "Where is my order?",
            "text": "Order 1042 has not arrived.",
        },
    )
    assert r.status_code == 200, r.text
    message_id = r.json()["message_id"]

    assert db.run(poll_mailboxes) == 1
    assert db.run(poll_mailboxes) == 0  # read once, then \Seen
    [received] = inbound(db)
    assert str(received.channel_account_id) == account_id
    assert received.provider_message_id == message_id
    assert received.text.strip() == "Order 1042 has not arrived."
    assert "customer@example.net" in received.sender

    # The first login claimed the address: another password is now refused.
    other = _create_email_channel(sandbox_client, tenant, mail, SUPPORT, password="not-the-same")
    refused = check_now(sandbox_client, tenant, other)
    assert refused["connection_status"] == "disconnected"
    assert "SMTP login refused" in refused["status_reason"]


def test_mail_sent_from_one_sandbox_channel_lands_in_the_other_and_a_reply_threads_onto_it(
    sandbox_client: TestClient, mail: MailSandbox, make_tenant: Any, db: Any
) -> None:
    acme, beta = make_tenant("Acme"), make_tenant("Beta")
    for t in (acme, beta):
        allow_byom(db, t.organization_id)
    support = _create_email_channel(sandbox_client, acme, mail, SUPPORT)
    sales = _create_email_channel(sandbox_client, beta, mail, SALES)
    assert check_now(sandbox_client, acme, support)["connection_status"] == "connected"
    assert check_now(sandbox_client, beta, sales)["connection_status"] == "connected"

    sent = send(db, support, SALES, {"subject": "Partnership", "text": "Shall we talk?"})
    box = mail.mailbox(SALES)
    assert box is not None
    [delivered] = box.inbox
    assert (
        BytesParser(policy=policy.default).parsebytes(delivered.raw)["Message-ID"] == sent.provider_message_id
    )
    assert "1 message(s), 1 unread" in sandbox_client.get("/sandbox/mail/").text

    # A reply written on the page (the form, as a browser posts it) threads onto the sent message.
    page = sandbox_client.post(
        "/sandbox/mail/send",
        data={
            "from": SALES,
            "to": SUPPORT,
            "subject": "Re: Partnership",
            "text": "Yes, Tuesday?",
            "in_reply_to": sent.provider_message_id,
        },
    )
    assert page.status_code == 200
    assert f"Delivered to <code>{SUPPORT}</code>" in page.text

    assert db.run(poll_mailboxes) == 2
    by_account = {str(m.channel_account_id): m for m in inbound(db)}
    assert by_account[sales].provider_message_id == sent.provider_message_id
    assert by_account[sales].text.strip() == "Shall we talk?"
    assert by_account[support].text.strip() == "Yes, Tuesday?"
    assert by_account[support].thread_key == sent.provider_message_id


def test_a_plain_smtp_client_reaches_an_existing_mailbox_only_and_no_credential_is_logged(
    sandbox_client: TestClient, mail: MailSandbox, log_lines: Any
) -> None:
    mail.deliver(SUPPORT, b"Subject: seed\r\n\r\nseed\r\n")  # the mailbox exists
    with smtplib.SMTP("127.0.0.1", mail.smtp_port, timeout=5) as smtp:
        smtp.ehlo()
        smtp.user, smtp.password = "someone@example.net", "pw-never-logged"
        smtp.auth("LOGIN", smtp.auth_login)  # any address may log in (and gets a mailbox)
        smtp.sendmail("someone@example.net", [SUPPORT, "nobody@example.net"], b"Subject: hi\r\n\r\nhello\r\n")
    box = mail.mailbox(SUPPORT)
    assert box is not None
    assert len(box.inbox) == 2
    assert mail.mailbox("nobody@example.net") is None  # accepted, but there is no inbox to hold it
    assert mail.mailbox("someone@example.net") is not None
    assert "pw-never-logged" not in log_lines.text
    assert base64.b64encode(b"pw-never-logged").decode() not in log_lines.text


def test_the_sandbox_page_refuses_what_it_cannot_deliver(
    sandbox_client: TestClient, mail: MailSandbox
) -> None:
    unknown = sandbox_client.post(
        "/sandbox/mail/send", json={"from": "c@example.net", "to": "nobody@acme.test", "text": "Hi"}
    )
    assert unknown.status_code == 404
    assert unknown.json()["field"] == "to"
    assert "Test connection" in unknown.json()["error"]

    mail.deliver(SUPPORT, b"Subject: seed\r\n\r\nseed\r\n")
    bad_from = sandbox_client.post(
        "/sandbox/mail/send", json={"from": "not an address", "to": SUPPORT, "text": "x"}
    )
    assert (bad_from.status_code, bad_from.json()["field"]) == (422, "from")
    no_text = sandbox_client.post("/sandbox/mail/send", json={"from": "c@example.net", "to": SUPPORT})
    assert (no_text.status_code, no_text.json()["field"]) == (422, "text")
    injected = sandbox_client.post(
        "/sandbox/mail/send",
        json={"from": "c@example.net", "to": SUPPORT, "subject": "a\r\nBcc: x@y.test", "text": "x"},
    )
    assert injected.status_code == 422
    form = sandbox_client.post("/sandbox/mail/send", data={"from": "c@example.net", "to": "nobody@acme.test"})
    assert form.status_code == 422  # the page answers with a labelled page, not JSON
    assert 'data-testid="sandbox-banner"' in form.text


def test_add_email_form_is_prefilled_with_the_sandbox_servers(
    sandbox_client: TestClient, mail: MailSandbox, tenant: Tenant, db: Any
) -> None:
    allow_byom(db, tenant.organization_id)
    web = Browser(sandbox_client)
    web.login(tenant)
    page = web.get("/settings/channels/new/email").text
    assert 'data-testid="sandbox-mail-hint"' in page
    assert f"127.0.0.1:{mail.smtp_port}" in page
    assert f'name="settings.smtp_port" value="{mail.smtp_port}"' in page
    assert f'name="settings.imap_port" value="{mail.imap_port}"' in page
    assert 'name="settings.smtp_host" value="127.0.0.1"' in page
    assert '<option value="none" selected>' in page
    assert 'href="/sandbox/mail/"' in page


def test_without_the_sandbox_servers_the_email_form_has_no_hint(
    client: TestClient, tenant: Tenant, db: Any
) -> None:
    allow_byom(db, tenant.organization_id)
    web = Browser(client)
    web.login(tenant)
    page = web.get("/settings/channels/new/email").text
    assert "sandbox-mail-hint" not in page
    assert 'name="settings.smtp_port" value="587"' in page
