"""Pages of the connection flows: Connect via <provider>, the provider's callback, the selection step,
the error page, WhatsApp Cloud manual entry and WhatsApp Lite QR pairing."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import ValidationError

from switchboard.channels.service import ChannelAccountService
from switchboard.connectors.base import ChannelType, ChannelTypeDescriptor, get_descriptor
from switchboard.core.config import Settings
from switchboard.core.errors import NotFound, ProviderFailed, Unprocessable, from_validation_error
from switchboard.core.permissions import Permission
from switchboard.oauth import providers
from switchboard.oauth.manual import ManualEntry, WhatsAppCloudManual
from switchboard.oauth.pairing import PairingService
from switchboard.oauth.service import PROVIDERS, SPECS, FlowError, OAuthService
from switchboard.web.auth import FormPrincipal, WebPrincipal
from switchboard.web.routing import CSP, WebDB, WebRoute
from switchboard.web.templating import render, set_flash

router = APIRouter(route_class=WebRoute, include_in_schema=False)
INDEX = "/settings/channels"
_PAIR_JS = (Path(__file__).parent / "static" / "pair.js").read_bytes()


def _accounts(request: Request) -> ChannelAccountService:
    svc: ChannelAccountService = request.app.state.channel_accounts
    return svc


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.runtime.settings
    return settings


def _oauth(request: Request) -> OAuthService:
    return OAuthService(_accounts(request))


Flows = Annotated[OAuthService, Depends(_oauth)]


def _web_session_id(request: Request) -> uuid.UUID:
    session_id: uuid.UUID = request.state.web.row.id
    return session_id


def _oauth_type(type_key: str) -> ChannelType:
    try:
        channel_type = ChannelType(type_key.upper())
    except ValueError as exc:
        raise NotFound("There is no such channel type.") from exc
    if channel_type not in SPECS:
        raise NotFound("This channel type does not connect through OAuth.")
    return channel_type


def flow_error_page(request: Request, exc: FlowError) -> Response:
    return render(
        request,
        "oauth/error.html",
        {"title": exc.title, "what": exc.what, "todo": exc.todo, "status_code": exc.status_code},
        status_code=exc.status_code,
    )


def _provider_origin(settings: Settings, channel_type: ChannelType) -> str:
    provider = SPECS[channel_type].provider
    if provider == "facebook":
        url = providers.meta(settings).dialog_url
    elif provider == "tiktok":
        url = providers.tiktok(settings).authorize_url
    else:
        url = providers.linkedin(settings).authorize_url
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _csp_for(settings: Settings, channel_type: ChannelType) -> dict[str, str]:
    """Browsers apply form-action to the redirect after a form post, so the form that starts a flow
    may lead to the provider's consent page (and only there)."""
    if "form-action 'self'" not in CSP:
        return {}
    origin = _provider_origin(settings, channel_type)
    return {"Content-Security-Policy": CSP.replace("form-action 'self'", f"form-action 'self' {origin}")}


def connect_page(
    request: Request,
    descriptor: ChannelTypeDescriptor,
    name: str = "",
    error: str | None = None,
    status_code: int = 200,
    account: Any = None,
) -> Response:
    """Add Channel, step 2 for OAuth types: a name and "Connect via <provider>" (or Reconnect)."""
    spec = SPECS[descriptor.type]
    context = {
        "account": account,
        "descriptor": descriptor,
        "type_key": descriptor.type.value.lower(),
        "provider_label": spec.provider_label,
        "choice_label": spec.choice_label,
        "name": name,
        "error": error,
        "manual": descriptor.type is ChannelType.WHATSAPP_CLOUD,
    }
    headers = _csp_for(_settings(request), descriptor.type)
    return render(request, "oauth/connect.html", context, status_code=status_code, headers=headers)


# --- OAuth --------------------------------------------------------------------------------------


@router.post("/oauth/{type_key}/start")
async def start(
    type_key: str, request: Request, session: WebDB, principal: FormPrincipal, flows: Flows
) -> Response:
    """Record the flow (state bound to this browser session) and send the browser to the provider."""
    channel_type = _oauth_type(type_key)
    form = await request.form()
    raw_account = str(form.get("account_id") or "")
    name = str(form.get("name") or "").strip()
    account_id: uuid.UUID | None = None
    if raw_account:
        try:
            account_id = uuid.UUID(raw_account)
        except ValueError as exc:
            raise NotFound("Channel account not found.") from exc
    elif not name or len(name) > 100:
        message = "This field is required." if not name else "At most 100 characters."
        return connect_page(request, get_descriptor(channel_type), name, message, 422)
    try:
        url = await flows.start(
            session,
            principal,
            _web_session_id(request),
            _settings(request),
            channel_type,
            name=name or None,
            account_id=account_id,
        )
    except FlowError as exc:
        return flow_error_page(request, exc)
    return RedirectResponse(url, status_code=303)


@router.get("/oauth/{type_key}/reconnect/{account_id}")
async def reconnect_page(
    type_key: str, account_id: uuid.UUID, request: Request, session: WebDB, principal: WebPrincipal
) -> Response:
    """Reconnect: the same flow again, bound to this channel."""
    channel_type = _oauth_type(type_key)
    account = await _accounts(request).get(session, principal, account_id)
    principal.require(Permission.CHANNELS_MANAGE)
    if account.type != channel_type.value:
        raise NotFound("Channel account not found.")
    return connect_page(request, get_descriptor(channel_type), account.name, account=account)


@router.get("/oauth/callback/{provider}")
async def callback(
    provider: str, request: Request, session: WebDB, principal: WebPrincipal, flows: Flows
) -> Response:
    """Where the provider sends the browser back: code exchange, permission check, then selection."""
    if provider not in PROVIDERS:
        raise NotFound("Unknown provider.")
    params = {k: v for k, v in request.query_params.items()}
    try:
        flow = await flows.callback(
            session, principal, _web_session_id(request), _settings(request), provider, params
        )
    except FlowError as exc:
        return flow_error_page(request, exc)  # committed: a used or failed state stays used
    return RedirectResponse(f"/oauth/select/{flow.id}", status_code=303)


def _select_page(request: Request, flow: Any, error: str | None = None, status_code: int = 200) -> Response:
    channel_type = ChannelType(flow.channel_type)
    spec = SPECS[channel_type]
    context = {
        "flow": flow,
        "items": flow.choices.get("items", []),
        "descriptor": get_descriptor(channel_type),
        "choice_label": spec.choice_label,
        "provider_label": spec.provider_label,
        "reconnect": flow.channel_account_id is not None,
        "error": error,
    }
    return render(request, "oauth/select.html", context, status_code=status_code)


@router.get("/oauth/select/{flow_id}")
async def choose(
    flow_id: uuid.UUID, request: Request, session: WebDB, principal: WebPrincipal, flows: Flows
) -> Response:
    """The selection step: which Page / account / number / organization to connect."""
    try:
        flow = await flows.pending(session, principal, _web_session_id(request), flow_id)
    except FlowError as exc:
        return flow_error_page(request, exc)
    return _select_page(request, flow)


@router.post("/oauth/select/{flow_id}")
async def select(
    flow_id: uuid.UUID, request: Request, session: WebDB, principal: FormPrincipal, flows: Flows
) -> Response:
    """Create or reconnect the channel with the chosen item and verify it."""
    choice = str((await request.form()).get("choice") or "")
    try:
        account = await flows.select(
            session, principal, _web_session_id(request), _settings(request), flow_id, choice
        )
    except FlowError as exc:
        await session.rollback()  # nothing half-connected stays behind
        if exc.status_code == 422:
            flow = await flows.pending(session, principal, _web_session_id(request), flow_id)
            return _select_page(request, flow, exc.what, 422)
        return flow_error_page(request, exc)
    response = RedirectResponse(INDEX, status_code=303)
    set_flash(response, "success", f"Channel “{account.name}” is connected. Switch it on when you are ready.")
    return response


# --- WhatsApp Cloud: manual entry with a system-user token ---------------------------------------


def _sandbox_meta(request: Request) -> dict[str, str] | None:
    """In sandbox mode, against the in-process Meta emulator: the system-user token, WABA and phone
    number it knows, so manual entry can be tried offline (a newcomer has no Meta system user)."""
    settings = _settings(request)
    meta = getattr(request.app.state, "sandboxes", {}).get("meta")
    if settings.provider_mode != "sandbox" or settings.meta_base_url or meta is None:
        return None
    waba, numbers = next(iter(meta.phone_numbers.items()))
    return {"access_token": meta.system_user_token, "waba_id": waba, "phone_number_id": numbers[0]["id"]}


def _manual_page(
    request: Request,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "oauth/manual.html",
        {"values": values or {}, "errors": errors or {}, "sandbox_meta": _sandbox_meta(request)},
        status_code=status_code,
    )


@router.get("/oauth/whatsapp_cloud/manual")
async def manual_form(request: Request, principal: WebPrincipal) -> Response:
    """WhatsApp Cloud by system-user token (partner / system-user WABAs that the wizard does not list)."""
    principal.require(Permission.CHANNELS_CONNECT)
    return _manual_page(request)


@router.post("/oauth/whatsapp_cloud/manual")
async def manual_save(request: Request, session: WebDB, principal: FormPrincipal) -> Response:
    """Verify token, WABA and phone number against the Graph API, then save the channel connected."""
    form = await request.form()
    values = {
        k: str(form.get(k) or "").strip()
        for k in ("name", "waba_id", "phone_number_id", "access_token", "app_secret")
    }
    try:
        entry = ManualEntry.model_validate({k: v for k, v in values.items() if v})
        account = await WhatsAppCloudManual(_accounts(request)).connect(
            session, principal, _settings(request), entry
        )
    except (ValidationError, Unprocessable) as exc:
        error = from_validation_error(exc) if isinstance(exc, ValidationError) else exc
        await session.rollback()
        errors = {
            str(d.get("field", "")).removeprefix("settings."): str(d.get("message", ""))
            for d in error.details
        }
        values["access_token"] = values["app_secret"] = ""  # secrets are never sent back
        return _manual_page(request, values, errors or {"name": error.message}, 422)
    response = RedirectResponse(INDEX, status_code=303)
    set_flash(response, "success", f"Channel “{account.name}” is connected. Switch it on when you are ready.")
    return response


# --- WhatsApp Lite: QR pairing -------------------------------------------------------------------


def _pairing(request: Request) -> PairingService:
    return PairingService(_accounts(request))


@router.get("/settings/channels/{account_id}/pair")
async def pair_page(
    account_id: uuid.UUID, request: Request, session: WebDB, principal: WebPrincipal
) -> Response:
    """Shows a fresh QR code from the gateway and polls until the phone has scanned it."""
    settings = _settings(request)
    try:
        account, session_id = await _pairing(request).start(session, principal, settings, account_id)
    except ProviderFailed as exc:
        account = await _accounts(request).get(session, principal, account_id)
        context = {"account": account, "session_id": None, "phone_url": None, "error": exc.message}
        return render(request, "oauth/pair.html", context)
    phone_url = None
    if settings.provider_mode == "sandbox":
        phone_url = f"{providers.whatsapp_lite_url(settings)}/sessions/{session_id}/phone"
    context = {"account": account, "session_id": session_id, "phone_url": phone_url, "error": None}
    return render(request, "oauth/pair.html", context)


@router.get("/settings/channels/{account_id}/pair/qr.svg")
async def pair_qr(
    account_id: uuid.UUID, request: Request, session: WebDB, principal: WebPrincipal
) -> Response:
    """The pairing payload as a QR code image, generated here."""
    svg = await _pairing(request).qr(session, principal, account_id)
    return Response(svg, media_type="image/svg+xml")


@router.get("/settings/channels/{account_id}/pair/status")
async def pair_status(
    account_id: uuid.UUID, request: Request, session: WebDB, principal: WebPrincipal
) -> Response:
    """Polled by the pairing page: pending, paired (connected) or failed."""
    view = await _pairing(request).poll(session, principal, _settings(request), account_id)
    return JSONResponse({"status": view.status, "message": view.message})


@router.get("/oauth/static/pair.js")
async def pair_js() -> Response:
    return Response(_PAIR_JS, media_type="text/javascript", headers={"Cache-Control": "no-cache"})
