"""The provisioning steps of each channel, in order. Each step is idempotent in effect: it either
asks the provider in a replay-safe way (idempotency keys, look-up before create) or reuses what a
previous attempt stored (secrets in the vault), so a step re-run after a worker died does no harm.
"""

from __future__ import annotations

import base64
import re
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any, cast

from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid02

from switchboard.core.db import transaction
from switchboard.core.runtime import Runtime
from switchboard.email.dns_records import DnsRecord, RecordPurpose, expected_records
from switchboard.email.provider import ProviderError as EmailProviderError
from switchboard.email.provider import build_email_provider
from switchboard.onboarding.providers import Providers, waba_id
from switchboard.onboarding.schemas import Channel

SECRET_OWNER = "onboarding_request"
RCS_TXT_PREFIX = "_rbm-verification"
MAIL_FROM_SUBDOMAIN = "bounce"


@dataclass
class StepContext:
    rt: Runtime
    providers: Providers
    request_id: uuid.UUID
    organization_id: uuid.UUID
    channel: Channel
    business: dict[str, Any]
    domain: str | None
    requested_by: str
    results: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """Idempotency key base: one per request, the same on every attempt."""
        return f"onboarding:{self.request_id}"

    async def secret(self, name: str, make: Callable[[], str]) -> str:
        """The request's secret `name`, created once and committed before any provider sees it."""
        value: str | None = None
        async with transaction(self.rt.sessionmaker) as session:
            value = await self.rt.vault.get(session, SECRET_OWNER, self.request_id, name)
            if value is None:
                value = make()
                await self.rt.vault.put(
                    session, SECRET_OWNER, self.request_id, name, value, self.organization_id
                )
        assert value is not None
        return value


StepFn = Callable[[StepContext], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class StepSpec:
    name: str
    label: str
    run: StepFn


# --------------------------------------------------------------------------- numbers (WhatsApp, SMS)


async def allocate_number(ctx: StepContext) -> dict[str, Any]:
    number = await ctx.providers.numbers.allocate(ctx.channel.value, ctx.key)
    return {"phone_number": number.phone_number, "number_ref": number.ref}


# --------------------------------------------------------------------------- WhatsApp


async def add_to_waba(ctx: StepContext) -> dict[str, Any]:
    waba = waba_id(ctx.rt.settings)
    phone = ctx.results["allocate_number"]["phone_number"]
    phone_number_id = await ctx.providers.meta.find_or_add_phone_number(
        waba, phone, ctx.business["company_name"]
    )
    return {"waba_id": waba, "phone_number_id": phone_number_id}


async def register_number(ctx: StepContext) -> dict[str, Any]:
    # The two-step verification PIN Meta sets on registration; kept so a replay sends the same one.
    pin = await ctx.secret("whatsapp_pin", lambda: f"{secrets.randbelow(10**6):06d}")
    phone_number_id = ctx.results["add_to_waba"]["phone_number_id"]
    await ctx.providers.meta.register_phone(phone_number_id, pin)
    return {"phone_number_id": phone_number_id, "registered": True}


def webhook_url(rt: Runtime) -> str:
    return f"{rt.settings.public_base_url.rstrip('/')}/webhooks/whatsapp"


async def configure_webhook(ctx: StepContext) -> dict[str, Any]:
    verify_token = await ctx.secret("webhook_verify_token", lambda: secrets.token_urlsafe(24))
    waba = ctx.results["add_to_waba"]["waba_id"]
    callback = webhook_url(ctx.rt)
    await ctx.providers.meta.subscribe_webhook(waba, callback, verify_token)
    return {"waba_id": waba, "callback_url": callback}


# --------------------------------------------------------------------------- Email


def boundary_name(organization_id: uuid.UUID) -> str:
    return f"switchboard-{organization_id.hex}"


async def provision_domain(ctx: StepContext) -> dict[str, Any]:
    settings = ctx.rt.settings
    assert ctx.domain is not None
    provider = build_email_provider(
        settings.provider_mode,
        region=settings.ses_region,
        endpoint_url=settings.ses_endpoint_url or None,
        access_key_id=settings.ses_access_key_id or None,
        secret_access_key=settings.ses_secret_access_key or None,
    )
    tenant = boundary_name(ctx.organization_id)
    mail_from = f"{MAIL_FROM_SUBDOMAIN}.{ctx.domain}"
    try:
        await provider.create_boundary(tenant)
    except EmailProviderError as exc:
        if not exc.already_exists:
            raise
    try:
        identity = await provider.create_identity(tenant, ctx.domain, mail_from)
    except EmailProviderError as exc:
        if not exc.already_exists:
            raise
        # Left over by an attempt that died before recording it: start that identity again.
        await provider.delete_identity(tenant, ctx.domain)
        identity = await provider.create_identity(tenant, ctx.domain, mail_from)
    return {
        "domain": ctx.domain,
        "mail_from_domain": mail_from,
        "dkim_tokens": identity.dkim_tokens,
        "region": identity.region,
        "provider": provider.mode,
    }


async def generate_email_records(ctx: StepContext) -> dict[str, Any]:
    provisioned = ctx.results["provision_domain"]
    records = expected_records(
        provisioned["domain"],
        provisioned["dkim_tokens"],
        provisioned["region"],
        mail_from_subdomain=MAIL_FROM_SUBDOMAIN,
        dmarc_rua=ctx.rt.settings.dmarc_rua or None,
    )
    return {"records": [asdict(r) for r in records]}


# --------------------------------------------------------------------------- SMS


def sender_header(company_name: str) -> str:
    """A 6-letter DLT header from the company name (DLT headers are 6 alphabetic characters)."""
    letters = re.sub(r"[^A-Za-z]", "", company_name).upper()
    return (letters + "SMSMSG")[:6]


async def register_entity(ctx: StepContext) -> dict[str, Any]:
    return await ctx.providers.dlt.register_entity(f"{ctx.key}:entity", ctx.business)


async def configure_sender_ids(ctx: StepContext) -> dict[str, Any]:
    entity_id = ctx.results["register_entity"]["entity_id"]
    headers = await ctx.providers.dlt.register_headers(
        f"{ctx.key}:headers", entity_id, [sender_header(ctx.business["company_name"])], "transactional"
    )
    return {"entity_id": entity_id, "sender_ids": headers}


# --------------------------------------------------------------------------- RCS


async def register_brand(ctx: StepContext) -> dict[str, Any]:
    return await ctx.providers.brands.ensure_agent(
        ctx.business["company_name"], ctx.business["website"], ctx.business["use_case"]
    )


async def submit_brand_verification(ctx: StepContext) -> dict[str, Any]:
    settings = ctx.rt.settings
    agent = ctx.results["register_brand"]["agent"]
    contact = {
        "partnerName": settings.rbm_partner_name,
        "partnerEmailAddress": settings.rbm_partner_email,
        "brandContactName": ctx.business["company_name"],
        "brandContactEmailAddress": ctx.requested_by,
        "brandWebsiteUrl": ctx.business["website"],
    }
    state = await ctx.providers.brands.request_verification(agent, contact)
    return {"agent": agent, "verification_state": state}


def rcs_record(domain: str, token: str) -> DnsRecord:
    # We issue the token (Google does not), under a name of its own so it never clashes with the
    # domain's other TXT records. The purpose is outside dns_records' list; dns_verify matches any
    # such TXT exactly, which is what a token needs.
    return DnsRecord(
        address=f"{RCS_TXT_PREFIX}.{domain}",
        record=f"rbm-verification={token}",
        type="TXT",
        purpose=cast(RecordPurpose, "site_verification"),
    )


async def generate_rcs_records(ctx: StepContext) -> dict[str, Any]:
    assert ctx.domain is not None
    token = await ctx.secret("rcs_domain_token", lambda: secrets.token_urlsafe(24))
    return {"records": [asdict(rcs_record(ctx.domain, token))]}


# --------------------------------------------------------------------------- Push

VAPID_PRIVATE_KEY = "vapid_private_key"


def application_server_key(private_pem: str) -> str:
    """RFC 8292 `k`: base64url (no padding) of the 65-byte uncompressed P-256 public point."""
    vapid = Vapid02.from_pem(private_pem.encode())
    raw = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _new_vapid_pem() -> str:
    vapid = Vapid02()
    vapid.generate_keys()
    return vapid.private_pem().decode()


async def generate_vapid_keys(ctx: StepContext) -> dict[str, Any]:
    pem = await ctx.secret(VAPID_PRIVATE_KEY, _new_vapid_pem)
    return {"application_server_key": application_server_key(pem), "curve": "P-256"}


# --------------------------------------------------------------------------- the table

STEPS: dict[Channel, tuple[StepSpec, ...]] = {
    Channel.WHATSAPP: (
        StepSpec("allocate_number", "Allocate a number", allocate_number),
        StepSpec("add_to_waba", "Add the number to the WhatsApp Business Account", add_to_waba),
        StepSpec("register_number", "Register the number with Meta", register_number),
        StepSpec("configure_webhook", "Configure the webhook URL", configure_webhook),
    ),
    Channel.EMAIL: (
        StepSpec("provision_domain", "Provision the sending domain", provision_domain),
        StepSpec("generate_dns_records", "Generate SPF, DKIM and DMARC records", generate_email_records),
    ),
    Channel.SMS: (
        StepSpec("register_entity", "Register with the DLT provider", register_entity),
        StepSpec("configure_sender_ids", "Configure sender IDs", configure_sender_ids),
        StepSpec("allocate_number", "Allocate a number", allocate_number),
    ),
    Channel.RCS: (
        StepSpec("register_brand", "Register the brand and agent with Google", register_brand),
        StepSpec(
            "submit_brand_verification", "Submit brand verification to Google", submit_brand_verification
        ),
        StepSpec("generate_dns_records", "Generate the domain verification record", generate_rcs_records),
    ),
    Channel.PUSH: (StepSpec("generate_vapid_keys", "Generate VAPID keys", generate_vapid_keys),),
}


def spec(channel: Channel | str, name: str) -> StepSpec:
    for step in STEPS[Channel(channel)]:
        if step.name == name:
            return step
    raise KeyError(name)


def label(channel: Channel | str, name: str) -> str:
    try:
        return spec(channel, name).label
    except KeyError:
        return name.replace("_", " ").capitalize()
