"""A real worker process (`python -m switchboard.cli worker`) killed with SIGKILL in the middle of a
provisioning step, then started again: the request completes, every step succeeded once in effect."""

from __future__ import annotations

import signal
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from switchboard.models import AuditLog, ProvisioningStep, VaultSecret
from tests.support.jobs import JobRunner
from tests.support.onboarding import act, admin_get, ok, request_channel
from tests.support.tenants import Tenant
from tests.support.worker import StartWorker, start_worker, worker_logs  # noqa: F401

# Short leases, so the test does not wait long for a dead worker's lease to run out.
LEASE = {"SWITCHBOARD_ONBOARDING_STEP_LEASE_SECONDS": "2"}


def steps(db: Any, request_id: str) -> dict[str, ProvisioningStep]:
    rid = uuid.UUID(request_id)

    async def go(session: Any) -> dict[str, ProvisioningStep]:
        rows = await session.scalars(select(ProvisioningStep).where(ProvisioningStep.request_id == rid))
        return {r.name: r for r in rows}

    result: dict[str, ProvisioningStep] = db.session(go)
    return result


def wait_for(what: str, check: Callable[[], bool], timeout: float, logs: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}; worker logs:\n{worker_logs(logs)}")


def test_worker_killed_mid_step_then_restarted(
    client: TestClient,
    org: Tenant,
    admin: Tenant,
    db: Any,
    jobs: JobRunner,
    start_worker: StartWorker,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
) -> None:
    rid = request_channel(client, org, "whatsapp")["id"]
    ok(act(client, admin, rid, "start"))
    ok(act(client, admin, rid, "provision"))  # the job now waits in the shared queue

    # Every sandbox provider call takes 2 s, so the worker can be caught inside a step.
    first = start_worker(SWITCHBOARD_SANDBOX_DELAY_SECONDS="2", **LEASE)
    wait_for(
        "the second step to be running",
        lambda: steps(db, rid)["add_to_waba"].status == "running",
        timeout=60,
        logs=tmp_path,
    )
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert first.returncode == -signal.SIGKILL

    left = steps(db, rid)
    assert left["allocate_number"].status == "succeeded"
    assert (left["add_to_waba"].status, left["add_to_waba"].attempts) == ("running", 1)
    assert left["register_number"].status == "pending"
    number = left["allocate_number"].result["phone_number"]

    # A new worker notices the dead worker's lease ran out and takes the step over.
    start_worker(**LEASE)
    wait_for(
        "every step to succeed",
        lambda: all(s.status == "succeeded" for s in steps(db, rid).values()),
        timeout=90,
        logs=tmp_path,
    )
    done = steps(db, rid)
    assert {name: s.attempts for name, s in done.items()} == {
        "allocate_number": 1,
        "add_to_waba": 2,
        "register_number": 1,
        "configure_webhook": 1,
    }
    assert done["allocate_number"].result["phone_number"] == number  # the first result stands
    assert all(s.claim_token is None and s.last_error is None for s in done.values())

    async def effects(session: Any) -> tuple[int, int]:
        succeeded = await session.scalar(
            select(func.count())
            .select_from(AuditLog)
            .where(AuditLog.object_id == rid, AuditLog.action == "onboarding_step.succeeded")
        )
        secrets = await session.scalar(
            select(func.count()).select_from(VaultSecret).where(VaultSecret.owner_id == uuid.UUID(rid))
        )
        return succeeded or 0, secrets or 0

    succeeded, secrets = db.session(effects)
    assert succeeded == 4  # one recorded completion per step
    assert secrets == 2  # one PIN and one webhook verify token, created once
    assert ok(act(client, admin, rid, "activate"))["status"] == "active"
    assert admin_get(client, admin, rid)["steps"][1]["result"]["phone_number_id"]
