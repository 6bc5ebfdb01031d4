"""Managed channel onboarding: the request lifecycle (one transition table), its admin actions,
activation into a channel account, and what the tenant does (request, confirm DNS, resubmit).

Every state change is a compare-and-set on `version` (UPDATE ... WHERE id = ? AND version = ?): of two
admins acting on the same version one wins and the other gets 409 with the current state, and since
services never commit, a refused action leaves nothing behind. Jobs are enqueued only after commit.
"""

from __future__ import annotations

import ipaddress
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.channels.schemas import ChannelAccountCreate, ConnectionStatus
from switchboard.channels.service import ChannelAccountService
from switchboard.connectors.base import ChannelType
from switchboard.core import audit
from switchboard.core.config import Settings
from switchboard.core.errors import Conflict, NotFound, field_error
from switchboard.core.permissions import Permission, Principal
from switchboard.core.queue import enqueue_on_commit
from switchboard.core.vault import Vault
from switchboard.email.dns_records import normalize_domain
from switchboard.models import (
    AuditLog,
    ChannelAccount,
    OnboardingRequest,
    OnboardingRevision,
    Organization,
    ProvisioningStep,
    Workspace,
)
from switchboard.notifications.service import notifications
from switchboard.onboarding import steps as step_table
from switchboard.onboarding.providers import VERIFIED
from switchboard.onboarding.schemas import (
    CHANNEL_LABELS,
    DNS_CHANNELS,
    NUMBER_CHANNELS,
    AuditRead,
    BusinessInfo,
    Channel,
    DnsRecordRead,
    OnboardingRequestCreate,
    OnboardingRequestDetail,
    OnboardingRequestRead,
    OrganizationRef,
    RevisionRead,
    Status,
    StepRead,
    StepStatus,
)
from switchboard.tenancy.outlets import outlets

OBJECT = "onboarding_request"
ALL_CHANNELS = frozenset(Channel)
NON_DNS_CHANNELS = ALL_CHANNELS - DNS_CHANNELS
OPEN_STATUSES = frozenset({Status.PENDING, Status.IN_PROGRESS, Status.DNS_SETUP, Status.REJECTED})


class Action(StrEnum):
    START = "start"
    PROVISION = "provision"
    RETRY_STEP = "retry_step"
    ISSUE_DNS = "issue_dns"
    ACTIVATE = "activate"
    REJECT = "reject"
    RESUBMIT = "resubmit"
    CONFIRM_DNS = "confirm_dns"
    CHECK_DNS = "check_dns"


ADMIN_ACTIONS = (
    Action.START,
    Action.PROVISION,
    Action.RETRY_STEP,
    Action.ISSUE_DNS,
    Action.CHECK_DNS,
    Action.ACTIVATE,
    Action.REJECT,
)


@dataclass(frozen=True)
class Transition:
    action: Action
    source: Status
    target: Status
    channels: frozenset[Channel] = ALL_CHANNELS


# The lifecycle, in one table: pending -> in_progress -> (dns_setup ->) active; pending, in_progress
# or dns_setup -> rejected; rejected -> pending on resubmit. Actions that keep the status (provision,
# retry, DNS checks) are listed too, so every action is allowed from exactly the states named here.
TRANSITIONS: tuple[Transition, ...] = (
    Transition(Action.START, Status.PENDING, Status.IN_PROGRESS),
    Transition(Action.PROVISION, Status.IN_PROGRESS, Status.IN_PROGRESS),
    Transition(Action.RETRY_STEP, Status.IN_PROGRESS, Status.IN_PROGRESS),
    Transition(Action.ISSUE_DNS, Status.IN_PROGRESS, Status.DNS_SETUP, DNS_CHANNELS),
    Transition(Action.CONFIRM_DNS, Status.DNS_SETUP, Status.DNS_SETUP, DNS_CHANNELS),
    Transition(Action.CHECK_DNS, Status.DNS_SETUP, Status.DNS_SETUP, DNS_CHANNELS),
    Transition(Action.ACTIVATE, Status.IN_PROGRESS, Status.ACTIVE, NON_DNS_CHANNELS),
    Transition(Action.ACTIVATE, Status.DNS_SETUP, Status.ACTIVE, DNS_CHANNELS),
    Transition(Action.REJECT, Status.PENDING, Status.REJECTED),
    Transition(Action.REJECT, Status.IN_PROGRESS, Status.REJECTED),
    Transition(Action.REJECT, Status.DNS_SETUP, Status.REJECTED),
    Transition(Action.RESUBMIT, Status.REJECTED, Status.PENDING),
)


def transition_for(action: Action, status: Status | str, channel: Channel | str) -> Transition | None:
    for t in TRANSITIONS:
        if t.action is action and t.source == status and Channel(channel) in t.channels:
            return t
    return None


def _now() -> datetime:
    return datetime.now(UTC)


def readable_by(principal: Principal) -> Select[OnboardingRequest]:
    """Every read starts here: a tenant sees its own organization's requests, a platform admin all."""
    stmt = select(OnboardingRequest)
    if not principal.is_platform_admin:
        stmt = stmt.where(OnboardingRequest.organization_id == principal.organization_id)
    return stmt


def _state_conflict(code: str, message: str, req: OnboardingRequest) -> Conflict:
    return Conflict(message, code=code, extra={"status": req.status, "version": req.version})


def domain_for(channel: Channel, website: str) -> str | None:
    """Email and RCS verify a domain: the website's host, without a leading www."""
    if channel not in DNS_CHANNELS:
        return None
    host = (urlsplit(website).hostname or "").removeprefix("www.")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        raise field_error("business_info.website", "domain", "Email and RCS need a website on a domain name")
    try:
        return normalize_domain(host)
    except ValueError as exc:
        raise field_error(
            "business_info.website", "domain", f"Email and RCS need a domain name: {exc}"
        ) from exc


async def _steps(session: AsyncSession, request_id: uuid.UUID) -> list[ProvisioningStep]:
    rows = await session.scalars(
        select(ProvisioningStep)
        .where(ProvisioningStep.request_id == request_id)
        .order_by(ProvisioningStep.position)
        .execution_options(populate_existing=True)
    )
    return list(rows)


def _enqueue_provisioning(session: AsyncSession, request_id: uuid.UUID) -> None:
    from switchboard.onboarding.tasks import advance_provisioning

    enqueue_on_commit(session, lambda: advance_provisioning(str(request_id)))


def _enqueue_dns_check(session: AsyncSession, request_id: uuid.UUID) -> None:
    from switchboard.onboarding.tasks import verify_onboarding_dns

    enqueue_on_commit(session, lambda: verify_onboarding_dns(str(request_id)))


class OnboardingService:
    def __init__(self, vault: Vault, settings: Settings) -> None:
        self.vault = vault
        self.settings = settings

    # --- reading ----------------------------------------------------------------------------------

    async def get(
        self, session: AsyncSession, principal: Principal, request_id: uuid.UUID
    ) -> OnboardingRequest:
        principal.require(Permission.CHANNELS_READ)
        req = await session.scalar(
            readable_by(principal)
            .where(OnboardingRequest.id == request_id)
            .execution_options(populate_existing=True)
        )
        if req is None:
            raise NotFound("Onboarding request not found.")
        return req

    async def list_requests(
        self,
        session: AsyncSession,
        principal: Principal,
        *,
        status: Status | None = None,
        channel: Channel | None = None,
        organization_id: uuid.UUID | None = None,
        newest_first: bool = True,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[OnboardingRequest], int]:
        principal.require(Permission.CHANNELS_READ)
        stmt = readable_by(principal)
        org = principal.org_scope(organization_id)
        if org is not None:
            stmt = stmt.where(OnboardingRequest.organization_id == org)
        if status is not None:
            stmt = stmt.where(OnboardingRequest.status == status.value)
        if channel is not None:
            stmt = stmt.where(OnboardingRequest.channel == channel.value)
        total = await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        order = (
            OnboardingRequest.submitted_at.desc() if newest_first else OnboardingRequest.submitted_at.asc()
        )
        rows = await session.scalars(stmt.order_by(order, OnboardingRequest.id).limit(limit).offset(offset))
        return list(rows), total

    async def admin_list(
        self, session: AsyncSession, principal: Principal, **filters: Any
    ) -> tuple[list[OnboardingRequest], int]:
        principal.require(Permission.ONBOARDING_REVIEW)
        return await self.list_requests(session, principal, **filters)

    async def admin_get(
        self, session: AsyncSession, principal: Principal, request_id: uuid.UUID
    ) -> OnboardingRequest:
        principal.require(Permission.ONBOARDING_REVIEW)
        return await self.get(session, principal, request_id)

    async def read(
        self, session: AsyncSession, req: OnboardingRequest, *, revisions: bool = False
    ) -> OnboardingRequestRead:
        org = await session.get(Organization, req.organization_id)
        steps = await _steps(session, req.id)
        data: dict[str, Any] = {
            "id": req.id,
            "organization": OrganizationRef(id=req.organization_id, name=org.name if org else ""),
            "channel": Channel(req.channel),
            "status": Status(req.status),
            "version": req.version,
            "business_info": req.business_info,
            "revision": req.revision,
            "requested_by": req.requested_by,
            "created_at": req.created_at,
            "submitted_at": req.submitted_at,
            "updated_at": req.updated_at,
            "domain": req.domain,
            "rejection_reason": req.rejection_reason,
            "steps": [
                StepRead(
                    name=s.name,
                    label=step_table.label(req.channel, s.name),
                    position=s.position,
                    status=StepStatus(s.status),
                    attempts=s.attempts,
                    last_error=s.last_error,
                    result=s.result or {},
                    started_at=s.started_at,
                    finished_at=s.finished_at,
                )
                for s in steps
            ],
            "dns_records": [DnsRecordRead.model_validate(r) for r in req.dns_records]
            if req.dns_records is not None
            else None,
            "dns_confirmed_at": req.dns_confirmed_at,
            "dns_checked_at": req.dns_checked_at,
            "dns_verified": req.dns_verified_at is not None,
            "verification": req.verification or {},
            "channel_account_id": req.channel_account_id,
            "activated_at": req.activated_at,
            "allowed_actions": [a.value for a in self.allowed_actions(req, steps)],
        }
        if not revisions:
            return OnboardingRequestRead(**data)
        rows = await session.scalars(
            select(OnboardingRevision)
            .where(OnboardingRevision.request_id == req.id)
            .order_by(OnboardingRevision.number.desc())
        )
        data["revisions"] = [
            RevisionRead(
                number=r.number,
                business_info=r.business_info,
                submitted_by=r.submitted_by,
                rejection_reason=r.rejection_reason,
                created_at=r.created_at,
            )
            for r in rows
        ]
        return OnboardingRequestDetail(**data)

    async def audit_trail(self, session: AsyncSession, req: OnboardingRequest) -> list[AuditRead]:
        entries: list[AuditLog] = await audit.history(session, OBJECT, req.id)
        return [AuditRead.model_validate(e) for e in entries]

    # --- the rules --------------------------------------------------------------------------------

    def guard(self, action: Action, req: OnboardingRequest, steps: list[ProvisioningStep]) -> str | None:
        """Why `action` cannot be taken now although the table allows it (None: it can)."""
        done = bool(steps) and all(s.status == StepStatus.SUCCEEDED for s in steps)
        failed = [s for s in steps if s.status == StepStatus.FAILED]
        if action is Action.PROVISION:
            if done:
                return "Provisioning is complete."
            if failed:
                return f"Step {failed[0].name} failed: retry it."
        if action is Action.RETRY_STEP and not failed:
            return "No step has failed."
        if action is Action.ISSUE_DNS and not done:
            return "Provisioning has not finished: the DNS records are not generated yet."
        if action is Action.ACTIVATE:
            if not done:
                return "Provisioning has not finished."
            if Channel(req.channel) in DNS_CHANNELS and req.dns_verified_at is None:
                return "The DNS records are not verified yet."
            if req.channel == Channel.RCS and (req.verification or {}).get("brand_verification") != VERIFIED:
                return "Google has not verified the brand yet."
        return None

    def allowed_actions(self, req: OnboardingRequest, steps: list[ProvisioningStep]) -> list[Action]:
        return [
            a
            for a in ADMIN_ACTIONS
            if transition_for(a, req.status, req.channel) is not None and self.guard(a, req, steps) is None
        ]

    async def _apply(
        self,
        session: AsyncSession,
        principal: Principal | None,
        req: OnboardingRequest,
        action: Action,
        seen_version: int | None,
        *,
        values: dict[str, Any] | None = None,
        reason: str | None = None,
        check_guard: bool = True,
        audit_after: dict[str, Any] | None = None,
    ) -> Transition:
        """Check the table, the version and the guard, then compare-and-set; raises 409 otherwise."""
        if seen_version is not None and seen_version != req.version:
            raise _state_conflict(
                "stale_version",
                f"This request changed since you loaded it: it is now version {req.version} ({req.status}).",
                req,
            )
        transition = transition_for(action, req.status, req.channel)
        if transition is None:
            raise _state_conflict(
                "illegal_transition",
                f"Cannot {action.value.replace('_', ' ')} a {req.channel} request that is {req.status}.",
                req,
            )
        if check_guard:
            problem = self.guard(action, req, await _steps(session, req.id))
            if problem:
                raise _state_conflict("precondition_failed", problem, req)
        before = {"status": req.status, "version": req.version}
        result = await session.execute(
            update(OnboardingRequest)
            .where(OnboardingRequest.id == req.id, OnboardingRequest.version == req.version)
            .values(
                status=transition.target.value, version=req.version + 1, updated_at=_now(), **(values or {})
            )
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            # Another admin's change landed between our read and our write: theirs wins.
            current = await self._reload(session, req.id)
            raise _state_conflict(
                "stale_version",
                f"Someone else changed this request first: it is now version {current.version} "
                f"({current.status}).",
                current,
            )
        await self._reload(session, req.id)
        await audit.record(
            session,
            principal,
            f"{OBJECT}.{action.value}",
            OBJECT,
            req.id,
            organization_id=req.organization_id,
            before=before,
            after={"status": req.status, "version": req.version, **(audit_after or {})},
            reason=reason,
        )
        return transition

    async def _reload(self, session: AsyncSession, request_id: uuid.UUID) -> OnboardingRequest:
        req = await session.scalar(
            select(OnboardingRequest)
            .where(OnboardingRequest.id == request_id)
            .execution_options(populate_existing=True)
        )
        if req is None:
            raise NotFound("Onboarding request not found.")
        return req

    # --- tenant -----------------------------------------------------------------------------------

    async def create(
        self, session: AsyncSession, principal: Principal, data: OnboardingRequestCreate
    ) -> OnboardingRequest:
        principal.require(Permission.CHANNELS_CONNECT)
        org_id = principal.owning_org(data.organization_id)
        if await session.get(Organization, org_id) is None:
            raise NotFound("Organization not found.")
        open_id = await session.scalar(
            select(OnboardingRequest.id).where(
                OnboardingRequest.organization_id == org_id,
                OnboardingRequest.channel == data.channel.value,
                OnboardingRequest.status.in_([s.value for s in OPEN_STATUSES]),
            )
        )
        if open_id is not None:
            raise Conflict(
                f"A managed {CHANNEL_LABELS[data.channel]} request is already open; "
                "follow it up or resubmit it.",
                code="request_open",
                extra={"request_id": str(open_id)},
            )
        info = data.business_info.model_dump(mode="json")
        now = _now()
        req = OnboardingRequest(
            id=uuid.uuid4(),
            organization_id=org_id,
            channel=data.channel.value,
            status=Status.PENDING.value,
            version=1,
            business_info=info,
            revision=1,
            requested_by=principal.email,
            submitted_at=now,
            domain=domain_for(data.channel, info["website"]),
            verification={},
        )
        session.add(req)
        await session.flush()
        session.add(
            OnboardingRevision(
                id=uuid.uuid4(),
                organization_id=org_id,
                request_id=req.id,
                number=1,
                business_info=info,
                submitted_by=principal.email,
            )
        )
        await audit.record(
            session,
            principal,
            f"{OBJECT}.created",
            OBJECT,
            req.id,
            organization_id=org_id,
            after={"status": req.status, "version": 1, "channel": req.channel, "business_info": info},
        )
        await session.flush()
        return req

    async def resubmit(
        self,
        session: AsyncSession,
        principal: Principal,
        request_id: uuid.UUID,
        business_info: BusinessInfo,
        seen_version: int | None,
    ) -> OnboardingRequest:
        principal.require(Permission.CHANNELS_CONNECT)
        req = await self.get(session, principal, request_id)
        info = business_info.model_dump(mode="json")
        domain = domain_for(Channel(req.channel), info["website"])
        revision = req.revision + 1
        await self._apply(
            session,
            principal,
            req,
            Action.RESUBMIT,
            seen_version,
            values={
                "business_info": info,
                "revision": revision,
                "submitted_at": _now(),
                "domain": domain,
                "rejection_reason": None,
                "dns_records": None,
                "dns_confirmed_at": None,
                "dns_checked_at": None,
                "dns_verified_at": None,
                "verification": {},
            },
            audit_after={"revision": revision, "business_info": info},
        )
        # The new business info may change what gets provisioned: start the steps afresh.
        await session.execute(delete(ProvisioningStep).where(ProvisioningStep.request_id == req.id))
        session.add(
            OnboardingRevision(
                id=uuid.uuid4(),
                organization_id=req.organization_id,
                request_id=req.id,
                number=revision,
                business_info=info,
                submitted_by=principal.email,
            )
        )
        await session.flush()
        return req

    async def confirm_dns(
        self, session: AsyncSession, principal: Principal, request_id: uuid.UUID
    ) -> OnboardingRequest:
        """The tenant says the records are published: check them now (a job)."""
        principal.require(Permission.CHANNELS_CONNECT)
        req = await self.get(session, principal, request_id)
        if transition_for(Action.CONFIRM_DNS, req.status, req.channel) is None:
            raise _state_conflict(
                "illegal_transition",
                f"DNS records can be confirmed only in dns_setup; this request is {req.status}.",
                req,
            )
        req.dns_confirmed_at = _now()
        await session.flush()
        await audit.record(
            session, principal, f"{OBJECT}.dns_confirmed", OBJECT, req.id, organization_id=req.organization_id
        )
        _enqueue_dns_check(session, req.id)
        return req

    # --- admin ------------------------------------------------------------------------------------

    async def start(
        self, session: AsyncSession, principal: Principal, request_id: uuid.UUID, version: int | None
    ) -> OnboardingRequest:
        req = await self._admin_target(session, principal, request_id, version)
        await self._apply(session, principal, req, Action.START, version)
        return req

    async def provision(
        self, session: AsyncSession, principal: Principal, request_id: uuid.UUID, version: int | None
    ) -> OnboardingRequest:
        """Create the channel's steps (once) and have a job run them in order."""
        req = await self._admin_target(session, principal, request_id, version)
        await self._apply(session, principal, req, Action.PROVISION, version)
        existing = {s.name for s in await _steps(session, req.id)}
        for position, spec in enumerate(step_table.STEPS[Channel(req.channel)]):
            if spec.name not in existing:
                session.add(
                    ProvisioningStep(
                        id=uuid.uuid4(),
                        organization_id=req.organization_id,
                        request_id=req.id,
                        position=position,
                        name=spec.name,
                        status=StepStatus.PENDING.value,
                        result={},
                    )
                )
        await session.flush()
        _enqueue_provisioning(session, req.id)
        return req

    async def retry_step(
        self,
        session: AsyncSession,
        principal: Principal,
        request_id: uuid.UUID,
        step_name: str,
        version: int | None,
    ) -> OnboardingRequest:
        req = await self._admin_target(session, principal, request_id, version)
        step = next((s for s in await _steps(session, req.id) if s.name == step_name), None)
        if step is None:
            raise NotFound("Step not found.")
        if step.status != StepStatus.FAILED:
            raise _state_conflict(
                "precondition_failed", f"Step {step_name} is {step.status}, not failed.", req
            )
        await self._apply(
            session, principal, req, Action.RETRY_STEP, version, audit_after={"step": step_name}
        )
        step.status = StepStatus.PENDING.value
        step.claim_token = None
        step.lease_expires_at = None
        await session.flush()
        _enqueue_provisioning(session, req.id)
        return req

    async def issue_dns(
        self, session: AsyncSession, principal: Principal, request_id: uuid.UUID, version: int | None
    ) -> OnboardingRequest:
        """Publish the generated records to the tenant's wizard and wait for them (dns_setup)."""
        req = await self._admin_target(session, principal, request_id, version)
        steps = await _steps(session, req.id)
        records: list[dict[str, Any]] = []
        for s in steps:
            records += [dict(r, verified=False, reason=None) for r in (s.result or {}).get("records", [])]
        await self._apply(session, principal, req, Action.ISSUE_DNS, version, values={"dns_records": records})
        return req

    async def check_dns(
        self, session: AsyncSession, principal: Principal, request_id: uuid.UUID
    ) -> OnboardingRequest:
        req = await self.admin_get(session, principal, request_id)
        if transition_for(Action.CHECK_DNS, req.status, req.channel) is None:
            raise _state_conflict(
                "illegal_transition", f"Nothing to check: this request is {req.status}.", req
            )
        _enqueue_dns_check(session, req.id)
        return req

    async def reject(
        self,
        session: AsyncSession,
        principal: Principal,
        request_id: uuid.UUID,
        version: int | None,
        reason: str,
    ) -> OnboardingRequest:
        req = await self._admin_target(session, principal, request_id, version)
        await self._apply(
            session,
            principal,
            req,
            Action.REJECT,
            version,
            values={"rejection_reason": reason},
            reason=reason,
        )
        await session.execute(
            update(OnboardingRevision)
            .where(OnboardingRevision.request_id == req.id, OnboardingRevision.number == req.revision)
            .values(rejection_reason=reason)
            .execution_options(synchronize_session=False)
        )
        label = CHANNEL_LABELS[Channel(req.channel)]
        company = req.business_info.get("company_name", "")
        base = self.settings.public_base_url.rstrip("/")
        await notifications.notify_org_admins(
            session,
            req.organization_id,
            "onboarding.rejected",
            f"Your managed {label} request was not approved",
            f"Hello,\n\nThe managed {label} channel requested for {company} was not approved.\n\n"
            f"Reason: {reason}\n\nYou can update the business information and resubmit the request:\n"
            f"{base}/settings/channels/managed/{req.id}\n\n-- Switchboard\n",
            object_type=OBJECT,
            object_id=req.id,
        )
        return req

    async def activate(
        self, session: AsyncSession, principal: Principal, request_id: uuid.UUID, version: int | None
    ) -> OnboardingRequest:
        """Create the tenant's channel account (active, connected), hand out outlet senders, tell the
        tenant's admins. The account is created as the acting platform admin, so BYOM gating (which
        concerns the tenant's own credentials) does not apply."""
        req = await self._admin_target(session, principal, request_id, version)
        steps = await _steps(session, req.id)
        await self._apply(session, principal, req, Action.ACTIVATE, version, values={"activated_at": _now()})
        results = {s.name: s.result or {} for s in steps}
        account = await self._create_account(session, principal, req, results)
        req.channel_account_id = account.id
        await session.flush()
        channel = Channel(req.channel)
        if channel in NUMBER_CHANNELS:
            number = results.get("allocate_number", {})
            await outlets.assign_included_senders(
                session,
                req.organization_id,
                channel.value,
                account.id,
                number.get("phone_number"),
                number.get("number_ref"),
            )
        label = CHANNEL_LABELS[channel]
        company = req.business_info.get("company_name", "")
        base = self.settings.public_base_url.rstrip("/")
        await notifications.notify_org_admins(
            session,
            req.organization_id,
            "onboarding.activated",
            f"Your managed {label} channel is active",
            f"Hello,\n\nThe managed {label} channel requested for {company} is now active in your "
            f'workspace as "{account.name}".\n\nSee it in Settings > Channels:\n{base}/settings/channels\n\n'
            "-- Switchboard\n",
            object_type=OBJECT,
            object_id=req.id,
        )
        return req

    async def _admin_target(
        self, session: AsyncSession, principal: Principal, request_id: uuid.UUID, version: int | None
    ) -> OnboardingRequest:
        if version is None:
            raise field_error(
                "version", "missing", "Send the version you acted on (in the body or as If-Match)."
            )
        return await self.admin_get(session, principal, request_id)

    async def _create_account(
        self,
        session: AsyncSession,
        principal: Principal,
        req: OnboardingRequest,
        results: dict[str, dict[str, Any]],
    ) -> ChannelAccount:
        info = req.business_info
        company = str(info.get("company_name", ""))
        channel = Channel(req.channel)
        settings: dict[str, Any]
        credentials: dict[str, str] = {}
        if channel is Channel.WHATSAPP:
            kind = ChannelType.WHATSAPP_CLOUD
            settings = {
                "waba_id": results["add_to_waba"]["waba_id"],
                "phone_number_id": results["add_to_waba"]["phone_number_id"],
                "display_phone_number": results["allocate_number"]["phone_number"],
            }
        elif channel is Channel.SMS:
            kind = ChannelType.SMS
            headers = results["configure_sender_ids"].get("sender_ids") or [{}]
            settings = {
                "phone_number": results["allocate_number"]["phone_number"],
                "sender_id": headers[0].get("header"),
                "provider": "managed",
            }
        elif channel is Channel.EMAIL:
            kind = ChannelType.EMAIL
            region = results["provision_domain"].get("region") or self.settings.ses_region
            settings = {
                "email_address": f"notifications@{req.domain}",
                "display_name": company[:100],
                "smtp_host": f"email-smtp.{region}.amazonaws.com",
                "smtp_port": 587,
                "smtp_security": "starttls",
            }
        elif channel is Channel.RCS:
            kind = ChannelType.RCS
            settings = {"brand_name": company[:100], "agent_id": results["register_brand"]["agent"][:100]}
        else:
            kind = ChannelType.WEB_PUSH
            pem = await self.vault.get(session, step_table.SECRET_OWNER, req.id, step_table.VAPID_PRIVATE_KEY)
            if pem is None:
                raise _state_conflict(
                    "precondition_failed", "The VAPID key pair is missing: provision again.", req
                )
            settings = {
                "site_url": info["website"],
                "vapid_subject": f"mailto:{req.requested_by}" if "@" in req.requested_by else info["website"],
                "vapid_public_key": results["generate_vapid_keys"]["application_server_key"],
            }
            credentials = {"vapid_private_key": pem}
        workspace_id = await session.scalar(
            select(Workspace.id)
            .where(Workspace.organization_id == req.organization_id)
            .order_by(Workspace.created_at, Workspace.id)
            .limit(1)
        )
        name = f"{company} {CHANNEL_LABELS[channel]} (managed)"
        account = await ChannelAccountService(self.vault).create(
            session,
            principal,
            ChannelAccountCreate(
                organization_id=req.organization_id,
                name=name[:100].strip() or "Managed channel",
                type=kind,
                settings={k: v for k, v in settings.items() if v is not None},
                credentials=credentials,
                is_active=True,
                workspace_id=workspace_id,
            ),
            managed=True,
        )
        account.connection_status = ConnectionStatus.CONNECTED.value
        account.status_reason = "Provisioned and verified by the platform (managed)."
        account.last_checked_at = _now()
        if credentials:
            # The key now lives with the channel account; one copy is enough.
            await self.vault.remove(session, step_table.SECRET_OWNER, req.id, step_table.VAPID_PRIVATE_KEY)
        await session.flush()
        return account
