"""Channel accounts: the rules for creating, changing and removing a tenant's channels."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.channels.schemas import (
    ChannelAccountCreate,
    ChannelAccountRead,
    ChannelAccountUpdate,
    ConnectionStatus,
)
from switchboard.channels.webhook_setup import webhook_url
from switchboard.connectors import get_descriptor
from switchboard.connectors.adapter import AccountContext, ProviderError, SharedRegistration, get_adapter
from switchboard.connectors.base import ChannelType, ChannelTypeDescriptor
from switchboard.core import audit
from switchboard.core.errors import NotFound, Unprocessable, from_validation_error
from switchboard.core.permissions import Permission, Principal
from switchboard.core.vault import Vault
from switchboard.models import ChannelAccount, Organization, Workspace
from switchboard.tenancy.byom import ensure_connect_allowed

OWNER = "channel_account"
PENDING_REASON = "Not verified yet: use Test connection to check the credentials."
# How long a deletion waits for the provider to undo its registrations; the deletion goes ahead anyway.
RELEASE_TIMEOUT_SECONDS = 15.0

log = logging.getLogger(__name__)


def readable_by(principal: Principal) -> Select[ChannelAccount]:
    """Every read starts here, so no query can forget the tenant scope."""
    stmt = select(ChannelAccount)
    if not principal.is_platform_admin:
        stmt = stmt.where(ChannelAccount.organization_id == principal.organization_id)
    return stmt


class ChannelAccountService:
    def __init__(self, vault: Vault, public_base_url: str = "", settings: Any = None) -> None:
        self.vault = vault
        self.public_base_url = public_base_url  # for webhook URLs; "" leaves them relative
        # The app's Settings, for the adapters that undo provider registrations on deletion;
        # None (a service that only creates accounts) releases nothing.
        self.settings = settings
        self.release_timeout = RELEASE_TIMEOUT_SECONDS

    async def list_accounts(
        self,
        session: AsyncSession,
        principal: Principal,
        *,
        organization_id: uuid.UUID | None = None,
        channel_type: ChannelType | None = None,
        is_active: bool | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[ChannelAccount], int]:
        principal.require(Permission.CHANNELS_READ)
        org = principal.org_scope(organization_id)
        stmt = readable_by(principal)
        if org is not None:
            if principal.is_platform_admin and await session.get(Organization, org) is None:
                raise NotFound("Organization not found.")
            stmt = stmt.where(ChannelAccount.organization_id == org)
        if channel_type is not None:
            stmt = stmt.where(ChannelAccount.type == channel_type.value)
        if is_active is not None:
            stmt = stmt.where(ChannelAccount.is_active == is_active)
        total = await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = await session.scalars(
            stmt.order_by(ChannelAccount.created_at, ChannelAccount.id).limit(limit).offset(offset)
        )
        return list(rows), total

    async def get(self, session: AsyncSession, principal: Principal, account_id: uuid.UUID) -> ChannelAccount:
        principal.require(Permission.CHANNELS_READ)
        account = await session.scalar(readable_by(principal).where(ChannelAccount.id == account_id))
        if account is None:
            raise NotFound("Channel account not found.")
        return account

    async def read(self, session: AsyncSession, account: ChannelAccount) -> ChannelAccountRead:
        """The public shape: secrets replaced by their mask, absent ones as null."""
        descriptor = get_descriptor(account.type)
        masks = await self.vault.masks(session, OWNER, account.id)
        settings = dict(account.settings)
        for name in descriptor.secret_fields:
            settings[name] = masks.get(name)
        return ChannelAccountRead(
            id=account.id,
            organization_id=account.organization_id,
            workspace_id=account.workspace_id,
            name=account.name,
            type=ChannelType(account.type),
            settings=settings,
            is_active=account.is_active,
            connection_status=ConnectionStatus(account.connection_status),
            status_reason=account.status_reason,
            last_checked_at=account.last_checked_at,
            created_at=account.created_at,
            updated_at=account.updated_at,
            webhook_url=webhook_url(self.public_base_url, account.type, account.id),
        )

    async def _snapshot(self, session: AsyncSession, account: ChannelAccount) -> dict[str, Any]:
        """What the audit trail records: the stored state, masked (the webhook URL is derived)."""
        return (await self.read(session, account)).model_dump(mode="json", exclude={"webhook_url"})

    def _validate(
        self, descriptor: ChannelTypeDescriptor, settings: dict[str, Any], credentials: dict[str, str]
    ) -> tuple[dict[str, Any], dict[str, str]]:
        unknown = set(credentials) - descriptor.secret_fields
        if unknown:
            name = sorted(unknown)[0]
            raise Unprocessable(
                f"credentials.{name}: not a secret field of {descriptor.type.value}",
                details=[
                    {"field": f"credentials.{name}", "rule": "unknown_field", "message": "not a secret"}
                ],
            )
        try:
            values = descriptor.validate({**settings, **credentials})
        except ValidationError as exc:
            raise from_validation_error(exc, prefix="settings") from exc
        plain = {k: v for k, v in values.items() if k not in descriptor.secret_fields}
        secrets = {k: v for k, v in values.items() if k in descriptor.secret_fields and v}
        return plain, secrets

    async def create(
        self,
        session: AsyncSession,
        principal: Principal,
        data: ChannelAccountCreate,
        *,
        managed: bool = False,
    ) -> ChannelAccount:
        """`managed`: the platform provides the channel (onboarding activation, a number bought through
        the platform), so the tenant's BYOM gating does not apply."""
        principal.require(Permission.CHANNELS_CONNECT)
        org_id = principal.owning_org(data.organization_id)
        if await session.get(Organization, org_id) is None:
            raise NotFound("Organization not found.")
        if data.workspace_id is not None:
            ws = await session.get(Workspace, data.workspace_id)
            if ws is None or ws.organization_id != org_id:
                raise NotFound("Workspace not found.")
        descriptor = get_descriptor(data.type)
        if not managed:
            # BYOM gating: a tenant connects its own WhatsApp/SMS/Email/RCS once a platform admin allows it.
            await ensure_connect_allowed(session, principal, org_id, descriptor)
        plain, secrets = self._validate(descriptor, data.settings, data.credentials)
        account = ChannelAccount(
            id=uuid.uuid4(),
            organization_id=org_id,
            workspace_id=data.workspace_id,
            name=data.name,
            type=descriptor.type.value,
            settings=_jsonable(plain),
            is_active=data.is_active,
            connection_status=ConnectionStatus.PENDING.value,
            status_reason=PENDING_REASON,
        )
        session.add(account)
        for name, value in secrets.items():
            await self.vault.put(session, OWNER, account.id, name, value, org_id)
        await session.flush()
        after = await self._snapshot(session, account)
        await audit.record(
            session,
            principal,
            "channel_account.created",
            OWNER,
            account.id,
            organization_id=org_id,
            after=after,
        )
        return account

    async def update(
        self, session: AsyncSession, principal: Principal, account_id: uuid.UUID, data: ChannelAccountUpdate
    ) -> ChannelAccount:
        principal.require(Permission.CHANNELS_MANAGE)
        account = await self.get(session, principal, account_id)
        before = await self._snapshot(session, account)
        descriptor = get_descriptor(account.type)
        if data.settings is not None or data.credentials is not None:
            stored = await self.vault.read_all(session, OWNER, account.id)
            incoming = dict(data.settings or {})
            # A masked value sent back unchanged (e.g. from a form) keeps the stored secret.
            for name in descriptor.secret_fields:
                if name in incoming and isinstance(incoming[name], str) and incoming[name].startswith("••"):
                    incoming.pop(name)
            settings = {**account.settings, **stored, **incoming}
            plain, secrets = self._validate(descriptor, settings, dict(data.credentials or {}))
            account.settings = _jsonable(plain)
            changed_secret = False
            for name in descriptor.secret_fields:
                if name in secrets and secrets[name] != stored.get(name):
                    await self.vault.put(
                        session, OWNER, account.id, name, secrets[name], account.organization_id
                    )
                    changed_secret = True
                elif name not in secrets and name in stored:
                    await self.vault.remove(session, OWNER, account.id, name)
                    changed_secret = True
            if changed_secret:
                # New credentials have not been checked yet.
                account.connection_status = ConnectionStatus.PENDING.value
                account.status_reason = PENDING_REASON
        if data.name is not None:
            account.name = data.name
        if data.is_active is not None:
            account.is_active = data.is_active
        await session.flush()
        after = await self._snapshot(session, account)
        if after != before:
            action = "channel_account.updated"
            if set(_diff(before, after)) == {"is_active", "updated_at"}:
                action = "channel_account.activated" if account.is_active else "channel_account.deactivated"
            await audit.record(
                session,
                principal,
                action,
                OWNER,
                account.id,
                organization_id=account.organization_id,
                before=before,
                after=after,
            )
        return account

    async def delete(self, session: AsyncSession, principal: Principal, account_id: uuid.UUID) -> None:
        """Remove the account and its secrets. First, while the credentials are still there, ask the
        provider to forget what connecting registered (a webhook, a Page or event subscription), so
        its events stop arriving for nobody. That is best effort: the tenant wants the channel gone,
        so a refusal or a timeout is logged and written in the audit entry, never a reason to keep it."""
        principal.require(Permission.CHANNELS_MANAGE)
        account = await self.get(session, principal, account_id)
        before = await self._snapshot(session, account)
        released = await self._release(session, account)
        await self.vault.remove(session, OWNER, account.id)
        await session.delete(account)
        await audit.record(
            session,
            principal,
            "channel_account.deleted",
            OWNER,
            account.id,
            organization_id=account.organization_id,
            before=before,
            after={"provider_release": released},
        )

    async def _release(self, session: AsyncSession, account: ChannelAccount) -> str:
        """Run the adapter's `release`: "done", "not needed" or "failed: <code>". Never raises for
        the provider's sake."""
        adapter = get_adapter(account.type, self.settings) if self.settings is not None else None
        release = getattr(adapter, "release", None)
        if release is None:
            return "not needed"
        ids = {
            "channel_account_id": str(account.id),
            "organization_id": str(account.organization_id),
            "channel_type": account.type,
        }
        ctx = AccountContext(
            account_id=account.id,
            organization_id=account.organization_id,
            settings=dict(account.settings),
            secrets=await self.vault.read_all(session, OWNER, account.id),
        )
        shared = getattr(adapter, "shared_registration", None)
        registration: SharedRegistration | None = shared(ctx) if shared is not None else None
        if registration is not None and await self._still_used(session, account, registration):
            log.info("provider registration kept: another channel uses it", extra=ids)
            return "not needed"
        try:
            async with asyncio.timeout(self.release_timeout):
                removed = bool(await release(ctx))
        except ProviderError as exc:
            kind, code = exc.kind.value, exc.code or (str(exc.status) if exc.status else "provider_error")
        except TimeoutError:
            kind, code = "transient", "timeout"
        except Exception as exc:  # an adapter bug must not keep the channel
            kind, code = "permanent", "internal"
            ids["error"] = type(exc).__name__
        else:
            message = "provider registration released" if removed else "no provider registration to release"
            log.info(message, extra=ids)
            return "done" if removed else "not needed"
        # Not the message: it can quote the provider's answer. Ids, kind and code are enough to follow up.
        log.warning("provider release failed", extra={**ids, "error_kind": kind, "error_code": code})
        return f"failed: {code}"

    async def _still_used(
        self, session: AsyncSession, account: ChannelAccount, registration: SharedRegistration
    ) -> bool:
        """Another account, of any tenant, relies on the same registration (the platform app's
        subscription to a Page is one, whoever connected the Page)."""
        stmt = select(ChannelAccount.id).where(
            ChannelAccount.type.in_(registration.types), ChannelAccount.id != account.id
        )
        for name, value in registration.settings.items():
            stmt = stmt.where(ChannelAccount.settings[name].as_string() == value)
        return await session.scalar(stmt.limit(1)) is not None

    async def history(
        self, session: AsyncSession, principal: Principal, account_id: uuid.UUID
    ) -> list[audit.AuditLog]:
        """The audit trail; readable after deletion too, for the tenant that owned it."""
        principal.require(Permission.CHANNELS_READ)
        entries = await audit.history(session, OWNER, account_id)
        if not principal.is_platform_admin:
            entries = [e for e in entries if e.organization_id == principal.organization_id]
        if not entries:
            await self.get(session, principal, account_id)
        return entries


def _diff(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return [k for k in after if before.get(k) != after.get(k)]


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (str(v) if not isinstance(v, (str, int, float, bool, type(None), list, dict)) else v)
        for k, v in values.items()
    }
