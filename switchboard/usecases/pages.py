"""Settings -> Use cases: the list with tier badges, and one use case with its tier history."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import select

from switchboard.core.permissions import Permission
from switchboard.models import SesSetup, TwilioSetup
from switchboard.usecases.service import UseCaseService
from switchboard.web.auth import WebPrincipal
from switchboard.web.routing import WebDB, WebRoute
from switchboard.web.templating import render

router = APIRouter(prefix="/settings/use-cases", route_class=WebRoute, include_in_schema=False)

TIER_STYLES = {
    "onboarding": "text-bg-info",
    "standard": "text-bg-primary",
    "premium": "text-bg-success",
    "suspended": "text-bg-danger",
}
CHANNEL_LABELS = {
    "outbound_voice": "Outbound voice",
    "inbound_voice": "Inbound voice",
    "ringless_voicemail": "Ringless voicemail",
    "email": "Email",
}


def service(request: Request) -> UseCaseService:
    svc: UseCaseService = request.app.state.use_cases
    return svc


Service = Annotated[UseCaseService, Depends(service)]


@router.get("")
async def index(request: Request, session: WebDB, principal: WebPrincipal, svc: Service) -> Response:
    """Every use case of the organization, email ones with their reputation tier."""
    use_cases = await svc.list_use_cases(session, principal)
    ses_ids = {u.ses_setup_id for u in use_cases if u.ses_setup_id}
    twilio_ids = {u.twilio_setup_id for u in use_cases if u.twilio_setup_id}
    setups: dict[uuid.UUID | None, str] = {}
    if ses_ids:
        for row in await session.execute(
            select(SesSetup.id, SesSetup.domain_identity).where(SesSetup.id.in_(ses_ids))
        ):
            setups[row.id] = row.domain_identity
    if twilio_ids:
        for row in await session.execute(
            select(TwilioSetup.id, TwilioSetup.name).where(TwilioSetup.id.in_(twilio_ids))
        ):
            setups[row.id] = row.name
    rows = [
        {
            "id": u.id,
            "entity_name": u.entity_name,
            "name": u.name,
            "channel": CHANNEL_LABELS.get(u.channel, u.channel),
            "setup": setups.get(u.ses_setup_id or u.twilio_setup_id, ""),
            "tier": u.tier,
            "tier_style": TIER_STYLES.get(u.tier or "", "text-bg-secondary"),
            "warning": u.reputation_warning,
            "sender": u.sender_email_address,
        }
        for u in use_cases
    ]
    return render(request, "usecases/index.html", {"rows": rows})


@router.get("/{use_case_id}")
async def detail(
    use_case_id: uuid.UUID, request: Request, session: WebDB, principal: WebPrincipal, svc: Service
) -> Response:
    """One use case; for email, its tier, cap, pool, window figures and tier history."""
    principal.require(Permission.CHANNELS_READ)
    use_case = await svc.get(session, principal, use_case_id)
    reputation = (
        await svc.reputation(session, principal, use_case_id) if use_case.channel == "email" else None
    )
    context = {
        "use_case": svc.read(use_case),
        "channel_label": CHANNEL_LABELS.get(use_case.channel, use_case.channel),
        "reputation": reputation,
        "tier_styles": TIER_STYLES,
    }
    return render(request, "usecases/detail.html", context)
