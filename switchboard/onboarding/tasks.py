"""Jobs: run provisioning steps, check DNS records, and sweep up work whose job was lost.

Huey deletes a job from the queue when a worker takes it, so a worker killed mid-step loses the job;
the state lives in the database instead, and `sweep_onboarding` (every minute, and once after each
worker start, when the dead worker's leases have run out) enqueues the work again.
"""

from __future__ import annotations

import logging
import uuid

from huey import crontab

from switchboard.core.config import get_settings
from switchboard.core.queue import huey, run_async
from switchboard.core.runtime import Runtime
from switchboard.onboarding import provisioning

log = logging.getLogger("switchboard.onboarding")


@huey.task()
def advance_provisioning(request_id: str) -> None:
    """Run the request's pending steps in order; transient provider errors retry with back-off."""
    run_async(lambda rt: provisioning.advance(rt, uuid.UUID(request_id)))


@huey.task(retries=3, retry_delay=5, retry_backoff=2)
def verify_onboarding_dns(request_id: str) -> None:
    run_async(lambda rt: provisioning.check_dns(rt, uuid.UUID(request_id)))


async def sweep(rt: Runtime) -> provisioning.SweepResult:
    from switchboard.tenancy.tasks import allocate_senders

    found = await provisioning.stale_work(rt)
    for request_id in found.provisioning:
        advance_provisioning(str(request_id))
    for request_id in found.dns:
        verify_onboarding_dns(str(request_id))
    for organization_id in found.allocations:
        allocate_senders(str(organization_id))
    if found.provisioning or found.dns or found.allocations:
        log.info(
            "re-enqueued lost onboarding work",
            extra={
                "provisioning": len(found.provisioning),
                "dns": len(found.dns),
                "allocations": len(found.allocations),
            },
        )
    return found


@huey.task()
def sweep_onboarding_now() -> None:
    run_async(sweep)


@huey.periodic_task(crontab(minute="*"))
def sweep_onboarding() -> None:
    run_async(sweep)


@huey.on_startup("onboarding-recovery")
def schedule_recovery() -> None:
    # A worker that just started may be replacing one that died mid-step: sweep as soon as such a
    # step's lease can have run out, rather than waiting for the minute mark.
    sweep_onboarding_now.schedule(delay=get_settings().onboarding_step_lease_seconds + 1)
