"""Tenant notifications: written to the outbox in the transaction that causes them, delivered by a job.

Delivery is at least once: a row is claimed (`sending`) before the SMTP conversation and marked
`sent` after it, so a worker that dies in between leaves a `sending` row the sweeper re-queues.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.core.errors import Conflict, Forbidden, NotFound
from switchboard.core.permissions import Principal, Role
from switchboard.core.queue import enqueue_on_commit
from switchboard.models import Membership, Notification, User

QUEUED, SENDING, SENT, FAILED = "queued", "sending", "sent", "failed"
STATUSES = (QUEUED, SENDING, SENT, FAILED)
NOT_CONFIGURED = "SMTP is not configured (SWITCHBOARD_SMTP_URL): kept in the outbox."


def _now() -> datetime:
    return datetime.now(UTC)


def readable_by(principal: Principal) -> Select[Notification]:
    """The outbox is the platform's: only platform admins read it."""
    if not principal.is_platform_admin:
        raise Forbidden("Only platform admins can read the outbox.", code="permission_denied")
    return select(Notification)


def _enqueue(session: AsyncSession, notification_id: uuid.UUID) -> None:
    from switchboard.notifications.tasks import send_notification

    enqueue_on_commit(session, lambda: send_notification(str(notification_id)))


class NotificationService:
    async def admin_emails(self, session: AsyncSession, organization_id: uuid.UUID) -> list[str]:
        rows = await session.scalars(
            select(User.email)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.organization_id == organization_id,
                Membership.role == Role.WORKSPACE_ADMIN.value,
                User.is_active.is_(True),
            )
            .order_by(User.email)
        )
        return list(rows)

    async def notify_org_admins(
        self,
        session: AsyncSession,
        organization_id: uuid.UUID,
        kind: str,
        subject: str,
        body: str,
        *,
        object_type: str | None = None,
        object_id: uuid.UUID | str | None = None,
    ) -> list[Notification]:
        """One email per admin of the organization; each is sent by its own job after commit."""
        created = []
        for email in await self.admin_emails(session, organization_id):
            row = Notification(
                id=uuid.uuid4(),
                organization_id=organization_id,
                kind=kind,
                to=email,
                subject=subject[:300],
                body=body,
                status=QUEUED,
                object_type=object_type,
                object_id=str(object_id) if object_id is not None else None,
            )
            session.add(row)
            _enqueue(session, row.id)
            created.append(row)
        await session.flush()
        return created

    async def list_notifications(
        self,
        session: AsyncSession,
        principal: Principal,
        *,
        status: str | None = None,
        organization_id: uuid.UUID | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[Notification], int]:
        stmt = readable_by(principal)
        if status is not None:
            stmt = stmt.where(Notification.status == status)
        if organization_id is not None:
            stmt = stmt.where(Notification.organization_id == organization_id)
        total = await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = await session.scalars(
            stmt.order_by(Notification.created_at.desc(), Notification.id).limit(limit).offset(offset)
        )
        return list(rows), total

    async def get(
        self, session: AsyncSession, principal: Principal, notification_id: uuid.UUID
    ) -> Notification:
        row = await session.scalar(readable_by(principal).where(Notification.id == notification_id))
        if row is None:
            raise NotFound("Notification not found.")
        return row

    async def resend(
        self, session: AsyncSession, principal: Principal, notification_id: uuid.UUID
    ) -> Notification:
        """Put a failed (or never sent) email back in the queue."""
        row = await self.get(session, principal, notification_id)
        if row.status not in (FAILED, QUEUED):
            raise Conflict(f"This email is {row.status}; only failed or queued ones can be sent again.")
        row.status = QUEUED
        row.last_error = None
        await session.flush()
        _enqueue(session, row.id)
        return row

    # --- used by the jobs -----------------------------------------------------------------------

    async def claim(self, session: AsyncSession, notification_id: uuid.UUID) -> Notification | None:
        """queued -> sending for exactly one worker; None when there is nothing to send."""
        result = await session.execute(
            update(Notification)
            .where(Notification.id == notification_id, Notification.status == QUEUED)
            .values(status=SENDING, attempts=Notification.attempts + 1, updated_at=_now())
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            return None
        return await session.scalar(
            select(Notification)
            .where(Notification.id == notification_id)
            .execution_options(populate_existing=True)
        )

    async def finish(
        self, session: AsyncSession, notification_id: uuid.UUID, status: str, error: str | None = None
    ) -> None:
        values: dict[str, object] = {"status": status, "last_error": error[:1000] if error else None}
        if status == SENT:
            values["sent_at"] = _now()
        await session.execute(
            update(Notification)
            .where(Notification.id == notification_id, Notification.status == SENDING)
            .values(updated_at=_now(), **values)
            .execution_options(synchronize_session=False)
        )

    async def note_not_configured(self, session: AsyncSession, notification_id: uuid.UUID) -> None:
        await session.execute(
            update(Notification)
            .where(Notification.id == notification_id, Notification.status == QUEUED)
            .values(last_error=NOT_CONFIGURED)
            .execution_options(synchronize_session=False)
        )

    async def stale(
        self, session: AsyncSession, smtp_configured: bool, older_than: timedelta
    ) -> list[uuid.UUID]:
        """Rows whose job was lost: `sending` past the cut-off (worker died) go back to queued; queued
        rows past it are re-enqueued once SMTP is configured."""
        cutoff = _now() - older_than
        await session.execute(
            update(Notification)
            .where(Notification.status == SENDING, Notification.updated_at < cutoff)
            .values(status=QUEUED, updated_at=_now())
            .execution_options(synchronize_session=False)
        )
        if not smtp_configured:
            return []
        rows = await session.scalars(
            select(Notification.id)
            .where(Notification.status == QUEUED, Notification.updated_at < cutoff)
            .order_by(Notification.created_at)
            .limit(500)
        )
        return list(rows)


notifications = NotificationService()
