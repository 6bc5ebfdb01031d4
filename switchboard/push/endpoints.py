"""Public Web Push endpoints a tenant's site uses (subscribe, service worker, snippet), and sends."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from switchboard.channels.endpoints import ERRORS, Service
from switchboard.core.deps import DB, CurrentPrincipal
from switchboard.push.schemas import PushSend, PushSendResult, SubscriptionCreate
from switchboard.push.scripts import service_worker, subscribe_snippet
from switchboard.push.service import origin_of, push

router = APIRouter(tags=["web push"])
api = APIRouter(prefix="/rest/v1", tags=["web push"], responses=ERRORS)

_JS = "application/javascript; charset=utf-8"


def _cors(account_settings: dict, request: Request) -> dict[str, str]:
    """Only the tenant's own site may subscribe from a browser."""
    allowed = origin_of(str(account_settings.get("site_url") or ""))
    if request.headers.get("origin") != allowed:
        return {}
    return {
        "Access-Control-Allow-Origin": allowed,
        "Access-Control-Allow-Methods": "POST, OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type",
        "Vary": "Origin",
    }


@router.options("/push/{account_id}/subscriptions", include_in_schema=False)
async def subscription_preflight(account_id: uuid.UUID, request: Request, session: DB) -> Response:
    account = await push.public_account(session, account_id)
    return Response(status_code=204, headers=_cors(account.settings, request))


@router.post("/push/{account_id}/subscriptions", status_code=201)
async def subscribe(
    account_id: uuid.UUID, data: SubscriptionCreate, request: Request, session: DB
) -> Response:
    """Store a browser's push subscription (called by the subscribe snippet; public)."""
    account = await push.public_account(session, account_id)
    row = await push.subscribe(session, account, data, request.headers.get("user-agent"))
    return JSONResponse({"id": str(row.id)}, status_code=201, headers=_cors(account.settings, request))


@router.get("/push/{account_id}/sw.js")
async def sw_js(account_id: uuid.UUID, session: DB) -> Response:
    """The service worker to serve from the tenant's own origin."""
    account = await push.public_account(session, account_id)
    return Response(service_worker(str(account.id)), media_type=_JS)


@router.get("/push/{account_id}/subscribe.js")
async def subscribe_js(account_id: uuid.UUID, request: Request, session: DB) -> Response:
    """The snippet a tenant embeds: registers the worker and posts the subscription."""
    account = await push.public_account(session, account_id)
    base = request.app.state.runtime.settings.public_base_url.rstrip("/")
    url = f"{base}/push/{account.id}/subscriptions"
    return Response(
        subscribe_snippet(str(account.id), account.settings["vapid_public_key"], url), media_type=_JS
    )


@api.post("/channel_accounts/{account_id}/push", response_model=PushSendResult)
async def send_push(
    account_id: uuid.UUID,
    data: PushSend,
    request: Request,
    session: DB,
    principal: CurrentPrincipal,
    svc: Service,
) -> PushSendResult:
    """Send a notification to every subscriber of a Web Push channel; gone subscriptions are removed."""
    return await push.send(session, principal, svc, request.app.state.runtime.settings, account_id, data)
