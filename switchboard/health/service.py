"""Health of channel accounts: run a check or a connect through the type's adapter, classify the
outcome and move `connection_status` accordingly.

A transient error (timeout, 5xx, rate limit) never disconnects a channel: after a threshold of
consecutive ones it goes to `error` with the reason; only an error that needs the tenant's action
(revoked or expired token, missing scope) marks it `disconnected`.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.channels.schemas import ConnectionStatus
from switchboard.channels.service import OWNER, ChannelAccountService
from switchboard.connectors.adapter import (
    AccountContext,
    ErrorKind,
    HealthResult,
    ProviderError,
    get_adapter,
)
from switchboard.connectors.base import ChannelType
from switchboard.core import audit
from switchboard.core.errors import Unprocessable
from switchboard.core.permissions import Permission, Principal
from switchboard.core.vault import Vault
from switchboard.models import ChannelAccount, ChannelHealth, ConnectionAttempt

log = logging.getLogger(__name__)

# Consecutive transient failures before a channel shows `error`; mail servers blip more often.
DEFAULT_THRESHOLD = 3
THRESHOLDS: dict[str, int] = {ChannelType.EMAIL.value: 5, ChannelType.WEB_PUSH.value: 5}
REAUTHORIZATION_REQUIRED = "reauthorization required"
REAUTH_CODES = {"token_expired", "token_revoked", "invalid_token", "reauthorization_required"}


def threshold_for(channel_type: str) -> int:
    return THRESHOLDS.get(channel_type, DEFAULT_THRESHOLD)


async def account_context(session: AsyncSession, vault: Vault, account: ChannelAccount) -> AccountContext:
    return AccountContext(
        account_id=account.id,
        organization_id=account.organization_id,
        settings=dict(account.settings),
        secrets=await vault.read_all(session, OWNER, account.id),
    )


async def _health_row(session: AsyncSession, account: ChannelAccount) -> ChannelHealth:
    row = await session.scalar(select(ChannelHealth).where(ChannelHealth.channel_account_id == account.id))
    if row is None:
        row = ChannelHealth(organization_id=account.organization_id, channel_account_id=account.id)
        session.add(row)
    return row


class HealthService:
    async def record_result(
        self,
        session: AsyncSession,
        account: ChannelAccount,
        action: str,
        *,
        result: HealthResult | None = None,
        error: ProviderError | None = None,
        actor: Principal | None = None,
    ) -> ConnectionAttempt:
        """Apply one outcome to the health row and the account status; append to the connection log."""
        now = datetime.now(UTC)
        health = await _health_row(session, account)
        before = account.connection_status
        ok = error is None and result is not None and result.ok
        kind: str | None = None
        code: str | None = None
        message: str | None = None
        if ok:
            health.error_count = 0
            health.last_success_at = now
            account.connection_status = ConnectionStatus.CONNECTED.value
            account.status_reason = None
        else:
            if error is None and result is not None and result.error is not None:
                error = result.error
            if error is None:  # the provider answered, but something is not set up (e.g. webhook gone)
                error = ProviderError(
                    (result.reason if result else None) or "check failed", kind=ErrorKind.PERMANENT
                )
            kind, code, message = error.kind.value, error.code or None, error.message
            health.error_count = (health.error_count or 0) + 1
            health.last_error, health.last_error_kind, health.last_error_at = message, kind, now
            if error.kind is ErrorKind.NEEDS_ACTION:
                account.connection_status = ConnectionStatus.DISCONNECTED.value
                account.status_reason = (
                    f"{REAUTHORIZATION_REQUIRED}: {message}" if error.code in REAUTH_CODES else message
                )[:500]
            elif error.kind is ErrorKind.PERMANENT:
                if account.connection_status != ConnectionStatus.DISCONNECTED.value:
                    account.connection_status = ConnectionStatus.ERROR.value
                account.status_reason = message[:500]
            elif health.error_count >= threshold_for(account.type) and account.connection_status in (
                ConnectionStatus.CONNECTED.value,
                ConnectionStatus.PENDING.value,
            ):
                # Transient: never `disconnected`; `error` only after N in a row.
                account.connection_status = ConnectionStatus.ERROR.value
                account.status_reason = f"{health.error_count} consecutive temporary failures: {message}"[
                    :500
                ]
        account.last_checked_at = now
        attempt = ConnectionAttempt(
            organization_id=account.organization_id,
            channel_account_id=account.id,
            at=now,
            action=action,
            ok=ok,
            error_kind=kind,
            error_code=code,
            message=(message or None) and message[:2000],
            status_after=account.connection_status,
        )
        session.add(attempt)
        if before != account.connection_status:
            await audit.record(
                session,
                actor,
                "channel_account.status_changed",
                OWNER,
                account.id,
                organization_id=account.organization_id,
                before={"connection_status": before},
                after={
                    "connection_status": account.connection_status,
                    "status_reason": account.status_reason,
                },
                reason=action,
            )
        await session.flush()
        return attempt

    async def run(
        self,
        session: AsyncSession,
        vault: Vault,
        settings: Any,
        account: ChannelAccount,
        action: str,
        *,
        actor: Principal | None = None,
    ) -> ConnectionAttempt:
        """`health` runs the adapter's check; test/connect/reconnect run its connect (set-up included)."""
        adapter = get_adapter(account.type, settings)
        if adapter is None:
            raise Unprocessable(f"{account.type} has no connection check yet.", code="not_supported")
        ctx = await account_context(session, vault, account)
        connect = getattr(adapter, "connect", None)
        try:
            if action != "health" and connect is not None:
                result: HealthResult = await connect(ctx)
            else:
                result = await adapter.check_health(ctx)
        except ProviderError as exc:
            return await self.record_result(session, account, action, error=exc, actor=actor)
        except Exception as exc:  # an adapter bug must not become a 500 or a false disconnect
            log.exception("connection check crashed", extra={"channel_account_id": str(account.id)})
            err = ProviderError(
                f"internal error: {type(exc).__name__}", kind=ErrorKind.PERMANENT, code="internal"
            )
            return await self.record_result(session, account, action, error=err, actor=actor)
        for name, value in result.refreshed_secrets.items():
            if value and value != ctx.secrets.get(name):
                await vault.put(session, OWNER, account.id, name, value, account.organization_id)
        if result.settings_updates:
            account.settings = {**account.settings, **result.settings_updates}
        return await self.record_result(session, account, action, result=result, actor=actor)

    async def test(
        self,
        session: AsyncSession,
        principal: Principal,
        accounts: ChannelAccountService,
        settings: Any,
        account_id: uuid.UUID,
        action: str = "test",
    ) -> tuple[ChannelAccount, ConnectionAttempt]:
        principal.require(Permission.CHANNELS_CONNECT)
        account = await accounts.get(session, principal, account_id)
        attempt = await self.run(session, accounts.vault, settings, account, action, actor=principal)
        return account, attempt

    async def connection_log(
        self,
        session: AsyncSession,
        principal: Principal,
        accounts: ChannelAccountService,
        account_id: uuid.UUID,
        limit: int = 50,
    ) -> tuple[ChannelAccount, ChannelHealth | None, list[ConnectionAttempt]]:
        account = await accounts.get(session, principal, account_id)
        health = await session.scalar(
            select(ChannelHealth).where(ChannelHealth.channel_account_id == account.id)
        )
        rows = await session.scalars(
            select(ConnectionAttempt)
            .where(ConnectionAttempt.channel_account_id == account.id)
            .order_by(ConnectionAttempt.at.desc(), ConnectionAttempt.id)
            .limit(limit)
        )
        return account, health, list(rows)


health = HealthService()
