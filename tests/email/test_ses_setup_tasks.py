"""The re-check job: back-off while unverified, daily once verified, drift flips a setup back."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from switchboard.core.runtime import Runtime
from switchboard.email.tasks import recheck_due, recheck_ses_setups
from switchboard.models import AuditLog, SesSetup
from tests.support.dns_server import LocalDnsServer
from tests.support.ses_setups import URL, create_setup, publish
from tests.support.tenants import Tenant

ROOT = Path(__file__).resolve().parents[2]


class Job:
    """Runs `recheck_due` as the worker would, with DNS answered by the local server."""

    def __init__(self, db: Any, dns_server: LocalDnsServer) -> None:
        self.db = db
        self.dns_server = dns_server

    def run(self, now: datetime) -> int:
        async def go(rt: Runtime) -> int:
            settings = rt.settings.model_copy(
                update={"dns_nameservers": self.dns_server.nameserver, "dns_timeout": 3.0}
            )
            return await recheck_due(dataclasses.replace(rt, settings=settings), now)

        return self.db.run(go)  # type: ignore[no-any-return]

    def setup(self, setup_id: str) -> SesSetup:
        async def go(session: Any) -> SesSetup:
            return await session.get(SesSetup, uuid.UUID(setup_id))  # type: ignore[no-any-return]

        return self.db.session(go)  # type: ignore[no-any-return]

    def audit(self, setup_id: str) -> list[AuditLog]:
        async def go(session: Any) -> list[AuditLog]:
            rows = await session.scalars(
                select(AuditLog).where(AuditLog.object_id == setup_id).order_by(AuditLog.created_at)
            )
            return list(rows)

        return self.db.session(go)  # type: ignore[no-any-return]


def minutes(a: datetime | None, b: datetime) -> float:
    assert a is not None
    return (a - b).total_seconds() / 60


def test_unverified_setups_back_off_and_verified_ones_wait_a_day(
    api: TestClient, tenant: Tenant, dns_server: LocalDnsServer, db: Any
) -> None:
    job = Job(db, dns_server)
    setup = create_setup(api, tenant)
    created = job.setup(setup["id"])
    # The customer gets a minute to publish before the first check.
    assert round(minutes(created.next_check_at, created.created_at)) == 1
    now = created.created_at + timedelta(seconds=30)
    assert job.run(now) == 0
    assert dns_server.queries == 0

    # Nothing published: the first check changes every reason (start over at one minute), then
    # each unchanged check doubles the wait, up to an hour.
    waits = []
    now = created.created_at + timedelta(minutes=1)
    for _ in range(9):
        assert job.run(now) == 1
        row = job.setup(setup["id"])
        waits.append(round(minutes(row.next_check_at, now)))
        assert job.run(now) == 0  # not due again at the same moment
        assert row.next_check_at is not None
        now = row.next_check_at
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert job.setup(setup["id"]).dns_verified is False

    # Publishing all records: verified at the next due check, then re-checked daily.
    publish(dns_server, setup["dns_records"])
    assert job.run(now) == 1
    row = job.setup(setup["id"])
    assert row.dns_verified is True
    assert row.verified_at == now
    assert row.dns_checked_at == now
    assert row.check_failures == 0
    assert minutes(row.next_check_at, now) == 24 * 60
    assert api.get(URL, headers=tenant.headers).json()["items"][0]["dns_verified"] is True
    assert job.run(now + timedelta(hours=23)) == 0
    now = now + timedelta(days=1)
    assert job.run(now) == 1
    assert job.setup(setup["id"]).dns_verified is True

    # Drift: a record disappears after verification.
    dkim = setup["dns_records"][1]
    dns_server.remove(dkim["address"], "CNAME")
    now = now + timedelta(days=1)
    assert job.run(now) == 1
    row = job.setup(setup["id"])
    assert row.dns_verified is False
    assert row.verified_at is None
    assert [r["verified"] for r in row.dns_records] == [True, False, True, True, True, True, True]
    assert row.dns_records[1]["reason"].startswith(f"No CNAME record found at {dkim['address']}")
    assert minutes(row.next_check_at, now) == 1  # back to frequent checks
    drift = job.audit(setup["id"])[-1]
    assert drift.action == "ses_setup.drift"
    assert drift.actor == "system"
    assert drift.organization_id == tenant.organization_id
    assert drift.reason is not None
    assert f"CNAME {dkim['address']}" in drift.reason
    assert drift.after == {"dns_verified": False, "records": {f"CNAME {dkim['address']}": False}}
    actions = [e.action for e in job.audit(setup["id"])]
    assert actions == [
        "ses_setup.created",
        "ses_setup.verification_changed",
        "ses_setup.drift",
    ]


def test_one_run_checks_every_due_setup(
    api: TestClient, make_tenant: Any, dns_server: LocalDnsServer, db: Any
) -> None:
    job = Job(db, dns_server)
    a, b = make_tenant("A"), make_tenant("B")
    first = create_setup(api, a, "a", "a.example.com")
    second = create_setup(api, b, "b", "b.example.com")
    publish(dns_server, first["dns_records"])
    later = job.setup(second["id"]).created_at + timedelta(minutes=5)
    assert job.run(later) == 2
    assert dns_server.queries == 14
    assert job.setup(first["id"]).dns_verified is True
    assert job.setup(second["id"]).dns_verified is False


def test_a_real_worker_runs_the_queued_job(
    api: TestClient, tenant: Tenant, dns_server: LocalDnsServer, db: Any, tmp_path: Path
) -> None:
    setup = create_setup(api, tenant)
    publish(dns_server, setup["dns_records"])

    async def make_due(session: Any) -> None:
        await session.execute(update(SesSetup).values(next_check_at=datetime(2000, 1, 1)))

    db.session(make_due)
    # The worker process reads the same database and queue from the environment conftest set.
    env = os.environ | {
        "SWITCHBOARD_DNS_NAMESERVERS": dns_server.nameserver,
        "SWITCHBOARD_DNS_TIMEOUT": "3",
        "SWITCHBOARD_LOG_LEVEL": "WARNING",
    }
    # A file, not a pipe: a chatty worker must never block on a full pipe.
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log_file:
        worker = subprocess.Popen(
            [sys.executable, "-m", "switchboard.cli", "worker", "--threads", "1"],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        recheck_ses_setups()  # enqueue the periodic job now instead of waiting for the minute
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and worker.poll() is None:
            if api.get(URL, headers=tenant.headers).json()["items"][0]["dns_verified"]:
                break
            time.sleep(0.1)
        else:
            raise AssertionError(f"the worker did not run the job: {log_path.read_text()[-2000:]}")
    finally:
        if worker.poll() is None:
            worker.terminate()
            worker.wait(timeout=10)
    row = Job(db, dns_server).setup(setup["id"])
    assert row.dns_checked_at is not None
    assert minutes(row.next_check_at, row.dns_checked_at) == 24 * 60
    assert dns_server.queries == 7
