"""Tenant notifications: the outbox, delivery over SMTP by a job, retries, and the outbox API."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from switchboard.core.permissions import Role
from switchboard.models import Notification
from switchboard.notifications.service import NOT_CONFIGURED, notifications
from switchboard.notifications.smtp import parse_smtp_url
from switchboard.notifications.tasks import MAX_ATTEMPTS, sweep
from switchboard.tenancy.service import tenancy
from tests.support.jobs import JobRunner
from tests.support.smtp import SmtpSink
from tests.support.tenants import Tenant

OUTBOX = "/rest/v1/admin/notifications"


def notify(db: Any, org: Tenant, subject: str = "Your managed SMS channel is active") -> list[uuid.UUID]:
    async def go(session: Any) -> list[uuid.UUID]:
        rows = await notifications.notify_org_admins(
            session, org.organization_id, "onboarding.activated", subject, "Hello,\n\nIt is active.\n"
        )
        return [r.id for r in rows]

    result: list[uuid.UUID] = db.session(go)
    return result


def row(db: Any, notification_id: uuid.UUID) -> Notification:
    async def go(session: Any) -> Notification:
        found = await session.get(Notification, notification_id)
        assert found is not None
        return found

    result: Notification = db.session(go)
    return result


def test_delivered_over_smtp_to_each_admin_of_the_organization(
    smtp: SmtpSink, jobs: JobRunner, db: Any, org: Tenant, settings: Any
) -> None:
    second = "second-admin@example.com"
    db.session(lambda s: tenancy.add_member(s, org.organization_id, second, Role.WORKSPACE_ADMIN))
    db.session(lambda s: tenancy.add_member(s, org.organization_id, "reader@example.com", Role.MEMBER))
    ids = notify(db, org)
    assert len(ids) == 2
    assert smtp.messages == []  # nothing is sent inside the transaction
    jobs.run()
    assert sorted(m.recipients[0] for m in smtp.messages) == sorted([org.email, second])
    message = smtp.messages[0].message
    assert message["Subject"] == "Your managed SMS channel is active"
    assert message["From"] == settings.smtp_from
    assert "It is active." in message.get_payload()
    assert message["Message-ID"]
    sent = row(db, ids[0])
    assert (sent.status, sent.attempts, sent.last_error) == ("sent", 1, None)
    assert sent.sent_at is not None
    # A replayed job sends nothing twice.
    from switchboard.notifications.tasks import send_notification

    send_notification(str(ids[0]))
    jobs.run()
    assert len(smtp.messages) == 2


def test_without_smtp_emails_wait_in_the_outbox_for_platform_admins(
    client: TestClient, jobs: JobRunner, db: Any, org: Tenant, admin: Tenant, settings: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(settings, "smtp_url", "")
    [nid] = notify(db, org)
    jobs.run()
    waiting = row(db, nid)
    assert (waiting.status, waiting.last_error) == ("queued", NOT_CONFIGURED)
    page = client.get(OUTBOX, headers=admin.headers).json()
    assert page["total"] == 1
    item = page["items"][0]
    assert (item["to"], item["status"], item["kind"]) == (org.email, "queued", "onboarding.activated")
    assert "It is active." in item["body"]
    assert client.get(OUTBOX, params={"status": "sent"}, headers=admin.headers).json()["total"] == 0
    # Tenants cannot read the platform's outbox.
    assert client.get(OUTBOX, headers=org.headers).status_code == 403
    assert client.get(f"{OUTBOX}/{nid}", headers=org.headers).status_code == 403


def test_the_sweeper_sends_the_backlog_once_smtp_is_configured(
    smtp_server: SmtpSink, jobs: JobRunner, db: Any, org: Tenant, settings: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(settings, "smtp_url", "")
    [nid] = notify(db, org)
    jobs.run()
    monkeypatch.setattr(settings, "smtp_url", smtp_server.url)
    assert db.run(sweep) == 0  # too recent to be considered lost

    async def age(session: Any) -> None:
        old = datetime.now(UTC) - timedelta(hours=1)
        await session.execute(update(Notification).where(Notification.id == nid).values(updated_at=old))

    db.session(age)
    assert db.run(sweep) == 1
    jobs.run()
    assert [m.recipients for m in smtp_server.messages] == [[org.email]]
    assert row(db, nid).status == "sent"


def test_a_temporary_smtp_refusal_is_retried(smtp: SmtpSink, jobs: JobRunner, db: Any, org: Tenant) -> None:
    smtp.refuse = ["451 4.3.0 Try again later", "421 4.7.0 Too busy"]
    [nid] = notify(db, org)
    ran = jobs.run()
    assert ran["send_notification"] == 3
    assert len(smtp.messages) == 1
    sent = row(db, nid)
    assert (sent.status, sent.attempts, sent.last_error) == ("sent", 3, None)


def test_a_permanent_refusal_fails_without_retrying_and_can_be_resent(
    client: TestClient, smtp: SmtpSink, jobs: JobRunner, db: Any, org: Tenant, admin: Tenant
) -> None:
    smtp.refuse = ["550 5.1.1 Mailbox unavailable"]
    [nid] = notify(db, org)
    jobs.run()
    failed = row(db, nid)
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert failed.last_error is not None
    assert "550" in failed.last_error
    assert smtp.messages == []
    r = client.post(f"{OUTBOX}/{nid}/resend", headers=admin.headers)
    assert r.status_code == 200
    assert r.json()["status"] == "queued"
    jobs.run()
    assert row(db, nid).status == "sent"
    assert len(smtp.messages) == 1
    assert client.post(f"{OUTBOX}/{nid}/resend", headers=admin.headers).status_code == 409


def test_an_unreachable_server_is_retried_then_marked_failed(
    jobs: JobRunner, db: Any, org: Tenant, settings: Any, monkeypatch: Any
) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(settings, "smtp_url", f"smtp://127.0.0.1:{port}")
    [nid] = notify(db, org)
    ran = jobs.run()
    assert ran["send_notification"] == MAX_ATTEMPTS
    failed = row(db, nid)
    assert (failed.status, failed.attempts) == ("failed", MAX_ATTEMPTS)
    assert failed.last_error is not None
    assert "unreachable" in failed.last_error


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.com:587", ("mail.example.com", 587, None, None, False, None)),
        ("smtp://u%40x:p%3Ass@mail.example.com", ("mail.example.com", 25, "u@x", "p:ss", False, None)),
        ("smtps://mail.example.com", ("mail.example.com", 465, None, None, True, False)),
        (
            "smtp://mail.example.com:2525?starttls=require",
            ("mail.example.com", 2525, None, None, False, True),
        ),
        ("smtp://mail.example.com?starttls=off", ("mail.example.com", 25, None, None, False, False)),
    ],
)
def test_smtp_url_forms(url: str, expected: tuple[Any, ...]) -> None:
    t = parse_smtp_url(url)
    assert (t.host, t.port, t.username, t.password, t.use_tls, t.start_tls) == expected
    if t.password:
        assert t.password not in repr(t)


@pytest.mark.parametrize("url", ["http://mail.example.com", "smtp://", "smtp://host:99999"])
def test_bad_smtp_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="SWITCHBOARD_SMTP_URL"):
        parse_smtp_url(url)
