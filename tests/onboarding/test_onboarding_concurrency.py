"""Two admins acting on the same version at once: one wins, the other gets 409, nothing is half applied."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from switchboard.core.db import transaction
from switchboard.core.errors import Conflict
from switchboard.core.permissions import Principal, Role
from switchboard.models import AuditLog, Notification, OnboardingRequest, ProvisioningStep
from switchboard.onboarding.service import OnboardingService
from tests.support.jobs import JobRunner
from tests.support.onboarding import ADMIN_URL, admin_get, ok, request_channel
from tests.support.tenants import Tenant


def race(client: TestClient, calls: list[tuple[str, dict[str, Any], Tenant]]) -> list[Any]:
    """Fire the calls at the same moment from separate threads; returns the responses in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int, url: str, body: dict[str, Any], who: Tenant) -> None:
        barrier.wait()
        results[i] = client.post(url, json=body, headers=who.headers)

    threads = [threading.Thread(target=run, args=(i, *c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


@pytest.fixture
def second_admin(db: Any) -> Tenant:
    from switchboard.tenancy.service import tenancy

    email = f"root2-{uuid.uuid4().hex[:8]}@example.com"
    created = db.session(lambda s: tenancy.create_platform_admin(s, email))
    return Tenant(uuid.UUID(int=0), created.user_id, created.api_key, email, "")


def counts(db: Any, request_id: str) -> dict[str, int]:
    rid = uuid.UUID(request_id)

    async def go(session: Any) -> dict[str, int]:
        audit = await session.scalar(
            select(func.count()).select_from(AuditLog).where(AuditLog.object_id == str(rid))
        )
        steps = await session.scalar(
            select(func.count()).select_from(ProvisioningStep).where(ProvisioningStep.request_id == rid)
        )
        mails = await session.scalar(select(func.count()).select_from(Notification))
        return {"audit": audit or 0, "steps": steps or 0, "mails": mails or 0}

    result: dict[str, int] = db.session(go)
    return result


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("start", "start"),
        ("start", "reject"),
        ("provision", "provision"),
        ("reject", "activate"),
    ],
)
def test_two_admins_same_version_one_wins(
    client: TestClient,
    org: Tenant,
    admin: Tenant,
    second_admin: Tenant,
    jobs: JobRunner,
    db: Any,
    first: str,
    second: str,
) -> None:
    channel = "push"
    rid = request_channel(client, org, channel)["id"]
    if first != "start":
        ok(client.post(f"{ADMIN_URL}/{rid}/start", json={"version": 1}, headers=admin.headers))
    if first == "reject":
        ok(client.post(f"{ADMIN_URL}/{rid}/provision", json={"version": 2}, headers=admin.headers))
        jobs.run()
    seen = admin_get(client, admin, rid)
    before = counts(db, rid)

    def body(action: str) -> dict[str, Any]:
        return {"version": seen["version"]} | (
            {"reason": "Prohibited use case"} if action == "reject" else {}
        )

    responses = race(
        client,
        [
            (f"{ADMIN_URL}/{rid}/{first}", body(first), admin),
            (f"{ADMIN_URL}/{rid}/{second}", body(second), second_admin),
        ],
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 409], [r.text for r in responses]
    winner = next(r for r in responses if r.status_code == 200).json()
    loser = next(r for r in responses if r.status_code == 409).json()
    assert loser["error"] in {"stale_version", "illegal_transition"}
    now = admin_get(client, admin, rid)
    # The loser was told the state that won; the request moved exactly one step.
    assert (loser["status"], loser["version"]) == (now["status"], now["version"])
    assert now["version"] == seen["version"] + 1
    assert now["status"] == winner["status"]
    after = counts(db, rid)
    assert after["audit"] == before["audit"] + 1
    # Push has one step: provisioning twice at once still creates it once.
    assert after["steps"] == (1 if "provision" in (first, second) or first == "reject" else 0)
    assert after["mails"] - before["mails"] == (1 if now["status"] in ("rejected", "active") else 0)


def test_a_write_between_read_and_update_loses(
    client: TestClient, org: Tenant, admin: Tenant, db: Any
) -> None:
    """Deterministic interleaving: admin A has read version 1; admin B's start commits; A's start with
    the version it read must fail at the compare-and-set, leaving B's result untouched."""
    rid = uuid.UUID(request_channel(client, org, "sms")["id"])
    a = Principal(admin.user_id, admin.email, Role.PLATFORM_ADMIN, None)
    b = Principal(uuid.uuid4(), "b@example.com", Role.PLATFORM_ADMIN, None)

    async def go(rt: Any) -> tuple[str, int, str]:
        svc = OnboardingService(rt.vault, rt.settings)
        outcome = ""
        async with transaction(rt.sessionmaker) as session_a:
            stale = await session_a.get(OnboardingRequest, rid)  # A's view: version 1, pending
            assert stale is not None
            assert stale.version == 1
            async with transaction(rt.sessionmaker) as session_b:
                await svc.start(session_b, b, rid, 1)
            # A acts on what it read; its UPDATE ... WHERE version = 1 matches nothing now.
            try:
                await svc._apply(
                    session_a, a, stale, svc_action("reject"), 1, values={"rejection_reason": "x"}
                )
            except Conflict as exc:
                outcome = f"{exc.code}:{exc.extra['status']}:{exc.extra['version']}"
            await session_a.rollback()
        async with transaction(rt.sessionmaker) as session:
            row = await session.get(OnboardingRequest, rid)
            assert row is not None
            return row.status, row.version, outcome

    status, version, outcome = db.run(go)
    assert (status, version) == ("in_progress", 2)
    assert outcome == "stale_version:in_progress:2"


def svc_action(name: str) -> Any:
    from switchboard.onboarding.service import Action

    return Action(name)
