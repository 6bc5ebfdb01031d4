"""Reputation jobs: evaluate every email use case's tier, retry pool switches, prune old events."""

from __future__ import annotations

import logging
from datetime import datetime

from huey import crontab

from switchboard.core.db import session_scope
from switchboard.core.queue import huey, run_async, task_lock
from switchboard.core.runtime import Runtime
from switchboard.models.base import utcnow
from switchboard.usecases.events import SesEventService
from switchboard.usecases.service import UseCaseService

log = logging.getLogger("switchboard.usecases")

# Use cases evaluated per transaction: one bad row then costs a batch, not the run.
BATCH = 100


async def evaluate_all(
    rt: Runtime, now: datetime | None = None, service: UseCaseService | None = None
) -> int:
    """Evaluate every email use case; returns how many tier changes were applied."""
    now = now or utcnow()
    service = service or UseCaseService(rt.settings)
    changes = 0
    after = None
    while True:
        async for session in session_scope(rt.sessionmaker):
            ids = await service.email_use_case_ids(session, after, BATCH)
            for use_case_id in ids:
                if await service.evaluate_by_id(session, use_case_id, now) is not None:
                    changes += 1
        if len(ids) < BATCH:
            break
        after = ids[-1]
    return changes


async def prune_events(rt: Runtime, now: datetime | None = None) -> int:
    service = SesEventService(rt.settings, UseCaseService(rt.settings))
    removed = 0
    async for session in session_scope(rt.sessionmaker):
        removed = await service.prune(session, now)
    return removed


@huey.periodic_task(crontab(minute="*/5"))
def evaluate_reputation_tiers() -> int:
    """Every five minutes; also retries pool switches that failed."""
    with task_lock("reputation-tiers", ttl=1800):
        return run_async(evaluate_all)


@huey.periodic_task(crontab(minute="17", hour="3"))
def prune_email_events() -> int:
    """Daily: drop events older than the longest window (plus a margin)."""
    return run_async(prune_events)
