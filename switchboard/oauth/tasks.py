"""Housekeeping of connection flows: expired OAuth states and their vault secrets, and pairing
secrets of deleted WhatsApp Lite channels, are removed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from huey import crontab
from sqlalchemy import delete, select

from switchboard.core.db import session_scope
from switchboard.core.queue import huey, run_async
from switchboard.core.runtime import Runtime
from switchboard.models import ChannelAccount, OAuthState, VaultSecret
from switchboard.oauth.pairing import PAIRING_OWNER
from switchboard.oauth.service import FLOW_OWNER

# Kept a while after expiry so a late callback still finds its state and explains what happened.
GRACE = timedelta(hours=1)


async def purge_flows(rt: Runtime) -> int:
    """Idempotent: returns how many expired flows were removed."""
    cutoff = datetime.now(UTC) - GRACE
    removed = 0
    async for s in session_scope(rt.sessionmaker):  # commits when the loop ends: no return inside
        ids = list(await s.scalars(select(OAuthState.id).where(OAuthState.expires_at < cutoff)))
        if ids:
            await s.execute(
                delete(VaultSecret).where(VaultSecret.owner_type == FLOW_OWNER, VaultSecret.owner_id.in_(ids))
            )
            await s.execute(delete(OAuthState).where(OAuthState.id.in_(ids)))
        await s.execute(
            delete(VaultSecret).where(
                VaultSecret.owner_type == PAIRING_OWNER,
                VaultSecret.owner_id.not_in(select(ChannelAccount.id)),
            )
        )
        removed = len(ids)
    return removed


@huey.periodic_task(crontab(minute="7"))
def purge_expired_flows() -> int:
    return int(run_async(lambda rt: purge_flows(rt)))
