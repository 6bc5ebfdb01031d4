"""Running a request's provisioning steps, checking its DNS records, and recovering lost work.

A worker claims the next step with a compare-and-set (pending, or running with an expired lease ->
running under its own claim token), keeps the lease alive while the provider call runs, and records
the outcome only if it still holds the claim. A worker killed mid-step leaves the step `running`;
once its lease runs out the sweeper hands the step to another worker, and because every step is
idempotent in effect the re-run does no harm.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from huey.exceptions import RetryTask
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.connectors.adapter import ProviderError
from switchboard.core import audit
from switchboard.core.db import transaction
from switchboard.core.runtime import Runtime
from switchboard.email.dns_records import DnsRecord
from switchboard.email.dns_verify import make_resolver, parse_nameservers, verify_records
from switchboard.email.provider import ProviderError as EmailProviderError
from switchboard.models import OnboardingRequest, Organization, OutletSender, ProvisioningStep
from switchboard.onboarding import steps as step_table
from switchboard.onboarding.providers import VERIFIED, Providers, build_providers
from switchboard.onboarding.schemas import Channel, Status, StepStatus

log = logging.getLogger("switchboard.onboarding")
T = TypeVar("T")
OBJECT = "onboarding_request"


# A step that keeps failing transiently is given up after this many attempts (back-off 2, 4, 8, 16 s).
MAX_ATTEMPTS = 5


def _now() -> datetime:
    return datetime.now(UTC)


def lease(rt: Runtime) -> timedelta:
    return timedelta(seconds=max(rt.settings.onboarding_step_lease_seconds, 1.0))


@dataclass
class Claim:
    step_id: uuid.UUID
    name: str
    attempt: int
    token: str
    ctx: step_table.StepContext


async def _claim_next(rt: Runtime, providers: Providers, request_id: uuid.UUID) -> Claim | None:
    """Claim the request's next step in a transaction of its own, committed before the step runs."""
    async with transaction(rt.sessionmaker) as session:
        return await _try_claim(session, rt, providers, request_id)


async def _try_claim(
    session: AsyncSession, rt: Runtime, providers: Providers, request_id: uuid.UUID
) -> Claim | None:
    req = await session.get(OnboardingRequest, request_id)
    if req is None or req.status != Status.IN_PROGRESS:
        return None  # rejected (or gone) meanwhile: stop provisioning
    rows = list(
        await session.scalars(
            select(ProvisioningStep)
            .where(ProvisioningStep.request_id == request_id)
            .order_by(ProvisioningStep.position)
        )
    )
    step = next((s for s in rows if s.status != StepStatus.SUCCEEDED), None)
    if step is None or step.status == StepStatus.FAILED:
        return None
    now = _now()
    token = secrets.token_hex(16)
    claimed = await session.execute(
        update(ProvisioningStep)
        .where(
            ProvisioningStep.id == step.id,
            or_(
                ProvisioningStep.status == StepStatus.PENDING.value,
                (ProvisioningStep.status == StepStatus.RUNNING.value)
                & (ProvisioningStep.lease_expires_at < now),
            ),
        )
        .values(
            status=StepStatus.RUNNING.value,
            claim_token=token,
            lease_expires_at=now + lease(rt),
            attempts=ProvisioningStep.attempts + 1,
            started_at=now,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        return None  # another worker holds it
    org = await session.get(Organization, req.organization_id)
    ctx = step_table.StepContext(
        rt=rt,
        providers=providers,
        request_id=req.id,
        organization_id=req.organization_id,
        channel=Channel(req.channel),
        business=dict(req.business_info),
        domain=req.domain,
        requested_by=req.requested_by,
        results={s.name: dict(s.result or {}) for s in rows if s.status == StepStatus.SUCCEEDED},
    )
    log.info(
        "provisioning step claimed",
        extra={"request_id": str(req.id), "step": step.name, "organization": org.name if org else None},
    )
    return Claim(step.id, step.name, step.attempts + 1, token, ctx)


async def _finish(
    rt: Runtime,
    claim: Claim,
    status: StepStatus,
    *,
    result: dict[str, Any] | None = None,
    error: str | None = None,
) -> bool:
    async with transaction(rt.sessionmaker) as session:
        values: dict[str, Any] = {
            "status": status.value,
            "claim_token": None,
            "lease_expires_at": None,
            "last_error": error[:1000] if error else None,
            "updated_at": _now(),
        }
        if status is StepStatus.SUCCEEDED:
            values["result"] = result or {}
        if status in (StepStatus.SUCCEEDED, StepStatus.FAILED):
            values["finished_at"] = _now()
        done = await session.execute(
            update(ProvisioningStep)
            .where(ProvisioningStep.id == claim.step_id, ProvisioningStep.claim_token == claim.token)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if getattr(done, "rowcount", 0) != 1:
            log.warning("lost the claim on a step; its outcome is discarded", extra={"step": claim.name})
            return False
        if status is not StepStatus.PENDING:
            await audit.record(
                session,
                None,
                f"onboarding_step.{status.value}",
                OBJECT,
                claim.ctx.request_id,
                organization_id=claim.ctx.organization_id,
                after={"step": claim.name, **({"error": error} if error else {})},
            )
    return True


async def _keep_lease(rt: Runtime, claim: Claim, work: Awaitable[T]) -> T:
    """Run the provider call while renewing the step's lease, so a slow step is not taken over."""
    task = asyncio.ensure_future(work)
    period = lease(rt).total_seconds() / 3
    while True:
        done, _ = await asyncio.wait({task}, timeout=period)
        if done:
            return task.result()
        try:
            async with transaction(rt.sessionmaker) as session:
                await session.execute(
                    update(ProvisioningStep)
                    .where(ProvisioningStep.id == claim.step_id, ProvisioningStep.claim_token == claim.token)
                    .values(lease_expires_at=_now() + lease(rt))
                    .execution_options(synchronize_session=False)
                )
        except Exception:  # a missed renewal only risks a second run, which steps tolerate
            log.warning("could not renew a step's lease", extra={"step": claim.name}, exc_info=True)


def _describe(exc: BaseException) -> tuple[str, bool]:
    """(message for the step, retriable?)"""
    if isinstance(exc, ProviderError | EmailProviderError):
        return str(exc), exc.retriable
    if isinstance(exc, ValueError):
        return f"invalid data: {exc}", False
    return f"unexpected error ({type(exc).__name__}); see the worker log", True


async def advance(rt: Runtime, request_id: uuid.UUID) -> int:
    """Run the request's remaining steps in order; returns how many succeeded in this call.

    A transient failure puts the step back to pending and raises Huey's RetryTask with a back-off
    delay; the attempt count lives on the step, so it holds however the job gets re-enqueued."""
    providers = build_providers(rt.settings)
    succeeded = 0
    while True:
        claim = await _claim_next(rt, providers, request_id)
        if claim is None:
            return succeeded
        spec = step_table.spec(claim.ctx.channel, claim.name)
        try:
            result = await _keep_lease(rt, claim, spec.run(claim.ctx))
        except Exception as exc:
            message, retriable = _describe(exc)
            if not isinstance(exc, ProviderError | EmailProviderError | ValueError):
                log.exception("provisioning step crashed", extra={"step": claim.name})
            if retriable and claim.attempt < MAX_ATTEMPTS:
                await _finish(rt, claim, StepStatus.PENDING, error=f"{message} (will retry)")
                raise RetryTask(message, delay=2**claim.attempt) from exc
            await _finish(rt, claim, StepStatus.FAILED, error=message)
            log.warning("provisioning step failed", extra={"step": claim.name, "error": message})
            return succeeded
        if await _finish(rt, claim, StepStatus.SUCCEEDED, result=result):
            succeeded += 1


# --------------------------------------------------------------------------- DNS verification


async def check_dns(rt: Runtime, request_id: uuid.UUID) -> bool | None:
    """Query every issued record; the request is verified when all match (and, for RCS, Google has
    verified the brand). Returns the outcome, None when the request is not waiting for DNS."""
    async with transaction(rt.sessionmaker) as session:
        req = await session.get(OnboardingRequest, request_id)
        if req is None or req.status != Status.DNS_SETUP or not req.dns_records:
            return None
        records = [
            DnsRecord(address=r["address"], record=r["record"], type=r["type"], purpose=r["purpose"])
            for r in req.dns_records
        ]
        channel = Channel(req.channel)
        agent = None
        if channel is Channel.RCS:
            step = await session.scalar(
                select(ProvisioningStep).where(
                    ProvisioningStep.request_id == req.id, ProvisioningStep.name == "register_brand"
                )
            )
            agent = (step.result or {}).get("agent") if step else None
    settings = rt.settings
    resolver = make_resolver(parse_nameservers(settings.dns_nameservers) or None, settings.dns_timeout)
    checked = await verify_records(records, resolver, settings.dns_timeout)
    verification: dict[str, Any] = {}
    if agent:
        verification["brand_verification"] = await build_providers(settings).brands.verification_state(agent)
    records_ok = all(r.verified for r in checked)
    ok = records_ok and (channel is not Channel.RCS or verification.get("brand_verification") == VERIFIED)
    now = _now()
    async with transaction(rt.sessionmaker) as session:
        # No version bump: a check is progress, not a decision; guard on the status only.
        await session.execute(
            update(OnboardingRequest)
            .where(OnboardingRequest.id == request_id, OnboardingRequest.status == Status.DNS_SETUP.value)
            .values(
                dns_records=[_record_json(r) for r in checked],
                dns_checked_at=now,
                dns_verified_at=now if records_ok else None,
                verification=verification,
            )
            .execution_options(synchronize_session=False)
        )
        await audit.record(
            session,
            None,
            f"{OBJECT}.dns_checked",
            OBJECT,
            request_id,
            organization_id=await session.scalar(
                select(OnboardingRequest.organization_id).where(OnboardingRequest.id == request_id)
            ),
            after={"verified": ok, "failing": [r.address for r in checked if not r.verified], **verification},
        )
    return ok


def _record_json(record: DnsRecord) -> dict[str, Any]:
    return {
        "address": record.address,
        "record": record.record,
        "type": record.type,
        "purpose": record.purpose,
        "verified": record.verified,
        "reason": record.reason,
    }


# --------------------------------------------------------------------------- sweeping


@dataclass
class SweepResult:
    provisioning: list[uuid.UUID]
    dns: list[uuid.UUID]
    allocations: list[uuid.UUID]


async def stale_work(rt: Runtime, *, dns_every: timedelta = timedelta(minutes=10)) -> SweepResult:
    """What needs a job again: steps whose worker died (lease expired) or whose job was lost (pending
    too long), confirmed DNS not yet verified, and senders still waiting for a number."""
    now = _now()
    idle = now - max(2 * lease(rt), timedelta(minutes=2))
    async with transaction(rt.sessionmaker) as session:
        provisioning = await _ids(
            session,
            select(ProvisioningStep.request_id)
            .join(OnboardingRequest, OnboardingRequest.id == ProvisioningStep.request_id)
            .where(
                OnboardingRequest.status == Status.IN_PROGRESS.value,
                or_(
                    (ProvisioningStep.status == StepStatus.RUNNING.value)
                    & (ProvisioningStep.lease_expires_at < now),
                    (ProvisioningStep.status == StepStatus.PENDING.value)
                    & (ProvisioningStep.updated_at < idle),
                ),
            ),
        )
        dns = await _ids(
            session,
            select(OnboardingRequest.id).where(
                OnboardingRequest.status == Status.DNS_SETUP.value,
                OnboardingRequest.dns_confirmed_at.is_not(None),
                # RCS also waits for Google's brand verification, so it is checked until activated.
                or_(
                    OnboardingRequest.dns_verified_at.is_(None),
                    OnboardingRequest.channel == Channel.RCS.value,
                ),
                or_(
                    OnboardingRequest.dns_checked_at.is_(None),
                    OnboardingRequest.dns_checked_at < now - dns_every,
                ),
            ),
        )
        allocations = await _ids(
            session,
            select(OutletSender.organization_id).where(
                OutletSender.status == "allocating", OutletSender.updated_at < idle
            ),
        )
    return SweepResult(provisioning, dns, allocations)


async def _ids(session: AsyncSession, stmt: Any) -> list[uuid.UUID]:
    return list(dict.fromkeys(await session.scalars(stmt.limit(1000))))
