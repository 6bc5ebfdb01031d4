"""Jobs: send one outbound message through its channel's adapter; sweep messages whose job was lost."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime, timedelta

from huey import crontab
from huey.exceptions import RetryTask
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.channels.schemas import ConnectionStatus
from switchboard.connectors.adapter import AccountContext, ErrorKind, ProviderError, SendResult, get_adapter
from switchboard.connectors.base import ChannelType
from switchboard.core.db import transaction
from switchboard.core.queue import huey, run_async, task_lock
from switchboard.core.runtime import Runtime
from switchboard.health.service import account_context, health
from switchboard.messages.service import FAILED, MAX_ATTEMPTS, QUEUED, SENT, backoff, outbound
from switchboard.models import ChannelAccount, OutboundMessage, PushSubscription

log = logging.getLogger("switchboard.messages")


class _Skip(Exception):
    """The message cannot be sent as things stand; carries the error to record."""

    def __init__(self, error: ProviderError) -> None:
        super().__init__(error.message)
        self.error = error


async def _recipient(session: AsyncSession, message: OutboundMessage) -> str:
    """Web Push sends address a stored subscription by id; the adapter takes the subscription itself."""
    if message.channel_type != ChannelType.WEB_PUSH.value:
        return message.to
    sub = await session.scalar(
        select(PushSubscription).where(
            PushSubscription.id == uuid.UUID(message.to),
            PushSubscription.channel_account_id == message.channel_account_id,
        )
    )
    if sub is None:
        raise _Skip(
            ProviderError(
                "The push subscription no longer exists (the browser unsubscribed).",
                kind=ErrorKind.PERMANENT,
                code="gone",
            )
        )
    return json.dumps({"endpoint": sub.endpoint, "keys": {"p256dh": sub.p256dh, "auth": sub.auth}})


TOKEN_LAPSE_MARGIN = timedelta(minutes=5)


def _token_lapsing(account: ChannelAccount) -> bool:
    """The stored access token expires within minutes (only OAuth channels record an expiry)."""
    raw = (account.settings or {}).get("access_token_expires_at")
    try:
        expires = datetime.fromisoformat(str(raw)) if raw else None
    except ValueError:
        return False
    if expires is None:
        return False
    expires = expires if expires.tzinfo else expires.replace(tzinfo=UTC)
    return expires - datetime.now(UTC) < TOKEN_LAPSE_MARGIN


async def deliver(rt: Runtime, message_id: uuid.UUID) -> str | None:
    """Send one queued message. Returns its new status (None when there was nothing to do).

    The claim (`sending`) commits before the provider is called, so a worker that dies mid-send
    leaves a row the sweep re-queues. A temporary failure puts the row back to `queued` with the
    error and raises Huey's RetryTask with a back-off; the attempt count is the row's."""
    async with transaction(rt.sessionmaker) as session:
        message = await outbound.claim(session, message_id)
        if message is None:
            return None
        account = await session.get(ChannelAccount, message.channel_account_id)
        adapter = get_adapter(message.channel_type, rt.settings)
        refresh_failed: ProviderError | None = None
        try:
            if account is None or not account.is_active:
                raise _Skip(
                    ProviderError(
                        "The channel was deactivated before the message was sent.",
                        kind=ErrorKind.PERMANENT,
                        code="channel_inactive",
                    )
                )
            if account.connection_status != ConnectionStatus.DISCONNECTED.value and _token_lapsing(account):
                # A short-lived token (TikTok's last a day) would be refused: the health check refreshes
                # it and stores the new one first, or marks the channel for reauthorization.
                check = await health.run(session, rt.vault, rt.settings, account, "health")
                if not check.ok and check.error_kind == ErrorKind.TRANSIENT.value:
                    refresh_failed = ProviderError(
                        f"could not refresh the access token: {check.message}",
                        kind=ErrorKind.TRANSIENT,
                        code=check.error_code or "refresh_failed",
                    )
            if account.connection_status == ConnectionStatus.DISCONNECTED.value:
                raise _Skip(
                    ProviderError(
                        f"The channel is disconnected: {account.status_reason or 'reconnect it'}",
                        kind=ErrorKind.NEEDS_ACTION,
                        code="channel_disconnected",
                    )
                )
            if adapter is None:
                raise _Skip(
                    ProviderError(
                        f"{message.channel_type} has no send adapter.",
                        kind=ErrorKind.PERMANENT,
                        code="unsupported",
                    )
                )
            ctx: AccountContext = await account_context(session, rt.vault, account)
            to = await _recipient(session, message)
        except _Skip as skip:
            await outbound.mark_failed(session, account, message_id, skip.error)
            _log_outcome(message, FAILED, skip.error)
            return FAILED
        body, attempt = dict(message.body), message.attempts
    if refresh_failed is not None:
        return await _failed(rt, message, refresh_failed, attempt)
    # The provider call runs outside any transaction: nothing is held open while it waits.
    try:
        result: SendResult = await adapter.send(ctx, to, body)
    except ProviderError as exc:
        return await _failed(rt, message, exc, attempt)
    except Exception as exc:  # an adapter bug: fail this message, never retry it blindly
        log.exception("send crashed", extra={"outbound_message_id": str(message_id)})
        error = ProviderError(
            f"internal error: {type(exc).__name__}", kind=ErrorKind.PERMANENT, code="internal"
        )
        return await _failed(rt, message, error, attempt)
    async with transaction(rt.sessionmaker) as session:
        account = await session.get(ChannelAccount, message.channel_account_id)
        await outbound.mark_sent(session, account, message_id, result.provider_message_id or "")
    _log_outcome(message, SENT)
    return SENT


async def _failed(rt: Runtime, message: OutboundMessage, error: ProviderError, attempt: int) -> str:
    retry = error.kind is ErrorKind.TRANSIENT and attempt < MAX_ATTEMPTS
    if error.kind is ErrorKind.TRANSIENT and not retry:
        error = ProviderError(
            f"gave up after {attempt} attempts: {error.message}",
            kind=error.kind,
            code=error.code,
            status=error.status,
        )
    async with transaction(rt.sessionmaker) as session:
        if retry:
            await outbound.mark_retry(session, message.id, error, backoff(attempt))
        else:
            account = await session.get(ChannelAccount, message.channel_account_id)
            await outbound.mark_failed(session, account, message.id, error)
            if error.code == "gone" and message.channel_type == ChannelType.WEB_PUSH.value:
                # The push service says the browser unsubscribed: forget the subscription.
                await session.execute(
                    delete(PushSubscription).where(PushSubscription.id == uuid.UUID(message.to))
                )
    _log_outcome(message, QUEUED if retry else FAILED, error)
    if retry:
        raise RetryTask(error.message, delay=backoff(attempt))
    return FAILED


def _log_outcome(message: OutboundMessage, status: str, error: ProviderError | None = None) -> None:
    # Ids, kinds and codes only: never the recipient or the body.
    extra: dict[str, object] = {
        "outbound_message_id": str(message.id),
        "channel_account_id": str(message.channel_account_id),
        "channel_type": message.channel_type,
        "status": status,
    }
    if error is not None:
        extra.update(error_kind=error.kind.value, error_code=error.code or None)
    log.info("outbound message %s", status, extra=extra)


@huey.task()
def send_outbound_message(message_id: str) -> str | None:
    return run_async(lambda rt: deliver(rt, uuid.UUID(message_id)))


async def sweep(rt: Runtime, now: datetime | None = None) -> int:
    """Re-enqueue messages whose job was lost (and take back ones a dead worker held); apply receipts
    that raced their message's send."""
    async with transaction(rt.sessionmaker) as session:
        ids = await outbound.stale(session, now)
        await outbound.reconcile_receipts(session, now)
    for message_id in ids:
        send_outbound_message(str(message_id))
    return len(ids)


@huey.periodic_task(crontab(minute="*/5"))
def sweep_outbound_messages() -> int:
    with task_lock("outbound-messages-sweep", ttl=600):
        return run_async(sweep)
