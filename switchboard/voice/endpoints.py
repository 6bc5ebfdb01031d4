"""/v1/twilio-setup and /v1/phone-number: thin handlers over the voice services."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from switchboard.core.deps import DB, CurrentPrincipal
from switchboard.core.errors import ErrorBody
from switchboard.voice.schemas import (
    PhoneNumberAssign,
    PhoneNumberCreate,
    PhoneNumberList,
    PhoneNumberRead,
    PhoneNumberSync,
    PhoneNumberSyncResult,
    ProfileDecision,
    ProfileStatus,
    TwilioSetupCreate,
    TwilioSetupList,
    TwilioSetupRead,
)
from switchboard.voice.service import CALLBACK_PATH, PhoneNumberService, TwilioSetupService

ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorBody, "description": "Missing or invalid API key"},
    403: {"model": ErrorBody, "description": "Missing permission"},
    404: {"model": ErrorBody, "description": "Not found (or another tenant's)"},
    422: {"model": ErrorBody, "description": "Invalid input: the field and the rule"},
}
CONFLICT: dict[int | str, dict[str, object]] = {409: {"model": ErrorBody, "description": "Conflict"}}
PROVIDER: dict[int | str, dict[str, object]] = {
    502: {"model": ErrorBody, "description": "Twilio refused the operation"},
    503: {"model": ErrorBody, "description": "Twilio unavailable; nothing was changed"},
}

setups_router = APIRouter(prefix="/v1/twilio-setup", tags=["Twilio setups"], responses=ERRORS)
numbers_router = APIRouter(prefix="/v1/phone-number", tags=["phone numbers"], responses=ERRORS)
callbacks_router = APIRouter(tags=["Twilio setups"])


def setup_service(request: Request) -> TwilioSetupService:
    svc: TwilioSetupService = request.app.state.twilio_setups
    return svc


def number_service(request: Request) -> PhoneNumberService:
    svc: PhoneNumberService = request.app.state.phone_numbers
    return svc


Setups = Annotated[TwilioSetupService, Depends(setup_service)]
Numbers = Annotated[PhoneNumberService, Depends(number_service)]


@setups_router.post(
    "",
    response_model=TwilioSetupRead,
    status_code=status.HTTP_201_CREATED,
    responses={**CONFLICT, **PROVIDER},
)
async def create_twilio_setup(
    body: TwilioSetupCreate, session: DB, principal: CurrentPrincipal, svc: Setups
) -> TwilioSetupRead:
    """Create a Twilio setup: check the account and submit its customer profile for review."""
    return await svc.read(session, await svc.create(session, principal, body))


@setups_router.get("", response_model=TwilioSetupList)
async def list_twilio_setups(
    session: DB,
    principal: CurrentPrincipal,
    svc: Setups,
    organization_id: Annotated[uuid.UUID | None, Query(description="Filter by organization")] = None,
) -> TwilioSetupList:
    """List Twilio setups with their customer profile status."""
    setups = await svc.list_setups(session, principal, organization_id)
    return TwilioSetupList(items=[await svc.read(session, s) for s in setups])


@setups_router.get("/{setup_id}", response_model=TwilioSetupRead)
async def get_twilio_setup(
    setup_id: uuid.UUID, session: DB, principal: CurrentPrincipal, svc: Setups
) -> TwilioSetupRead:
    """Get one Twilio setup."""
    return await svc.read(session, await svc.get(session, principal, setup_id))


@setups_router.delete("/{setup_id}", status_code=status.HTTP_204_NO_CONTENT, responses=CONFLICT)
async def delete_twilio_setup(
    setup_id: uuid.UUID, session: DB, principal: CurrentPrincipal, svc: Setups
) -> Response:
    """Delete a Twilio setup, its numbers and its stored token; 409 while use cases use it."""
    await svc.delete(session, principal, setup_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@setups_router.post(
    "/{setup_id}/customer-profile/approve", response_model=TwilioSetupRead, responses=CONFLICT
)
async def approve_customer_profile(
    setup_id: uuid.UUID,
    session: DB,
    principal: CurrentPrincipal,
    svc: Setups,
    body: ProfileDecision | None = None,
) -> TwilioSetupRead:
    """Platform admin: approve a pending customer profile now."""
    reason = body.reason if body else None
    setup = await svc.decide_profile(session, principal, setup_id, ProfileStatus.APPROVED, reason)
    return await svc.read(session, setup)


@setups_router.post("/{setup_id}/customer-profile/reject", response_model=TwilioSetupRead, responses=CONFLICT)
async def reject_customer_profile(
    setup_id: uuid.UUID, body: ProfileDecision, session: DB, principal: CurrentPrincipal, svc: Setups
) -> TwilioSetupRead:
    """Platform admin: reject a pending customer profile, saying why."""
    setup = await svc.decide_profile(session, principal, setup_id, ProfileStatus.REJECTED, body.reason)
    return await svc.read(session, setup)


@numbers_router.get("", response_model=PhoneNumberList)
async def list_phone_numbers(
    session: DB,
    principal: CurrentPrincipal,
    svc: Numbers,
    twilio_setup_id: Annotated[uuid.UUID | None, Query(description="Numbers of this Twilio setup")] = None,
    use_case_id: Annotated[uuid.UUID | None, Query(description="Numbers assigned to this use case")] = None,
    unassigned: Annotated[
        bool | None, Query(description="true: only free numbers; false: only assigned")
    ] = None,
) -> PhoneNumberList:
    """List phone numbers."""
    numbers = await svc.list_numbers(
        session, principal, twilio_setup_id=twilio_setup_id, use_case_id=use_case_id, unassigned=unassigned
    )
    return PhoneNumberList(items=[svc.read(n) for n in numbers])


@numbers_router.post(
    "", response_model=PhoneNumberRead, status_code=status.HTTP_201_CREATED, responses=CONFLICT
)
async def add_phone_number(
    body: PhoneNumberCreate, session: DB, principal: CurrentPrincipal, svc: Numbers
) -> PhoneNumberRead:
    """Attach a phone number to a Twilio setup; 409 if it is already on the platform."""
    return svc.read(await svc.create(session, principal, body))


@numbers_router.post("/sync", response_model=PhoneNumberSyncResult, responses=PROVIDER)
async def sync_phone_numbers(
    body: PhoneNumberSync, session: DB, principal: CurrentPrincipal, svc: Numbers
) -> PhoneNumberSyncResult:
    """Import the Twilio account's incoming voice numbers into its setup."""
    return await svc.sync(session, principal, body.twilio_setup_id)


@numbers_router.get("/{number_id}", response_model=PhoneNumberRead)
async def get_phone_number(
    number_id: uuid.UUID, session: DB, principal: CurrentPrincipal, svc: Numbers
) -> PhoneNumberRead:
    """Get one phone number."""
    return svc.read(await svc.get(session, principal, number_id))


@numbers_router.post("/{number_id}/assign", response_model=PhoneNumberRead, responses=CONFLICT)
async def assign_phone_number(
    number_id: uuid.UUID, body: PhoneNumberAssign, session: DB, principal: CurrentPrincipal, svc: Numbers
) -> PhoneNumberRead:
    """Assign the number to a voice use case of the same Twilio setup."""
    return svc.read(await svc.assign(session, principal, number_id, body.use_case_id))


@numbers_router.post("/{number_id}/unassign", response_model=PhoneNumberRead)
async def unassign_phone_number(
    number_id: uuid.UUID, session: DB, principal: CurrentPrincipal, svc: Numbers
) -> PhoneNumberRead:
    """Take the number off its use case."""
    return svc.read(await svc.unassign(session, principal, number_id))


@numbers_router.delete("/{number_id}", status_code=status.HTTP_204_NO_CONTENT, responses=CONFLICT)
async def delete_phone_number(
    number_id: uuid.UUID, session: DB, principal: CurrentPrincipal, svc: Numbers
) -> Response:
    """Detach a phone number from its setup; 409 while it is assigned."""
    await svc.delete(session, principal, number_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@callbacks_router.post(CALLBACK_PATH, status_code=status.HTTP_204_NO_CONTENT, include_in_schema=False)
async def customer_profile_callback(
    setup_id: uuid.UUID, request: Request, session: DB, svc: Setups
) -> Response:
    """TrustHub status callback (X-Twilio-Signature with the account's token; no API key)."""
    form = await request.form()
    params = {key: [v for v in form.getlist(key) if isinstance(v, str)] for key in form}
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    # Twilio signs the URL it was given: ours as configured, or the one this request arrived at.
    urls = list(dict.fromkeys([svc.settings.public_base_url.rstrip("/") + path, str(request.url)]))
    await svc.profile_callback(session, setup_id, urls, params, request.headers.get("x-twilio-signature"))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
