"""Web Push subscriptions and sends. A subscription the push service answers 404/410 for is removed."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.channels.service import ChannelAccountService
from switchboard.connectors.adapter import ProviderError
from switchboard.connectors.base import ChannelType
from switchboard.connectors.web_push_adapter import WebPushAdapter
from switchboard.core.errors import NotFound, Unprocessable
from switchboard.core.permissions import Permission, Principal
from switchboard.health.service import account_context
from switchboard.models import ChannelAccount, PushSubscription
from switchboard.push.schemas import PushSend, PushSendResult, SubscriptionCreate


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class PushService:
    async def public_account(self, session: AsyncSession, account_id: uuid.UUID) -> ChannelAccount:
        """The unauthenticated endpoints only serve active Web Push channels that have keys."""
        account = await session.get(ChannelAccount, account_id)
        if (
            account is None
            or account.type != ChannelType.WEB_PUSH.value
            or not account.settings.get("vapid_public_key")
        ):
            raise NotFound("Push channel not found.")
        return account

    async def subscribe(
        self, session: AsyncSession, account: ChannelAccount, data: SubscriptionCreate, user_agent: str | None
    ) -> PushSubscription:
        existing = await session.scalar(
            select(PushSubscription).where(
                PushSubscription.channel_account_id == account.id, PushSubscription.endpoint == data.endpoint
            )
        )
        if existing is not None:  # the browser re-sent it: refresh the keys
            existing.p256dh, existing.auth = data.keys.p256dh, data.keys.auth
            await session.flush()
            return existing
        row = PushSubscription(
            organization_id=account.organization_id,
            channel_account_id=account.id,
            endpoint=data.endpoint,
            p256dh=data.keys.p256dh,
            auth=data.keys.auth,
            user_agent=(user_agent or None) and user_agent[:500],
        )
        session.add(row)
        await session.flush()
        return row

    async def send(
        self,
        session: AsyncSession,
        principal: Principal,
        accounts: ChannelAccountService,
        settings: Any,
        account_id: uuid.UUID,
        data: PushSend,
    ) -> PushSendResult:
        principal.require(Permission.CHANNELS_MANAGE)
        account = await accounts.get(session, principal, account_id)
        if account.type != ChannelType.WEB_PUSH.value:
            raise Unprocessable("Not a Web Push channel.", code="wrong_channel_type")
        ctx = await account_context(session, accounts.vault, account)
        adapter = WebPushAdapter(settings)
        subs = list(
            await session.scalars(
                select(PushSubscription).where(PushSubscription.channel_account_id == account.id)
            )
        )
        sent = removed = failed = 0
        gone: list[uuid.UUID] = []
        payload = data.model_dump(exclude_none=True)
        for sub in subs:
            info = {"endpoint": sub.endpoint, "keys": {"p256dh": sub.p256dh, "auth": sub.auth}}
            try:
                await adapter.send(ctx, json.dumps(info), payload)
            except ProviderError as exc:
                if exc.code == "gone":
                    gone.append(sub.id)
                    removed += 1
                else:
                    failed += 1
                continue
            sub.last_success_at = datetime.now(UTC)
            sent += 1
        if gone:
            await session.execute(delete(PushSubscription).where(PushSubscription.id.in_(gone)))
        await session.flush()
        return PushSendResult(sent=sent, removed=removed, failed=failed)


push = PushService()
