"""The SES adapter over real HTTP against the local SES v2 emulator, plus naming rules."""

from __future__ import annotations

import pickle
import re
import socket
import uuid
from typing import Any

import boto3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from switchboard.email.provider import (
    EMAIL_TYPES,
    TIERS,
    ProviderError,
    SandboxEmailProvider,
    SesEmailProvider,
    configuration_set_name,
    pool_name,
)
from tests.emulators.ses import SesEmulator
from tests.emulators.ses_fixtures import (  # noqa: F401 - fixtures
    TEST_ACCESS_KEY_ID,
    TEST_REGION,
    TEST_SECRET_ACCESS_KEY,
    aws_test_env,
    ses_emulator,
)

TOKEN = re.compile(r"^[a-z2-7]{32}$")


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _provider(emulator: SesEmulator, max_attempts: int = 3) -> SesEmailProvider:
    return SesEmailProvider(
        TEST_REGION,
        emulator.url,
        TEST_ACCESS_KEY_ID,
        TEST_SECRET_ACCESS_KEY,
        connect_timeout=2,
        read_timeout=5,
        max_attempts=max_attempts,
    )


@pytest.fixture
def provider(ses_emulator: SesEmulator) -> SesEmailProvider:  # noqa: F811 - fixture
    return _provider(ses_emulator)


@pytest.fixture
def client(ses_emulator: SesEmulator) -> Any:  # noqa: F811 - fixture
    """A plain boto3 client, to look at the provider's work the way SES shows it."""
    return boto3.client(
        "sesv2",
        region_name=TEST_REGION,
        endpoint_url=ses_emulator.url,
        aws_access_key_id=TEST_ACCESS_KEY_ID,
        aws_secret_access_key=TEST_SECRET_ACCESS_KEY,
    )


async def _setup(provider: SesEmailProvider) -> tuple[str, str, str]:
    tenant = _unique("tenant")
    domain = f"{_unique('mail')}.example.com"
    tenant_arn = await provider.create_boundary(tenant)
    assert tenant_arn is not None
    return tenant, domain, tenant_arn


# --------------------------------------------------------------------------- setups


async def test_boundary_and_identity_are_provisioned(
    provider: SesEmailProvider,
    ses_emulator: SesEmulator,  # noqa: F811 - fixture
    client: Any,
) -> None:
    tenant, domain, tenant_arn = await _setup(provider)
    assert re.match(rf"^arn:aws:ses:us-east-1:{ses_emulator.account_id}:tenant/{tenant}/tn-\w+$", tenant_arn)

    result = await provider.create_identity(tenant, domain, f"bounce.{domain}")

    assert len(result.dkim_tokens) == 3
    assert len(set(result.dkim_tokens)) == 3
    assert all(TOKEN.match(token) for token in result.dkim_tokens)
    assert result.tenant_ref == tenant_arn
    assert result.region == "us-east-1"

    identity = client.get_email_identity(EmailIdentity=domain)
    assert identity["IdentityType"] == "DOMAIN"
    assert identity["DkimAttributes"]["Tokens"] == result.dkim_tokens
    assert identity["DkimAttributes"]["Status"] == "PENDING"
    assert identity["MailFromAttributes"] == {
        "MailFromDomain": f"bounce.{domain}",
        "MailFromDomainStatus": "PENDING",
        "BehaviorOnMxFailure": "USE_DEFAULT_VALUE",
    }

    resources = client.list_tenant_resources(TenantName=tenant)["TenantResources"]
    assert resources == [{"ResourceType": "EMAIL_IDENTITY", "ResourceArn": ses_emulator.identity_arn(domain)}]


async def test_duplicates_are_permanent_already_exists(provider: SesEmailProvider, client: Any) -> None:
    tenant, domain, _ = await _setup(provider)
    first = await provider.create_identity(tenant, domain, f"bounce.{domain}")

    with pytest.raises(ProviderError) as boundary_error:
        await provider.create_boundary(tenant)
    assert boundary_error.value.code == "AlreadyExistsException"
    assert boundary_error.value.already_exists
    assert not boundary_error.value.retriable

    with pytest.raises(ProviderError) as identity_error:
        await provider.create_identity(tenant, domain, f"bounce.{domain}")
    assert identity_error.value.code == "AlreadyExistsException"
    assert not identity_error.value.retriable
    # The failed second attempt must not roll back the identity that already existed.
    assert client.get_email_identity(EmailIdentity=domain)["DkimAttributes"]["Tokens"] == first.dkim_tokens


async def test_identity_for_missing_tenant_is_not_found(
    provider: SesEmailProvider,
    ses_emulator: SesEmulator,  # noqa: F811 - fixture
) -> None:
    domain = f"{_unique('mail')}.example.com"
    with pytest.raises(ProviderError) as error:
        await provider.create_identity(_unique("ghost"), domain, f"bounce.{domain}")
    assert error.value.not_found
    assert not error.value.retriable
    assert domain not in ses_emulator.identities


async def test_failed_mail_from_rolls_the_identity_back(
    provider: SesEmailProvider,
    ses_emulator: SesEmulator,  # noqa: F811 - fixture
) -> None:
    tenant, domain, _ = await _setup(provider)
    with pytest.raises(ProviderError) as error:
        await provider.create_identity(tenant, domain, "bounce.elsewhere.org")
    assert error.value.code == "BadRequestException"
    assert not error.value.retriable
    assert domain not in ses_emulator.identities
    # ... so the whole setup can be retried.
    result = await provider.create_identity(tenant, domain, f"bounce.{domain}")
    assert len(result.dkim_tokens) == 3


async def test_deleting_a_setup_removes_identity_and_boundary_idempotently(
    provider: SesEmailProvider,
    ses_emulator: SesEmulator,  # noqa: F811 - fixture
    client: Any,
) -> None:
    tenant, domain, _ = await _setup(provider)
    await provider.create_identity(tenant, domain, f"bounce.{domain}")

    await provider.delete_identity(tenant, domain)
    await provider.delete_boundary(tenant)

    assert domain not in ses_emulator.identities
    assert tenant not in ses_emulator.tenants
    with pytest.raises(client.exceptions.NotFoundException):
        client.get_email_identity(EmailIdentity=domain)
    with pytest.raises(client.exceptions.NotFoundException):
        client.get_tenant(TenantName=tenant)

    # Again, with everything already gone: still fine.
    await provider.delete_identity(tenant, domain)
    await provider.delete_boundary(tenant)


async def test_delete_identity_disassociates_before_deleting(
    provider: SesEmailProvider,
    ses_emulator: SesEmulator,  # noqa: F811 - fixture
) -> None:
    tenant, domain, _ = await _setup(provider)
    await provider.create_identity(tenant, domain, f"bounce.{domain}")
    start = len(ses_emulator.requests)

    await provider.delete_identity(tenant, domain)

    paths = [(r.method, r.path) for r in ses_emulator.requests[start:]]
    assert ("POST", "/v2/email/tenants/resources/delete") in paths
    assert paths[-1] == ("DELETE", f"/v2/email/identities/{domain}")
    assert ses_emulator.tenants[tenant].resources == {}


# --------------------------------------------------------------------------- use cases


async def test_configuration_set_is_bound_to_pool_and_tenant(
    provider: SesEmailProvider,
    ses_emulator: SesEmulator,  # noqa: F811 - fixture
    client: Any,
) -> None:
    tenant, _, _ = await _setup(provider)
    name = configuration_set_name(_unique("Acme"), "Receipts")
    pool = pool_name("transactional", "onboarding")

    await provider.create_configuration_set(name, pool, tenant)

    config = client.get_configuration_set(ConfigurationSetName=name)
    assert config["DeliveryOptions"]["SendingPoolName"] == pool
    assert config["ReputationOptions"]["ReputationMetricsEnabled"] is True
    assert sorted(config["SuppressionOptions"]["SuppressedReasons"]) == ["BOUNCE", "COMPLAINT"]
    assert client.get_dedicated_ip_pool(PoolName=pool)["DedicatedIpPool"]["ScalingMode"] == "MANAGED"
    assert ses_emulator.configuration_set_arn(name) in ses_emulator.tenants[tenant].resources

    # A second use case of the same type and tier shares the existing pool.
    other = configuration_set_name(_unique("Acme"), "Invoices")
    await provider.create_configuration_set(other, pool, tenant)
    assert ses_emulator.configuration_sets[other].sending_pool_name == pool

    with pytest.raises(ProviderError) as error:
        await provider.create_configuration_set(name, pool, tenant)
    assert error.value.already_exists
    assert not error.value.retriable


async def test_tier_change_moves_the_configuration_set_to_another_pool(
    provider: SesEmailProvider,
    ses_emulator: SesEmulator,  # noqa: F811 - fixture
    client: Any,
) -> None:
    name = configuration_set_name(_unique("Acme"), "News")
    await provider.create_configuration_set(name, pool_name("marketing", "onboarding"), None)

    await provider.update_configuration_set_pool(name, pool_name("marketing", "standard"))
    delivery = client.get_configuration_set(ConfigurationSetName=name)["DeliveryOptions"]
    assert delivery == {"SendingPoolName": "marketing-standard", "TlsPolicy": "REQUIRE"}

    await provider.update_configuration_set_pool(name, pool_name("marketing", "suspended"))
    assert ses_emulator.configuration_sets[name].sending_pool_name == "shared-marketing"

    with pytest.raises(ProviderError) as error:
        await provider.update_configuration_set_pool(_unique("missing"), "marketing-standard")
    assert error.value.not_found


async def test_deleting_a_use_case_tears_down_set_and_binding(
    provider: SesEmailProvider,
    ses_emulator: SesEmulator,  # noqa: F811 - fixture
    client: Any,
) -> None:
    tenant, _, _ = await _setup(provider)
    name = configuration_set_name(_unique("Acme"), "Alerts")
    pool = pool_name("transactional", "premium")
    await provider.create_configuration_set(name, pool, tenant)

    await provider.delete_configuration_set(name, tenant)

    assert name not in ses_emulator.configuration_sets
    assert ses_emulator.tenants[tenant].resources == {}
    with pytest.raises(client.exceptions.NotFoundException):
        client.get_configuration_set(ConfigurationSetName=name)
    # The pool is shared with other use cases of the same type and tier, so it stays.
    assert pool in ses_emulator.pools

    await provider.delete_configuration_set(name, tenant)
    await provider.delete_configuration_set(name)


# --------------------------------------------------------------------------- failures


@pytest.mark.parametrize(
    ("status", "code"),
    [(500, "InternalFailure"), (503, "ServiceUnavailable"), (429, "TooManyRequestsException")],
)
async def test_server_errors_and_throttling_are_retriable(
    ses_emulator: SesEmulator,  # noqa: F811 - fixture
    status: int,
    code: str,
) -> None:
    provider = _provider(ses_emulator, max_attempts=1)
    with ses_emulator.fault(status, code), pytest.raises(ProviderError) as error:
        await provider.create_boundary(_unique("tenant"))
    assert error.value.retriable
    assert error.value.code == code
    assert error.value.status == status
    # Survives the trip through a job queue.
    copy = pickle.loads(pickle.dumps(error.value))
    assert (copy.code, copy.retriable, copy.status) == (code, True, status)


async def test_a_single_blip_is_absorbed_by_the_client_retry(
    ses_emulator: SesEmulator,  # noqa: F811 - fixture
) -> None:
    provider = _provider(ses_emulator, max_attempts=2)
    tenant = _unique("tenant")
    start = len(ses_emulator.requests)
    ses_emulator.inject_fault(503, "ServiceUnavailable", times=1, path_prefix="/v2/email/tenants")
    try:
        assert await provider.create_boundary(tenant)
    finally:
        ses_emulator.clear_faults()
    statuses = [r.status for r in ses_emulator.requests[start:]]
    assert statuses == [503, 200]


async def test_unreachable_endpoint_is_retriable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Nothing listens on the port any more: connection refused.
    provider = SesEmailProvider(
        TEST_REGION, f"http://127.0.0.1:{port}", TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY, max_attempts=1
    )
    with pytest.raises(ProviderError) as error:
        await provider.create_boundary("tenant")
    assert error.value.retriable
    assert error.value.code == "ConnectionError"


# --------------------------------------------------------------------------- sandbox


async def test_sandbox_makes_up_three_distinct_tokens() -> None:
    sandbox = SandboxEmailProvider("us-east-1")
    assert await sandbox.create_boundary("tenant") is None
    result = await sandbox.create_identity("tenant", "mail.example.com", "bounce.mail.example.com")
    assert len(set(result.dkim_tokens)) == 3
    assert all(TOKEN.match(token) for token in result.dkim_tokens)
    assert result.tenant_ref is None
    assert result.region == "us-east-1"
    # Nothing external to tear down, but the calls exist and succeed.
    await sandbox.create_configuration_set("a--b", "transactional-onboarding", "tenant")
    await sandbox.update_configuration_set_pool("a--b", "transactional-standard")
    await sandbox.delete_configuration_set("a--b")
    await sandbox.delete_identity("tenant", "mail.example.com")
    await sandbox.delete_boundary("tenant")


# --------------------------------------------------------------------------- naming


def test_configuration_set_name_examples() -> None:
    assert configuration_set_name("Acme Co", "Receipts") == "acme-co--receipts"
    assert configuration_set_name("Acme", "Co Receipts") == "acme--co-receipts"
    assert configuration_set_name("  Acme -  Co ", "Order--Updates") == "acme-co--order-updates"
    assert configuration_set_name("Café", "Reçus") == "cafe--recus"


def test_configuration_set_name_keeps_entity_and_name_apart() -> None:
    assert configuration_set_name("Acme Co", "Receipts") != configuration_set_name("Acme", "Co Receipts")
    assert configuration_set_name("Acme-Co", "Receipts") != configuration_set_name("Acme", "Co-Receipts")


def test_configuration_set_name_rejects_parts_without_letters() -> None:
    with pytest.raises(ValueError, match="at least one letter"):
        configuration_set_name("---", "Receipts")


_PART = st.text(alphabet="abcXYZ -", min_size=1, max_size=31).filter(lambda s: any(c.isalpha() for c in s))


@settings(database=None)  # keep the property test from writing .hypothesis/ into the tree
@given(entity=_PART, name=_PART)
def test_configuration_set_name_splits_back_into_its_parts(entity: str, name: str) -> None:
    result = configuration_set_name(entity, name)
    assert re.match(r"^[a-z0-9_-]{1,64}$", result)
    # The "--" separator appears exactly once, so two different (entity, name)
    # pairs can only share a set name if their normalised parts are equal.
    entity_part, name_part = result.split("--")
    assert entity_part == configuration_set_name(entity, "x").split("--")[0]
    assert name_part == configuration_set_name("x", name).split("--")[1]


def test_configuration_set_name_fits_ses_limit_for_longest_inputs() -> None:
    result = configuration_set_name("a" * 31, "b" * 31)
    assert len(result) == 64


def test_pool_names() -> None:
    assert pool_name("transactional", "onboarding") == "transactional-onboarding"
    assert pool_name("marketing", "premium") == "marketing-premium"
    assert pool_name("transactional", "suspended") == "shared-transactional"
    assert pool_name("marketing", "suspended") == "shared-marketing"


def test_transactional_and_marketing_never_share_a_pool() -> None:
    transactional = {pool_name("transactional", tier) for tier in TIERS}
    marketing = {pool_name("marketing", tier) for tier in TIERS}
    assert transactional.isdisjoint(marketing)
    assert len({pool_name(t, tier) for t in EMAIL_TYPES for tier in TIERS}) == len(EMAIL_TYPES) * len(TIERS)


def test_pool_name_rejects_unknown_values() -> None:
    with pytest.raises(ValueError, match="email_type"):
        pool_name("bulk", "standard")
    with pytest.raises(ValueError, match="tier"):
        pool_name("marketing", "gold")
