"""analytics.emit: ids and types only, so no payload can reach analytics."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from switchboard.analytics import AnalyticsPropertyError, emit
from switchboard.connectors.base import ChannelType
from switchboard.models import AnalyticsEvent
from tests.support.tenants import Tenant


def test_ids_and_types_are_recorded(db: Any, tenant: Tenant) -> None:
    account_id = uuid.uuid4()

    async def go(session: Any) -> list[AnalyticsEvent]:
        await emit(
            session, "channel.connected", tenant.organization_id,
            channel_account_id=account_id, workspace_id=str(tenant.organization_id), agent_id=None,
            type=ChannelType.SMS, provider_type="twilio",
        )  # fmt: skip
        await session.flush()
        return list(await session.scalars(select(AnalyticsEvent)))

    (event,) = db.session(go)
    assert event.name == "channel.connected"
    assert event.properties == {
        "channel_account_id": str(account_id),
        "workspace_id": str(tenant.organization_id),
        "agent_id": None,
        "type": "SMS",
        "provider_type": "twilio",
    }


@pytest.mark.parametrize(
    ("name", "props"),
    [
        ("channel.connected", {"brand_name": "Acme"}),
        ("channel.connected", {"contact_email": "a@b.example"}),
        ("channel.connected", {"channel_account_id": "Acme Widgets"}),
        ("channel.connected", {"channel_account_id": 42}),
        ("channel.connected", {"type": "Acme Widgets Inc"}),
        ("channel.connected", {"type": {"nested": 1}}),
        ("channel.connected", {"registration_number": "12-3456789"}),
        ("Channel Connected", {}),
        ("connected", {}),
    ],
)
def test_anything_else_is_refused(db: Any, tenant: Tenant, name: str, props: dict[str, Any]) -> None:
    async def go(session: Any) -> None:
        await emit(session, name, tenant.organization_id, **props)

    with pytest.raises(AnalyticsPropertyError):
        db.session(go)
