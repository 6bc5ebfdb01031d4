"""Reputation tiers end to end: SES events drive suspension, the job promotes and recovers, and the
sending pool follows the tier at the provider (SES emulator, live adapter)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from switchboard.email.provider import SesEmailProvider
from switchboard.models import AuditLog, EmailEvent, UseCase
from switchboard.models.base import utcnow
from switchboard.usecases.service import UseCaseService
from switchboard.usecases.tasks import evaluate_all, prune_events
from tests.emulators.ses import SesEmulator
from tests.emulators.ses_fixtures import (  # noqa: F401 - fixtures
    TEST_ACCESS_KEY_ID,
    TEST_REGION,
    TEST_SECRET_ACCESS_KEY,
    aws_test_env,
    ses_emulator,
)
from tests.support.sns import SnsSigner, ses_event
from tests.support.tenants import Tenant
from tests.support.voice import email_use_case, ses_setup_row


def deliver(client: TestClient, message: dict[str, Any]) -> Any:
    r = client.post(
        "/v1/ses-events", content=json.dumps(message), headers={"x-amz-sns-message-type": message["Type"]}
    )
    assert r.status_code == 200, r.text
    return r.json()


def reputation(client: TestClient, t: Tenant, use_case: dict[str, Any]) -> dict[str, Any]:
    r = client.get(f"/v1/use-case/{use_case['id']}/reputation", headers=t.headers)
    assert r.status_code == 200, r.text
    return r.json()


def add_events(
    db: Any,
    use_case_id: str,
    kind: str,
    count: int,
    *,
    age: timedelta = timedelta(hours=1),
    subtype: str | None = None,
) -> None:
    """Events as ingestion stores them, written directly to build up large windows quickly."""

    async def go(session: Any) -> None:
        when = utcnow() - age
        session.add_all(
            EmailEvent(
                sns_message_id=str(uuid.uuid4()),
                topic_arn="arn:aws:sns:us-east-1:123456789012:ses-events",
                use_case_id=uuid.UUID(use_case_id),
                kind=kind,
                subtype=subtype,
                ses_message_id=f"m-{uuid.uuid4().hex}",
                occurred_at=when,
                payload={},
            )
            for _ in range(count)
        )

    db.session(go)


def set_tier(db: Any, use_case_id: str, tier: str, age: timedelta, before: str | None = None) -> None:
    async def go(session: Any) -> None:
        await session.execute(
            update(UseCase)
            .where(UseCase.id == uuid.UUID(use_case_id))
            .values(tier=tier, tier_changed_at=utcnow() - age, tier_before_suspension=before)
        )

    db.session(go)


@pytest.fixture
def use_case(client: TestClient, tenant: Tenant, db: Any) -> dict[str, Any]:
    return email_use_case(client, tenant, ses_setup_row(db, tenant))


def test_new_use_case_history_starts_at_onboarding(
    client: TestClient, tenant: Tenant, use_case: dict[str, Any]
) -> None:
    data = reputation(client, tenant, use_case)
    assert data["tier"] == "onboarding"
    assert data["daily_send_cap"] == 1000
    assert data["sending_pool"] == "transactional-onboarding"
    assert data["pool_in_sync"] is True
    assert data["warning"] is None
    assert [(h["from_tier"], h["to_tier"]) for h in data["history"]] == [(None, "onboarding")]
    assert [w["window"] for w in data["windows"]] == ["24h", "72h", "7d", "30d"]


def test_bounces_over_sns_suspend_the_use_case_with_figures(
    client: TestClient, tenant: Tenant, signer: SnsSigner, use_case: dict[str, Any], db: Any
) -> None:
    config_set = use_case["configuration_set_name"]
    for _ in range(90):
        deliver(client, signer.notification(ses_event("Delivery", config_set)))
    for _ in range(9):
        deliver(client, signer.notification(ses_event("Bounce", config_set)))
    # 9 hard bounces in 99 sends: under 100 sends, no verdict yet (but the review warning shows).
    data = reputation(client, tenant, use_case)
    assert data["tier"] == "onboarding"
    deliver(client, signer.notification(ses_event("Bounce", config_set)))
    data = reputation(client, tenant, use_case)
    assert data["tier"] == "suspended"
    assert data["sending_pool"] == "shared-transactional"
    assert data["daily_send_cap"] == 200
    assert data["warning"] == "Review level: bounce rate 10% >= 5% over the last 24h"
    latest = data["history"][0]
    assert (latest["from_tier"], latest["to_tier"]) == ("onboarding", "suspended")
    assert latest["figures"]["window"] == "24h"
    assert latest["figures"]["sends"] == 100
    assert latest["figures"]["bounces"] == 10
    assert latest["figures"]["bounce_rate"] == 0.1
    assert "bounce rate 10% >= 10%" in latest["reason"]
    assert latest["actor"] == "system"
    assert client.get(f"/v1/use-case/{use_case['id']}", headers=tenant.headers).json()["tier"] == "suspended"

    async def audit(session: Any) -> list[AuditLog]:
        rows = await session.scalars(select(AuditLog).where(AuditLog.action == "use_case.tier_changed"))
        return list(rows)

    (entry,) = db.session(audit)
    assert entry.before == {"tier": "onboarding"}
    assert entry.after is not None
    assert entry.after["tier"] == "suspended"


def test_transient_bounces_do_not_count(
    client: TestClient, tenant: Tenant, use_case: dict[str, Any], db: Any
) -> None:
    add_events(db, use_case["id"], "bounce", 200, subtype="Transient")
    assert db.run(evaluate_all) == 0
    data = reputation(client, tenant, use_case)
    assert data["tier"] == "onboarding"
    assert data["windows"][0]["sends"] == 200
    assert data["windows"][0]["bounces"] == 0


def test_complaints_suspend_too(
    client: TestClient, tenant: Tenant, use_case: dict[str, Any], db: Any
) -> None:
    add_events(db, use_case["id"], "delivery", 1000)
    add_events(db, use_case["id"], "complaint", 5, subtype="abuse")
    assert db.run(evaluate_all) == 1
    assert reputation(client, tenant, use_case)["history"][0]["figures"]["complaints"] == 5


def test_the_job_promotes_after_a_clean_week(
    client: TestClient, tenant: Tenant, use_case: dict[str, Any], db: Any
) -> None:
    add_events(db, use_case["id"], "delivery", 1000, age=timedelta(days=3))
    add_events(db, use_case["id"], "bounce", 10, age=timedelta(days=2), subtype="Permanent")
    assert db.run(evaluate_all) == 0  # created just now: not 7 days at onboarding yet
    set_tier(db, use_case["id"], "onboarding", timedelta(days=8))
    assert db.run(evaluate_all) == 1
    data = reputation(client, tenant, use_case)
    assert data["tier"] == "standard"
    assert data["daily_send_cap"] == 50_000
    assert data["sending_pool"] == "transactional-standard"
    promotion = data["history"][0]
    assert (promotion["from_tier"], promotion["to_tier"]) == ("onboarding", "standard")
    assert promotion["figures"]["window"] == "7d"
    assert promotion["figures"]["sends"] == 1010
    assert promotion["figures"]["bounces"] == 10
    # Idempotent: nothing more to do until standard has its own month.
    assert db.run(evaluate_all) == 0


def test_the_job_lifts_a_suspension_after_72_clean_hours(
    client: TestClient, tenant: Tenant, use_case: dict[str, Any], db: Any
) -> None:
    set_tier(db, use_case["id"], "suspended", timedelta(hours=71), before="standard")
    assert db.run(evaluate_all) == 0
    set_tier(db, use_case["id"], "suspended", timedelta(hours=73), before="standard")
    add_events(db, use_case["id"], "delivery", 100, age=timedelta(hours=10))
    assert db.run(evaluate_all) == 1
    data = reputation(client, tenant, use_case)
    assert data["tier"] == "standard"
    assert data["history"][0]["from_tier"] == "suspended"
    assert data["history"][0]["figures"]["window"] == "72h"


def test_old_events_leave_the_windows_and_are_pruned(
    client: TestClient, tenant: Tenant, use_case: dict[str, Any], db: Any
) -> None:
    add_events(db, use_case["id"], "delivery", 3, age=timedelta(days=2))
    add_events(db, use_case["id"], "delivery", 2, age=timedelta(days=40))
    windows = {w["window"]: w["sends"] for w in reputation(client, tenant, use_case)["windows"]}
    assert windows == {"24h": 0, "72h": 3, "7d": 3, "30d": 3}
    assert db.run(prune_events) == 2


# --------------------------------------------------------------------------- live SES (emulator)


@pytest.fixture
def live_ses(client: TestClient, ses_emulator: SesEmulator) -> Iterator[tuple[SesEmulator, UseCaseService]]:  # noqa: F811
    ses_emulator.reset()
    svc: UseCaseService = client.app.state.use_cases  # type: ignore[attr-defined]
    old = svc._provider
    svc.provider = SesEmailProvider(
        TEST_REGION,
        ses_emulator.url,
        TEST_ACCESS_KEY_ID,
        TEST_SECRET_ACCESS_KEY,
        connect_timeout=2,
        read_timeout=5,
        max_attempts=1,
    )
    yield ses_emulator, svc
    svc._provider = old
    ses_emulator.reset()


def test_live_pool_follows_the_tier_and_delete_tears_down(
    client: TestClient,
    tenant: Tenant,
    db: Any,
    signer: SnsSigner,
    live_ses: tuple[SesEmulator, UseCaseService],
) -> None:
    emulator, svc = live_ses
    ses = ses_setup_row(db, tenant)
    asyncio.run(svc.provider.create_boundary(ses["tenant_name"]))
    created = email_use_case(client, tenant, ses, email_type="marketing")
    config_set = created["configuration_set_name"]
    assert emulator.configuration_sets[config_set].sending_pool_name == "marketing-onboarding"
    assert emulator.configuration_set_arn(config_set) in emulator.tenants[ses["tenant_name"]].resources

    for _ in range(90):
        deliver(client, signer.notification(ses_event("Delivery", config_set)))
    for _ in range(10):
        deliver(client, signer.notification(ses_event("Bounce", config_set)))
    assert reputation(client, tenant, created)["tier"] == "suspended"
    # Suspended marketing falls to the shared marketing pool, never the transactional one.
    assert emulator.configuration_sets[config_set].sending_pool_name == "shared-marketing"

    assert client.delete(f"/v1/use-case/{created['id']}", headers=tenant.headers).status_code == 204
    assert config_set not in emulator.configuration_sets
    assert emulator.configuration_set_arn(config_set) not in emulator.tenants[ses["tenant_name"]].resources


def test_live_failed_pool_switch_keeps_the_tier_and_is_retried(
    client: TestClient, tenant: Tenant, db: Any, live_ses: tuple[SesEmulator, UseCaseService]
) -> None:
    emulator, svc = live_ses
    ses = ses_setup_row(db, tenant)
    asyncio.run(svc.provider.create_boundary(ses["tenant_name"]))
    created = email_use_case(client, tenant, ses)
    add_events(db, created["id"], "delivery", 90)
    add_events(db, created["id"], "bounce", 10, subtype="Permanent")
    with emulator.fault(status=400, code="BadRequestException"):
        assert db.run(lambda rt: evaluate_all(rt, service=svc)) == 1
    data = reputation(client, tenant, created)
    assert data["tier"] == "suspended"
    assert data["pool_in_sync"] is False
    assert (
        emulator.configuration_sets[created["configuration_set_name"]].sending_pool_name
        == "transactional-onboarding"
    )
    # The next run switches the pool without another tier change.
    assert db.run(lambda rt: evaluate_all(rt, service=svc)) == 0
    assert reputation(client, tenant, created)["pool_in_sync"] is True
    assert (
        emulator.configuration_sets[created["configuration_set_name"]].sending_pool_name
        == "shared-transactional"
    )


def test_live_create_when_ses_is_down_creates_nothing(
    client: TestClient, tenant: Tenant, db: Any, live_ses: tuple[SesEmulator, UseCaseService]
) -> None:
    emulator, svc = live_ses
    ses = ses_setup_row(db, tenant)
    asyncio.run(svc.provider.create_boundary(ses["tenant_name"]))
    body = {
        "channel": "email",
        "entity_name": "Acme",
        "name": "Receipts",
        "ses_setup_id": ses["id"],
        "sender_email_address": f"r@{ses['domain']}",
        "email_type": "transactional",
    }
    with emulator.fault(status=503, code="ServiceUnavailable"):
        r = client.post("/v1/use-case", json=body, headers=tenant.headers)
    assert r.status_code == 503
    assert r.json()["error"] == "provider_unavailable"
    assert client.get("/v1/use-case", headers=tenant.headers).json() == {"items": []}
    assert client.post("/v1/use-case", json=body, headers=tenant.headers).status_code == 201
