"""Twilio setups (account reference + customer profile) and their phone numbers."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.connectors.base import E164
from switchboard.connectors.http import base_url
from switchboard.core import audit
from switchboard.core.config import Settings
from switchboard.core.errors import (
    AppError,
    Conflict,
    Forbidden,
    NotFound,
    ProviderFailed,
    ProviderUnavailable,
    field_error,
)
from switchboard.core.permissions import Permission, Principal
from switchboard.core.vault import Vault
from switchboard.models import Organization, PhoneNumber, TwilioSetup, UseCase
from switchboard.models.base import utcnow
from switchboard.voice.provider import (
    BusinessProfile,
    ProfileResult,
    VoiceProvider,
    VoiceProviderError,
    build_voice_provider,
)
from switchboard.voice.schemas import (
    CustomerProfileRead,
    PhoneNumberCreate,
    PhoneNumberRead,
    PhoneNumberSyncResult,
    ProfileStatus,
    SkippedNumber,
    TwilioSetupCreate,
    TwilioSetupRead,
)
from switchboard.webhooks.signatures import twilio_signature_ok

log = logging.getLogger("switchboard.voice")

OWNER = "twilio_setup"
# TrustHub posts profile status changes here, signed with the account's auth token.
CALLBACK_PATH = "/webhooks/twilio/customer-profile/{setup_id}"
NUMBER_OWNER = "phone_number"
EMAIL_CHANNEL = "email"

# The customer profile's one table of allowed transitions: decisions are final.
PROFILE_TRANSITIONS: dict[ProfileStatus, frozenset[ProfileStatus]] = {
    ProfileStatus.PENDING: frozenset({ProfileStatus.APPROVED, ProfileStatus.REJECTED}),
    ProfileStatus.APPROVED: frozenset(),
    ProfileStatus.REJECTED: frozenset(),
}

_e164 = TypeAdapter(E164)


def setups_readable_by(principal: Principal) -> Select[TwilioSetup]:
    """Every read starts here, so no query can forget the tenant scope."""
    stmt = select(TwilioSetup)
    if not principal.is_platform_admin:
        stmt = stmt.where(TwilioSetup.organization_id == principal.organization_id)
    return stmt


def numbers_readable_by(principal: Principal) -> Select[PhoneNumber]:
    stmt = select(PhoneNumber)
    if not principal.is_platform_admin:
        stmt = stmt.where(PhoneNumber.organization_id == principal.organization_id)
    return stmt


def provider_failure(exc: VoiceProviderError, doing: str) -> AppError:
    """Map an adapter error to the API's answer; credentials Twilio refuses are the caller's input."""
    if exc.unauthorized:
        return field_error(
            "auth_token", "rejected_by_provider", "Twilio rejected this Account SID and Auth Token."
        )
    if exc.retriable:
        log.warning("Twilio unavailable while %s: %s", doing, exc)
        return ProviderUnavailable(f"Twilio is unavailable right now ({exc.code}); nothing was changed.")
    return ProviderFailed(f"Twilio refused {doing}: {exc}")


class TwilioSetupService:
    def __init__(self, vault: Vault, settings: Settings, provider: VoiceProvider | None = None) -> None:
        self.vault = vault
        self.settings = settings
        self._provider = provider

    @property
    def provider(self) -> VoiceProvider:
        if self._provider is None:
            s = self.settings
            self._provider = build_voice_provider(
                s.provider_mode,
                base_url=base_url(s, "twilio"),
                trusthub_base_url=s.twilio_trusthub_base_url,
                policy_sid=s.twilio_customer_profile_policy_sid,
                timeout=s.twilio_timeout,
            )
        return self._provider

    @provider.setter
    def provider(self, value: VoiceProvider) -> None:
        self._provider = value

    # --- reads

    async def list_setups(
        self, session: AsyncSession, principal: Principal, organization_id: uuid.UUID | None = None
    ) -> list[TwilioSetup]:
        principal.require(Permission.CHANNELS_READ)
        stmt = setups_readable_by(principal)
        org = principal.org_scope(organization_id)
        if org is not None:
            stmt = stmt.where(TwilioSetup.organization_id == org)
        return list(await session.scalars(stmt.order_by(TwilioSetup.created_at, TwilioSetup.id)))

    async def get(self, session: AsyncSession, principal: Principal, setup_id: uuid.UUID) -> TwilioSetup:
        principal.require(Permission.CHANNELS_READ)
        setup = await session.scalar(setups_readable_by(principal).where(TwilioSetup.id == setup_id))
        if setup is None:
            raise NotFound("Twilio setup not found.")
        return setup

    async def read(self, session: AsyncSession, setup: TwilioSetup) -> TwilioSetupRead:
        masks = await self.vault.masks(session, OWNER, setup.id)
        count = await session.scalar(
            select(func.count()).select_from(PhoneNumber).where(PhoneNumber.twilio_setup_id == setup.id)
        )
        return TwilioSetupRead(
            id=setup.id,
            organization_id=setup.organization_id,
            name=setup.name,
            account_sid=setup.account_sid,
            auth_token=masks.get("auth_token", ""),
            customer_profile=CustomerProfileRead(
                status=ProfileStatus(setup.profile_status),
                status_reason=setup.profile_status_reason,
                submitted_at=setup.profile_submitted_at,
                decided_at=setup.profile_decided_at,
                business_name=setup.business_name,
                business_type=setup.business_type,
                website=setup.website,
                contact_email=setup.contact_email,
            ),
            phone_numbers=count or 0,
            provider_mode="live" if setup.provider_mode == "live" else "sandbox",
            created_at=setup.created_at,
            updated_at=setup.updated_at,
        )

    def callback_url(self, setup_id: uuid.UUID) -> str:
        return f"{self.settings.public_base_url.rstrip('/')}{CALLBACK_PATH.format(setup_id=setup_id)}"

    async def credentials(self, session: AsyncSession, setup: TwilioSetup) -> tuple[str, str]:
        token = await self.vault.get(session, OWNER, setup.id, "auth_token")
        return setup.account_sid, token or ""

    # --- writes

    async def create(
        self, session: AsyncSession, principal: Principal, data: TwilioSetupCreate
    ) -> TwilioSetup:
        principal.require(Permission.CHANNELS_MANAGE)
        org_id = principal.owning_org(data.organization_id)
        if await session.get(Organization, org_id) is None:
            raise NotFound("Organization not found.")
        if await session.scalar(
            select(TwilioSetup.id).where(TwilioSetup.organization_id == org_id, TwilioSetup.name == data.name)
        ):
            raise Conflict(f"A Twilio setup named {data.name!r} already exists.", code="duplicate_name")
        # Platform-wide: one Twilio account belongs to one customer.
        if await session.scalar(select(TwilioSetup.id).where(TwilioSetup.account_sid == data.account_sid)):
            raise Conflict("This Twilio account is already set up.", code="account_in_use")
        provider = self.provider
        # The id is chosen first: the profile's status callback URL names the setup.
        setup_id = uuid.uuid4()
        profile = BusinessProfile(
            business_name=data.business_name,
            business_type=data.business_type.value,
            website=data.website,
            contact_email=str(data.contact_email),
        )
        try:
            await provider.validate_account(data.account_sid, data.auth_token)
            result = await provider.create_customer_profile(
                data.account_sid, data.auth_token, profile, self.callback_url(setup_id)
            )
        except VoiceProviderError as exc:
            if exc.not_found:
                raise field_error("account_sid", "account_not_found", "Twilio has no such account.") from exc
            raise provider_failure(exc, "the customer profile") from exc
        now = utcnow()
        setup = TwilioSetup(
            id=setup_id,
            organization_id=org_id,
            name=data.name,
            account_sid=data.account_sid,
            business_name=profile.business_name,
            business_type=profile.business_type,
            website=profile.website,
            contact_email=profile.contact_email,
            profile_sid=result.sid,
            profile_provider_status=result.provider_status,
            profile_status=result.status,
            profile_status_reason=result.reason,
            profile_submitted_at=now,
            profile_decided_at=now if result.status != ProfileStatus.PENDING else None,
            provider_mode=provider.mode,
        )
        session.add(setup)
        await self.vault.put(session, OWNER, setup.id, "auth_token", data.auth_token, org_id)
        try:
            await session.flush()
        except IntegrityError as exc:  # a concurrent create won the race
            raise Conflict("This Twilio setup already exists.", code="duplicate_name") from exc
        after = (await self.read(session, setup)).model_dump(mode="json")
        await audit.record(
            session, principal, "twilio_setup.created", OWNER, setup.id, organization_id=org_id, after=after
        )
        return setup

    async def delete(self, session: AsyncSession, principal: Principal, setup_id: uuid.UUID) -> None:
        principal.require(Permission.CHANNELS_MANAGE)
        setup = await self.get(session, principal, setup_id)
        in_use = await session.scalar(
            select(func.count()).select_from(UseCase).where(UseCase.twilio_setup_id == setup.id)
        )
        if in_use:
            raise Conflict(
                f"{in_use} use case(s) still use this Twilio setup; delete them first.", code="setup_in_use"
            )
        before = (await self.read(session, setup)).model_dump(mode="json")
        numbers = list(
            await session.scalars(select(PhoneNumber).where(PhoneNumber.twilio_setup_id == setup.id))
        )
        for number in numbers:
            await session.delete(number)
        await self.vault.remove(session, OWNER, setup.id)
        await session.delete(setup)
        await audit.record(
            session,
            principal,
            "twilio_setup.deleted",
            OWNER,
            setup.id,
            organization_id=setup.organization_id,
            before=before,
        )

    async def _decide(
        self,
        session: AsyncSession,
        setup: TwilioSetup,
        to: ProfileStatus,
        reason: str | None,
        actor: Principal | None,
        provider_status: str | None = None,
    ) -> None:
        current = ProfileStatus(setup.profile_status)
        if to not in PROFILE_TRANSITIONS[current]:
            raise Conflict(
                f"The customer profile is already {current.value}; it cannot become {to.value}.",
                code="invalid_transition",
                extra={"current_status": current.value},
            )
        before = {"status": current.value, "status_reason": setup.profile_status_reason}
        setup.profile_status = to.value
        setup.profile_status_reason = reason
        setup.profile_decided_at = utcnow()
        if provider_status is not None:
            setup.profile_provider_status = provider_status
        await session.flush()
        await audit.record(
            session,
            actor,
            f"twilio_setup.profile_{to.value}",
            OWNER,
            setup.id,
            organization_id=setup.organization_id,
            before=before,
            after={"status": to.value, "status_reason": reason},
            reason=reason,
        )

    async def decide_profile(
        self,
        session: AsyncSession,
        principal: Principal,
        setup_id: uuid.UUID,
        to: ProfileStatus,
        reason: str | None,
    ) -> TwilioSetup:
        """A platform admin forces the review's outcome (final: the poll never overrides it)."""
        principal.require(Permission.ONBOARDING_REVIEW)
        setup = await self.get(session, principal, setup_id)
        if to is ProfileStatus.REJECTED and not reason:
            raise field_error("reason", "required", "Say why the customer profile is rejected.")
        await self._decide(session, setup, to, reason or "Approved by a platform admin.", principal)
        return setup

    # --- jobs

    async def approve_due_sandbox(self, session: AsyncSession, now: datetime | None = None) -> int:
        """Sandbox review: pending sandbox profiles are approved once the configured delay has passed."""
        now = now or utcnow()
        due = now - timedelta(seconds=self.settings.sandbox_profile_approval_seconds)
        setups = list(
            await session.scalars(
                select(TwilioSetup)
                .where(
                    TwilioSetup.provider_mode == "sandbox",
                    TwilioSetup.profile_status == ProfileStatus.PENDING.value,
                    TwilioSetup.profile_submitted_at <= due,
                )
                .order_by(TwilioSetup.profile_submitted_at)
                .limit(500)
            )
        )
        for setup in setups:
            await self._decide(
                session,
                setup,
                ProfileStatus.APPROVED,
                "Approved by the sandbox review.",
                None,
                "twilio-approved",
            )
        return len(setups)

    async def profile_callback(
        self,
        session: AsyncSession,
        setup_id: uuid.UUID,
        urls: list[str],
        params: dict[str, list[str]],
        signature: str | None,
    ) -> None:
        """TrustHub's status callback: verify X-Twilio-Signature, then ask Twilio for the status.

        The callback only says "something changed"; the status is read back from the API, so no
        field of the callback is trusted beyond the signature.
        """
        setup = await session.get(TwilioSetup, setup_id)
        if setup is None:
            raise NotFound("Twilio setup not found.")
        _, token = await self.credentials(session, setup)
        if not any(twilio_signature_ok(token, url, params, signature) for url in urls):
            raise Forbidden("The X-Twilio-Signature is missing or invalid.", code="invalid_signature")
        if setup.profile_status == ProfileStatus.PENDING.value and setup.provider_mode == "live":
            await self._refresh(session, setup)

    async def _refresh(self, session: AsyncSession, setup: TwilioSetup) -> bool:
        """Read one live profile's status from Twilio; True when it was decided."""
        sid, token = await self.credentials(session, setup)
        try:
            result: ProfileResult = await self.provider.fetch_customer_profile(
                sid, token, setup.profile_sid or ""
            )
        except VoiceProviderError as exc:
            # One account's trouble must not stop the others; the next poll retries.
            log.warning(
                "customer profile poll failed", extra={"twilio_setup_id": str(setup.id), "code": exc.code}
            )
            return False
        if result.status == ProfileStatus.PENDING.value:
            setup.profile_provider_status = result.provider_status
            return False
        await self._decide(
            session, setup, ProfileStatus(result.status), result.reason, None, result.provider_status
        )
        return True

    async def refresh_live_profiles(self, session: AsyncSession, limit: int = 200) -> int:
        """Ask Twilio about pending live profiles; returns how many were decided."""
        setups = list(
            await session.scalars(
                select(TwilioSetup)
                .where(
                    TwilioSetup.provider_mode == "live",
                    TwilioSetup.profile_status == ProfileStatus.PENDING.value,
                    TwilioSetup.profile_sid.is_not(None),
                )
                .order_by(TwilioSetup.updated_at)
                .limit(limit)
            )
        )
        decided = 0
        for setup in setups:
            decided += await self._refresh(session, setup)
        return decided


class PhoneNumberService:
    def __init__(self, setups: TwilioSetupService) -> None:
        self.setups = setups

    async def list_numbers(
        self,
        session: AsyncSession,
        principal: Principal,
        *,
        twilio_setup_id: uuid.UUID | None = None,
        use_case_id: uuid.UUID | None = None,
        unassigned: bool | None = None,
    ) -> list[PhoneNumber]:
        principal.require(Permission.CHANNELS_READ)
        stmt = numbers_readable_by(principal)
        if twilio_setup_id is not None:
            stmt = stmt.where(PhoneNumber.twilio_setup_id == twilio_setup_id)
        if use_case_id is not None:
            stmt = stmt.where(PhoneNumber.use_case_id == use_case_id)
        if unassigned is True:
            stmt = stmt.where(PhoneNumber.use_case_id.is_(None))
        elif unassigned is False:
            stmt = stmt.where(PhoneNumber.use_case_id.is_not(None))
        return list(await session.scalars(stmt.order_by(PhoneNumber.phone_number)))

    async def get(self, session: AsyncSession, principal: Principal, number_id: uuid.UUID) -> PhoneNumber:
        principal.require(Permission.CHANNELS_READ)
        number = await session.scalar(numbers_readable_by(principal).where(PhoneNumber.id == number_id))
        if number is None:
            raise NotFound("Phone number not found.")
        return number

    @staticmethod
    def read(number: PhoneNumber) -> PhoneNumberRead:
        return PhoneNumberRead.model_validate(number)

    async def _audit(
        self, session: AsyncSession, principal: Principal, action: str, number: PhoneNumber, **kw: Any
    ) -> None:
        await audit.record(
            session, principal, action, NUMBER_OWNER, number.id, organization_id=number.organization_id, **kw
        )

    async def create(
        self, session: AsyncSession, principal: Principal, data: PhoneNumberCreate
    ) -> PhoneNumber:
        principal.require(Permission.CHANNELS_MANAGE)
        setup = await self.setups.get(session, principal, data.twilio_setup_id)
        if await session.scalar(select(PhoneNumber.id).where(PhoneNumber.phone_number == data.phone_number)):
            raise Conflict(f"{data.phone_number} is already attached on this platform.", code="number_in_use")
        number = PhoneNumber(
            id=uuid.uuid4(),
            organization_id=setup.organization_id,
            twilio_setup_id=setup.id,
            phone_number=data.phone_number,
            friendly_name=data.friendly_name,
        )
        session.add(number)
        try:
            await session.flush()
        except IntegrityError as exc:
            raise Conflict(
                f"{data.phone_number} is already attached on this platform.", code="number_in_use"
            ) from exc
        await self._audit(
            session, principal, "phone_number.added", number, after=self.read(number).model_dump(mode="json")
        )
        return number

    async def sync(
        self, session: AsyncSession, principal: Principal, setup_id: uuid.UUID
    ) -> PhoneNumberSyncResult:
        """Import the account's voice-capable incoming numbers that are not attached yet."""
        principal.require(Permission.CHANNELS_MANAGE)
        setup = await self.setups.get(session, principal, setup_id)
        sid, token = await self.setups.credentials(session, setup)
        try:
            incoming = await self.setups.provider.list_incoming_numbers(sid, token)
        except VoiceProviderError as exc:
            raise provider_failure(exc, "the number listing") from exc
        imported: list[PhoneNumber] = []
        skipped: list[SkippedNumber] = []
        for item in incoming:
            try:
                e164 = _e164.validate_python(item.phone_number)
            except ValidationError:
                skipped.append(SkippedNumber(phone_number=item.phone_number, reason="not an E.164 number"))
                continue
            if not item.voice:
                skipped.append(SkippedNumber(phone_number=e164, reason="not voice capable"))
                continue
            owner = await session.scalar(select(PhoneNumber).where(PhoneNumber.phone_number == e164))
            if owner is not None:
                reason = (
                    "already attached" if owner.twilio_setup_id == setup.id else "attached to another setup"
                )
                skipped.append(SkippedNumber(phone_number=e164, reason=reason))
                continue
            number = PhoneNumber(
                id=uuid.uuid4(),
                organization_id=setup.organization_id,
                twilio_setup_id=setup.id,
                phone_number=e164,
                friendly_name=item.friendly_name,
                provider_sid=item.sid or None,
            )
            session.add(number)
            await session.flush()
            await self._audit(
                session,
                principal,
                "phone_number.imported",
                number,
                after=self.read(number).model_dump(mode="json"),
            )
            imported.append(number)
        return PhoneNumberSyncResult(items=[self.read(n) for n in imported], skipped=skipped)

    async def assign(
        self, session: AsyncSession, principal: Principal, number_id: uuid.UUID, use_case_id: uuid.UUID
    ) -> PhoneNumber:
        principal.require(Permission.CHANNELS_MANAGE)
        number = await self.get(session, principal, number_id)
        stmt = select(UseCase).where(UseCase.id == use_case_id)
        if not principal.is_platform_admin:
            stmt = stmt.where(UseCase.organization_id == principal.organization_id)
        use_case = await session.scalar(stmt)
        if use_case is None:
            raise NotFound("Use case not found.")
        if use_case.channel == EMAIL_CHANNEL:
            raise Conflict(
                "Phone numbers can only be assigned to voice use cases.", code="not_a_voice_use_case"
            )
        if use_case.twilio_setup_id != number.twilio_setup_id:
            raise Conflict(
                "The use case is bound to another Twilio setup than this number.", code="different_setup"
            )
        if number.use_case_id == use_case.id:
            return number
        if number.use_case_id is not None:
            raise Conflict(
                "The number is assigned to another use case; unassign it first.",
                code="already_assigned",
                extra={"use_case_id": str(number.use_case_id)},
            )
        number.use_case_id = use_case.id
        await session.flush()
        await self._audit(
            session,
            principal,
            "phone_number.assigned",
            number,
            before={"use_case_id": None},
            after={"use_case_id": str(use_case.id)},
        )
        return number

    async def unassign(
        self, session: AsyncSession, principal: Principal, number_id: uuid.UUID
    ) -> PhoneNumber:
        principal.require(Permission.CHANNELS_MANAGE)
        number = await self.get(session, principal, number_id)
        if number.use_case_id is None:
            return number
        before = {"use_case_id": str(number.use_case_id)}
        number.use_case_id = None
        await session.flush()
        await self._audit(
            session, principal, "phone_number.unassigned", number, before=before, after={"use_case_id": None}
        )
        return number

    async def delete(self, session: AsyncSession, principal: Principal, number_id: uuid.UUID) -> None:
        principal.require(Permission.CHANNELS_MANAGE)
        number = await self.get(session, principal, number_id)
        if number.use_case_id is not None:
            raise Conflict("The number is assigned to a use case; unassign it first.", code="number_assigned")
        before = self.read(number).model_dump(mode="json")
        await session.delete(number)
        await self._audit(session, principal, "phone_number.removed", number, before=before)
