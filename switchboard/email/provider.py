"""Email provider adapters: the reputation isolation boundary and the domain identity.

``ses`` speaks Amazon SES v2 through boto3's ``sesv2`` client to a configurable
endpoint (``SWITCHBOARD_SES_ENDPOINT_URL``), so tests and the sandbox can point it
at a local emulator. ``sandbox`` provisions nothing external and makes up the
DKIM tokens itself, so the embedded default works offline.

An SES setup maps to one SES tenant (the boundary) holding one domain identity
with Easy DKIM and a custom MAIL FROM domain. An email use case maps to one
configuration set, associated with the tenant, that sends through a dedicated
pool chosen by email type and reputation tier.
"""

from __future__ import annotations

import asyncio
import base64
import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

__all__ = [
    "EMAIL_TYPES",
    "TIERS",
    "EmailProvider",
    "IdentityResult",
    "ProviderError",
    "SandboxEmailProvider",
    "SesEmailProvider",
    "build_email_provider",
    "classify_error",
    "configuration_set_name",
    "pool_name",
]

EMAIL_TYPES = ("transactional", "marketing")
TIERS = ("onboarding", "standard", "premium", "suspended")

T = TypeVar("T")


# --------------------------------------------------------------------------- naming


def pool_name(email_type: str, tier: str) -> str:
    """Dedicated pool for an email type and reputation tier.

    The email type is always part of the name, so transactional and marketing
    traffic can never land in the same pool. Suspended use cases fall through to
    the shared pool of their email type while the incident is resolved.
    """
    if email_type not in EMAIL_TYPES:
        raise ValueError(f"unknown email_type {email_type!r}; expected one of {EMAIL_TYPES}")
    if tier not in TIERS:
        raise ValueError(f"unknown tier {tier!r}; expected one of {TIERS}")
    if tier == "suspended":
        return f"shared-{email_type}"
    return f"{email_type}-{tier}"


def _name_part(value: str) -> str:
    # Fold accents to ASCII first so "Café" stays readable as "cafe".
    ascii_value = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    # Every run of anything SES would not accept becomes one hyphen; stripping the
    # ends means a part never contains "--" nor starts/ends with "-", which keeps
    # the "--" separator below unambiguous.
    return re.sub(r"[^a-z0-9]+", "-", ascii_value.lower()).strip("-")


def configuration_set_name(entity_name: str, name: str) -> str:
    """SES configuration set name for a use case: ``<entity>--<name>``.

    Parts are lowercased and every run of spaces/punctuation becomes a single
    hyphen, so a part never contains "--" and the name splits back into exactly
    the two parts: ("Acme Co", "Receipts") -> "acme-co--receipts" and
    ("Acme", "Co Receipts") -> "acme--co-receipts" cannot collide. Names that
    differ only in case or punctuation do map to the same set; the API reports
    that as "configuration set name already in use". SES allows letters, digits,
    hyphens and underscores, at most 64 characters.
    """
    entity_part, name_part = _name_part(entity_name), _name_part(name)
    if not entity_part or not name_part:
        raise ValueError("entity_name and name must each contain at least one letter or digit")
    result = f"{entity_part}--{name_part}"
    if len(result) > 64:
        raise ValueError("configuration set name would exceed 64 characters")
    return result


# --------------------------------------------------------------------------- results and errors


@dataclass(frozen=True)
class IdentityResult:
    dkim_tokens: list[str]
    tenant_ref: str | None
    region: str


# Codes that mean "try again later" even when the HTTP status does not say so.
_RETRIABLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalFailure",
        "InternalError",
        "InternalServerError",
        "InternalServiceError",
        "RequestTimeout",
        "RequestTimeoutException",
        "ConcurrentModificationException",
    }
)


class ProviderError(Exception):
    """A provider call failed.

    ``retriable`` errors (throttling, 5xx, connection trouble) should become a
    job retry; the others (already exists, not found, bad request) are permanent
    and belong on the object. ``code`` is the AWS error code (for example
    ``AlreadyExistsException``) or ``ConnectionError`` / ``Timeout``.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str,
        retriable: bool,
        status: int | None = None,
        operation: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.retriable = retriable
        self.status = status
        self.operation = operation

    @property
    def already_exists(self) -> bool:
        # moto's SES v1 heritage says "ConfigurationSetAlreadyExistsException"; SES v2 says
        # "AlreadyExistsException": both mean the same to callers.
        return self.code.endswith("AlreadyExistsException") or self.code == "AlreadyExists"

    @property
    def not_found(self) -> bool:
        return self.code.endswith("NotFoundException") or self.code == "NotFound"

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only fields would be lost by the default pickling (job queues pickle errors).
        return (_rebuild_provider_error, (str(self), self.code, self.retriable, self.status, self.operation))

    def __repr__(self) -> str:
        return (
            f"ProviderError(code={self.code!r}, retriable={self.retriable}, "
            f"status={self.status}, operation={self.operation!r}, message={str(self)!r})"
        )


def _rebuild_provider_error(
    message: str, code: str, retriable: bool, status: int | None, operation: str | None
) -> ProviderError:
    return ProviderError(message, code=code, retriable=retriable, status=status, operation=operation)


def classify_error(exc: Exception, operation: str) -> ProviderError:
    """Turn a botocore exception into a ProviderError with its retry class."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or "Unknown")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        retriable = code in _RETRIABLE_CODES or status == 429 or (status is not None and status >= 500)
        message = str(error.get("Message") or code)
        return ProviderError(
            f"SES {operation} failed: {code}: {message}",
            code=code,
            retriable=retriable,
            status=status,
            operation=operation,
        )
    if isinstance(exc, ConnectTimeoutError | ReadTimeoutError):
        return ProviderError(
            f"SES {operation} timed out: {exc}", code="Timeout", retriable=True, operation=operation
        )
    if isinstance(exc, EndpointConnectionError | ConnectionClosedError):
        return ProviderError(
            f"SES {operation} could not connect: {exc}",
            code="ConnectionError",
            retriable=True,
            operation=operation,
        )
    if isinstance(exc, BotoCoreError):
        # Parameter validation and similar local failures: retrying cannot help.
        return ProviderError(
            f"SES {operation} failed: {exc}", code=type(exc).__name__, retriable=False, operation=operation
        )
    return ProviderError(f"SES {operation} failed: {exc}", code=type(exc).__name__, retriable=False)


# --------------------------------------------------------------------------- protocol


class EmailProvider(Protocol):
    """What the email domain needs from SES (or its sandbox stand-in)."""

    mode: str

    async def create_boundary(self, tenant_name: str) -> str | None: ...

    async def create_identity(
        self, tenant_name: str, domain: str, mail_from_domain: str | None
    ) -> IdentityResult: ...

    async def delete_identity(self, tenant_name: str, domain: str) -> None: ...

    async def delete_boundary(self, tenant_name: str) -> None: ...

    async def create_configuration_set(self, name: str, pool_name: str, tenant_name: str | None) -> None: ...

    async def update_configuration_set_pool(self, name: str, pool_name: str) -> None: ...

    async def delete_configuration_set(self, name: str, tenant_name: str | None = None) -> None: ...


# --------------------------------------------------------------------------- SES


class SesEmailProvider:
    """Amazon SES v2 through boto3, with every call off the event loop."""

    mode = "ses"

    def __init__(
        self,
        region: str,
        endpoint_url: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 15.0,
        max_attempts: int = 3,
    ) -> None:
        self.region = region
        self.endpoint_url = endpoint_url or None
        config = Config(
            region_name=region,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            # A few quick retries absorb a blip; anything longer is the job queue's business.
            retries={"max_attempts": max_attempts, "mode": "standard"},
        )
        # An own Session: the default one is shared module state and not thread-safe to build.
        session = boto3.session.Session(
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            region_name=region,
        )
        self._client: Any = session.client("sesv2", endpoint_url=self.endpoint_url, config=config)

    # -- plumbing

    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        method: Callable[..., dict[str, Any]] = getattr(self._client, operation)
        try:
            return method(**params)
        except (ClientError, BotoCoreError) as exc:
            raise classify_error(exc, operation) from exc

    def _call_ignoring_missing(self, operation: str, **params: Any) -> None:
        # Deletes are idempotent: "already gone" is the outcome we wanted.
        try:
            self._call(operation, **params)
        except ProviderError as exc:
            if not exc.not_found:
                raise

    async def _run(self, func: Callable[..., T], *args: Any) -> T:
        # boto3 is synchronous; a worker thread keeps the event loop free.
        return await asyncio.to_thread(func, *args)

    def _tenant_arn(self, tenant_name: str) -> str:
        return str(self._call("get_tenant", TenantName=tenant_name)["Tenant"]["TenantArn"])

    @staticmethod
    def _sibling_arn(tenant_arn: str, kind: str, name: str) -> str:
        # The account id is configured nowhere; the tenant's ARN carries it (and the partition).
        prefix = ":".join(tenant_arn.split(":")[:5])  # arn:partition:ses:region:account
        return f"{prefix}:{kind}/{name}"

    def _disassociate(self, tenant_name: str, kind: str, name: str) -> None:
        try:
            tenant_arn = self._tenant_arn(tenant_name)
        except ProviderError as exc:
            if not exc.not_found:
                raise
            return  # no tenant, so nothing is associated with it
        self._call_ignoring_missing(
            "delete_tenant_resource_association",
            TenantName=tenant_name,
            ResourceArn=self._sibling_arn(tenant_arn, kind, name),
        )

    # -- boundary

    def _create_boundary(self, tenant_name: str) -> str | None:
        response = self._call("create_tenant", TenantName=tenant_name)
        arn = response.get("TenantArn")
        return str(arn) if arn else None

    async def create_boundary(self, tenant_name: str) -> str | None:
        return await self._run(self._create_boundary, tenant_name)

    def _delete_boundary(self, tenant_name: str) -> None:
        self._call_ignoring_missing("delete_tenant", TenantName=tenant_name)

    async def delete_boundary(self, tenant_name: str) -> None:
        await self._run(self._delete_boundary, tenant_name)

    # -- identity

    def _create_identity(self, tenant_name: str, domain: str, mail_from_domain: str | None) -> IdentityResult:
        tenant_arn = self._tenant_arn(tenant_name)
        response = self._call(
            "create_email_identity",
            EmailIdentity=domain,
            # No private key given: Easy DKIM, SES generates the keys and the 3 tokens.
            DkimSigningAttributes={"NextSigningKeyLength": "RSA_2048_BIT"},
        )
        tokens = [str(t) for t in response.get("DkimAttributes", {}).get("Tokens", [])]
        try:
            if mail_from_domain:
                self._call(
                    "put_email_identity_mail_from_attributes",
                    EmailIdentity=domain,
                    MailFromDomain=mail_from_domain,
                    # Until the MX record is published, mail still flows via amazonses.com.
                    BehaviorOnMxFailure="USE_DEFAULT_VALUE",
                )
            self._call(
                "create_tenant_resource_association",
                TenantName=tenant_name,
                ResourceArn=self._sibling_arn(tenant_arn, "identity", domain),
            )
        except ProviderError:
            # Undo the identity so a retry of the whole setup does not hit AlreadyExists.
            self._call_ignoring_missing("delete_email_identity", EmailIdentity=domain)
            raise
        return IdentityResult(dkim_tokens=tokens, tenant_ref=tenant_arn, region=self.region)

    async def create_identity(
        self, tenant_name: str, domain: str, mail_from_domain: str | None
    ) -> IdentityResult:
        return await self._run(self._create_identity, tenant_name, domain, mail_from_domain)

    def _delete_identity(self, tenant_name: str, domain: str) -> None:
        self._disassociate(tenant_name, "identity", domain)
        self._call_ignoring_missing("delete_email_identity", EmailIdentity=domain)

    async def delete_identity(self, tenant_name: str, domain: str) -> None:
        await self._run(self._delete_identity, tenant_name, domain)

    # -- configuration sets

    def _ensure_pool(self, pool: str) -> None:
        # Pools are shared by every use case of one email type and tier; create on first
        # use and treat "already exists" as success so concurrent creators both win.
        try:
            self._call("create_dedicated_ip_pool", PoolName=pool, ScalingMode="MANAGED")
        except ProviderError as exc:
            if not exc.already_exists:
                raise

    def _create_configuration_set(self, name: str, pool: str, tenant_name: str | None) -> None:
        self._ensure_pool(pool)
        self._call(
            "create_configuration_set",
            ConfigurationSetName=name,
            DeliveryOptions={"SendingPoolName": pool, "TlsPolicy": "REQUIRE"},
            ReputationOptions={"ReputationMetricsEnabled": True},
            SendingOptions={"SendingEnabled": True},
            SuppressionOptions={"SuppressedReasons": ["BOUNCE", "COMPLAINT"]},
        )
        if tenant_name is None:
            return
        try:
            tenant_arn = self._tenant_arn(tenant_name)
            self._call(
                "create_tenant_resource_association",
                TenantName=tenant_name,
                ResourceArn=self._sibling_arn(tenant_arn, "configuration-set", name),
            )
        except ProviderError:
            # An orphaned set would make the retry fail with AlreadyExists.
            self._call_ignoring_missing("delete_configuration_set", ConfigurationSetName=name)
            raise

    async def create_configuration_set(self, name: str, pool_name: str, tenant_name: str | None) -> None:
        await self._run(self._create_configuration_set, name, pool_name, tenant_name)

    def _update_configuration_set_pool(self, name: str, pool: str) -> None:
        self._ensure_pool(pool)
        # PutConfigurationSetDeliveryOptions replaces all delivery options, so resend TLS too.
        self._call(
            "put_configuration_set_delivery_options",
            ConfigurationSetName=name,
            SendingPoolName=pool,
            TlsPolicy="REQUIRE",
        )

    async def update_configuration_set_pool(self, name: str, pool_name: str) -> None:
        await self._run(self._update_configuration_set_pool, name, pool_name)

    def _delete_configuration_set(self, name: str, tenant_name: str | None) -> None:
        if tenant_name is not None:
            self._disassociate(tenant_name, "configuration-set", name)
        # The pool stays: other use cases of the same type and tier send through it.
        # Deleting the set is what removes this use case's binding to it.
        self._call_ignoring_missing("delete_configuration_set", ConfigurationSetName=name)

    async def delete_configuration_set(self, name: str, tenant_name: str | None = None) -> None:
        await self._run(self._delete_configuration_set, name, tenant_name)


# --------------------------------------------------------------------------- sandbox


def _dkim_token() -> str:
    # 20 random bytes in base32 are 32 characters, the length and alphabet of SES's tokens.
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii").lower()


class SandboxEmailProvider:
    """Offline stand-in: DKIM tokens made up locally, nothing provisioned anywhere."""

    mode = "sandbox"

    def __init__(self, region: str = "us-east-1") -> None:
        self.region = region

    async def create_boundary(self, tenant_name: str) -> str | None:
        return None

    async def create_identity(
        self, tenant_name: str, domain: str, mail_from_domain: str | None
    ) -> IdentityResult:
        return IdentityResult(
            dkim_tokens=[_dkim_token() for _ in range(3)], tenant_ref=None, region=self.region
        )

    async def delete_identity(self, tenant_name: str, domain: str) -> None:
        return None

    async def delete_boundary(self, tenant_name: str) -> None:
        return None

    async def create_configuration_set(self, name: str, pool_name: str, tenant_name: str | None) -> None:
        return None

    async def update_configuration_set_pool(self, name: str, pool_name: str) -> None:
        return None

    async def delete_configuration_set(self, name: str, tenant_name: str | None = None) -> None:
        return None


def build_email_provider(
    mode: str,
    *,
    region: str = "us-east-1",
    endpoint_url: str | None = None,
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
) -> EmailProvider:
    """Provider for ``SWITCHBOARD_PROVIDER_MODE``: ``sandbox`` or ``live``/``ses``."""
    if mode == "sandbox":
        return SandboxEmailProvider(region)
    if mode in ("live", "ses"):
        return SesEmailProvider(region, endpoint_url, access_key_id, secret_access_key)
    raise ValueError(f"unknown email provider mode {mode!r}")
