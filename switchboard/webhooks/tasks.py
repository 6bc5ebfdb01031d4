"""The parse job: turns stored raw webhook events into inbound messages and receipts."""

from __future__ import annotations

import time

from huey import crontab

from switchboard.core.queue import huey, run_async
from switchboard.webhooks.service import poll_mailboxes, process_pending

_last_enqueued = 0.0


@huey.task(retries=3, retry_delay=10)
def parse_webhook_events() -> int:
    total = 0
    while True:
        count = run_async(lambda rt: process_pending(rt))
        total += count
        if count == 0:
            return total


@huey.periodic_task(crontab(minute="*"))
def parse_webhook_events_sweep() -> None:
    """Catches events whose enqueue was skipped (debounced) or lost."""
    run_async(lambda rt: process_pending(rt))


def schedule_parse() -> None:
    """Enqueue one parse job at most every 200 ms: each job drains every pending event anyway."""
    global _last_enqueued
    now = time.monotonic()
    if now - _last_enqueued >= 0.2:
        _last_enqueued = now
        parse_webhook_events()


@huey.periodic_task(crontab(minute="*"))
def poll_email_inboxes() -> None:
    """Receive mail: IMAP polling of every active Email channel, once a minute."""
    run_async(poll_mailboxes)
