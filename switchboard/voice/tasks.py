"""Voice jobs: the sandbox's scheduled customer profile review, and polling Twilio for live ones."""

from __future__ import annotations

from datetime import datetime

from huey import crontab

from switchboard.core.db import session_scope
from switchboard.core.queue import huey, run_async, task_lock
from switchboard.core.runtime import Runtime
from switchboard.voice.service import TwilioSetupService


async def approve_sandbox_profiles(rt: Runtime, now: datetime | None = None) -> int:
    """Approve sandbox profiles pending longer than sandbox_profile_approval_seconds."""
    service = TwilioSetupService(rt.vault, rt.settings)
    approved = 0
    async for session in session_scope(rt.sessionmaker):
        approved = await service.approve_due_sandbox(session, now)
    return approved


async def poll_live_profiles(rt: Runtime) -> int:
    """Ask Twilio for the status of pending live customer profiles."""
    if rt.settings.provider_mode != "live":
        return 0
    service = TwilioSetupService(rt.vault, rt.settings)
    decided = 0
    async for session in session_scope(rt.sessionmaker):
        decided = await service.refresh_live_profiles(session)
    return decided


@huey.periodic_task(crontab(minute="*"))
def review_sandbox_customer_profiles() -> int:
    """Every minute (idempotent: only pending profiles past their delay change)."""
    with task_lock("voice-sandbox-review", ttl=300):
        return run_async(approve_sandbox_profiles)


@huey.periodic_task(crontab(minute="*/10"))
def poll_customer_profiles() -> int:
    """Every ten minutes."""
    with task_lock("voice-profile-poll", ttl=900):
        return run_async(poll_live_profiles)
