"""SES setups: the reputation boundary and domain identity of a tenant's sending domain, the DNS
records it must publish, and their live verification (on request and by the re-check job)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import dns.asyncresolver
import dns.exception
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.core import audit
from switchboard.core.config import Settings
from switchboard.core.errors import AppError, Conflict, NotFound, Unprocessable, field_error
from switchboard.core.permissions import Permission, Principal
from switchboard.email.dns_records import DnsRecord, expected_records
from switchboard.email.dns_verify import make_resolver, parse_nameservers, verify_records
from switchboard.email.provider import EmailProvider, ProviderError, build_email_provider
from switchboard.email.schemas import DnsRecordRead, SesSetupCreate, SesSetupRead
from switchboard.models import Organization, SesSetup
from switchboard.models.base import utcnow
from switchboard.models.use_case import UseCase

log = logging.getLogger("switchboard.email")

OWNER = "ses_setup"
MAIL_FROM_SUBDOMAIN = "bounce"
# Re-check schedule: give the customer a minute to publish, then back off while nothing
# changes (1, 2, 4 ... minutes, capped at an hour); once verified, look again daily for drift.
FIRST_CHECK = timedelta(minutes=1)
MAX_BACKOFF = timedelta(hours=1)
VERIFIED_RECHECK = timedelta(days=1)
# In-flight DNS queries shared by every setup of one batch refresh.
DNS_CONCURRENCY = 200
# A DNS name is at most 253 characters in text form; the longest record name is the DKIM one,
# `<32-character token>._domainkey.<domain>`.
MAX_DNS_NAME = 253
DKIM_NAME_OVERHEAD = len("x" * 32 + "._domainkey.")


class ProviderUnavailable(AppError):
    status_code = 503
    code = "provider_unavailable"


def readable_by(principal: Principal) -> Select[SesSetup]:
    """Every read starts here, so no query can forget the tenant scope."""
    stmt = select(SesSetup)
    if not principal.is_platform_admin:
        stmt = stmt.where(SesSetup.organization_id == principal.organization_id)
    return stmt


async def setup_in_use(session: AsyncSession, setup_id: uuid.UUID) -> bool:
    """Whether email use cases still reference the setup (they must be deleted first)."""
    found = await session.scalar(select(UseCase.id).where(UseCase.ses_setup_id == setup_id).limit(1))
    return found is not None


def records_of(setup: SesSetup) -> list[DnsRecord]:
    return [
        DnsRecord(
            address=r["address"],
            record=r["record"],
            type=r["type"],
            purpose=r["purpose"],
            verified=bool(r.get("verified")),
            reason=r.get("reason"),
        )
        for r in setup.dns_records
    ]


def record_json(record: DnsRecord) -> dict[str, Any]:
    return {
        "address": record.address,
        "record": record.record,
        "type": record.type,
        "purpose": record.purpose,
        "verified": record.verified,
        "reason": record.reason,
    }


def _label(record: DnsRecord) -> str:
    return f"{record.type} {record.address}"


@dataclass(frozen=True)
class CheckChange:
    """What a check changed, for the audit log. Empty lists and equal flags mean nothing did."""

    was_verified: bool
    now_verified: bool
    newly_verified: list[DnsRecord]
    drifted: list[DnsRecord]


def apply_check(setup: SesSetup, checked: Sequence[DnsRecord], now: datetime) -> CheckChange:
    """Store a check's results on the setup and schedule its next re-check."""
    before = records_of(setup)
    was_verified = setup.dns_verified
    newly = [new for old, new in zip(before, checked, strict=True) if new.verified and not old.verified]
    drifted = [new for old, new in zip(before, checked, strict=True) if old.verified and not new.verified]
    changed = any(
        (old.verified, old.reason) != (new.verified, new.reason)
        for old, new in zip(before, checked, strict=True)
    )
    setup.dns_records = [record_json(r) for r in checked]
    setup.dns_checked_at = now
    setup.dns_verified = bool(checked) and all(r.verified for r in checked)
    if setup.dns_verified:
        if not was_verified:
            setup.verified_at = now
        setup.check_failures = 0
        setup.next_check_at = now + VERIFIED_RECHECK
    else:
        setup.verified_at = None
        # Anything that moved (a record published, changed or lost) starts the back-off over.
        setup.check_failures = 0 if changed else setup.check_failures + 1
        delay = min(FIRST_CHECK * (2**setup.check_failures), MAX_BACKOFF)
        setup.next_check_at = now + delay
    return CheckChange(was_verified, setup.dns_verified, newly, drifted)


class SesSetupService:
    def __init__(
        self,
        settings: Settings,
        provider: EmailProvider | None = None,
        resolver: dns.asyncresolver.Resolver | None = None,
    ) -> None:
        self.settings = settings
        self._provider = provider
        self._resolver = resolver

    # --- collaborators, built on first use (the re-check job never needs the provider)

    @property
    def provider(self) -> EmailProvider:
        if self._provider is None:
            s = self.settings
            self._provider = build_email_provider(
                s.provider_mode,
                region=s.ses_region,
                endpoint_url=s.ses_endpoint_url or None,
                access_key_id=s.ses_access_key_id or None,
                secret_access_key=s.ses_secret_access_key or None,
            )
        return self._provider

    @property
    def dns_timeout(self) -> float:
        return self.settings.dns_timeout

    @property
    def resolver(self) -> dns.asyncresolver.Resolver:
        if self._resolver is None:
            try:
                servers = parse_nameservers(self.settings.dns_nameservers) or None
                self._resolver = make_resolver(servers, self.dns_timeout)
            except (ValueError, dns.exception.DNSException, OSError) as exc:
                log.error("DNS resolver unavailable: %s", exc)
                raise ProviderUnavailable(
                    "DNS checks are unavailable: the DNS resolver is not configured "
                    "(SWITCHBOARD_DNS_NAMESERVERS or the system resolver)."
                ) from exc
        return self._resolver

    # --- reads

    async def list_setups(
        self, session: AsyncSession, principal: Principal, organization_id: uuid.UUID | None = None
    ) -> list[SesSetup]:
        """Cached state only: listing never queries DNS."""
        principal.require(Permission.CHANNELS_READ)
        stmt = readable_by(principal)
        org = principal.org_scope(organization_id)
        if org is not None:
            stmt = stmt.where(SesSetup.organization_id == org)
        rows = await session.scalars(stmt.order_by(SesSetup.created_at, SesSetup.id))
        return list(rows)

    async def get(self, session: AsyncSession, principal: Principal, setup_id: uuid.UUID) -> SesSetup:
        principal.require(Permission.CHANNELS_READ)
        setup = await session.scalar(readable_by(principal).where(SesSetup.id == setup_id))
        if setup is None:
            raise NotFound("SES setup not found.")
        return setup

    def read(self, setup: SesSetup) -> SesSetupRead:
        return SesSetupRead(
            id=setup.id,
            organization_id=setup.organization_id,
            tenant_name=setup.tenant_name,
            domain_identity=setup.domain_identity,
            dns_verified=setup.dns_verified,
            dns_checked_at=setup.dns_checked_at,
            dns_records=[DnsRecordRead.model_validate(r) for r in setup.dns_records],
            created_at=setup.created_at,
            updated_at=setup.updated_at,
        )

    # --- create and delete

    async def _check_free(
        self, session: AsyncSession, org_id: uuid.UUID, tenant_name: str, domain: str
    ) -> None:
        # Platform-wide on purpose (not readable_by): SES tenant names are account-wide and a
        # domain belongs to one organization. Another organization's claim is never named.
        if await session.scalar(select(SesSetup.id).where(SesSetup.tenant_name == tenant_name)) is not None:
            raise Conflict("tenant name already exists", code="tenant_name_taken")
        owner = await session.scalar(
            select(SesSetup.organization_id).where(SesSetup.domain_identity == domain)
        )
        if owner is not None:
            if owner == org_id:
                raise Conflict("domain already exists", code="domain_exists")
            raise Conflict("domain already claimed", code="domain_claimed")

    def _check_record_names(self, domain: str) -> None:
        if len(domain) + DKIM_NAME_OVERHEAD > MAX_DNS_NAME:
            limit = MAX_DNS_NAME - DKIM_NAME_OVERHEAD
            raise field_error(
                "domain_identity",
                "too_long_for_dns_records",
                f"domain_identity is too long for its DNS records: the DKIM record name "
                f"<token>._domainkey.{domain[:20]}... would exceed DNS's {MAX_DNS_NAME}-character limit. "
                f"Use a domain of at most {limit} characters.",
            )

    async def create(self, session: AsyncSession, principal: Principal, data: SesSetupCreate) -> SesSetup:
        principal.require(Permission.CHANNELS_MANAGE)
        org_id = principal.owning_org(data.organization_id)
        if await session.get(Organization, org_id) is None:
            raise NotFound("Organization not found.")
        domain = data.domain_identity  # already IDNA-encoded and lowercased by the schema
        self._check_record_names(domain)
        await self._check_free(session, org_id, data.tenant_name, domain)

        provider = self.provider
        mail_from = f"{MAIL_FROM_SUBDOMAIN}.{domain}"
        try:
            tenant_ref = await provider.create_boundary(data.tenant_name)
        except ProviderError as exc:
            raise _provider_failure(exc, "tenant name already exists", "tenant_name_taken") from exc
        try:
            identity = await provider.create_identity(data.tenant_name, domain, mail_from)
            records = expected_records(
                domain,
                identity.dkim_tokens,
                identity.region,
                MAIL_FROM_SUBDOMAIN,
                dmarc_rua=self.settings.dmarc_rua or None,
            )
        except (ProviderError, ValueError) as exc:
            # Nothing half-created: the boundary goes when the identity cannot be made.
            await self._undo(provider, data.tenant_name, domain, identity_created=isinstance(exc, ValueError))
            if isinstance(exc, ProviderError):
                raise _provider_failure(exc, "domain already claimed", "domain_claimed") from exc
            raise field_error("domain_identity", "invalid_domain", str(exc)) from exc

        now = utcnow()
        setup = SesSetup(
            id=uuid.uuid4(),
            organization_id=org_id,
            tenant_name=data.tenant_name,
            domain_identity=domain,
            region=identity.region,
            mail_from_subdomain=MAIL_FROM_SUBDOMAIN,
            dkim_tokens=list(identity.dkim_tokens),
            dns_records=[record_json(r) for r in records],
            dns_verified=False,
            next_check_at=now + FIRST_CHECK,
            check_failures=0,
            provider_mode=provider.mode,
            tenant_ref=tenant_ref,
        )
        session.add(setup)
        try:
            await session.flush()
        except IntegrityError as exc:
            # Lost a race with a concurrent create of the same name (the sandbox has no
            # provider-side uniqueness to stop it earlier).
            await self._undo(provider, data.tenant_name, domain, identity_created=True)
            raise Conflict("tenant name or domain already exists", code="conflict") from exc
        await audit.record(
            session,
            principal,
            "ses_setup.created",
            OWNER,
            setup.id,
            organization_id=org_id,
            after=self.read(setup).model_dump(mode="json"),
        )
        return setup

    async def _undo(
        self, provider: EmailProvider, tenant_name: str, domain: str, identity_created: bool
    ) -> None:
        try:
            if identity_created:
                await provider.delete_identity(tenant_name, domain)
            await provider.delete_boundary(tenant_name)
        except ProviderError as exc:
            log.warning("could not undo SES tenant %s after a failed create: %r", tenant_name, exc)

    async def delete(self, session: AsyncSession, principal: Principal, setup_id: uuid.UUID) -> None:
        principal.require(Permission.CHANNELS_MANAGE)
        setup = await self.get(session, principal, setup_id)
        if await setup_in_use(session, setup.id):
            raise Conflict(
                "Email use cases still reference this SES setup; delete those first.", code="setup_in_use"
            )
        before = self.read(setup).model_dump(mode="json")
        # A setup made by the sandbox has nothing in SES; calling SES could only hit a namesake.
        if setup.provider_mode != "sandbox":
            try:
                await self.provider.delete_identity(setup.tenant_name, setup.domain_identity)
                await self.provider.delete_boundary(setup.tenant_name)
            except ProviderError as exc:
                if exc.retriable:
                    raise ProviderUnavailable(
                        f"Amazon SES is unavailable ({exc.code}); the setup was not deleted. Try again later."
                    ) from exc
                raise Conflict(f"Amazon SES refused the deletion: {exc}", code="provider_error") from exc
        await session.delete(setup)
        await session.flush()
        await audit.record(
            session,
            principal,
            "ses_setup.deleted",
            OWNER,
            setup.id,
            organization_id=setup.organization_id,
            before=before,
        )

    # --- DNS verification

    async def check_records(
        self, setups: Sequence[SesSetup], limiter: asyncio.Semaphore | None = None
    ) -> list[list[DnsRecord]]:
        """Query every record of every setup concurrently (no database work)."""
        resolver, timeout = self.resolver, self.dns_timeout
        if limiter is None and len(setups) > 1:
            limiter = asyncio.Semaphore(DNS_CONCURRENCY)
        return list(
            await asyncio.gather(
                *(verify_records(records_of(s), resolver, timeout, limiter=limiter) for s in setups)
            )
        )

    async def refresh(self, session: AsyncSession, principal: Principal, setup_id: uuid.UUID) -> SesSetup:
        """Get one setup after a live DNS check of all its records."""
        setup = await self.get(session, principal, setup_id)
        (checked,) = await self.check_records([setup])
        await self._store_check(session, setup, checked, principal)
        return setup

    async def recheck_due(self, session: AsyncSession, now: datetime | None = None, limit: int = 1000) -> int:
        """Re-check the setups whose next check is due; returns how many were checked."""
        now = now or utcnow()
        due = list(
            await session.scalars(
                select(SesSetup)
                .where(SesSetup.next_check_at.is_not(None), SesSetup.next_check_at <= now)
                .order_by(SesSetup.next_check_at, SesSetup.id)
                .limit(limit)
            )
        )
        if not due:
            return 0
        results = await self.check_records(due)
        for setup, checked in zip(due, results, strict=True):
            await self._store_check(session, setup, checked, None, now)
        await session.flush()
        return len(due)

    async def _store_check(
        self,
        session: AsyncSession,
        setup: SesSetup,
        checked: Sequence[DnsRecord],
        actor: Principal | None,
        now: datetime | None = None,
    ) -> None:
        change = apply_check(setup, checked, now or utcnow())
        if change.drifted:
            names = "; ".join(f"{_label(r)} (expected `{r.record}`): {r.reason}" for r in change.drifted)
            await audit.record(
                session,
                actor,
                "ses_setup.drift",
                OWNER,
                setup.id,
                organization_id=setup.organization_id,
                before={
                    "dns_verified": change.was_verified,
                    "records": {_label(r): True for r in change.drifted},
                },
                after={
                    "dns_verified": change.now_verified,
                    "records": {_label(r): False for r in change.drifted},
                },
                reason=f"Verified DNS record no longer found: {names}"[:1000],
            )
        if change.newly_verified or (change.was_verified != change.now_verified and not change.drifted):
            reason = (
                "All DNS records verified."
                if change.now_verified
                else f"Verified: {', '.join(_label(r) for r in change.newly_verified)}."
            )
            await audit.record(
                session,
                actor,
                "ses_setup.verification_changed",
                OWNER,
                setup.id,
                organization_id=setup.organization_id,
                before={
                    "dns_verified": change.was_verified,
                    "records": {_label(r): False for r in change.newly_verified},
                },
                after={
                    "dns_verified": change.now_verified,
                    "records": {_label(r): True for r in change.newly_verified},
                },
                reason=reason[:1000],
            )

    async def history(
        self, session: AsyncSession, principal: Principal, setup_id: uuid.UUID
    ) -> list[audit.AuditLog]:
        """The audit trail of one setup, newest first; readable after deletion by its owner."""
        principal.require(Permission.CHANNELS_READ)
        entries = await audit.history(session, OWNER, setup_id)
        if not principal.is_platform_admin:
            entries = [e for e in entries if e.organization_id == principal.organization_id]
        if not entries:
            await self.get(session, principal, setup_id)
        return entries


def _provider_failure(exc: ProviderError, exists_message: str, exists_code: str) -> AppError:
    if exc.retriable:
        log.warning("SES unavailable during setup create: %r", exc)
        return ProviderUnavailable(
            f"Amazon SES is unavailable right now ({exc.code}); nothing was created. Try again shortly."
        )
    if exc.already_exists:
        return Conflict(exists_message, code=exists_code)
    return Unprocessable(str(exc), code="provider_rejected")
