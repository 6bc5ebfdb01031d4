"""Inbound provider webhooks. Thin: verify, persist the raw event, enqueue, answer 200."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from switchboard.core.runtime import Runtime
from switchboard.webhooks.service import WebhookRejected, webhooks
from switchboard.webhooks.tasks import schedule_parse

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

_OK = b'{"ok":true}'


def _rt(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def _rejected(exc: WebhookRejected) -> JSONResponse:
    code = {401: "invalid_signature", 404: "not_found"}.get(exc.status, "bad_request")
    return JSONResponse({"error": code, "message": exc.message, "details": []}, status_code=exc.status)


async def _stored(ingest: Awaitable[int | bool], answer: Response | None = None) -> Response:
    """Await a verify-and-store; a refusal becomes its error answer, anything new wakes the parser."""
    try:
        new = await ingest
    except WebhookRejected as exc:
        return _rejected(exc)
    if new:
        schedule_parse()
    return answer or Response(_OK, media_type="application/json")


def _public_urls(request: Request) -> list[str]:
    """The URL the provider signed: our public base URL for the path, and the URL as received."""
    rt = _rt(request)
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return list(dict.fromkeys([rt.settings.public_base_url.rstrip("/") + path, str(request.url)]))


@router.get("/meta", response_class=PlainTextResponse)
async def meta_handshake(
    request: Request,
    mode: Annotated[str | None, Query(alias="hub.mode")] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge")] = None,
    verify_token: Annotated[str | None, Query(alias="hub.verify_token")] = None,
) -> Response:
    """Meta's subscription handshake: echo hub.challenge when the verify token matches."""
    if not webhooks.verify_meta_handshake(_rt(request), mode, verify_token):
        return JSONResponse({"error": "forbidden", "message": "verify token mismatch", "details": []}, 403)
    return PlainTextResponse(challenge or "")


@router.post("/meta")
async def meta_events(request: Request) -> Response:
    """The platform Meta app webhook: items routed to accounts by phone_number_id or page id."""
    body = await request.body()
    return await _stored(webhooks.ingest_meta(_rt(request), dict(request.headers), body))


@router.post("/twilio/sms")
async def twilio_sms(request: Request) -> Response:
    """Twilio SMS webhooks (inbound and status callbacks), verified with X-Twilio-Signature."""
    body = await request.body()
    # An empty TwiML answer: no auto-reply.
    return await _stored(
        webhooks.ingest_twilio(_rt(request), dict(request.headers), body, _public_urls(request)),
        Response("<Response/>", media_type="text/xml"),
    )


@router.post("/tiktok")
async def tiktok_events(request: Request) -> Response:
    """The platform TikTok app's webhook (one callback URL per app): routed by `user_openid`."""
    body = await request.body()
    return await _stored(webhooks.ingest_app(_rt(request), "tiktok", dict(request.headers), body))


@router.get("/linkedin")
async def linkedin_validation(request: Request) -> Response:
    """LinkedIn validates the app's webhook URL: `?challengeCode=` answered with the code and its
    HMAC under the app's client secret, as JSON (at registration, then every 2 hours)."""
    try:
        answer = webhooks.validate_app(_rt(request), "linkedin", dict(request.query_params))
    except WebhookRejected as exc:
        return _rejected(exc)
    return JSONResponse(answer)


@router.post("/linkedin")
async def linkedin_events(request: Request) -> Response:
    """The platform LinkedIn app's webhook: each notification routed by its organizationalEntity."""
    body = await request.body()
    return await _stored(webhooks.ingest_app(_rt(request), "linkedin", dict(request.headers), body))


@router.get("/{channel_account_id}")
async def account_validation(channel_account_id: uuid.UUID, request: Request) -> Response:
    """A provider validating one account's webhook URL with a GET (LinkedIn's challengeCode)."""
    try:
        answer = await webhooks.validate_account(_rt(request), channel_account_id, dict(request.query_params))
    except WebhookRejected as exc:
        return _rejected(exc)
    return JSONResponse(answer)


@router.post("/{channel_account_id}")
async def account_webhook(channel_account_id: uuid.UUID, request: Request) -> Response:
    """One channel account's webhook, verified the provider's way (secret token, HMAC, ...)."""
    body = await request.body()
    headers = dict(request.headers)
    answer = await webhooks.handshake_account(_rt(request), channel_account_id, headers, body)
    if answer is not None:
        return PlainTextResponse(answer)
    url = _public_urls(request)[0]
    return await _stored(webhooks.ingest_account(_rt(request), channel_account_id, headers, body, url))
