"""Settings -> Outlets: the organization's outlets and their senders. The per-outlet routing settings
show for a channel as soon as it has more than one sender; BYOM gating plays no part here."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from switchboard.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from switchboard.core.permissions import Permission, Principal
from switchboard.tenancy.outlet_schemas import OutletUpdate
from switchboard.tenancy.outlets import SENDER_CHANNELS, managed_channels, outlets
from switchboard.web.auth import FormPrincipal, WebPrincipal
from switchboard.web.routing import WebDB, WebRoute
from switchboard.web.templating import render, set_flash

router = APIRouter(prefix="/settings/outlets", route_class=WebRoute, include_in_schema=False)
BASE = "/settings/outlets"
LABELS = {"whatsapp": "WhatsApp", "sms": "SMS"}


def _org(principal: Principal) -> uuid.UUID:
    principal.require(Permission.CHANNELS_READ)
    if principal.organization_id is None:
        raise Forbidden("Outlets belong to a tenant: sign in as one of the organization's users.")
    return principal.organization_id


@router.get("")
async def index(request: Request, session: WebDB, principal: WebPrincipal) -> Response:
    """Outlets, their senders, and routing where a channel has more than one sender."""
    org_id = _org(principal)
    rows = [
        (o, await outlets.outlet_senders(session, o.id))
        for o in await outlets.list_outlets(session, principal)
    ]
    channels: list[dict[str, Any]] = []
    for channel in SENDER_CHANNELS:
        summary = await outlets.senders(session, principal, channel)
        channels.append({"key": channel, "label": LABELS[channel], "summary": summary})
    context = {
        "rows": rows,
        "channels": channels,
        "managed": sorted(await managed_channels(session, org_id)),
        "labels": LABELS,
        "outlet_names": {o.id: o.name for o, _ in rows},
        "can_edit": principal.has(Permission.ORG_ADMIN),
        "rental_rate": request.app.state.settings.sender_rental_rate,
    }
    return render(request, "outlets/index.html", context)


@router.post("")
async def create(request: Request, session: WebDB, principal: FormPrincipal) -> Response:
    """Add an outlet."""
    _org(principal)
    response = RedirectResponse(BASE, status_code=303)
    try:
        name = OutletUpdate(name=str((await request.form()).get("name") or "")).name
    except ValidationError:
        set_flash(
            response, "danger", "An outlet needs a name of 1 to 100 characters, without control characters."
        )
        return response
    try:
        await outlets.create(session, principal, name)
    except Conflict as exc:
        set_flash(response, "warning", exc.message)
        return response
    set_flash(response, "success", f"Outlet {name} added.")
    return response


@router.post("/{outlet_id}/senders")
async def request_sender(
    request: Request, outlet_id: uuid.UUID, session: WebDB, principal: FormPrincipal
) -> Response:
    """Another number for an outlet (billable)."""
    _org(principal)
    channel = str((await request.form()).get("channel") or "")
    if channel not in SENDER_CHANNELS:
        raise NotFound("There is no such channel.")
    response = RedirectResponse(BASE, status_code=303)
    rate = request.app.state.settings.sender_rental_rate
    try:
        await outlets.request_extra_sender(session, principal, outlet_id, channel, rate)
    except Conflict as exc:
        set_flash(response, "warning", exc.message)
        return response
    set_flash(response, "success", f"A {LABELS[channel]} number is being allocated (billed at {rate}).")
    return response


@router.post("/routing")
async def routing(request: Request, session: WebDB, principal: FormPrincipal) -> Response:
    """Which outlet a sender serves, and whether it is that outlet's primary."""
    _org(principal)
    form = await request.form()
    channel = str(form.get("channel") or "")
    try:
        sender_id = uuid.UUID(str(form.get("sender_id") or ""))
        outlet_id = uuid.UUID(str(form.get("outlet_id") or ""))
    except ValueError as exc:
        raise Unprocessable("The routing form could not be read.") from exc
    if channel not in SENDER_CHANNELS:
        raise NotFound("There is no such channel.")
    response = RedirectResponse(BASE, status_code=303)
    try:
        await outlets.set_routing(
            session, principal, outlet_id, channel, sender_id, form.get("primary") == "on"
        )
    except Conflict as exc:
        set_flash(response, "warning", exc.message)
        return response
    set_flash(response, "success", "Routing saved.")
    return response
