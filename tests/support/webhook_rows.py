"""Counting what webhooks stored, as an operator would check the tables."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from switchboard.models import InboundMessage, WebhookEvent


def count_events(db: Any) -> int:
    async def go(s: Any) -> int:
        return int(await s.scalar(select(func.count()).select_from(WebhookEvent)) or 0)

    return int(db.session(go))


def inbound(db: Any) -> list[InboundMessage]:
    async def go(s: Any) -> list[InboundMessage]:
        return list(await s.scalars(select(InboundMessage).order_by(InboundMessage.created_at)))

    return list(db.session(go))


def events(db: Any) -> list[WebhookEvent]:
    async def go(s: Any) -> list[WebhookEvent]:
        return list(await s.scalars(select(WebhookEvent).order_by(WebhookEvent.received_at)))

    return list(db.session(go))
