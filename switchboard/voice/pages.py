"""Settings -> Voice: Twilio setups with their customer profile status, and their phone numbers."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse

from switchboard.core.errors import field_error
from switchboard.core.permissions import Permission
from switchboard.models import UseCase
from switchboard.usecases.service import readable_by as use_cases_readable_by
from switchboard.voice.schemas import ProfileStatus
from switchboard.voice.service import PhoneNumberService, TwilioSetupService
from switchboard.web.auth import FormPrincipal, WebPrincipal
from switchboard.web.routing import WebDB, WebRoute
from switchboard.web.templating import render, set_flash

router = APIRouter(prefix="/settings/voice", route_class=WebRoute, include_in_schema=False)

INDEX = "/settings/voice"
PROFILE_STYLES = {"pending": "text-bg-warning", "approved": "text-bg-success", "rejected": "text-bg-danger"}


def setup_service(request: Request) -> TwilioSetupService:
    svc: TwilioSetupService = request.app.state.twilio_setups
    return svc


def number_service(request: Request) -> PhoneNumberService:
    svc: PhoneNumberService = request.app.state.phone_numbers
    return svc


Setups = Annotated[TwilioSetupService, Depends(setup_service)]
Numbers = Annotated[PhoneNumberService, Depends(number_service)]


def _back(kind: str, text: str) -> Response:
    response = RedirectResponse(INDEX, status_code=303)
    set_flash(response, kind, text)
    return response


@router.get("")
async def index(
    request: Request, session: WebDB, principal: WebPrincipal, setups: Setups, numbers: Numbers
) -> Response:
    """Setups with their customer profile badge; numbers with their use case and assign controls."""
    setup_rows = [await setups.read(session, s) for s in await setups.list_setups(session, principal)]
    number_rows = await numbers.list_numbers(session, principal)
    voice_use_cases = list(
        await session.scalars(
            use_cases_readable_by(principal)
            .where(UseCase.channel != "email")
            .order_by(UseCase.entity_name, UseCase.name)
        )
    )
    by_setup: dict[uuid.UUID | None, list[UseCase]] = {}
    for use_case in voice_use_cases:
        by_setup.setdefault(use_case.twilio_setup_id, []).append(use_case)
    names = {u.id: f"{u.entity_name} · {u.name}" for u in voice_use_cases}
    context = {
        "setups": setup_rows,
        "setup_names": {s.id: s.name for s in setup_rows},
        "numbers": number_rows,
        "use_cases_by_setup": by_setup,
        "use_case_names": names,
        "profile_styles": PROFILE_STYLES,
        "can_manage": principal.has(Permission.CHANNELS_MANAGE),
        "can_review": principal.has(Permission.ONBOARDING_REVIEW),
    }
    return render(request, "voice/index.html", context)


@router.post("/numbers/{number_id}/assign")
async def assign(
    number_id: uuid.UUID, request: Request, session: WebDB, principal: FormPrincipal, numbers: Numbers
) -> Response:
    """Assign a number to a voice use case of its setup (the service enforces the rules)."""
    raw = (await request.form()).get("use_case_id")
    try:
        use_case_id = uuid.UUID(raw if isinstance(raw, str) else "")
    except ValueError as exc:
        raise field_error("use_case_id", "uuid_parsing", "Choose a use case.") from exc
    number = await numbers.assign(session, principal, number_id, use_case_id)
    return _back("success", f"{number.phone_number} is assigned.")


@router.post("/numbers/{number_id}/unassign")
async def unassign(
    number_id: uuid.UUID, session: WebDB, principal: FormPrincipal, numbers: Numbers
) -> Response:
    """Take a number off its use case."""
    number = await numbers.unassign(session, principal, number_id)
    return _back("success", f"{number.phone_number} is unassigned.")


@router.post("/setups/{setup_id}/profile/{decision}")
async def decide(
    setup_id: uuid.UUID,
    decision: str,
    request: Request,
    session: WebDB,
    principal: FormPrincipal,
    setups: Setups,
) -> Response:
    """Platform admin: approve or reject a pending customer profile."""
    targets = {"approve": ProfileStatus.APPROVED, "reject": ProfileStatus.REJECTED}
    if decision not in targets:
        raise field_error("decision", "enum", "Approve or reject.")
    raw = (await request.form()).get("reason")
    reason = raw.strip()[:1000] if isinstance(raw, str) and raw.strip() else None
    setup = await setups.decide_profile(session, principal, setup_id, targets[decision], reason)
    return _back("success", f"The customer profile of {setup.name} is {targets[decision].value}.")
