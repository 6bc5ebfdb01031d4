"""Drive a channel account's adapter directly (sends have no API of their own yet)."""

from __future__ import annotations

import uuid
from typing import Any

from switchboard.connectors.adapter import SendResult, get_adapter
from switchboard.core.db import session_scope
from switchboard.core.runtime import Runtime
from switchboard.health.service import account_context
from switchboard.models import ChannelAccount


def send(db: Any, account_id: str, to: str, body: dict[str, Any]) -> SendResult:
    async def go(rt: Runtime) -> SendResult:
        async for s in session_scope(rt.sessionmaker):
            account = await s.get(ChannelAccount, uuid.UUID(account_id))
            assert account is not None
            ctx = await account_context(s, rt.vault, account)
            adapter = get_adapter(account.type, rt.settings)
            assert adapter is not None
        return await adapter.send(ctx, to, body)

    result: SendResult = db.run(go)
    return result
