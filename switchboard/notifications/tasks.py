"""Jobs: deliver one outbox email; sweep emails whose job was lost."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from huey import crontab
from huey.exceptions import RetryTask

from switchboard.core.db import transaction
from switchboard.core.queue import huey, run_async
from switchboard.core.runtime import Runtime
from switchboard.notifications import smtp
from switchboard.notifications.service import FAILED, QUEUED, SENT, notifications

log = logging.getLogger("switchboard.notifications")

# Temporary SMTP failures are retried with back-off (5, 10, 20, 40 s) up to this many attempts.
MAX_ATTEMPTS = 5
STALE_AFTER = timedelta(minutes=5)


async def deliver(rt: Runtime, notification_id: uuid.UUID) -> str | None:
    """Send one queued email. Returns the row's new status (None when there was nothing to do).

    A temporary failure puts the row back to `queued` and raises Huey's RetryTask with a delay; the
    attempt count is the row's, so it holds however the job gets re-enqueued."""
    if not rt.settings.smtp_url:
        async with transaction(rt.sessionmaker) as session:
            await notifications.note_not_configured(session, notification_id)
        return None
    try:
        target = smtp.parse_smtp_url(rt.settings.smtp_url)
    except ValueError as exc:
        log.error("invalid SWITCHBOARD_SMTP_URL: %s", exc)
        return None
    async with transaction(rt.sessionmaker) as session:
        row = await notifications.claim(session, notification_id)
        if row is None:
            return None
        to, subject, body, attempt = row.to, row.subject, row.body, row.attempts
    try:
        await smtp.send(target, rt.settings.smtp_from, to, subject, body)
    except smtp.SendFailed as exc:
        retry = exc.retriable and attempt < MAX_ATTEMPTS
        status = QUEUED if retry else FAILED
        async with transaction(rt.sessionmaker) as session:
            await notifications.finish(session, notification_id, status, exc.message)
        log.warning(
            "notification delivery failed",
            extra={"notification_id": str(notification_id), "retry": retry, "error": exc.message},
        )
        if retry:
            raise RetryTask(exc.message, delay=5 * 2 ** (attempt - 1)) from exc
        return FAILED
    async with transaction(rt.sessionmaker) as session:
        await notifications.finish(session, notification_id, SENT)
    log.info("notification sent", extra={"notification_id": str(notification_id)})
    return SENT


@huey.task()
def send_notification(notification_id: str) -> None:
    run_async(lambda rt: deliver(rt, uuid.UUID(notification_id)))


async def sweep(rt: Runtime) -> int:
    async with transaction(rt.sessionmaker) as session:
        ids = await notifications.stale(session, bool(rt.settings.smtp_url), STALE_AFTER)
    for notification_id in ids:
        send_notification(str(notification_id))
    return len(ids)


@huey.periodic_task(crontab(minute="*/5"))
def sweep_notifications() -> None:
    run_async(sweep)
