"""BYOM gating: the platform admin's power card (/rest/v1/admin/organizations/{id}/byom) and the
tenant surfaces it unlocks (/rest/v1/channels/{channel}/preferences)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from switchboard.core.deps import DB, CurrentPrincipal
from switchboard.core.errors import ErrorBody
from switchboard.tenancy.byom import ByomChannel, byom
from switchboard.tenancy.outlet_schemas import (
    ByomFlags,
    ByomUpdate,
    ChannelPreferences,
    ChannelPreferencesUpdate,
)

ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorBody, "description": "Missing or invalid API key"},
    403: {"model": ErrorBody, "description": "Missing permission, or BYOM not allowed (byom_not_allowed)"},
    404: {"model": ErrorBody, "description": "Not found (or another tenant's)"},
    422: {"model": ErrorBody, "description": "Invalid input: the field and the rule"},
}

router = APIRouter(prefix="/rest/v1", tags=["BYOM gating"], responses=ERRORS)


@router.get("/admin/organizations/{organization_id}/byom", response_model=ByomFlags)
async def get_byom(organization_id: uuid.UUID, session: DB, principal: CurrentPrincipal) -> ByomFlags:
    """An organization's BYOM flags (byom_allowed.whatsapp, .sms, .email, .rcs)."""
    return ByomFlags(**await byom.get_flags(session, principal, organization_id))


@router.put("/admin/organizations/{organization_id}/byom", response_model=ByomFlags)
async def put_byom(
    organization_id: uuid.UUID, body: ByomUpdate, session: DB, principal: CurrentPrincipal
) -> ByomFlags:
    """Turn BYOM on or off per channel (platform admins; audit-logged). Omitted channels keep their flag."""
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    return ByomFlags(**await byom.set_flags(session, principal, organization_id, changes))


OrgQuery = Annotated[uuid.UUID | None, Query(description="Platform admins name the organization")]


@router.get("/channels/{channel}/preferences", response_model=ChannelPreferences)
async def get_preferences(
    channel: ByomChannel, session: DB, principal: CurrentPrincipal, organization_id: OrgQuery = None
) -> ChannelPreferences:
    """The channel's customer-perception rule and sender pin, and whether BYOM unlocks them."""
    return ChannelPreferences(**await byom.preferences(session, principal, channel.value, organization_id))


@router.put("/channels/{channel}/preferences", response_model=ChannelPreferences)
async def put_preferences(
    channel: ByomChannel,
    body: ChannelPreferencesUpdate,
    session: DB,
    principal: CurrentPrincipal,
    organization_id: OrgQuery = None,
) -> ChannelPreferences:
    """Set the customer-perception rule or the sender-pin override (only once BYOM is allowed)."""
    data = await byom.set_preferences(
        session,
        principal,
        channel.value,
        body.perception_rule,
        body.sender_pin,
        "sender_pin" in body.model_fields_set and body.sender_pin is None,
        organization_id,
    )
    return ChannelPreferences(**data)
