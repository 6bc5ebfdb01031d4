"""Outbound messages: accept a send (validate, write it queued, enqueue the job after commit), the
state changes the send job makes, and delivery/read receipts.

Delivery is at least once: the row is committed `queued` before the job exists, claimed `sending`
(committed) before the provider is called, and a sweep re-enqueues rows whose job was lost or whose
worker died mid-send. Status only moves forward: queued -> sending -> sent -> delivered -> read,
or to failed.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.analytics import events as analytics
from switchboard.channels.schemas import ConnectionStatus
from switchboard.channels.service import ChannelAccountService
from switchboard.connectors.adapter import ErrorKind, HealthResult, InboundEvent, ProviderError
from switchboard.connectors.base import ChannelType
from switchboard.core.errors import Conflict, NotFound, TooManyRequests
from switchboard.core.permissions import Permission, Principal
from switchboard.core.queue import enqueue_on_commit
from switchboard.health.service import health
from switchboard.messages.rules import invalid, prepare, public_body
from switchboard.messages.schemas import MessageCreate, MessageRead, MessageStatus
from switchboard.models import (
    ChannelAccount,
    ChannelHealth,
    InboundMessage,
    OutboundMessage,
    PushSubscription,
)

log = logging.getLogger(__name__)

QUEUED, SENDING, SENT = MessageStatus.QUEUED.value, MessageStatus.SENDING.value, MessageStatus.SENT.value
DELIVERED, READ, FAILED = MessageStatus.DELIVERED.value, MessageStatus.READ.value, MessageStatus.FAILED.value
RANK = {QUEUED: 0, SENDING: 1, SENT: 2, DELIVERED: 3, READ: 4}
ROUTED_DIRECT = "direct"  # a send on one named channel: no outlet/sender resolution involved
RECEIPT_KINDS = ("delivery", "read", "status")
PROVIDER_FAILED = {"failed", "undelivered"}  # asynchronous failure reports (WhatsApp Cloud, Twilio)

# Temporary failures are retried with back-off (15 s doubling, capped) up to this many attempts.
MAX_ATTEMPTS = 8
MAX_DELAY = 3600
# The sweep re-enqueues queued messages this late, and `sending` ones claimed this long ago (dead worker).
SWEEP_GRACE = timedelta(minutes=5)
SENDING_STALE = timedelta(minutes=10)
RECEIPT_WINDOW = timedelta(days=2)


def _now() -> datetime:
    return datetime.now(UTC)


def backoff(attempt: int) -> int:
    return int(min(15 * 2 ** max(attempt - 1, 0), MAX_DELAY))


def readable_by(principal: Principal) -> Select[OutboundMessage]:
    """Every read starts here, so no query can forget the tenant scope."""
    stmt = select(OutboundMessage)
    if not principal.is_platform_admin:
        stmt = stmt.where(OutboundMessage.organization_id == principal.organization_id)
    return stmt


def _enqueue(session: AsyncSession, message_id: uuid.UUID) -> None:
    from switchboard.messages.tasks import send_outbound_message

    enqueue_on_commit(session, lambda: send_outbound_message(str(message_id)))


def _insert(session: AsyncSession) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


class OutboundMessageService:
    # --- the API ------------------------------------------------------------------------------------

    async def create(
        self,
        session: AsyncSession,
        principal: Principal,
        accounts: ChannelAccountService,
        account_id: uuid.UUID,
        data: MessageCreate,
    ) -> tuple[OutboundMessage, bool]:
        """Queue a message; returns (message, created). A known client_reference returns the first one."""
        principal.require(Permission.CHANNELS_SEND)
        account = await accounts.get(session, principal, account_id)
        if data.client_reference is not None:
            existing = await self._by_reference(session, account.id, data.client_reference)
            if existing is not None:
                return existing, False
        to, body = prepare(account.type, data.to, data.body, account.settings)
        if account.type == ChannelType.WEB_PUSH.value:
            sub = await session.scalar(
                select(PushSubscription.id).where(
                    PushSubscription.id == uuid.UUID(to), PushSubscription.channel_account_id == account.id
                )
            )
            if sub is None:
                raise invalid("to", "unknown_subscription", "is not a subscription of this channel")
        if not account.is_active:
            raise Conflict(
                "The channel is inactive: activate it before sending.",
                code="channel_inactive",
                details=[{"field": "channel_account_id", "rule": "inactive", "message": "inactive"}],
            )
        if account.connection_status == ConnectionStatus.DISCONNECTED.value:
            reason = account.status_reason or "reconnect it"
            raise Conflict(
                f"The channel is disconnected: {reason}",
                code="channel_disconnected",
                details=[{"field": "channel_account_id", "rule": "disconnected", "message": reason}],
            )
        now = _now()
        await self._within_warming_limit(session, account, now)
        message_id = uuid.uuid4()
        values = {
            "id": message_id,
            "organization_id": account.organization_id,
            "channel_account_id": account.id,
            "channel_type": account.type,
            "to": to,
            "body": body,
            "status": QUEUED,
            "attempts": 0,
            "next_attempt_at": now,
            "client_reference": data.client_reference,
            "routed_via": ROUTED_DIRECT,
            "created_at": now,
            "updated_at": now,
        }
        # A concurrent request with the same reference loses the race quietly and returns the winner.
        stmt = (
            _insert(session)(OutboundMessage)
            .values(values)
            .on_conflict_do_nothing(index_elements=["channel_account_id", "client_reference"])
            .returning(OutboundMessage.id)
        )
        inserted = (await session.execute(stmt)).scalar_one_or_none()
        if inserted is None:
            assert data.client_reference is not None
            winner = await self._by_reference(session, account.id, data.client_reference)
            assert winner is not None
            return winner, False
        message = await session.get(OutboundMessage, message_id)
        assert message is not None
        _enqueue(session, message_id)
        log.info(
            "outbound message queued",
            extra={"outbound_message_id": str(message_id), "channel_account_id": str(account.id)},
        )
        return message, True

    async def _within_warming_limit(
        self, session: AsyncSession, account: ChannelAccount, now: datetime
    ) -> None:
        """A WhatsApp Lite number on a warming campaign takes at most its daily limit of messages
        (UTC day), so a new number ramps up instead of being banned for a burst."""
        settings = account.settings or {}
        if account.type != ChannelType.WHATSAPP_LITE.value or not settings.get("warming_enabled"):
            return
        limit = int(settings.get("warming_daily_limit") or 50)
        # Concurrent sends on this account queue behind the row lock, so the count cannot be overrun.
        await session.execute(
            select(ChannelAccount.id).where(ChannelAccount.id == account.id).with_for_update()
        )
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        today = await session.scalar(
            select(func.count())
            .select_from(OutboundMessage)
            .where(
                OutboundMessage.channel_account_id == account.id,
                OutboundMessage.created_at >= day,
                OutboundMessage.status != FAILED,
            )
        )
        if (today or 0) >= limit:
            message = (
                f"the warming campaign allows {limit} messages a day on this number; "
                "try again after 00:00 UTC"
            )
            raise TooManyRequests(
                f"channel_account_id: {message}",
                code="warming_limit_reached",
                details=[{"field": "channel_account_id", "rule": "warming_daily_limit", "message": message}],
            )

    async def _by_reference(
        self, session: AsyncSession, account_id: uuid.UUID, reference: str
    ) -> OutboundMessage | None:
        return await session.scalar(
            select(OutboundMessage).where(
                OutboundMessage.channel_account_id == account_id,
                OutboundMessage.client_reference == reference,
            )
        )

    async def list_messages(
        self,
        session: AsyncSession,
        principal: Principal,
        accounts: ChannelAccountService,
        account_id: uuid.UUID,
        *,
        status: MessageStatus | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[OutboundMessage], int]:
        """Newest first."""
        account = await accounts.get(session, principal, account_id)
        stmt = readable_by(principal).where(OutboundMessage.channel_account_id == account.id)
        if status is not None:
            stmt = stmt.where(OutboundMessage.status == status.value)
        total = await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = await session.scalars(
            stmt.order_by(OutboundMessage.created_at.desc(), OutboundMessage.id).limit(limit).offset(offset)
        )
        return list(rows), total

    async def get(
        self,
        session: AsyncSession,
        principal: Principal,
        accounts: ChannelAccountService,
        account_id: uuid.UUID,
        message_id: uuid.UUID,
    ) -> OutboundMessage:
        account = await accounts.get(session, principal, account_id)
        row = await session.scalar(
            readable_by(principal).where(
                OutboundMessage.id == message_id, OutboundMessage.channel_account_id == account.id
            )
        )
        if row is None:
            raise NotFound("Message not found.")
        return row

    def read(self, row: OutboundMessage) -> MessageRead:
        return MessageRead(
            id=row.id,
            organization_id=row.organization_id,
            channel_account_id=row.channel_account_id,
            channel_type=ChannelType(row.channel_type),
            to=row.to,
            body=public_body(row.body),
            status=MessageStatus(row.status),
            provider_message_id=row.provider_message_id,
            error_kind=row.error_kind,
            error_code=row.error_code,
            error_message=row.error_message,
            attempts=row.attempts,
            next_attempt_at=row.next_attempt_at,
            client_reference=row.client_reference,
            routed_via=row.routed_via,
            created_at=row.created_at,
            sent_at=row.sent_at,
            delivered_at=row.delivered_at,
            read_at=row.read_at,
            failed_at=row.failed_at,
            updated_at=row.updated_at,
        )

    # --- the send job -------------------------------------------------------------------------------

    async def claim(self, session: AsyncSession, message_id: uuid.UUID) -> OutboundMessage | None:
        """queued -> sending for exactly one worker; None when there is nothing to send."""
        now = _now()
        result = await session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == message_id, OutboundMessage.status == QUEUED)
            .values(status=SENDING, attempts=OutboundMessage.attempts + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            return None
        return await session.scalar(
            select(OutboundMessage)
            .where(OutboundMessage.id == message_id)
            .execution_options(populate_existing=True)
        )

    async def _sending(self, session: AsyncSession, message_id: uuid.UUID) -> OutboundMessage | None:
        """The row this worker claimed, if it still is `sending` (the sweep may have taken it back)."""
        return await session.scalar(
            select(OutboundMessage)
            .where(OutboundMessage.id == message_id, OutboundMessage.status == SENDING)
            .execution_options(populate_existing=True)
        )

    async def mark_sent(
        self,
        session: AsyncSession,
        account: ChannelAccount | None,
        message_id: uuid.UUID,
        provider_message_id: str,
    ) -> OutboundMessage | None:
        row = await self._sending(session, message_id)
        if row is None:
            return None
        now = _now()
        row.status, row.sent_at, row.updated_at = SENT, now, now
        row.provider_message_id = provider_message_id[:300] or None
        row.error_kind = row.error_code = row.error_message = None
        row.next_attempt_at = None
        await session.flush()
        # A receipt that arrived before this commit (fast providers) is applied now.
        await self._apply_stored_receipts(session, [row])
        if account is not None:
            await self._record_success(session, account)
        await analytics.emit(
            session,
            "message.sent",
            row.organization_id,
            outbound_message_id=row.id,
            channel_account_id=row.channel_account_id,
            type=row.channel_type,
        )
        return row

    async def mark_retry(
        self, session: AsyncSession, message_id: uuid.UUID, error: ProviderError, delay: int
    ) -> OutboundMessage | None:
        """Back to queued with the error kept; the job retries after `delay` seconds."""
        row = await self._sending(session, message_id)
        if row is None:
            return None
        now = _now()
        row.status, row.updated_at = QUEUED, now
        row.next_attempt_at = now + timedelta(seconds=delay)
        self._error(row, error)
        await session.flush()
        return row

    async def mark_failed(
        self,
        session: AsyncSession,
        account: ChannelAccount | None,
        message_id: uuid.UUID,
        error: ProviderError,
        *,
        claimed: bool = True,
    ) -> OutboundMessage | None:
        """Failed for good. An error that needs the tenant's action also goes to the channel's health,
        so the channel shows disconnected with the reason."""
        row = (
            await self._sending(session, message_id)
            if claimed
            else await session.get(OutboundMessage, message_id)
        )
        if row is None:
            return None
        now = _now()
        row.status, row.failed_at, row.updated_at, row.next_attempt_at = FAILED, now, now, None
        self._error(row, error)
        await session.flush()
        if (
            account is not None
            and error.kind is ErrorKind.NEEDS_ACTION
            and error.code != "channel_disconnected"
        ):
            await health.record_result(session, account, "send", error=error)
        await analytics.emit(
            session,
            "message.failed",
            row.organization_id,
            outbound_message_id=row.id,
            channel_account_id=row.channel_account_id,
            type=row.channel_type,
            error_type=error.kind.value,
        )
        return row

    @staticmethod
    def _error(row: OutboundMessage, error: ProviderError) -> None:
        row.error_kind = error.kind.value
        row.error_code = (error.code or None) and error.code[:100]
        row.error_message = error.message[:2000]

    async def _record_success(self, session: AsyncSession, account: ChannelAccount) -> None:
        """A send that worked proves the credentials: a pending channel becomes connected, and a run of
        temporary failures ends. Otherwise nothing is logged, so sends do not flood the connection log."""
        row = await session.scalar(
            select(ChannelHealth).where(ChannelHealth.channel_account_id == account.id)
        )
        transient_run = (
            row is not None and bool(row.error_count) and row.last_error_kind == ErrorKind.TRANSIENT.value
        )
        if account.connection_status == ConnectionStatus.PENDING.value or transient_run:
            await health.record_result(session, account, "send", result=HealthResult(ok=True))

    async def stale(self, session: AsyncSession, now: datetime | None = None) -> list[uuid.UUID]:
        """Messages whose job was lost: `sending` long ago (the worker died mid-send) go back to queued,
        and queued ones well past their time are returned to be enqueued again."""
        now = now or _now()
        await session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.status == SENDING, OutboundMessage.updated_at < now - SENDING_STALE)
            .values(status=QUEUED, next_attempt_at=now - SWEEP_GRACE - timedelta(seconds=1), updated_at=now)
            .execution_options(synchronize_session=False)
        )
        rows = await session.scalars(
            select(OutboundMessage.id)
            .where(OutboundMessage.status == QUEUED, OutboundMessage.next_attempt_at < now - SWEEP_GRACE)
            .order_by(OutboundMessage.next_attempt_at)
            .limit(500)
        )
        return list(rows)

    # --- receipts -----------------------------------------------------------------------------------

    async def apply_receipts(
        self, session: AsyncSession, account: ChannelAccount, events: Sequence[InboundEvent]
    ) -> int:
        """Advance this account's messages that parsed receipts name; returns how many moved."""
        moved = 0
        for event in events:
            if event.kind not in RECEIPT_KINDS:
                continue
            if event.provider_message_id:
                rows = await session.scalars(
                    select(OutboundMessage).where(
                        OutboundMessage.channel_account_id == account.id,
                        OutboundMessage.provider_message_id == event.provider_message_id[:300],
                    )
                )
            elif event.kind == "read" and event.sender and _watermark(event.raw) is not None:
                # Messenger/Instagram: "everything up to this time was read" by that person.
                rows = await session.scalars(
                    select(OutboundMessage).where(
                        OutboundMessage.channel_account_id == account.id,
                        OutboundMessage.to == event.sender,
                        OutboundMessage.status.in_([SENT, DELIVERED]),
                        OutboundMessage.sent_at <= _watermark(event.raw),
                    )
                )
            else:
                continue
            for row in rows:
                moved += _advance(row, event.kind, event.raw, event.occurred_at)
        if moved:
            await session.flush()
        return moved

    async def _apply_stored_receipts(self, session: AsyncSession, rows: Sequence[OutboundMessage]) -> int:
        moved = 0
        for row in rows:
            if not row.provider_message_id:
                continue
            receipts = await session.scalars(
                select(InboundMessage)
                .where(
                    InboundMessage.channel_account_id == row.channel_account_id,
                    InboundMessage.provider_message_id == row.provider_message_id,
                    InboundMessage.kind.in_(RECEIPT_KINDS),
                )
                .order_by(InboundMessage.created_at)
            )
            for receipt in receipts:
                moved += _advance(row, receipt.kind, receipt.details or {}, receipt.occurred_at)
        return moved

    async def reconcile_receipts(self, session: AsyncSession, now: datetime | None = None) -> int:
        """Receipts stored while the job that learnt the provider id was still committing (a race the
        two transactions cannot see) are applied by the sweep."""
        now = now or _now()
        rows = list(
            await session.scalars(
                select(OutboundMessage)
                .where(
                    OutboundMessage.status.in_([SENT, DELIVERED]),
                    OutboundMessage.sent_at > now - RECEIPT_WINDOW,
                    select(InboundMessage.id)
                    .where(
                        InboundMessage.channel_account_id == OutboundMessage.channel_account_id,
                        InboundMessage.provider_message_id == OutboundMessage.provider_message_id,
                        InboundMessage.kind.in_(RECEIPT_KINDS),
                    )
                    .exists(),
                )
                .limit(500)
            )
        )
        moved = await self._apply_stored_receipts(session, rows)
        if moved:
            await session.flush()
        return moved


def _watermark(raw: dict[str, Any]) -> datetime | None:
    read = raw.get("read")
    if not isinstance(read, dict):
        return None
    try:
        value = float(str(read.get("watermark")))
    except (TypeError, ValueError):
        return None
    return datetime.fromtimestamp(value / 1000 if value > 1e11 else value, UTC)


def _advance(row: OutboundMessage, kind: str, raw: dict[str, Any], at: datetime | None) -> int:
    """Apply one receipt to a sent message; never moves backwards. Returns 1 if the status changed."""
    if row.status not in (SENT, DELIVERED, READ):
        return 0
    when = at or _now()
    if kind == "status":
        state = str(raw.get("status") or "")
        if state not in PROVIDER_FAILED or row.status != SENT:
            return 0
        errors = raw.get("errors") if isinstance(raw.get("errors"), list) else []
        first = errors[0] if errors and isinstance(errors[0], dict) else {}
        detail = first.get("title") or first.get("message")
        row.status, row.failed_at, row.updated_at = FAILED, when, _now()
        row.error_kind, row.error_code = ErrorKind.PERMANENT.value, str(first.get("code") or state)[:100]
        row.error_message = f"The provider reported the message {state}" + (f": {detail}" if detail else ".")
        return 1
    target = DELIVERED if kind == "delivery" else READ
    if RANK[target] <= RANK[row.status]:
        return 0
    row.status, row.updated_at = target, _now()
    row.delivered_at = row.delivered_at or when
    if target == READ:
        row.read_at = when
    return 1


outbound = OutboundMessageService()
