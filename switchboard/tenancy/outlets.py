"""Outlets and their senders (one axis), kept apart from BYOM gating (tenancy/byom.py, the other axis).

When a managed WhatsApp or SMS channel activates, every outlet gets one platform-provided number
(`included`); numbers an outlet asks for beyond that are `billable` at the rental rate. Per-outlet
routing (which sender serves which outlet, which one is primary) is offered whenever a channel has
more than one sender, whatever the BYOM flags say.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.core import audit
from switchboard.core.errors import Conflict, NotFound
from switchboard.core.permissions import Permission, Principal
from switchboard.core.queue import enqueue_on_commit
from switchboard.models import OnboardingRequest, Organization, Outlet, OutletSender

SENDER_CHANNELS = ("whatsapp", "sms")
ALLOCATING, ACTIVE = "allocating", "active"
DEFAULT_OUTLET = "Main"


def readable_by(principal: Principal) -> Select[Outlet]:
    stmt = select(Outlet)
    if not principal.is_platform_admin:
        stmt = stmt.where(Outlet.organization_id == principal.organization_id)
    return stmt


def senders_readable_by(principal: Principal) -> Select[OutletSender]:
    stmt = select(OutletSender)
    if not principal.is_platform_admin:
        stmt = stmt.where(OutletSender.organization_id == principal.organization_id)
    return stmt


@dataclass
class SenderSummary:
    channel: str
    sender_count: int
    senders: list[OutletSender]

    @property
    def routing_available(self) -> bool:
        """The routing settings mount on more than one sender, and on nothing else."""
        return self.sender_count > 1


def _schedule_allocation(session: AsyncSession, organization_id: uuid.UUID) -> None:
    from switchboard.tenancy.tasks import allocate_senders

    enqueue_on_commit(session, lambda: allocate_senders(str(organization_id)))


async def managed_channels(session: AsyncSession, organization_id: uuid.UUID) -> dict[str, uuid.UUID | None]:
    """The number channels this organization has an active managed request for, with their accounts."""
    rows = await session.execute(
        select(OnboardingRequest.channel, OnboardingRequest.channel_account_id)
        .where(
            OnboardingRequest.organization_id == organization_id,
            OnboardingRequest.status == "active",
            OnboardingRequest.channel.in_(SENDER_CHANNELS),
        )
        .order_by(OnboardingRequest.activated_at)
    )
    return {channel: account_id for channel, account_id in rows.all()}


class OutletService:
    # --- outlets ----------------------------------------------------------------------------------

    async def list_outlets(
        self, session: AsyncSession, principal: Principal, organization_id: uuid.UUID | None = None
    ) -> list[Outlet]:
        principal.require(Permission.CHANNELS_READ)
        org = principal.org_scope(organization_id)
        stmt = readable_by(principal)
        if org is not None:
            stmt = stmt.where(Outlet.organization_id == org)
        return list(await session.scalars(stmt.order_by(Outlet.created_at, Outlet.id)))

    async def get(self, session: AsyncSession, principal: Principal, outlet_id: uuid.UUID) -> Outlet:
        principal.require(Permission.CHANNELS_READ)
        outlet = await session.scalar(readable_by(principal).where(Outlet.id == outlet_id))
        if outlet is None:
            raise NotFound("Outlet not found.")
        return outlet

    async def create(
        self, session: AsyncSession, principal: Principal, name: str, organization_id: uuid.UUID | None = None
    ) -> Outlet:
        principal.require(Permission.ORG_ADMIN)
        org_id = principal.owning_org(organization_id)
        if await session.get(Organization, org_id) is None:
            raise NotFound("Organization not found.")
        outlet = await self._insert(session, org_id, name)
        await audit.record(
            session,
            principal,
            "outlet.created",
            "outlet",
            outlet.id,
            organization_id=org_id,
            after={"name": name},
        )
        # A new outlet of a business with managed numbers gets its own included number too.
        channels = await managed_channels(session, org_id)
        for channel, account_id in sorted(channels.items()):
            self._add_sender(
                session,
                outlet,
                channel,
                included=True,
                billable=False,
                rate=None,
                primary=True,
                channel_account_id=account_id,
            )
        if channels:
            await session.flush()
            _schedule_allocation(session, org_id)
        return outlet

    async def _insert(self, session: AsyncSession, org_id: uuid.UUID, name: str) -> Outlet:
        exists = await session.scalar(
            select(Outlet.id).where(Outlet.organization_id == org_id, func.lower(Outlet.name) == name.lower())
        )
        if exists is not None:
            raise Conflict(f"An outlet named {name!r} already exists.", code="outlet_exists")
        outlet = Outlet(id=uuid.uuid4(), organization_id=org_id, name=name)
        session.add(outlet)
        await session.flush()
        return outlet

    async def rename(
        self, session: AsyncSession, principal: Principal, outlet_id: uuid.UUID, name: str
    ) -> Outlet:
        principal.require(Permission.ORG_ADMIN)
        outlet = await self.get(session, principal, outlet_id)
        if outlet.name != name:
            clash = await session.scalar(
                select(Outlet.id).where(
                    Outlet.organization_id == outlet.organization_id,
                    func.lower(Outlet.name) == name.lower(),
                    Outlet.id != outlet.id,
                )
            )
            if clash is not None:
                raise Conflict(f"An outlet named {name!r} already exists.", code="outlet_exists")
            before = {"name": outlet.name}
            outlet.name = name
            await session.flush()
            await audit.record(
                session,
                principal,
                "outlet.updated",
                "outlet",
                outlet.id,
                organization_id=outlet.organization_id,
                before=before,
                after={"name": name},
            )
        return outlet

    async def delete(self, session: AsyncSession, principal: Principal, outlet_id: uuid.UUID) -> None:
        principal.require(Permission.ORG_ADMIN)
        outlet = await self.get(session, principal, outlet_id)
        senders = await self.outlet_senders(session, outlet.id)
        await session.delete(outlet)
        await audit.record(
            session,
            principal,
            "outlet.deleted",
            "outlet",
            outlet.id,
            organization_id=outlet.organization_id,
            before={"name": outlet.name, "senders": [s.phone_number for s in senders]},
        )

    # --- senders ----------------------------------------------------------------------------------

    def _add_sender(
        self,
        session: AsyncSession,
        outlet: Outlet,
        channel: str,
        *,
        included: bool,
        billable: bool,
        rate: str | None,
        primary: bool,
        phone_number: str | None = None,
        provider_ref: str | None = None,
        channel_account_id: uuid.UUID | None = None,
    ) -> OutletSender:
        sender = OutletSender(
            id=uuid.uuid4(),
            organization_id=outlet.organization_id,
            outlet_id=outlet.id,
            channel=channel,
            phone_number=phone_number,
            provider_ref=provider_ref,
            status=ACTIVE if phone_number else ALLOCATING,
            is_primary=primary,
            provided=True,
            included=included,
            billable=billable,
            rental_rate=rate,
            channel_account_id=channel_account_id,
        )
        session.add(sender)
        return sender

    async def outlet_senders(
        self, session: AsyncSession, outlet_id: uuid.UUID, channel: str | None = None
    ) -> list[OutletSender]:
        stmt = select(OutletSender).where(OutletSender.outlet_id == outlet_id)
        if channel is not None:
            stmt = stmt.where(OutletSender.channel == channel)
        return list(await session.scalars(stmt.order_by(OutletSender.created_at, OutletSender.id)))

    async def assign_included_senders(
        self,
        session: AsyncSession,
        organization_id: uuid.UUID,
        channel: str,
        channel_account_id: uuid.UUID,
        primary_number: str | None,
        primary_ref: str | None,
    ) -> list[OutletSender]:
        """On activation: every outlet without its included number for `channel` gets one. The number
        provisioned for the channel goes to the first outlet; the others are allocated by a job. An
        organization without outlets gets a "Main" outlet, so the provisioned number has a home."""
        outlets = list(
            await session.scalars(
                select(Outlet)
                .where(Outlet.organization_id == organization_id)
                .order_by(Outlet.created_at, Outlet.id)
            )
        )
        if not outlets:
            outlets = [await self._insert(session, organization_id, DEFAULT_OUTLET)]
        taken = primary_number is None or (
            await session.scalar(
                select(OutletSender.id).where(
                    OutletSender.channel == channel, OutletSender.phone_number == primary_number
                )
            )
            is not None
        )
        created = []
        for outlet in outlets:
            existing = await self.outlet_senders(session, outlet.id, channel)
            if any(s.included for s in existing):
                continue
            number = None if taken else primary_number
            created.append(
                self._add_sender(
                    session,
                    outlet,
                    channel,
                    included=True,
                    billable=False,
                    rate=None,
                    primary=not any(s.is_primary for s in existing),
                    phone_number=number,
                    provider_ref=primary_ref if number else None,
                    channel_account_id=channel_account_id,
                )
            )
            taken = True
        await session.flush()
        if any(s.status == ALLOCATING for s in created):
            _schedule_allocation(session, organization_id)
        return created

    async def request_extra_sender(
        self, session: AsyncSession, principal: Principal, outlet_id: uuid.UUID, channel: str, rate: str
    ) -> OutletSender:
        """Another number for an outlet, beyond its included one: billable at the rental rate."""
        principal.require(Permission.ORG_ADMIN)
        outlet = await self.get(session, principal, outlet_id)
        managed = await managed_channels(session, outlet.organization_id)
        if channel not in managed:
            raise Conflict(
                f"There is no active managed {channel} channel; request one before adding numbers.",
                code="no_managed_channel",
            )
        existing = await self.outlet_senders(session, outlet.id, channel)
        account_id = managed[channel]
        sender = self._add_sender(
            session,
            outlet,
            channel,
            included=False,
            billable=True,
            rate=rate,
            primary=not any(s.is_primary for s in existing),
            channel_account_id=account_id,
        )
        await session.flush()
        await audit.record(
            session,
            principal,
            "outlet.sender_requested",
            "outlet",
            outlet.id,
            organization_id=outlet.organization_id,
            after={"sender_id": str(sender.id), "channel": channel, "billable": True, "rental_rate": rate},
        )
        _schedule_allocation(session, outlet.organization_id)
        return sender

    async def senders(
        self,
        session: AsyncSession,
        principal: Principal,
        channel: str,
        organization_id: uuid.UUID | None = None,
    ) -> SenderSummary:
        principal.require(Permission.CHANNELS_READ)
        org = principal.owning_org(organization_id)
        if principal.is_platform_admin and await session.get(Organization, org) is None:
            raise NotFound("Organization not found.")
        rows = list(
            await session.scalars(
                senders_readable_by(principal)
                .where(OutletSender.organization_id == org, OutletSender.channel == channel)
                .order_by(OutletSender.created_at, OutletSender.id)
            )
        )
        return SenderSummary(channel, len(rows), rows)

    async def set_routing(
        self,
        session: AsyncSession,
        principal: Principal,
        outlet_id: uuid.UUID,
        channel: str,
        sender_id: uuid.UUID,
        primary: bool,
    ) -> list[OutletSender]:
        """Make `sender_id` serve this outlet (and be its primary when asked)."""
        principal.require(Permission.ORG_ADMIN)
        outlet = await self.get(session, principal, outlet_id)
        summary = await self.senders(session, principal, channel, outlet.organization_id)
        if not summary.routing_available:
            raise Conflict(
                f"Per-outlet routing needs more than one {channel} sender; this organization has "
                f"{summary.sender_count}.",
                code="routing_unavailable",
            )
        sender = next((s for s in summary.senders if s.id == sender_id), None)
        if sender is None:
            raise NotFound("Sender not found.")
        before = {"outlet_id": str(sender.outlet_id), "is_primary": sender.is_primary}
        previous_outlet = sender.outlet_id
        sender.outlet_id = outlet.id
        if primary:
            for other in summary.senders:
                if other.outlet_id == outlet.id and other.id != sender.id:
                    other.is_primary = False
            sender.is_primary = True
        elif sender.is_primary and previous_outlet != outlet.id:
            sender.is_primary = False
        # An outlet that lost its primary falls back to its oldest remaining sender.
        if previous_outlet != outlet.id:
            rest = [s for s in summary.senders if s.outlet_id == previous_outlet]
            if rest and not any(s.is_primary for s in rest):
                rest[0].is_primary = True
        this = [s for s in summary.senders if s.outlet_id == outlet.id]
        if this and not any(s.is_primary for s in this):
            this[0].is_primary = True
        await session.flush()
        await audit.record(
            session,
            principal,
            "outlet.routing_updated",
            "outlet_sender",
            sender.id,
            organization_id=outlet.organization_id,
            before=before,
            after={"outlet_id": str(sender.outlet_id), "is_primary": sender.is_primary},
        )
        return await self.outlet_senders(session, outlet.id, channel)

    # --- used by the allocation job ---------------------------------------------------------------

    async def pending_allocations(
        self, session: AsyncSession, organization_id: uuid.UUID
    ) -> list[OutletSender]:
        return list(
            await session.scalars(
                select(OutletSender)
                .where(OutletSender.organization_id == organization_id, OutletSender.status == ALLOCATING)
                .order_by(OutletSender.created_at, OutletSender.id)
            )
        )

    async def fill_number(
        self, session: AsyncSession, sender_id: uuid.UUID, phone_number: str, provider_ref: str
    ) -> bool:
        """Record an allocated number; False when the number is already in use (pick another)."""
        sender = await session.get(OutletSender, sender_id)
        if sender is None or sender.status != ALLOCATING:
            return True
        try:
            async with session.begin_nested():
                sender.phone_number = phone_number
                sender.provider_ref = provider_ref
                sender.status = ACTIVE
                sender.updated_at = datetime.now(UTC)
                await session.flush()
        except IntegrityError:
            await session.refresh(sender)
            return False
        return True


outlets = OutletService()
