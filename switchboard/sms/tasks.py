"""SMS jobs: follow submitted 10DLC registrations until the provider answers, and compare our numbers
with the provider's inventory (reclaimed numbers, hosted number orders)."""

from __future__ import annotations

import logging
import uuid

from huey import crontab
from sqlalchemy import select

from switchboard.channels.service import ChannelAccountService
from switchboard.connectors.adapter import ProviderError
from switchboard.core.config import Settings
from switchboard.core.db import session_scope
from switchboard.core.queue import huey, run_async
from switchboard.core.runtime import Runtime
from switchboard.models import SmsConnection
from switchboard.sms.provider import NumberProvider, build_number_provider
from switchboard.sms.registration import RegistrationStatus
from switchboard.sms.service import SmsService

log = logging.getLogger("switchboard.sms.tasks")


def provider_for(settings: Settings) -> NumberProvider:
    """The number provider jobs use (tests point it at the emulator)."""
    return build_number_provider(settings)


def service_for(rt: Runtime) -> SmsService:
    return SmsService(
        rt.vault,
        provider_for(rt.settings),
        ChannelAccountService(rt.vault, rt.settings.public_base_url, rt.settings),
        rt.settings,
    )


async def refresh_one(rt: Runtime, connection_id: uuid.UUID) -> str | None:
    """Ask the provider about one submitted registration; returns its status afterwards."""
    service = service_for(rt)
    async for session in session_scope(rt.sessionmaker):
        conn = await session.get(SmsConnection, connection_id, with_for_update=not rt.settings.is_sqlite)
        status = await service.refresh_registration(session, conn) if conn else None
    return status


async def refresh_submitted(rt: Runtime) -> int:
    """The sweeper: every submitted registration, each in its own transaction."""
    async for session in session_scope(rt.sessionmaker):
        ids = list(
            await session.scalars(
                select(SmsConnection.id).where(
                    SmsConnection.registration_status == RegistrationStatus.SUBMITTED.value
                )
            )
        )
    for connection_id in ids:
        try:
            await refresh_one(rt, connection_id)
        except ProviderError as exc:
            # One provider hiccup must not stop the others; the next sweep tries again.
            log.warning(
                "registration refresh failed", extra={"connection_id": str(connection_id), "code": exc.code}
            )
    return len(ids)


async def sync_inventory(rt: Runtime) -> dict[str, int]:
    service = service_for(rt)
    async for session in session_scope(rt.sessionmaker):
        counts = await service.sync_numbers(session)
    return counts


@huey.task(retries=5, retry_delay=60)
def refresh_sms_registration(connection_id: str) -> str | None:
    """Right after a submission or a provider event; retried while the provider is unavailable."""
    return run_async(lambda rt: refresh_one(rt, uuid.UUID(connection_id)))


@huey.periodic_task(crontab(minute="*/10"))
def poll_sms_registrations() -> int:
    """Every 10 minutes, in case a provider event was missed."""
    with huey.lock_task("sms-registration-poll"):
        return run_async(refresh_submitted)


@huey.periodic_task(crontab(minute="7,37"))
def sync_sms_numbers() -> dict[str, int]:
    """Twice an hour: numbers the provider reclaimed, and hosted number orders."""
    with huey.lock_task("sms-number-sync"):
        return run_async(sync_inventory)
