"""Use cases: a channel bound to a Twilio or SES setup; email use cases carry a reputation tier."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.core import audit
from switchboard.core.config import Settings
from switchboard.core.errors import (
    AppError,
    Conflict,
    NotFound,
    ProviderFailed,
    ProviderUnavailable,
    Unprocessable,
    field_error,
)
from switchboard.core.permissions import Permission, Principal
from switchboard.email.dns_records import normalize_domain
from switchboard.email.provider import (
    EmailProvider,
    ProviderError,
    build_email_provider,
    configuration_set_name,
    pool_name,
)
from switchboard.models import EmailEvent, PhoneNumber, SesSetup, TierChange, TwilioSetup, UseCase
from switchboard.models.base import utcnow
from switchboard.usecases import tiers
from switchboard.usecases.schemas import (
    Channel,
    EmailType,
    EmailUseCaseCreate,
    EmailUseCaseRead,
    ReputationRead,
    TierChangeRead,
    UseCaseUpdate,
    VoiceUseCaseCreate,
    VoiceUseCaseRead,
    WindowRead,
)
from switchboard.usecases.tiers import Tier, TierDecision, WindowStats

log = logging.getLogger("switchboard.usecases")

OWNER = "use_case"
# Event kinds that show a message left (the denominator of both rates).
SENT_KINDS = ("send", "delivery", "bounce")


def readable_by(principal: Principal) -> Select[UseCase]:
    """Every read starts here, so no query can forget the tenant scope."""
    stmt = select(UseCase)
    if not principal.is_platform_admin:
        stmt = stmt.where(UseCase.organization_id == principal.organization_id)
    return stmt


def _scoped(stmt: Any, model: Any, principal: Principal) -> Any:
    return (
        stmt
        if principal.is_platform_admin
        else stmt.where(model.organization_id == principal.organization_id)
    )


def email_provider_for(settings: Settings) -> EmailProvider:
    return build_email_provider(
        settings.provider_mode,
        region=settings.ses_region,
        endpoint_url=settings.ses_endpoint_url or None,
        access_key_id=settings.ses_access_key_id or None,
        secret_access_key=settings.ses_secret_access_key or None,
    )


def _provider_failure(exc: ProviderError, doing: str) -> AppError:
    if exc.retriable:
        log.warning("SES unavailable while %s: %r", doing, exc)
        return ProviderUnavailable(f"Amazon SES is unavailable right now ({exc.code}); nothing was changed.")
    return ProviderFailed(f"Amazon SES refused {doing}: {exc.code}")


def desired_pool(use_case: UseCase) -> str:
    return pool_name(use_case.email_type or "transactional", use_case.tier or tiers.INITIAL_TIER.value)


class UseCaseService:
    def __init__(self, settings: Settings, provider: EmailProvider | None = None) -> None:
        self.settings = settings
        self._provider = provider

    @property
    def provider(self) -> EmailProvider:
        if self._provider is None:
            self._provider = email_provider_for(self.settings)
        return self._provider

    @provider.setter
    def provider(self, value: EmailProvider) -> None:
        self._provider = value

    # --- reads

    async def list_use_cases(
        self,
        session: AsyncSession,
        principal: Principal,
        *,
        entity_name: str | None = None,
        channel: Channel | None = None,
        twilio_setup_id: uuid.UUID | None = None,
        ses_setup_id: uuid.UUID | None = None,
    ) -> list[UseCase]:
        principal.require(Permission.CHANNELS_READ)
        stmt = readable_by(principal)
        if entity_name is not None:
            stmt = stmt.where(UseCase.entity_name == entity_name)
        if channel is not None:
            stmt = stmt.where(UseCase.channel == channel.value)
        if twilio_setup_id is not None:
            stmt = stmt.where(UseCase.twilio_setup_id == twilio_setup_id)
        if ses_setup_id is not None:
            stmt = stmt.where(UseCase.ses_setup_id == ses_setup_id)
        return list(await session.scalars(stmt.order_by(UseCase.created_at, UseCase.id)))

    async def get(self, session: AsyncSession, principal: Principal, use_case_id: uuid.UUID) -> UseCase:
        principal.require(Permission.CHANNELS_READ)
        use_case = await session.scalar(readable_by(principal).where(UseCase.id == use_case_id))
        if use_case is None:
            raise NotFound("Use case not found.")
        return use_case

    @staticmethod
    def read(use_case: UseCase) -> VoiceUseCaseRead | EmailUseCaseRead:
        if use_case.channel == Channel.EMAIL.value:
            return EmailUseCaseRead.model_validate(
                {
                    "id": use_case.id,
                    "entity_name": use_case.entity_name,
                    "name": use_case.name,
                    "description": use_case.description,
                    "channel": use_case.channel,
                    "ses_setup_id": use_case.ses_setup_id,
                    "configuration_set_name": use_case.configuration_set_name,
                    "sender_email_address": use_case.sender_email_address,
                    "email_type": use_case.email_type,
                    "tier": use_case.tier,
                    "created_at": use_case.created_at,
                    "updated_at": use_case.updated_at,
                }
            )
        return VoiceUseCaseRead.model_validate(
            {
                "id": use_case.id,
                "entity_name": use_case.entity_name,
                "name": use_case.name,
                "description": use_case.description,
                "channel": use_case.channel,
                "twilio_setup_id": use_case.twilio_setup_id,
                "created_at": use_case.created_at,
                "updated_at": use_case.updated_at,
            }
        )

    # --- create

    async def _check_unique_name(
        self, session: AsyncSession, org_id: uuid.UUID, entity_name: str, name: str
    ) -> None:
        found = await session.scalar(
            select(UseCase.id).where(
                UseCase.organization_id == org_id, UseCase.entity_name == entity_name, UseCase.name == name
            )
        )
        if found is not None:
            raise Conflict(
                f"A use case {entity_name!r} / {name!r} already exists.",
                code="duplicate_use_case",
                extra={"use_case_id": str(found)},
            )

    async def create(
        self, session: AsyncSession, principal: Principal, data: VoiceUseCaseCreate | EmailUseCaseCreate
    ) -> UseCase:
        principal.require(Permission.CHANNELS_MANAGE)
        if isinstance(data, EmailUseCaseCreate):
            use_case = await self._create_email(session, principal, data)
        else:
            use_case = await self._create_voice(session, principal, data)
        await audit.record(
            session,
            principal,
            "use_case.created",
            OWNER,
            use_case.id,
            organization_id=use_case.organization_id,
            after=self.read(use_case).model_dump(mode="json"),
        )
        return use_case

    async def _flush(self, session: AsyncSession) -> None:
        try:
            await session.flush()
        except IntegrityError as exc:  # a concurrent create took the name, set or address first
            raise Conflict(
                "A use case with these names or this sender already exists.", code="conflict"
            ) from exc

    async def _create_voice(
        self, session: AsyncSession, principal: Principal, data: VoiceUseCaseCreate
    ) -> UseCase:
        setup = await session.scalar(
            _scoped(select(TwilioSetup), TwilioSetup, principal).where(TwilioSetup.id == data.twilio_setup_id)
        )
        if setup is None:
            raise NotFound("Twilio setup not found.")
        if setup.profile_status != "approved":
            raise Conflict(
                f"The Twilio setup's customer profile is {setup.profile_status}, not approved.",
                code="customer_profile_not_approved",
                extra={"customer_profile_status": setup.profile_status},
            )
        await self._check_unique_name(session, setup.organization_id, data.entity_name, data.name)
        use_case = UseCase(
            id=uuid.uuid4(),
            organization_id=setup.organization_id,
            channel=data.channel,
            entity_name=data.entity_name,
            name=data.name,
            description=data.description,
            twilio_setup_id=setup.id,
        )
        session.add(use_case)
        await self._flush(session)
        return use_case

    async def _create_email(
        self, session: AsyncSession, principal: Principal, data: EmailUseCaseCreate
    ) -> UseCase:
        setup = await session.scalar(
            _scoped(select(SesSetup), SesSetup, principal).where(SesSetup.id == data.ses_setup_id)
        )
        if setup is None:
            raise NotFound("SES setup not found.")
        if not setup.dns_verified:
            raise Conflict(
                "The SES setup's DNS records are not all verified yet; refresh it once they are published.",
                code="dns_not_verified",
            )
        sender = str(data.sender_email_address)
        local, _, domain = sender.rpartition("@")
        try:
            sender_domain = normalize_domain(domain)
        except ValueError:
            sender_domain = domain.lower()
        if sender_domain != setup.domain_identity:
            message = f"The sender's domain must be the setup's domain identity, {setup.domain_identity}."
            raise Unprocessable(
                message,
                code="sender_domain_mismatch",
                details=[
                    {"field": "sender_email_address", "rule": "sender_domain_mismatch", "message": message}
                ],
                extra={"expected_domain": setup.domain_identity},
            )
        sender = f"{local}@{sender_domain}".lower()
        try:
            config_set = configuration_set_name(data.entity_name, data.name)
        except ValueError as exc:
            field = "entity_name" if not any(c.isalpha() for c in data.entity_name) else "name"
            raise field_error(
                field, "needs_letter", f"{field} needs at least one letter to name the configuration set."
            ) from exc
        await self._check_unique_name(session, setup.organization_id, data.entity_name, data.name)
        # Both platform-wide: SES configuration set names are account-wide, and one address is one sender.
        if await session.scalar(select(UseCase.id).where(UseCase.configuration_set_name == config_set)):
            raise Conflict(
                f"The configuration set name {config_set!r} is already in use.",
                code="configuration_set_name_in_use",
                extra={"configuration_set_name": config_set},
            )
        if await session.scalar(select(UseCase.id).where(UseCase.sender_email_address == sender)):
            raise Conflict(f"{sender} is already bound to another use case.", code="sender_address_in_use")
        now = utcnow()
        use_case = UseCase(
            id=uuid.uuid4(),
            organization_id=setup.organization_id,
            channel=Channel.EMAIL.value,
            entity_name=data.entity_name,
            name=data.name,
            description=data.description,
            ses_setup_id=setup.id,
            configuration_set_name=config_set,
            sender_email_address=sender,
            email_type=data.email_type.value,
            tier=tiers.INITIAL_TIER.value,
            tier_changed_at=now,
        )
        session.add(use_case)
        await self._flush(session)
        pool = desired_pool(use_case)
        try:
            try:
                await self.provider.create_configuration_set(config_set, pool, setup.tenant_name)
            except ProviderError as exc:
                if not exc.already_exists:
                    raise
                # Our own set left by an attempt whose commit failed (the name is ours in the
                # database): adopt it and point it at the right pool.
                await self.provider.update_configuration_set_pool(config_set, pool)
        except ProviderError as exc:
            raise _provider_failure(exc, "the configuration set") from exc
        use_case.sending_pool = pool
        session.add(
            TierChange(
                organization_id=use_case.organization_id,
                use_case_id=use_case.id,
                from_tier=None,
                to_tier=tiers.INITIAL_TIER.value,
                reason="Created: new email use cases start at onboarding.",
                figures={},
                actor=principal.label,
                created_at=now,
            )
        )
        await session.flush()
        return use_case

    # --- update / delete

    async def update(
        self, session: AsyncSession, principal: Principal, use_case_id: uuid.UUID, data: UseCaseUpdate
    ) -> UseCase:
        principal.require(Permission.CHANNELS_MANAGE)
        use_case = await self.get(session, principal, use_case_id)
        if data.email_type is not None and data.email_type.value != use_case.email_type:
            raise Conflict(
                "email_type cannot change after creation: create another use case for the other pool family.",
                code="email_type_immutable",
                extra={"email_type": use_case.email_type},
            )
        if "description" in data.model_fields_set and data.description != use_case.description:
            before = self.read(use_case).model_dump(mode="json")
            use_case.description = data.description
            await session.flush()
            await audit.record(
                session,
                principal,
                "use_case.updated",
                OWNER,
                use_case.id,
                organization_id=use_case.organization_id,
                before=before,
                after=self.read(use_case).model_dump(mode="json"),
            )
        return use_case

    async def delete(self, session: AsyncSession, principal: Principal, use_case_id: uuid.UUID) -> None:
        principal.require(Permission.CHANNELS_MANAGE)
        use_case = await self.get(session, principal, use_case_id)
        before = self.read(use_case).model_dump(mode="json")
        if use_case.channel == Channel.EMAIL.value:
            setup = await session.get(SesSetup, use_case.ses_setup_id) if use_case.ses_setup_id else None
            if use_case.configuration_set_name:
                try:
                    # Deleting the set is what unbinds it from its pool; the pool serves others.
                    await self.provider.delete_configuration_set(
                        use_case.configuration_set_name, setup.tenant_name if setup else None
                    )
                except ProviderError as exc:
                    raise _provider_failure(exc, "deleting the configuration set") from exc
        else:
            assigned = await session.scalar(
                select(func.count()).select_from(PhoneNumber).where(PhoneNumber.use_case_id == use_case.id)
            )
            if assigned:
                raise Conflict(
                    f"{assigned} phone number(s) are still assigned to this use case; unassign them first.",
                    code="phone_numbers_assigned",
                    extra={"assigned_phone_numbers": assigned},
                )
        await session.delete(use_case)
        await session.flush()
        await audit.record(
            session,
            principal,
            "use_case.deleted",
            OWNER,
            use_case.id,
            organization_id=use_case.organization_id,
            before=before,
        )

    # --- reputation

    async def window_stats(
        self, session: AsyncSession, use_case_id: uuid.UUID, now: datetime
    ) -> dict[str, WindowStats]:
        """Counts over email_events for every window, in one query."""
        columns = []
        for name, length in tiers.WINDOWS.items():
            since = now - length
            recent = EmailEvent.occurred_at >= since
            columns += [
                func.count(
                    func.distinct(
                        case((and_(recent, EmailEvent.kind.in_(SENT_KINDS)), EmailEvent.ses_message_id))
                    )
                ).label(f"{name}_sends"),
                func.count(
                    func.distinct(
                        case(
                            (
                                and_(recent, EmailEvent.kind == "bounce", EmailEvent.subtype == "Permanent"),
                                EmailEvent.ses_message_id,
                            )
                        )
                    )
                ).label(f"{name}_bounces"),
                func.count(
                    func.distinct(
                        case((and_(recent, EmailEvent.kind == "complaint"), EmailEvent.ses_message_id))
                    )
                ).label(f"{name}_complaints"),
            ]
        row = (
            await session.execute(
                select(*columns).where(
                    EmailEvent.use_case_id == use_case_id,
                    EmailEvent.occurred_at >= now - tiers.LONGEST_WINDOW,
                )
            )
        ).one()
        values = row._mapping
        return {
            name: WindowStats(
                window=name,
                sends=int(values[f"{name}_sends"] or 0),
                bounces=int(values[f"{name}_bounces"] or 0),
                complaints=int(values[f"{name}_complaints"] or 0),
            )
            for name in tiers.WINDOWS
        }

    async def sync_pool(self, use_case: UseCase) -> bool:
        """Point the configuration set at its tier's pool; a failure is kept and retried later."""
        if not use_case.configuration_set_name:
            return True
        pool = desired_pool(use_case)
        try:
            await self.provider.update_configuration_set_pool(use_case.configuration_set_name, pool)
        except ProviderError as exc:
            use_case.pool_sync_error = f"{exc.code}: {exc}"[:500]
            log.warning(
                "sending pool switch failed; will retry",
                extra={"use_case_id": str(use_case.id), "pool": pool, "code": exc.code},
            )
            return False
        use_case.sending_pool = pool
        use_case.pool_sync_error = None
        return True

    async def apply_decision(
        self, session: AsyncSession, use_case: UseCase, decision: TierDecision, actor: Principal | None = None
    ) -> TierChange:
        tiers.check_transition(decision.from_tier, decision.to_tier)
        if decision.to_tier is Tier.SUSPENDED:
            use_case.tier_before_suspension = decision.from_tier.value
        elif decision.from_tier is Tier.SUSPENDED:
            use_case.tier_before_suspension = None
        now = utcnow()
        use_case.tier = decision.to_tier.value
        use_case.tier_changed_at = now
        change = TierChange(
            organization_id=use_case.organization_id,
            use_case_id=use_case.id,
            from_tier=decision.from_tier.value,
            to_tier=decision.to_tier.value,
            reason=decision.reason[:500],
            figures=decision.figures,
            actor=actor.label if actor else "system",
            created_at=now,
        )
        session.add(change)
        await audit.record(
            session,
            actor,
            "use_case.tier_changed",
            OWNER,
            use_case.id,
            organization_id=use_case.organization_id,
            before={"tier": decision.from_tier.value},
            after={"tier": decision.to_tier.value, "figures": decision.figures},
            reason=decision.reason[:1000],
        )
        log.info(
            "use case tier changed",
            extra={
                "use_case_id": str(use_case.id),
                "from": decision.from_tier.value,
                "to": decision.to_tier.value,
            },
        )
        await self.sync_pool(use_case)
        await session.flush()
        return change

    async def evaluate(
        self, session: AsyncSession, use_case: UseCase, now: datetime | None = None
    ) -> TierDecision | None:
        """Re-read the windows, update the review warning, and apply the tier change they call for."""
        now = now or utcnow()
        stats = await self.window_stats(session, use_case.id, now)
        warning = tiers.review_warning(stats)
        if warning != use_case.reputation_warning:
            use_case.reputation_warning = warning
        decision = tiers.evaluate(use_case, stats, now)
        if decision is not None:
            await self.apply_decision(session, use_case, decision)
        elif use_case.sending_pool != desired_pool(use_case):
            await self.sync_pool(use_case)
        return decision

    async def evaluate_by_id(
        self, session: AsyncSession, use_case_id: uuid.UUID, now: datetime | None = None
    ) -> TierDecision | None:
        # FOR UPDATE (PostgreSQL) so the job and the webhook never both apply the same change.
        use_case = await session.scalar(
            select(UseCase)
            .where(UseCase.id == use_case_id, UseCase.channel == Channel.EMAIL.value)
            .with_for_update()
        )
        if use_case is None:
            return None
        return await self.evaluate(session, use_case, now)

    async def email_use_case_ids(
        self, session: AsyncSession, after: uuid.UUID | None, limit: int
    ) -> list[uuid.UUID]:
        stmt = (
            select(UseCase.id).where(UseCase.channel == Channel.EMAIL.value).order_by(UseCase.id).limit(limit)
        )
        if after is not None:
            stmt = stmt.where(UseCase.id > after)
        return list(await session.scalars(stmt))

    async def reputation(
        self, session: AsyncSession, principal: Principal, use_case_id: uuid.UUID
    ) -> ReputationRead:
        use_case = await self.get(session, principal, use_case_id)
        if use_case.channel != Channel.EMAIL.value:
            raise NotFound("Voice use cases have no reputation tier.")
        stats = await self.window_stats(session, use_case.id, utcnow())
        history = await self.tier_history(session, use_case.id)
        tier = Tier(use_case.tier or tiers.INITIAL_TIER)
        pool = desired_pool(use_case)
        return ReputationRead(
            use_case_id=use_case.id,
            tier=tier,
            tier_changed_at=use_case.tier_changed_at,
            email_type=EmailType(use_case.email_type or EmailType.TRANSACTIONAL),
            daily_send_cap=tiers.DAILY_SEND_CAP[tier],
            sending_pool=pool,
            pool_in_sync=use_case.sending_pool == pool,
            warning=use_case.reputation_warning,
            windows=[WindowRead.model_validate(s.figures()) for s in stats.values()],
            history=[TierChangeRead.model_validate(c) for c in history],
        )

    async def tier_history(self, session: AsyncSession, use_case_id: uuid.UUID) -> list[TierChange]:
        rows = await session.scalars(
            select(TierChange)
            .where(TierChange.use_case_id == use_case_id)
            .order_by(TierChange.created_at.desc(), TierChange.id)
        )
        return list(rows)
