"""/channels/sms/*: numbers, connect, connections, compliance, registration, segments, test sends;
/s/{code}: the short link redirect; /webhooks/twilio/sms/{events,status}: the provider's answers."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import JSONResponse, RedirectResponse

from switchboard.core.db import session_scope
from switchboard.core.deps import DB, CurrentPrincipal
from switchboard.core.errors import ErrorBody
from switchboard.core.permissions import Permission
from switchboard.core.queue import enqueue_on_commit
from switchboard.core.runtime import Runtime
from switchboard.models import ShortLink, SmsMessage
from switchboard.sms import links
from switchboard.sms.compliance import SmsCompliance
from switchboard.sms.schemas import (
    MAX_BODY,
    ComplianceRead,
    ComplianceStatusRead,
    ConnectionList,
    ConnectionRead,
    ConnectionUpdate,
    ConnectRequest,
    MessageCreate,
    MessageRead,
    MessageSent,
    NumbersRead,
    SegmentsRead,
    SegmentsRequest,
    ShortLinkRead,
    SortKey,
    VerifyRead,
    VerifyRequest,
)
from switchboard.sms.service import CodeRejected, SmsService
from switchboard.webhooks.signatures import twilio_signature_ok

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing or invalid API key"},
    403: {"model": ErrorBody, "description": "Missing permission, or BYOM not enabled for your own number"},
    404: {"model": ErrorBody, "description": "Not found (or another tenant's)"},
    409: {"model": ErrorBody, "description": "Conflict: number taken, or an illegal registration transition"},
    422: {"model": ErrorBody, "description": "Invalid input: the field and the rule"},
    502: {"model": ErrorBody, "description": "The number provider refused the operation"},
    503: {"model": ErrorBody, "description": "The number provider is unavailable; try again"},
}

router = APIRouter(prefix="/channels/sms", tags=["sms"], responses=ERRORS)
public_router = APIRouter(tags=["sms"])


def service(request: Request) -> SmsService:
    svc: SmsService = request.app.state.sms
    return svc


Service = Annotated[SmsService, Depends(service)]


def _link(svc: SmsService, link: ShortLink) -> ShortLinkRead:
    return ShortLinkRead(
        code=link.code,
        short_url=links.short_url(svc.settings.public_base_url, link.code),
        target_url=link.target_url,
        message_ref=link.message_ref,
        clicks=link.clicks,
    )


def _message(svc: SmsService, m: SmsMessage, shortened: list[ShortLink]) -> dict[str, Any]:
    return {
        "id": m.id,
        "connection_id": m.connection_id,
        "to": m.to_number,
        "status": m.status,
        "error_code": m.error_code,
        "encoding": m.encoding,
        "segments": m.segments,
        "created_at": m.created_at,
        "status_updated_at": m.status_updated_at,
        "links": [_link(svc, link) for link in shortened],
    }


# --- numbers and connect ----------------------------------------------------------------------------


@router.get("/numbers", response_model=NumbersRead)
async def list_numbers(
    session: DB,
    principal: CurrentPrincipal,
    svc: Service,
    country: Annotated[str, Query(max_length=2, description="ISO 3166-1 alpha-2, e.g. US")] = "US",
    area_code: Annotated[str | None, Query(max_length=5, description="e.g. 415")] = None,
    contains: Annotated[
        str | None, Query(max_length=16, description="Digits or letters; * is any digit")
    ] = None,
    organization_id: uuid.UUID | None = None,
) -> NumbersRead:
    """Numbers available to acquire (with capabilities and monthly price), and the numbers you have."""
    return await svc.numbers(
        session,
        principal,
        country=country,
        area_code=area_code,
        contains=contains,
        organization_id=organization_id,
    )


@router.post("/connect/verify", response_model=VerifyRead, status_code=status.HTTP_202_ACCEPTED)
async def send_verification_code(
    body: VerifyRequest, session: DB, principal: CurrentPrincipal, svc: Service
) -> VerifyRead:
    """Use my number, step 1: text a one-time code to the number (valid 10 minutes)."""
    return await svc.send_verification(session, principal, body)


@router.post("/connect", response_model=ConnectionRead, status_code=status.HTTP_201_CREATED)
async def connect(
    body: ConnectRequest, session: DB, principal: CurrentPrincipal, svc: Service
) -> ConnectionRead:
    """Connect a number: buy a listed one (`new`) or use your own (`byon`); creates an SMS channel account."""
    try:
        conn = await svc.connect(session, principal, body)
    except CodeRejected:
        # The wrong guess must count although the request fails.
        await session.commit()
        raise
    return await svc.read(session, conn)


# --- connections ------------------------------------------------------------------------------------


@router.get("/connections", response_model=ConnectionList)
async def list_connections(
    session: DB,
    principal: CurrentPrincipal,
    svc: Service,
    sort: SortKey = "phone_number",
    order: Annotated[str, Query(pattern="^(asc|desc)$")] = "asc",
    organization_id: uuid.UUID | None = None,
) -> ConnectionList:
    """SMS connections for the Channels table, sortable by phone number, workspace or knowledge base."""
    items = await svc.list_connections(
        session, principal, organization_id=organization_id, sort=sort, descending=order == "desc"
    )
    return ConnectionList(items=items, total=len(items))


@router.get("/connections/{connection_id}", response_model=ConnectionRead)
async def get_connection(
    connection_id: uuid.UUID, session: DB, principal: CurrentPrincipal, svc: Service
) -> ConnectionRead:
    """One SMS connection (knowledge base resolved from its agent)."""
    return await svc.read(session, await svc.get(session, principal, connection_id))


@router.patch("/connections/{connection_id}", response_model=ConnectionRead)
async def update_connection(
    connection_id: uuid.UUID, body: ConnectionUpdate, session: DB, principal: CurrentPrincipal, svc: Service
) -> ConnectionRead:
    """Reassign the agent (or workspace and agent), rename, or switch Active on or off."""
    return await svc.read(session, await svc.update(session, principal, connection_id, body))


@router.delete("/connections/{connection_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_connection(
    connection_id: uuid.UUID, session: DB, principal: CurrentPrincipal, svc: Service
) -> Response:
    """Delete the connection and its channel account; a platform number goes back to the provider."""
    await svc.delete(session, principal, connection_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/connections/{connection_id}/compliance", response_model=ComplianceRead)
async def get_compliance(
    connection_id: uuid.UUID, session: DB, principal: CurrentPrincipal, svc: Service
) -> ComplianceRead:
    """The 10DLC brand and campaign data (empty defaults when none), its precheck and registration."""
    return await svc.get_compliance(session, principal, connection_id)


@router.put("/connections/{connection_id}/compliance", response_model=ComplianceStatusRead)
async def set_compliance(
    connection_id: uuid.UUID, body: SmsCompliance, session: DB, principal: CurrentPrincipal, svc: Service
) -> ComplianceStatusRead:
    """set-sms-compliance: save the brand and campaign (drafts allowed; stored encrypted)."""
    return await svc.set_compliance(session, principal, connection_id, body)


@router.post("/connections/{connection_id}/registration", response_model=ComplianceStatusRead)
async def submit_registration(
    connection_id: uuid.UUID, session: DB, principal: CurrentPrincipal, svc: Service
) -> ComplianceStatusRead:
    """Submit the brand and campaign for 10DLC registration (the precheck must pass)."""
    return await svc.submit_registration(session, principal, connection_id)


# --- sending ----------------------------------------------------------------------------------------


@router.get("/segments", response_model=SegmentsRead)
async def count_segments_get(
    principal: CurrentPrincipal,
    svc: Service,
    body: Annotated[str, Query(max_length=MAX_BODY)] = "",
) -> SegmentsRead:
    """Encoding, segment count and the characters that force UCS-2, before a send."""
    principal.require(Permission.CHANNELS_READ)
    return svc.segments(body)


@router.post("/segments", response_model=SegmentsRead)
async def count_segments(body: SegmentsRequest, principal: CurrentPrincipal, svc: Service) -> SegmentsRead:
    """The same count for bodies too long for a query string."""
    principal.require(Permission.CHANNELS_READ)
    return svc.segments(body.body)


@router.post(
    "/connections/{connection_id}/messages", response_model=MessageSent, status_code=status.HTTP_201_CREATED
)
async def send_message(
    connection_id: uuid.UUID, body: MessageCreate, session: DB, principal: CurrentPrincipal, svc: Service
) -> MessageSent:
    """Send a test message: links shortened to click-counting short links, delivery tracked."""
    message, sent_body, info, shortened = await svc.send_test(session, principal, connection_id, body)
    return MessageSent.model_validate(
        {**_message(svc, message, shortened), "body_sent": sent_body, "segment_info": info}
    )


@router.get("/connections/{connection_id}/messages", response_model=list[MessageRead])
async def list_messages(
    connection_id: uuid.UUID, session: DB, principal: CurrentPrincipal, svc: Service
) -> list[MessageRead]:
    """Recent messages of the connection with their delivery status and link clicks."""
    rows = await svc.messages(session, principal, connection_id)
    return [MessageRead.model_validate(_message(svc, m, shortened)) for m, shortened in rows]


@router.get("/links", response_model=list[ShortLinkRead])
async def list_links(
    session: DB,
    principal: CurrentPrincipal,
    svc: Service,
    message_ref: Annotated[str, Query(min_length=1, max_length=64)],
) -> list[ShortLinkRead]:
    """The short links of one message with their click counts."""
    return [_link(svc, link) for link in await links.links_for_message(session, principal, message_ref)]


# --- public: short links and provider webhooks ------------------------------------------------------


@public_router.get("/s/{code}", include_in_schema=False)
async def follow_short_link(code: str, session: DB) -> Response:
    """Count the click and redirect to the link's target; unknown codes are 404."""
    target = await links.record_click(session, code)
    if target is None:
        return JSONResponse(
            {"error": "not_found", "message": "This link does not exist.", "details": []}, 404
        )
    # 302 and no caching: every click reaches us and is counted.
    return RedirectResponse(target, status_code=302, headers={"Cache-Control": "no-store"})


def _signed_urls(request: Request, rt: Runtime) -> list[str]:
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return list(dict.fromkeys([rt.settings.public_base_url.rstrip("/") + path, str(request.url)]))


def _verified(request: Request, rt: Runtime, params: dict[str, list[str]] | None, body: bytes) -> bool:
    signature = request.headers.get("x-twilio-signature")
    token = rt.settings.twilio_auth_token
    return any(twilio_signature_ok(token, url, params, signature, body) for url in _signed_urls(request, rt))


def _refresh_after_commit(session: Any, connection_id: str) -> None:
    """A registered brand still needs its campaign: the job creates it once this event is committed."""
    from switchboard.sms import tasks

    enqueue_on_commit(session, lambda: tasks.refresh_sms_registration(connection_id))


_INVALID = {"error": "invalid_signature", "message": "signature missing or invalid", "details": []}


@public_router.post("/webhooks/twilio/sms/events", include_in_schema=False)
async def provider_events(request: Request, svc: Service) -> Response:
    """Twilio Event Streams (A2P brand and campaign registration), signed with bodySHA256."""
    rt: Runtime = request.app.state.runtime
    body = await request.body()
    if not _verified(request, rt, None, body):
        return JSONResponse(_INVALID, status_code=401)
    try:
        payload = json.loads(body)
    except ValueError:
        return JSONResponse({"error": "invalid_json", "message": "not JSON", "details": []}, status_code=400)
    events = payload if isinstance(payload, list) else [payload]
    async for session in session_scope(rt.sessionmaker):
        for event in events:
            if isinstance(event, dict):
                follow_up = await svc.apply_provider_event(session, event)
                if follow_up is not None:
                    _refresh_after_commit(session, str(follow_up))
    return JSONResponse({"ok": True})


@public_router.post("/webhooks/twilio/sms/status", include_in_schema=False)
async def message_status(request: Request, svc: Service) -> Response:
    """Twilio message status callbacks for messages sent from platform numbers."""
    rt: Runtime = request.app.state.runtime
    body = await request.body()
    params = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    if not _verified(request, rt, params, body):
        return JSONResponse(_INVALID, status_code=401)
    async for session in session_scope(rt.sessionmaker):
        await svc.apply_status_callback(session, {k: v[0] for k, v in params.items() if v})
    return Response(status_code=status.HTTP_204_NO_CONTENT)
