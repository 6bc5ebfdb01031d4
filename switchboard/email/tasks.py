"""SES setup jobs: re-check DNS of due setups (back-off while unverified, daily once verified)."""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from huey import crontab

from switchboard.core.db import session_scope
from switchboard.core.queue import huey, run_async
from switchboard.core.runtime import Runtime
from switchboard.email.service import SesSetupService
from switchboard.models.base import utcnow

# Setups checked per transaction: a slow DNS server then delays one batch, not the whole run.
BATCH = 500
MAX_BATCHES = 100

log = logging.getLogger("switchboard.email")
# One run at a time per worker process: a run slower than a minute must not overlap the next.
# (Huey's lock_task needs a TTL to survive a crashed worker, which its SQLite storage lacks.)
_running = threading.Lock()


async def recheck_due(rt: Runtime, now: datetime | None = None) -> int:
    """Re-check every setup whose next check is due; returns how many were checked."""
    now = now or utcnow()
    service = SesSetupService(rt.settings)
    total = 0
    for _ in range(MAX_BATCHES):
        async for session in session_scope(rt.sessionmaker):
            checked = await service.recheck_due(session, now, limit=BATCH)
        total += checked
        # Each check moves next_check_at past `now`, so the next batch holds other setups.
        if checked < BATCH:
            break
    return total


@huey.periodic_task(crontab(minute="*"))
def recheck_ses_setups() -> int:
    """Every minute: re-check the DNS records of the setups that are due."""
    if not _running.acquire(blocking=False):
        log.info("SES setup re-check still running; skipping this minute")
        return 0
    try:
        return run_async(recheck_due)
    finally:
        _running.release()
