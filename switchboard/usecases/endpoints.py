"""/v1/use-case and /v1/ses-events: thin handlers over the use case and SES event services."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from switchboard.core.deps import DB, CurrentPrincipal
from switchboard.core.errors import ErrorBody
from switchboard.usecases.events import SesEventService
from switchboard.usecases.schemas import (
    Channel,
    EmailUseCaseRead,
    ReputationRead,
    UseCaseCreate,
    UseCaseList,
    UseCaseRead,
    UseCaseUpdate,
    VoiceUseCaseRead,
)
from switchboard.usecases.service import UseCaseService

ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorBody, "description": "Missing or invalid API key"},
    403: {"model": ErrorBody, "description": "Missing permission"},
    404: {"model": ErrorBody, "description": "Not found (or another tenant's)"},
    422: {"model": ErrorBody, "description": "Invalid input: the field and the rule"},
}
_CHANNELS = {c.value for c in Channel}
_TAG_ERRORS = {"union_tag_not_found", "union_tag_invalid"}


def _flatten_union_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Report fields as the client named them: pydantic puts the channel tag in every location."""
    out = []
    for err in errors:
        loc = list(err.get("loc", ()))
        if len(loc) > 2 and loc[0] == "body" and loc[1] in _CHANNELS:
            del loc[1]
        if err.get("type") in _TAG_ERRORS and loc == ["body"]:
            loc = ["body", "channel"]
        out.append({**err, "loc": tuple(loc)})
    return out


class UnionBodyRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                raise RequestValidationError(
                    _flatten_union_errors(list(exc.errors())), body=exc.body
                ) from None

        return route


router = APIRouter(prefix="/v1/use-case", tags=["use cases"], responses=ERRORS, route_class=UnionBodyRoute)
events_router = APIRouter(tags=["SES events"])


def service(request: Request) -> UseCaseService:
    svc: UseCaseService = request.app.state.use_cases
    return svc


def events_service(request: Request) -> SesEventService:
    svc: SesEventService = request.app.state.ses_events
    return svc


Service = Annotated[UseCaseService, Depends(service)]


@router.post(
    "",
    response_model=UseCaseRead,
    status_code=status.HTTP_201_CREATED,
    responses={
        409: {
            "model": ErrorBody,
            "description": "Setup not ready (customer profile not approved, DNS not verified), duplicate "
            "entity_name/name, configuration set name in use, or sender address bound to another use case",
        },
        422: {
            "model": ErrorBody,
            "description": "Invalid input, or `sender_domain_mismatch` (with `expected_domain`)",
        },
        503: {"model": ErrorBody, "description": "Amazon SES unavailable; nothing was created"},
    },
)
async def create_use_case(
    body: Annotated[UseCaseCreate, Body()], session: DB, principal: CurrentPrincipal, svc: Service
) -> VoiceUseCaseRead | EmailUseCaseRead:
    """Create a use case: a voice channel on a Twilio setup, or email on an SES setup."""
    return svc.read(await svc.create(session, principal, body))


@router.get("", response_model=UseCaseList)
async def list_use_cases(
    session: DB,
    principal: CurrentPrincipal,
    svc: Service,
    entity_name: Annotated[str | None, Query(description="Filter by business entity name")] = None,
    channel: Annotated[Channel | None, Query(description="Filter by channel")] = None,
    twilio_setup_id: Annotated[
        uuid.UUID | None, Query(description="Use cases bound to this Twilio setup")
    ] = None,
    ses_setup_id: Annotated[uuid.UUID | None, Query(description="Use cases bound to this SES setup")] = None,
) -> UseCaseList:
    """List use cases; each item is a Twilio or an email use case, by `channel`."""
    rows = await svc.list_use_cases(
        session,
        principal,
        entity_name=entity_name,
        channel=channel,
        twilio_setup_id=twilio_setup_id,
        ses_setup_id=ses_setup_id,
    )
    return UseCaseList(items=[svc.read(r) for r in rows])


@router.get("/{use_case_id}", response_model=UseCaseRead)
async def get_use_case(
    use_case_id: uuid.UUID, session: DB, principal: CurrentPrincipal, svc: Service
) -> VoiceUseCaseRead | EmailUseCaseRead:
    """Get one use case."""
    return svc.read(await svc.get(session, principal, use_case_id))


@router.patch(
    "/{use_case_id}",
    response_model=UseCaseRead,
    responses={409: {"model": ErrorBody, "description": "email_type cannot change after creation"}},
)
async def update_use_case(
    use_case_id: uuid.UUID, body: UseCaseUpdate, session: DB, principal: CurrentPrincipal, svc: Service
) -> VoiceUseCaseRead | EmailUseCaseRead:
    """Change a use case's description (email_type is immutable)."""
    return svc.read(await svc.update(session, principal, use_case_id, body))


@router.delete(
    "/{use_case_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={
        409: {"model": ErrorBody, "description": "Phone numbers are still assigned: unassign them first"},
        503: {"model": ErrorBody, "description": "Amazon SES unavailable; nothing was deleted"},
    },
)
async def delete_use_case(
    use_case_id: uuid.UUID, session: DB, principal: CurrentPrincipal, svc: Service
) -> Response:
    """Delete a use case; for email, its configuration set and pool binding too."""
    await svc.delete(session, principal, use_case_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{use_case_id}/reputation", response_model=ReputationRead)
async def use_case_reputation(
    use_case_id: uuid.UUID, session: DB, principal: CurrentPrincipal, svc: Service
) -> ReputationRead:
    """An email use case's tier, daily cap, pool, window figures and tier history."""
    return await svc.reputation(session, principal, use_case_id)


@events_router.post(
    "/v1/ses-events",
    responses={
        401: {"model": ErrorBody, "description": "Unsigned message"},
        403: {"model": ErrorBody, "description": "Forged message, certificate URL or topic not accepted"},
        422: {"model": ErrorBody, "description": "Not an SNS message"},
        503: {"model": ErrorBody, "description": "Certificate or confirmation fetch failed; SNS retries"},
    },
)
async def receive_ses_event(
    request: Request, session: DB, svc: Annotated[SesEventService, Depends(events_service)]
) -> dict[str, str | None]:
    """Amazon SNS endpoint for SES events (signature-verified; no API key)."""
    raw = await request.body()
    result = await svc.ingest(session, raw, request.headers.get("x-amz-sns-message-type"))
    return {"status": result.status, "use_case_id": result.use_case_id}
