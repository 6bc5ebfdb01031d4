"""Periodic health checks of every active channel account."""

from __future__ import annotations

import logging

from huey import crontab
from sqlalchemy import select

from switchboard.connectors.adapter import ADAPTERS
from switchboard.core.db import session_scope
from switchboard.core.queue import huey, run_async
from switchboard.core.runtime import Runtime
from switchboard.health.service import health
from switchboard.models import ChannelAccount

log = logging.getLogger(__name__)


async def check_active_accounts(rt: Runtime) -> int:
    """One check per active account that has an adapter, each in its own transaction."""
    async for s in session_scope(rt.sessionmaker):
        ids = list(
            await s.scalars(
                select(ChannelAccount.id).where(
                    ChannelAccount.is_active.is_(True), ChannelAccount.type.in_(list(ADAPTERS))
                )
            )
        )
    checked = 0
    for account_id in ids:
        async for s in session_scope(rt.sessionmaker):
            account = await s.get(ChannelAccount, account_id)
            if account is not None and account.is_active:
                await health.run(s, rt.vault, rt.settings, account, "health")
                checked += 1
    return checked


@huey.periodic_task(crontab(minute="*/15"))
def check_channel_health() -> None:
    count = run_async(check_active_accounts)
    log.info("channel health checked", extra={"accounts": count})
