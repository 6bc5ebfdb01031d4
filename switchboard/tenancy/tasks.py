"""Jobs: allocate the numbers of senders waiting for one (outlets of managed WhatsApp/SMS channels)."""

from __future__ import annotations

import logging
import uuid

from huey.api import Task

from switchboard.connectors.adapter import ProviderError
from switchboard.core.db import transaction
from switchboard.core.queue import huey, run_async
from switchboard.core.runtime import Runtime
from switchboard.onboarding.providers import build_providers
from switchboard.tenancy.outlets import outlets

log = logging.getLogger("switchboard.outlets")

# A pool may hand out a number we already hold (the sandbox derives numbers from a hash): ask again
# with a new key, a few times.
MAX_CLASHES = 5


async def allocate(rt: Runtime, organization_id: uuid.UUID) -> int:
    """Give every `allocating` sender of the organization a number; returns how many were filled.

    The idempotency key is the sender's id, so a replay after a crash gets the same number back.
    """
    pool = build_providers(rt.settings).numbers
    async with transaction(rt.sessionmaker) as session:
        waiting = [(s.id, s.channel) for s in await outlets.pending_allocations(session, organization_id)]
    filled = 0
    for sender_id, channel in waiting:
        for attempt in range(MAX_CLASHES):
            key = f"sender:{sender_id}" + (f":{attempt}" if attempt else "")
            number = await pool.allocate(channel, key)
            async with transaction(rt.sessionmaker) as session:
                ok = await outlets.fill_number(session, sender_id, number.phone_number, number.ref)
            if ok:
                filled += 1
                break
        else:
            log.error("number pool kept returning numbers in use", extra={"sender_id": str(sender_id)})
    return filled


@huey.task(retries=5, retry_delay=5, retry_backoff=2, context=True)
def allocate_senders(organization_id: str, task: Task | None = None) -> None:
    try:
        run_async(lambda rt: allocate(rt, uuid.UUID(organization_id)))
    except ProviderError as exc:
        if not exc.retriable or (task is not None and not task.retries):
            log.error(
                "sender allocation failed", extra={"organization_id": organization_id, "error": exc.message}
            )
            return
        raise
