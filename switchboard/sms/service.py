"""SMS connections: numbers, the connect flow, destinations, 10DLC compliance and registration,
degraded states, and test sends with delivery tracking.

An SMS connection is a channel account of type SMS (created through ChannelAccountService, so it
shows in /rest/v1/channel_accounts with that service's rules) plus an `sms_connections` row for
what is SMS-specific. The compliance payload lives in the vault as one JSON secret and leaves it
only through the compliance resource, for callers holding `sms.manage`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

import phonenumbers
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard import analytics
from switchboard.channels.schemas import ChannelAccountCreate, ChannelAccountUpdate, ConnectionStatus
from switchboard.channels.service import ChannelAccountService
from switchboard.connectors import get_descriptor
from switchboard.connectors.adapter import ErrorKind, ProviderError
from switchboard.connectors.base import ChannelType
from switchboard.core import audit
from switchboard.core.config import Settings
from switchboard.core.errors import (
    AppError,
    Conflict,
    NotFound,
    ProviderFailed,
    ProviderUnavailable,
    TooManyRequests,
    Unprocessable,
    field_error,
)
from switchboard.core.permissions import Permission, Principal
from switchboard.core.security import constant_time_equals
from switchboard.core.vault import Vault
from switchboard.destinations.service import destinations
from switchboard.models import (
    Agent,
    ChannelAccount,
    KnowledgeBase,
    Organization,
    ShortLink,
    SmsConnection,
    SmsMessage,
    SmsVerification,
    VaultSecret,
    Workspace,
)
from switchboard.sms import links, registration
from switchboard.sms.compliance import PrecheckIssue, SmsCompliance, precheck, ready_to_submit
from switchboard.sms.provider import (
    BRAND_APPROVED,
    BRAND_FAILED,
    CAMPAIGN_APPROVED,
    CAMPAIGN_FAILED,
    HOSTED_DONE,
    HOSTED_FAILED,
    NOT_AVAILABLE,
    NumberProvider,
    RegistrationState,
)
from switchboard.sms.registration import RegistrationStatus
from switchboard.sms.schemas import (
    AvailableNumberRead,
    CapabilitiesRead,
    ComplianceRead,
    ComplianceStatusRead,
    ComplianceSummary,
    ConnectionRead,
    ConnectionUpdate,
    ConnectRequest,
    MessageCreate,
    NumbersRead,
    OwnedNumberRead,
    PrecheckIssueRead,
    Price,
    Ref,
    RegistrationRead,
    SegmentsRead,
    SortKey,
    VerifyRead,
    VerifyRequest,
)
from switchboard.sms.segments import MAX_CHARACTERS, SegmentInfo, analyze

log = logging.getLogger("switchboard.sms")

OWNER: Final = "sms_connection"
COMPLIANCE_FIELD: Final = "compliance"
ACCOUNT_OWNER: Final = "channel_account"

CODE_TTL: Final = timedelta(minutes=10)
MAX_CODE_ATTEMPTS: Final = 5
CODES_PER_WINDOW: Final = 3
CODE_WINDOW: Final = timedelta(minutes=10)

RECLAIMED: Final = "Number reclaimed by provider"
KB_UNRESOLVED: Final = "Knowledge base cannot be resolved"
NO_AGENT: Final = "Knowledge base cannot be resolved: no agent is assigned"
HOSTED_PENDING: Final = "Hosted number order pending: the number's current carrier must release it."
# Twilio errors for numbers that need a registered address (21631) or a regulatory bundle (21649).
ADDRESS_CODES: Final = frozenset({"21631", "21649", "21615"})
# Message statuses by progress: a late or replayed callback never moves a message backwards.
_STATUS_RANK: Final = {
    "accepted": 0, "scheduled": 0, "queued": 0, "sending": 1, "sent": 2,
    "delivered": 3, "undelivered": 3, "failed": 3, "canceled": 3, "read": 4,
}  # fmt: skip
NANP_AREA_COUNTRIES: Final = frozenset({"US", "CA"})
REGISTRATION_COUNTRIES: Final = frozenset({"US", "CA"})


class CodeRejected(Unprocessable):
    """A wrong or stale one-time code. The endpoint commits before answering so the attempt counts."""


def connections_readable_by(principal: Principal) -> Select[SmsConnection]:
    stmt = select(SmsConnection)
    if not principal.is_platform_admin:
        stmt = stmt.where(SmsConnection.organization_id == principal.organization_id)
    return stmt


def segment_read(info: SegmentInfo, characters: int) -> SegmentsRead:
    return SegmentsRead(
        encoding=info.encoding,
        characters=characters,
        units=info.units,
        segments=info.segments,
        per_segment=info.per_segment,
        remaining_in_segment=info.remaining_in_segment,
        ucs2_characters=list(info.ucs2_characters),
        too_long=info.too_long,
        max_characters=MAX_CHARACTERS,
    )


def _hash_code(verification_id: uuid.UUID, code: str) -> str:
    # Salted by the row id: equal codes never share a hash; the code itself dies in 10 minutes.
    return hashlib.sha256(f"{verification_id}:{code}".encode()).hexdigest()


def _country_of(phone_number: str) -> str:
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(phone_number, None))
    except phonenumbers.NumberParseException:
        region = None
    return region or "ZZ"


def _provider_error(exc: ProviderError, what: str) -> AppError:
    """A provider failure as the API shows it: never the provider's own text (it can echo input)."""
    if exc.kind is ErrorKind.TRANSIENT:
        return ProviderUnavailable(
            f"The number provider is unavailable right now; try again in a minute ({what})."
        )
    if exc.kind is ErrorKind.NEEDS_ACTION:
        return ProviderFailed(
            f"The platform's number provider refused our credentials ({what}); contact the platform team.",
            code="provisioning_failed",
        )
    return ProviderFailed(
        f"The number provider refused the request ({what}, error {exc.code}).", code="provisioning_failed"
    )


def _flatten(compliance: SmsCompliance) -> dict[str, Any]:
    data = compliance.model_dump(mode="json", by_alias=True)
    flat: dict[str, Any] = {}
    for section in ("brand", "campaign"):
        for key, value in (data.get(section) or {}).items():
            flat[f"{section}.{key}"] = value
    return flat


def _section_complete(issues: Iterable[PrecheckIssue], section: str) -> bool:
    return not any(i.severity == "error" and i.field.startswith(section + ".") for i in issues)


@dataclass
class Related:
    """What the connection rows of one read point at, loaded in bulk."""

    accounts: dict[uuid.UUID, ChannelAccount]
    workspaces: dict[uuid.UUID, Workspace]
    agents: dict[uuid.UUID, Agent]
    knowledge_bases: dict[uuid.UUID, KnowledgeBase]


class SmsService:
    def __init__(
        self,
        vault: Vault,
        provider: NumberProvider,
        channel_accounts: ChannelAccountService,
        settings: Settings,
    ) -> None:
        self.vault = vault
        self.provider = provider
        self.channel_accounts = channel_accounts
        self.settings = settings

    @property
    def sandbox(self) -> bool:
        return self.provider.name == "sandbox"

    def public_url(self, path: str) -> str:
        return self.settings.public_base_url.rstrip("/") + path

    # ------------------------------------------------------------------------------ numbers

    async def numbers(
        self,
        session: AsyncSession,
        principal: Principal,
        *,
        country: str,
        area_code: str | None,
        contains: str | None,
        organization_id: uuid.UUID | None = None,
    ) -> NumbersRead:
        """Numbers the tenant can acquire (filtered), and the numbers it already has."""
        principal.require(Permission.CHANNELS_READ)
        country = country.strip().upper()
        if country not in phonenumbers.SUPPORTED_REGIONS:
            raise field_error("country", "country_code", "Use a two-letter ISO 3166-1 country code, e.g. US.")
        if area_code:
            pattern_ok = area_code.isdigit() and (
                len(area_code) == 3 and area_code[0] in "23456789"
                if country in NANP_AREA_COUNTRIES
                else 1 <= len(area_code) <= 5
            )
            if not pattern_ok:
                raise field_error(
                    "area_code",
                    "area_code",
                    "An area code in the US and Canada is 3 digits not starting with 0 or 1, e.g. 415."
                    if country in NANP_AREA_COUNTRIES
                    else "An area code is 1 to 5 digits.",
                )
        if contains and not (2 <= len(contains) <= 16 and all(c.isalnum() or c == "*" for c in contains)):
            raise field_error(
                "contains", "pattern", "Search for 2 to 16 digits or letters; * matches any one digit."
            )
        try:
            found = await self.provider.search_available(country, area_code or None, contains or None)
            price = await self.provider.monthly_price(country) if found else None
        except ProviderError as exc:
            raise _provider_error(exc, "number search") from exc
        taken = set(
            await session.scalars(
                select(SmsConnection.phone_number).where(
                    SmsConnection.phone_number.in_([n.phone_number for n in found])
                )
            )
        )
        available = [
            AvailableNumberRead(
                phone_number=n.phone_number,
                country=n.country,
                region=n.region,
                locality=n.locality,
                capabilities=CapabilitiesRead(
                    sms=n.capabilities.sms, mms=n.capabilities.mms, voice=n.capabilities.voice
                ),
                monthly_price=Price(amount=price.amount, currency=price.currency) if price else None,
                address_required=n.address_required,
            )
            for n in found
            if n.phone_number not in taken and n.capabilities.sms
        ]
        views = await self.list_connections(session, principal, organization_id=organization_id)
        owned = [
            OwnedNumberRead(
                phone_number=v.phone_number,
                connection_id=v.id,
                channel_account_id=v.channel_account_id,
                mode=v.mode,
                status=v.status,
            )
            for v in views
        ]
        return NumbersRead(country=country, available=available, owned=owned, sandbox=self.sandbox)

    # ------------------------------------------------------------------------------ connect

    async def _organization(
        self, session: AsyncSession, principal: Principal, requested: uuid.UUID | None
    ) -> Organization:
        org_id = principal.owning_org(requested)
        org = await session.get(Organization, org_id)
        if org is None:
            raise NotFound("Organization not found.")
        return org

    async def _ensure_byom(self, session: AsyncSession, principal: Principal, org_id: uuid.UUID) -> None:
        """Your own number is bring-your-own messaging: the organization's byom_allowed.sms gate."""
        from switchboard.tenancy.byom import ensure_connect_allowed

        await ensure_connect_allowed(session, principal, org_id, get_descriptor(ChannelType.SMS))

    async def _ensure_free(self, session: AsyncSession, phone_number: str) -> None:
        if await session.scalar(select(SmsConnection.id).where(SmsConnection.phone_number == phone_number)):
            raise Conflict("This number is already connected on this platform.", code="number_taken")

    async def send_verification(
        self, session: AsyncSession, principal: Principal, data: VerifyRequest
    ) -> VerifyRead:
        """Use my number, step 1: text a one-time code to the number."""
        principal.require(Permission.CHANNELS_CONNECT)
        principal.require(Permission.SMS_MANAGE)
        org = await self._organization(session, principal, data.organization_id)
        await self._ensure_byom(session, principal, org.id)
        await self._ensure_free(session, data.phone_number)
        now = datetime.now(UTC)
        recent = await session.scalar(
            select(func.count())
            .select_from(SmsVerification)
            .where(
                SmsVerification.organization_id == org.id,
                SmsVerification.phone_number == data.phone_number,
                SmsVerification.created_at > now - CODE_WINDOW,
            )
        )
        if (recent or 0) >= CODES_PER_WINDOW:
            raise TooManyRequests(
                "Too many codes sent to this number; wait ten minutes before asking for another.",
                code="too_many_codes",
            )
        # Earlier codes stop working: only the newest one counts.
        for old in await session.scalars(
            select(SmsVerification).where(
                SmsVerification.organization_id == org.id,
                SmsVerification.phone_number == data.phone_number,
                SmsVerification.consumed_at.is_(None),
            )
        ):
            old.consumed_at = now
        code = f"{secrets.randbelow(10**6):06d}"
        row = SmsVerification(
            id=uuid.uuid4(), organization_id=org.id, phone_number=data.phone_number, expires_at=now + CODE_TTL
        )
        row.code_hash = _hash_code(row.id, code)
        session.add(row)
        sender = self.settings.sms_verification_from
        try:
            await self.provider.send_sms(
                data.phone_number,
                f"Your Switchboard verification code is {code}. It expires in 10 minutes.",
                from_=sender if sender.startswith("+") else None,
                messaging_service_sid=sender if sender.startswith("MG") else None,
            )
        except ProviderError as exc:
            raise _provider_error(exc, "sending the code") from exc
        await session.flush()
        await audit.record(
            session, principal, "sms_verification.sent", "sms_verification", row.id,
            organization_id=org.id, after={"phone_number": data.phone_number},
        )  # fmt: skip
        return VerifyRead(phone_number=data.phone_number, expires_at=row.expires_at, sandbox=self.sandbox)

    async def _check_code(
        self, session: AsyncSession, org_id: uuid.UUID, phone_number: str, code: str
    ) -> None:
        row = await session.scalar(
            select(SmsVerification)
            .where(
                SmsVerification.organization_id == org_id,
                SmsVerification.phone_number == phone_number,
                SmsVerification.consumed_at.is_(None),
            )
            .order_by(SmsVerification.created_at.desc())
            .limit(1)
        )
        if row is None:
            raise field_error(
                "verification_code", "no_code", "Send a verification code to this number first."
            )
        if row.expires_at <= datetime.now(UTC):
            raise field_error("verification_code", "code_expired", "This code has expired; send a new one.")
        if row.attempts >= MAX_CODE_ATTEMPTS:
            raise field_error(
                "verification_code", "too_many_attempts", "Too many wrong codes; send a new one."
            )
        if not constant_time_equals(row.code_hash, _hash_code(row.id, code)):
            row.attempts += 1
            await session.flush()
            left = MAX_CODE_ATTEMPTS - row.attempts
            message = f"That code is not right; {left} attempt{'s' if left != 1 else ''} left."
            raise CodeRejected(
                message,
                details=[{"field": "verification_code", "rule": "code_invalid", "message": message}],
            )
        row.consumed_at = datetime.now(UTC)

    async def connect(
        self, session: AsyncSession, principal: Principal, data: ConnectRequest
    ) -> SmsConnection:
        """Create the SMS channel account and its connection (the wizard's last step)."""
        principal.require(Permission.CHANNELS_CONNECT)
        principal.require(Permission.SMS_MANAGE)
        org = await self._organization(session, principal, data.organization_id)
        ws = await destinations.workspace(session, principal, data.workspace_id)
        if ws.organization_id != org.id:
            raise NotFound("Workspace not found.")
        agent = await destinations.get_agent(session, principal, data.agent_id)
        if agent.organization_id != org.id:
            raise NotFound("Agent not found.")
        if agent.workspace_id != ws.id:
            raise field_error("agent_id", "workspace_mismatch", "The agent belongs to another workspace.")
        await self._ensure_free(session, data.phone_number)
        country = _country_of(data.phone_number)
        name = data.name or f"SMS {data.phone_number}"
        if data.mode == "new":
            for field in ("verification_code", "hosted_order", "provider", "api_key"):
                if getattr(data, field) is not None:
                    raise field_error(
                        field, "not_allowed", f"{field} is only for mode byon (your own number)."
                    )
            return await self._connect_new(session, principal, org, ws, agent, data, country, name)
        await self._ensure_byom(session, principal, org.id)
        if (data.verification_code is None) == (data.hosted_order is None):
            raise field_error(
                "verification_code",
                "required",
                "Prove the number is yours: give the code we texted to it, or ask for a hosted number order.",
            )
        number_sid = order_sid = None
        if data.verification_code is not None:
            await self._check_code(session, org.id, data.phone_number, data.verification_code)
            method, number_status = "code", "active"
        else:
            assert data.hosted_order is not None
            try:
                order = await self.provider.create_hosted_order(
                    data.phone_number, str(data.hosted_order.email), name
                )
            except ProviderError as exc:
                raise _provider_error(exc, "hosted number order") from exc
            order_sid, method, number_status = order.sid, "hosted_order", "pending"
        provider = data.provider or (
            "twilio" if method == "hosted_order" and not self.sandbox else self.provider.name
        )
        return await self._create(
            session, principal, org, ws, agent, data, country, name, provider=provider, method=method,
            number_sid=number_sid, order_sid=order_sid, number_status=number_status,
        )  # fmt: skip

    async def _connect_new(
        self,
        session: AsyncSession,
        principal: Principal,
        org: Organization,
        ws: Workspace,
        agent: Agent,
        data: ConnectRequest,
        country: str,
        name: str,
    ) -> SmsConnection:
        try:
            owned = await self.provider.buy_number(data.phone_number, f"Switchboard {org.name}"[:64])
        except ProviderError as exc:
            if exc.code == NOT_AVAILABLE:
                raise field_error(
                    "phone_number", "not_available", "This number is no longer available; pick another one."
                ) from exc
            if exc.code in ADDRESS_CODES:
                raise field_error(
                    "phone_number",
                    "address_required",
                    "Compliance restriction: this country sells the number only with a registered local "
                    "address. Pick a number that does not need one.",
                ) from exc
            raise _provider_error(exc, "buying the number") from exc
        try:
            return await self._create(
                session, principal, org, ws, agent, data, country, name, provider=self.provider.name,
                method=None, number_sid=owned.sid, order_sid=None, number_status="active",
            )  # fmt: skip
        except BaseException:
            # Nothing was recorded, so nothing would ever release it: give it back now.
            try:
                await self.provider.release_number(owned.sid)
            except ProviderError:
                log.warning(
                    "could not release a number bought for a failed connect", extra={"number_sid": owned.sid}
                )
            raise

    async def _create(
        self,
        session: AsyncSession,
        principal: Principal,
        org: Organization,
        ws: Workspace,
        agent: Agent,
        data: ConnectRequest,
        country: str,
        name: str,
        *,
        provider: str,
        method: str | None,
        number_sid: str | None,
        order_sid: str | None,
        number_status: str,
    ) -> SmsConnection:
        settings: dict[str, Any] = {"phone_number": data.phone_number, "provider": provider}
        if data.sender_id:
            settings["sender_id"] = data.sender_id
        credentials = {"api_key": data.api_key.get_secret_value()} if data.api_key else {}
        account = await self.channel_accounts.create(
            session,
            principal,
            ChannelAccountCreate(
                organization_id=org.id,
                name=name,
                type=ChannelType.SMS,
                settings=settings,
                credentials=credentials,
                is_active=data.is_active,
                workspace_id=ws.id,
            ),
            # A number bought through the platform is a managed channel, not bring-your-own: the
            # byom_allowed.sms gate applies to `byon` only (checked before any code is sent, too).
            managed=data.mode == "new",
        )
        now = datetime.now(UTC)
        if number_status == "pending":
            account.connection_status, account.status_reason = ConnectionStatus.PENDING.value, HOSTED_PENDING
        else:
            account.connection_status, account.status_reason = ConnectionStatus.CONNECTED.value, None
        account.last_checked_at = now
        conn = SmsConnection(
            id=uuid.uuid4(),
            organization_id=org.id,
            channel_account_id=account.id,
            phone_number=data.phone_number,
            country=country,
            workspace_id=ws.id,
            agent_id=agent.id,
            mode=data.mode,
            byon_method=method,
            provider=provider,
            number_sid=number_sid,
            hosted_order_sid=order_sid,
            number_status=number_status,
            registration_status=RegistrationStatus.DRAFT.value,
        )
        session.add(conn)
        await session.flush()
        if data.compliance is not None:
            await self._store_compliance(session, conn, data.compliance)
        await audit.record(
            session, principal, "sms_connection.created", OWNER, conn.id, organization_id=org.id,
            after={
                "phone_number": conn.phone_number, "mode": conn.mode, "byon_method": method,
                "workspace_id": str(ws.id), "agent_id": str(agent.id),
                "compliance_saved": data.compliance is not None,
            },
        )  # fmt: skip
        if number_status == "active":
            await self._emit_connected(session, conn)
        return conn

    async def _emit_connected(self, session: AsyncSession, conn: SmsConnection) -> None:
        await analytics.emit(
            session, "channel.connected", conn.organization_id,
            channel_account_id=conn.channel_account_id, connection_id=conn.id,
            workspace_id=conn.workspace_id, agent_id=conn.agent_id, type=ChannelType.SMS,
        )  # fmt: skip

    # ------------------------------------------------------------------------------ reads

    async def get(
        self, session: AsyncSession, principal: Principal, connection_id: uuid.UUID
    ) -> SmsConnection:
        principal.require(Permission.CHANNELS_READ)
        conn = await session.scalar(
            connections_readable_by(principal).where(SmsConnection.id == connection_id)
        )
        if conn is None:
            raise NotFound("SMS connection not found.")
        return conn

    async def _related(self, session: AsyncSession, conns: list[SmsConnection]) -> Related:
        async def by_id(model: Any, ids: set[uuid.UUID]) -> dict[uuid.UUID, Any]:
            if not ids:
                return {}
            return {r.id: r for r in await session.scalars(select(model).where(model.id.in_(ids)))}

        accounts = await by_id(ChannelAccount, {c.channel_account_id for c in conns})
        workspaces = await by_id(Workspace, {c.workspace_id for c in conns if c.workspace_id})
        agents = await by_id(Agent, {c.agent_id for c in conns if c.agent_id})
        kbs = await by_id(
            KnowledgeBase, {a.knowledge_base_id for a in agents.values() if a.knowledge_base_id}
        )
        return Related(accounts, workspaces, agents, kbs)

    async def load_compliance(self, session: AsyncSession, conn: SmsConnection) -> SmsCompliance | None:
        raw = await self.vault.get(session, OWNER, conn.id, COMPLIANCE_FIELD)
        return SmsCompliance.model_validate(json.loads(raw)) if raw else None

    async def _store_compliance(
        self, session: AsyncSession, conn: SmsConnection, compliance: SmsCompliance
    ) -> None:
        payload = json.dumps(compliance.model_dump(mode="json", by_alias=True))
        await self.vault.put(session, OWNER, conn.id, COMPLIANCE_FIELD, payload, conn.organization_id)
        conn.compliance_updated_at = datetime.now(UTC)

    def _view(self, conn: SmsConnection, rel: Related, compliance: SmsCompliance | None) -> ConnectionRead:
        account = rel.accounts[conn.channel_account_id]
        ws = rel.workspaces.get(conn.workspace_id) if conn.workspace_id else None
        agent = rel.agents.get(conn.agent_id) if conn.agent_id else None
        kb = rel.knowledge_bases.get(agent.knowledge_base_id) if agent and agent.knowledge_base_id else None
        if kb is not None and agent is not None and kb.workspace_id != agent.workspace_id:
            kb = None
        degraded = conn.degraded_reason
        if degraded is None and agent is None:
            degraded = NO_AGENT
        elif degraded is None and kb is None:
            degraded = KB_UNRESOLVED
        status: Literal["complete", "pending", "degraded"] = (
            "degraded" if degraded else ("pending" if conn.number_status == "pending" else "complete")
        )
        issues = precheck(compliance) if compliance is not None else []
        return ConnectionRead(
            id=conn.id,
            channel_account_id=conn.channel_account_id,
            organization_id=conn.organization_id,
            name=account.name,
            phone_number=conn.phone_number,
            country=conn.country,
            mode=conn.mode,
            byon_method=conn.byon_method,
            provider=conn.provider,
            workspace=Ref(id=ws.id, name=ws.name) if ws else None,
            agent=Ref(id=agent.id, name=agent.name) if agent else None,
            knowledge_base=Ref(id=kb.id, name=kb.name) if kb else None,
            is_active=account.is_active,
            connection_status=account.connection_status,
            number_status=conn.number_status,
            status=status,
            degraded_reason=degraded,
            needs_agent=agent is None,
            registration_status=conn.registration_status,
            # The reason of a rejection is registration detail: only the compliance resource shows it.
            registration_label=registration.label(conn.registration_status),
            compliance=ComplianceSummary(
                present=compliance is not None,
                brand_complete=compliance is not None and _section_complete(issues, "brand"),
                campaign_complete=compliance is not None and _section_complete(issues, "campaign"),
            ),
            created_at=conn.created_at,
            updated_at=max(conn.updated_at, account.updated_at),
        )

    async def read(self, session: AsyncSession, conn: SmsConnection) -> ConnectionRead:
        rel = await self._related(session, [conn])
        return self._view(conn, rel, await self.load_compliance(session, conn))

    async def list_connections(
        self,
        session: AsyncSession,
        principal: Principal,
        *,
        organization_id: uuid.UUID | None = None,
        sort: SortKey = "phone_number",
        descending: bool = False,
    ) -> list[ConnectionRead]:
        principal.require(Permission.CHANNELS_READ)
        stmt = connections_readable_by(principal)
        org = principal.org_scope(organization_id)
        if org is not None:
            stmt = stmt.where(SmsConnection.organization_id == org)
        conns = list(await session.scalars(stmt.limit(1000)))
        rel = await self._related(session, conns)
        views = [self._view(c, rel, await self.load_compliance(session, c)) for c in conns]

        def key(v: ConnectionRead) -> tuple[int, str, str]:
            if sort == "workspace":
                text = v.workspace.name if v.workspace else None
            elif sort == "knowledge_base":
                text = v.knowledge_base.name if v.knowledge_base else None
            else:
                text = v.phone_number
            # Blank values sort last in both directions.
            blank = text is None
            return (int(blank) if not descending else int(not blank), (text or "").casefold(), v.phone_number)

        return sorted(views, key=key, reverse=descending)

    # ------------------------------------------------------------------------------ changes

    async def update(
        self, session: AsyncSession, principal: Principal, connection_id: uuid.UUID, data: ConnectionUpdate
    ) -> SmsConnection:
        """Reassign the agent (and workspace), rename, or flip the Active switch."""
        principal.require(Permission.CHANNELS_MANAGE)
        conn = await self.get(session, principal, connection_id)
        fields = data.model_fields_set
        before = {"workspace_id": str(conn.workspace_id), "agent_id": str(conn.agent_id)}
        workspace_id = conn.workspace_id
        if "workspace_id" in fields:
            if data.workspace_id is None:
                raise field_error("workspace_id", "required", "An SMS connection needs a workspace.")
            ws = await destinations.workspace(session, principal, data.workspace_id)
            if ws.organization_id != conn.organization_id:
                raise NotFound("Workspace not found.")
            workspace_id = ws.id
        if "agent_id" in fields:
            if data.agent_id is None:
                raise field_error("agent_id", "required", "SMS is agent-managed: pick an agent.")
            agent = await destinations.get_agent(session, principal, data.agent_id)
            if agent.organization_id != conn.organization_id:
                raise NotFound("Agent not found.")
            if agent.workspace_id != workspace_id:
                raise field_error("agent_id", "workspace_mismatch", "The agent belongs to another workspace.")
            conn.agent_id = agent.id
        elif workspace_id != conn.workspace_id and conn.agent_id is not None:
            agent_row = await session.get(Agent, conn.agent_id)
            if agent_row is not None and agent_row.workspace_id != workspace_id:
                raise field_error(
                    "agent_id", "workspace_mismatch", "Pick an agent of the new workspace together with it."
                )
        if workspace_id != conn.workspace_id:
            conn.workspace_id = workspace_id
            account = await session.get(ChannelAccount, conn.channel_account_id)
            assert account is not None
            account.workspace_id = workspace_id
        if data.name is not None or data.is_active is not None:
            await self.channel_accounts.update(
                session, principal, conn.channel_account_id,
                ChannelAccountUpdate(name=data.name, is_active=data.is_active),
            )  # fmt: skip
        await session.flush()
        after = {"workspace_id": str(conn.workspace_id), "agent_id": str(conn.agent_id)}
        if after != before:
            await audit.record(
                session, principal, "sms_connection.destination_changed", OWNER, conn.id,
                organization_id=conn.organization_id, before=before, after=after,
            )  # fmt: skip
        return conn

    async def delete(self, session: AsyncSession, principal: Principal, connection_id: uuid.UUID) -> None:
        """Give a platform number back to the provider, then remove the account and its secrets."""
        principal.require(Permission.CHANNELS_MANAGE)
        conn = await self.get(session, principal, connection_id)
        if conn.number_sid and conn.mode == "new" and conn.number_status != "reclaimed":
            try:
                await self.provider.release_number(conn.number_sid)
            except ProviderError as exc:
                raise _provider_error(exc, "releasing the number") from exc
        await self.vault.remove(session, OWNER, conn.id)
        before = {"phone_number": conn.phone_number, "mode": conn.mode}
        await self.channel_accounts.delete(session, principal, conn.channel_account_id)
        await session.flush()
        await audit.record(
            session, principal, "sms_connection.deleted", OWNER, conn.id,
            organization_id=conn.organization_id, before=before,
        )  # fmt: skip

    # ------------------------------------------------------------------------------ compliance

    def _compliance_status(
        self, conn: SmsConnection, compliance: SmsCompliance | None
    ) -> ComplianceStatusRead:
        return ComplianceStatusRead.model_validate(
            self._compliance_read(conn, compliance).model_dump(exclude={"compliance"})
        )

    def _compliance_read(self, conn: SmsConnection, compliance: SmsCompliance | None) -> ComplianceRead:
        shown = compliance or SmsCompliance.empty()
        issues = precheck(shown)
        status = RegistrationStatus(conn.registration_status)
        return ComplianceRead(
            connection_id=conn.id,
            compliance=shown,
            present=compliance is not None,
            precheck=[
                PrecheckIssueRead(field=i.field, code=i.code, severity=i.severity, message=i.message)
                for i in issues
            ],
            ready_to_submit=ready_to_submit(issues),
            locked=status in registration.LOCKED_STATES,
            always_editable=sorted(f"campaign.{f}" for f in registration.ALWAYS_EDITABLE_CAMPAIGN_FIELDS),
            registration=RegistrationRead(
                status=status.value,
                label=registration.label(status.value, conn.rejection_reason),
                brand_status=registration.brand_stage(conn.brand_status),
                campaign_status=registration.campaign_stage(conn.campaign_status),
                rejection_reason=conn.rejection_reason,
                submitted_at=conn.submitted_at,
                decided_at=conn.decided_at,
            ),
        )

    async def get_compliance(
        self, session: AsyncSession, principal: Principal, connection_id: uuid.UUID
    ) -> ComplianceRead:
        """The payload itself: sensitive, so only for holders of sms.manage."""
        conn = await self.get(session, principal, connection_id)
        principal.require(Permission.SMS_MANAGE)
        return self._compliance_read(conn, await self.load_compliance(session, conn))

    async def set_compliance(
        self, session: AsyncSession, principal: Principal, connection_id: uuid.UUID, data: SmsCompliance
    ) -> ComplianceStatusRead:
        """set-sms-compliance: replace the payload (partial drafts allowed)."""
        conn = await self.get(session, principal, connection_id)
        principal.require(Permission.SMS_MANAGE)
        stored = await self.load_compliance(session, conn)
        old = _flatten(stored or SmsCompliance.empty())
        new = _flatten(data)
        changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
        status = RegistrationStatus(conn.registration_status)
        if status in registration.LOCKED_STATES:
            editable = {f"campaign.{f}" for f in registration.ALWAYS_EDITABLE_CAMPAIGN_FIELDS}
            locked = [k for k in changed if k not in editable]
            if locked:
                raise Conflict(
                    "The registration is with the carrier: only the consent, opt-in, opt-out and help fields "
                    "can change now.",
                    code="registration_locked",
                    details=[
                        {"field": k, "rule": "locked", "message": "locked while registered"} for k in locked
                    ],
                    extra={"current_state": status.value},
                )
        if changed or stored is None:
            await self._store_compliance(session, conn, data)
            await audit.record(
                session, principal, "sms_connection.compliance_updated", OWNER, conn.id,
                organization_id=conn.organization_id,
                # Field names only: the values are sensitive and never leave the vault this way.
                after={"changed_fields": changed, "registration_status": status.value},
            )  # fmt: skip
        return self._compliance_status(conn, data)

    # ------------------------------------------------------------------------------ registration

    async def submit_registration(
        self, session: AsyncSession, principal: Principal, connection_id: uuid.UUID
    ) -> ComplianceStatusRead:
        """draft/rejected -> submitted, once the precheck passes; the provider decides the rest."""
        conn = await self.get(session, principal, connection_id)
        principal.require(Permission.SMS_MANAGE)
        target = registration.check_transition(conn.registration_status, RegistrationStatus.SUBMITTED, "user")
        if conn.country not in REGISTRATION_COUNTRIES:
            raise field_error(
                "registration",
                "not_applicable",
                "10DLC registration applies to US and Canadian numbers only.",
            )
        compliance = await self.load_compliance(session, conn) or SmsCompliance.empty()
        errors = [i for i in precheck(compliance) if i.severity == "error"]
        if errors:
            raise Unprocessable(
                f"The pre-submission check found {len(errors)} problem(s) to fix first.",
                code="precheck_failed",
                details=[{"field": i.field, "rule": i.code, "message": i.message} for i in errors],
            )
        assert compliance.brand is not None
        try:
            brand = await self.provider.register_brand(compliance.brand, f"Switchboard {conn.id}")
        except ProviderError as exc:
            if exc.kind is ErrorKind.PERMANENT:
                raise Unprocessable(
                    f"The provider refused the brand registration (error {exc.code}); check the brand.",
                    code="provider_refused",
                ) from exc
            raise _provider_error(exc, "brand registration") from exc
        before = conn.registration_status
        conn.registration_status = target.value
        conn.brand_registration_sid, conn.brand_status = brand.sid, brand.status
        conn.campaign_sid = conn.campaign_status = conn.rejection_reason = None
        conn.submitted_at, conn.decided_at = datetime.now(UTC), None
        await session.flush()
        await audit.record(
            session, principal, "sms_connection.registration_submitted", OWNER, conn.id,
            organization_id=conn.organization_id,
            before={"registration_status": before}, after={"registration_status": target.value},
        )  # fmt: skip
        from switchboard.core.queue import enqueue_on_commit
        from switchboard.sms import tasks

        conn_id = str(conn.id)
        enqueue_on_commit(session, lambda: tasks.refresh_sms_registration(conn_id))
        return self._compliance_status(conn, compliance)

    async def _decide(
        self, session: AsyncSession, conn: SmsConnection, target: RegistrationStatus, reason: str | None
    ) -> None:
        before = conn.registration_status
        registration.check_transition(before, target, "provider")
        conn.registration_status = target.value
        conn.rejection_reason = reason if target is RegistrationStatus.REJECTED else None
        conn.decided_at = datetime.now(UTC)
        await session.flush()
        await audit.record(
            session, None, f"sms_connection.registration_{target.value}", OWNER, conn.id,
            organization_id=conn.organization_id,
            before={"registration_status": before}, after={"registration_status": target.value},
            reason=reason,
        )  # fmt: skip

    async def refresh_registration(self, session: AsyncSession, conn: SmsConnection) -> str:
        """Ask the provider where a submitted registration stands; create the campaign once the brand
        is registered. Returns the (possibly unchanged) registration status."""
        if conn.registration_status != RegistrationStatus.SUBMITTED.value or not conn.brand_registration_sid:
            return conn.registration_status
        brand = await self.provider.fetch_brand(conn.brand_registration_sid)
        conn.brand_status = brand.status
        if brand.status in BRAND_FAILED:
            await self._decide(
                session,
                conn,
                RegistrationStatus.REJECTED,
                brand.failure_reason or f"Brand {brand.status.lower()}",
            )
            return conn.registration_status
        if brand.status not in BRAND_APPROVED:
            return conn.registration_status
        campaign = await self._campaign(session, conn)
        if campaign is None:
            return conn.registration_status
        conn.campaign_status = campaign.status
        if campaign.status in CAMPAIGN_APPROVED:
            await self._decide(session, conn, RegistrationStatus.APPROVED, None)
        elif campaign.status in CAMPAIGN_FAILED:
            await self._decide(
                session,
                conn,
                RegistrationStatus.REJECTED,
                campaign.failure_reason or f"Campaign {campaign.status.lower()}",
            )
        return conn.registration_status

    async def _campaign(self, session: AsyncSession, conn: SmsConnection) -> RegistrationState | None:
        assert conn.brand_registration_sid
        if conn.campaign_sid and conn.messaging_service_sid:
            return await self.provider.fetch_campaign(conn.messaging_service_sid, conn.campaign_sid)
        compliance = await self.load_compliance(session, conn)
        if compliance is None or compliance.campaign is None:
            await self._decide(
                session, conn, RegistrationStatus.REJECTED, "The campaign details were removed."
            )
            return None
        if not conn.messaging_service_sid:
            conn.messaging_service_sid = await self.provider.create_messaging_service(
                f"Switchboard SMS {conn.phone_number}", conn.number_sid
            )
        try:
            campaign = await self.provider.register_campaign(
                conn.messaging_service_sid, conn.brand_registration_sid, compliance.campaign
            )
        except ProviderError as exc:
            if exc.kind is ErrorKind.PERMANENT:
                await self._decide(
                    session,
                    conn,
                    RegistrationStatus.REJECTED,
                    f"The provider refused the campaign (error {exc.code}).",
                )
                return None
            raise
        conn.campaign_sid = campaign.sid
        return campaign

    async def apply_provider_event(self, session: AsyncSession, event: dict[str, Any]) -> uuid.UUID | None:
        """One signed Event Streams event (brand/campaign registration). Returns the connection that
        needs a follow-up refresh (a registered brand still needs its campaign), if any."""
        kind = str(event.get("type") or "")
        data = event.get("data") if isinstance(event.get("data"), dict) else {}
        assert isinstance(data, dict)
        brand_sid, service_sid = data.get("brandsid"), data.get("messagingservicesid")
        conn = None
        if service_sid:
            conn = await session.scalar(
                select(SmsConnection).where(SmsConnection.messaging_service_sid == str(service_sid))
            )
        if conn is None and brand_sid:
            conn = await session.scalar(
                select(SmsConnection).where(SmsConnection.brand_registration_sid == str(brand_sid))
            )
        if conn is None or conn.registration_status != RegistrationStatus.SUBMITTED.value:
            return None  # unknown, or already decided: late and replayed events change nothing
        if kind.endswith("brand-registration.brand-failure"):
            errors = data.get("brandregistrationerrors")
            reason = None
            if isinstance(errors, list) and errors and isinstance(errors[0], dict):
                reason = errors[0].get("registrationerrordescription")
            conn.brand_status = "FAILED"
            await self._decide(
                session, conn, RegistrationStatus.REJECTED, str(reason or "Brand registration failed")[:500]
            )
        elif kind.endswith("brand-registration.brand-registered"):
            conn.brand_status = "APPROVED"
            return conn.id
        elif kind.endswith("campaign-registration.campaign-approved") and conn.messaging_service_sid:
            conn.campaign_status = "VERIFIED"
            await self._decide(session, conn, RegistrationStatus.APPROVED, None)
        elif kind.endswith("campaign-registration.campaign-failure") and conn.messaging_service_sid:
            conn.campaign_status = "FAILED"
            code = data.get("errorcode")
            await self._decide(
                session,
                conn,
                RegistrationStatus.REJECTED,
                f"Campaign registration failed (error {code})." if code else "Campaign registration failed.",
            )
        return None

    # ------------------------------------------------------------------------------ inventory

    async def _set_account_status(
        self, session: AsyncSession, conn: SmsConnection, status: ConnectionStatus, reason: str | None
    ) -> None:
        account = await session.get(ChannelAccount, conn.channel_account_id)
        if account is None or (account.connection_status == status.value and account.status_reason == reason):
            return
        before = {"connection_status": account.connection_status, "status_reason": account.status_reason}
        account.connection_status, account.status_reason = status.value, reason
        account.last_checked_at = datetime.now(UTC)
        await audit.record(
            session, None, "channel_account.status_changed", ACCOUNT_OWNER, account.id,
            organization_id=account.organization_id, before=before,
            after={"connection_status": status.value, "status_reason": reason},
        )  # fmt: skip

    async def sync_numbers(
        self, session: AsyncSession, organization_id: uuid.UUID | None = None
    ) -> dict[str, int]:
        """Compare our numbers with the provider's: reclaimed ones degrade the connection, returning
        ones restore it; hosted number orders move on. Idempotent."""
        counts = {"reclaimed": 0, "restored": 0, "hosted_completed": 0, "hosted_failed": 0}
        stmt = select(SmsConnection).where(SmsConnection.number_sid.is_not(None))
        if organization_id is not None:
            stmt = stmt.where(SmsConnection.organization_id == organization_id)
        held = [
            c for c in await session.scalars(stmt)
            if c.provider == self.provider.name and c.number_status in {"active", "reclaimed"}
        ]  # fmt: skip
        owned = (
            await self.provider.owned_number_sids({c.number_sid for c in held if c.number_sid})
            if held
            else set()
        )
        for conn in held:
            if conn.number_sid not in owned and conn.number_status == "active":
                conn.number_status, conn.degraded_reason = "reclaimed", RECLAIMED
                await self._set_account_status(session, conn, ConnectionStatus.ERROR, RECLAIMED)
                await self._audit_number(session, conn, "active", "reclaimed")
                counts["reclaimed"] += 1
            elif conn.number_sid in owned and conn.number_status == "reclaimed":
                conn.number_status, conn.degraded_reason = "active", None
                await self._set_account_status(session, conn, ConnectionStatus.CONNECTED, None)
                await self._audit_number(session, conn, "reclaimed", "active")
                counts["restored"] += 1
        orders = select(SmsConnection).where(
            SmsConnection.hosted_order_sid.is_not(None), SmsConnection.number_status == "pending"
        )
        if organization_id is not None:
            orders = orders.where(SmsConnection.organization_id == organization_id)
        for conn in await session.scalars(orders):
            assert conn.hosted_order_sid
            order = await self.provider.fetch_hosted_order(conn.hosted_order_sid)
            if order.status in HOSTED_DONE and order.number_sid:
                conn.number_status, conn.number_sid, conn.degraded_reason = "active", order.number_sid, None
                await self._set_account_status(session, conn, ConnectionStatus.CONNECTED, None)
                await self._audit_number(session, conn, "pending", "active")
                await self._emit_connected(session, conn)
                counts["hosted_completed"] += 1
            elif order.status in HOSTED_FAILED:
                reason = "Hosted number order failed" + (
                    f": {order.failure_reason}" if order.failure_reason else ""
                )
                conn.number_status, conn.degraded_reason = "failed", reason[:200]
                await self._set_account_status(session, conn, ConnectionStatus.ERROR, reason[:500])
                await self._audit_number(session, conn, "pending", "failed")
                counts["hosted_failed"] += 1
        await self._purge_orphans(session)
        await session.flush()
        return counts

    async def _audit_number(
        self, session: AsyncSession, conn: SmsConnection, before: str, after: str
    ) -> None:
        await audit.record(
            session, None, "sms_connection.number_status_changed", OWNER, conn.id,
            organization_id=conn.organization_id,
            before={"number_status": before},
            after={"number_status": after, "degraded_reason": conn.degraded_reason},
        )  # fmt: skip

    async def _purge_orphans(self, session: AsyncSession) -> None:
        # A connection removed through /rest/v1/channel_accounts (cascade) leaves its compliance secret.
        existing = select(SmsConnection.id)
        orphans = await session.scalars(
            select(VaultSecret).where(VaultSecret.owner_type == OWNER, VaultSecret.owner_id.not_in(existing))
        )
        for row in orphans:
            await session.delete(row)

    # ------------------------------------------------------------------------------ sending

    def segments(self, body: str) -> SegmentsRead:
        return segment_read(analyze(body), len(body))

    async def send_test(
        self, session: AsyncSession, principal: Principal, connection_id: uuid.UUID, data: MessageCreate
    ) -> tuple[SmsMessage, str, SegmentsRead, list[ShortLink]]:
        """Send one message from the connection's number: links shortened, segments counted first."""
        conn = await self.get(session, principal, connection_id)
        principal.require(Permission.SMS_MANAGE)
        account = await session.get(ChannelAccount, conn.channel_account_id)
        assert account is not None
        if not data.body.strip():
            raise field_error("body", "blank", "Write a message first.")
        if not account.is_active:
            raise Conflict("This SMS connection is inactive; switch it on to send.", code="inactive")
        if conn.number_status != "active":
            raise Conflict(
                "This number cannot send right now.",
                code="number_unavailable",
                extra={"number_status": conn.number_status},
            )
        message = SmsMessage(
            id=uuid.uuid4(), organization_id=conn.organization_id, connection_id=conn.id, to_number=data.to
        )
        body = await links.shorten_links(
            session,
            data.body,
            str(message.id),
            organization_id=conn.organization_id,
            base_url=self.settings.public_base_url,
        )
        info = analyze(body)
        if info.too_long:
            raise field_error(
                "body",
                "too_long",
                f"The message is {len(body)} characters with short links; the limit is {MAX_CHARACTERS}.",
            )
        callback = None if self.sandbox else self.public_url("/webhooks/twilio/sms/status")
        try:
            sent = await self.provider.send_sms(
                data.to, body, from_=conn.phone_number, messaging_service_sid=None, status_callback=callback
            )
        except ProviderError as exc:
            if exc.kind is ErrorKind.PERMANENT:
                raise Unprocessable(
                    f"The provider refused the message (error {exc.code}).", code="provider_refused"
                ) from exc
            raise _provider_error(exc, "sending") from exc
        now = datetime.now(UTC)
        message.provider_sid, message.status, message.status_updated_at = sent.sid, sent.status, now
        message.encoding, message.segments = info.encoding, info.segments
        session.add(message)
        await session.flush()
        shortened = await links.links_for_message(session, principal, str(message.id))
        return message, body, segment_read(info, len(body)), shortened

    async def messages(
        self, session: AsyncSession, principal: Principal, connection_id: uuid.UUID, limit: int = 50
    ) -> list[tuple[SmsMessage, list[ShortLink]]]:
        conn = await self.get(session, principal, connection_id)
        rows = list(
            await session.scalars(
                select(SmsMessage)
                .where(SmsMessage.connection_id == conn.id)
                .order_by(SmsMessage.created_at.desc(), SmsMessage.id)
                .limit(limit)
            )
        )
        refs = [str(m.id) for m in rows]
        by_ref: dict[str, list[ShortLink]] = {}
        if refs:
            for link in await session.scalars(select(ShortLink).where(ShortLink.message_ref.in_(refs))):
                by_ref.setdefault(link.message_ref, []).append(link)
        return [(m, sorted(by_ref.get(str(m.id), []), key=lambda x: x.code)) for m in rows]

    async def apply_status_callback(self, session: AsyncSession, params: dict[str, str]) -> bool:
        """A Twilio message status callback: move the message forward, never backwards."""
        sid, status = (
            params.get("MessageSid") or params.get("SmsSid"),
            (params.get("MessageStatus") or "").lower(),
        )
        if not sid or status not in _STATUS_RANK:
            return False
        message = await session.scalar(select(SmsMessage).where(SmsMessage.provider_sid == sid))
        if message is None or _STATUS_RANK[status] <= _STATUS_RANK.get(message.status, -1):
            return False
        message.status = status
        message.error_code = (
            (params.get("ErrorCode") or None) if status in {"failed", "undelivered"} else None
        )
        message.status_updated_at = datetime.now(UTC)
        return True
