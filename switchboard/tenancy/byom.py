"""BYOM (bring your own messaging) gating: per-organization, per-channel flags set by platform admins.

The flags live in `organizations.metadata.channels.<ch>.byom_allowed`. Until a channel's flag is on,
the tenant can only ask for a Managed channel of that family: the API refuses BYOM connects, and the
channel's customer-perception rule and sender-pin override stay locked. This axis is independent of
per-outlet routing (see tenancy/outlets.py), which depends only on how many senders exist.
"""

from __future__ import annotations

import copy
import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.connectors.base import ChannelTypeDescriptor
from switchboard.core import audit
from switchboard.core.errors import Forbidden, NotFound, Unprocessable
from switchboard.core.permissions import Permission, Principal
from switchboard.models import Organization, OutletSender


class ByomChannel(StrEnum):
    WHATSAPP = "whatsapp"
    SMS = "sms"
    EMAIL = "email"
    RCS = "rcs"


GATED = frozenset(c.value for c in ByomChannel)


class PerceptionRule(StrEnum):
    """How the customer sees the business on this channel (sender-wise)."""

    BRAND_UNIFIED = "brand_unified"  # one brand sender for every outlet
    PER_OUTLET = "per_outlet"  # each outlet's own primary sender


def flag_name(family: str) -> str:
    return f"byom_allowed.{family}"


def _channels_meta(org: Organization) -> dict[str, Any]:
    channels = (org.meta or {}).get("channels")
    return channels if isinstance(channels, dict) else {}


def _channel_meta(org: Organization, family: str) -> dict[str, Any]:
    entry = _channels_meta(org).get(family)
    return entry if isinstance(entry, dict) else {}


def is_allowed(org: Organization, family: str) -> bool:
    """Families outside the four gated ones (push, social inboxes) are never gated."""
    if family not in GATED:
        return True
    return _channel_meta(org, family).get("byom_allowed") is True


def flags(org: Organization) -> dict[str, bool]:
    return {c.value: is_allowed(org, c.value) for c in ByomChannel}


def _refusal(family: str) -> Forbidden:
    return Forbidden(
        f"Bring-your-own {family} is not enabled for this organization ({flag_name(family)} is off). "
        "Request a Managed channel instead, or ask a platform admin to turn the flag on.",
        code="byom_not_allowed",
        extra={"flag": flag_name(family)},
    )


async def ensure_connect_allowed(
    session: AsyncSession, principal: Principal, organization_id: uuid.UUID, descriptor: ChannelTypeDescriptor
) -> None:
    """Called by ChannelAccountService.create: tenants may connect a gated family only when its flag is
    on. Platform admins (and the onboarding activation, which acts as one) are not gated."""
    family = descriptor.byom_family
    if principal.is_platform_admin or family is None or family not in GATED:
        return
    org = await session.get(Organization, organization_id)
    if org is None:
        raise NotFound("Organization not found.")
    if not is_allowed(org, family):
        raise _refusal(family)


async def _org_for_update(session: AsyncSession, organization_id: uuid.UUID) -> Organization:
    org = await session.scalar(
        select(Organization).where(Organization.id == organization_id).with_for_update()
    )
    if org is None:
        raise NotFound("Organization not found.")
    return org


def _with_channel_values(org: Organization, family: str, values: dict[str, Any]) -> dict[str, Any]:
    # A new dict, so the JSON column sees the change; other metadata keys are kept as they are.
    meta = copy.deepcopy(org.meta or {})
    channels: dict[str, Any] = meta["channels"] if isinstance(meta.get("channels"), dict) else {}
    entry: dict[str, Any] = channels[family] if isinstance(channels.get(family), dict) else {}
    entry.update(values)
    channels[family] = entry
    meta["channels"] = channels
    return meta


class ByomService:
    async def get_flags(
        self, session: AsyncSession, principal: Principal, organization_id: uuid.UUID
    ) -> dict[str, bool]:
        org_id = principal.org_scope(organization_id)
        org = await session.get(Organization, org_id) if org_id else None
        if org is None:
            raise NotFound("Organization not found.")
        return flags(org)

    async def set_flags(
        self,
        session: AsyncSession,
        principal: Principal,
        organization_id: uuid.UUID,
        changes: dict[str, bool],
    ) -> dict[str, bool]:
        """Platform admins only; every flag that changes is audit-logged with before/after."""
        if not principal.is_platform_admin:
            raise Forbidden("Only platform admins can change BYOM gating.", code="permission_denied")
        unknown = set(changes) - GATED
        if unknown:
            name = sorted(unknown)[0]
            raise Unprocessable(
                f"{name}: not a gated channel",
                details=[{"field": name, "rule": "unknown_field", "message": "not a gated channel"}],
            )
        org = await _org_for_update(session, organization_id)
        before = flags(org)
        for family, value in changes.items():
            if before[family] != value:
                org.meta = _with_channel_values(org, family, {"byom_allowed": value})
        after = flags(org)
        if after != before:
            await session.flush()
            await audit.record(
                session,
                principal,
                "organization.byom_updated",
                "organization",
                org.id,
                organization_id=org.id,
                before={flag_name(k): v for k, v in before.items()},
                after={flag_name(k): v for k, v in after.items()},
            )
        return after

    # --- surfaces BYOM unlocks: the customer-perception rule and the sender-pin override ---------

    async def preferences(
        self,
        session: AsyncSession,
        principal: Principal,
        family: str,
        organization_id: uuid.UUID | None = None,
    ) -> dict[str, Any]:
        principal.require(Permission.CHANNELS_READ)
        org = await self._tenant_org(session, principal, organization_id)
        entry = _channel_meta(org, family)
        return {
            "channel": family,
            "byom_allowed": is_allowed(org, family),
            "perception_rule": entry.get("perception_rule", PerceptionRule.BRAND_UNIFIED.value),
            "sender_pin": entry.get("sender_pin"),
        }

    async def set_preferences(
        self,
        session: AsyncSession,
        principal: Principal,
        family: str,
        perception_rule: PerceptionRule | None,
        sender_pin: uuid.UUID | None,
        clear_pin: bool,
        organization_id: uuid.UUID | None = None,
    ) -> dict[str, Any]:
        """Only once BYOM is allowed for the channel: these are BYOM surfaces."""
        principal.require(Permission.ORG_ADMIN)
        org = await self._tenant_org(session, principal, organization_id, for_update=True)
        if not is_allowed(org, family):
            raise _refusal(family)
        before = await self.preferences(session, principal, family, org.id)
        values: dict[str, Any] = {}
        if perception_rule is not None:
            values["perception_rule"] = perception_rule.value
        if sender_pin is not None:
            sender = await session.get(OutletSender, sender_pin)
            if sender is None or sender.organization_id != org.id or sender.channel != family:
                raise NotFound("Sender not found.")
            values["sender_pin"] = str(sender.id)
        elif clear_pin:
            values["sender_pin"] = None
        if values:
            org.meta = _with_channel_values(org, family, values)
            await session.flush()
        after = await self.preferences(session, principal, family, org.id)
        if after != before:
            await audit.record(
                session,
                principal,
                "organization.channel_preferences_updated",
                "organization",
                org.id,
                organization_id=org.id,
                before=before,
                after=after,
            )
        return after

    async def _tenant_org(
        self,
        session: AsyncSession,
        principal: Principal,
        organization_id: uuid.UUID | None,
        for_update: bool = False,
    ) -> Organization:
        org_id = principal.owning_org(organization_id)
        if for_update:
            return await _org_for_update(session, org_id)
        org = await session.get(Organization, org_id)
        if org is None:
            raise NotFound("Organization not found.")
        return org


byom = ByomService()
