"""Settings -> Channels: server-rendered pages over ChannelAccountService (the rules live there)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from switchboard.channels.schemas import ChannelAccountCreate, ChannelAccountUpdate
from switchboard.channels.service import ChannelAccountService
from switchboard.channels.webhook_setup import WebhookSetup, setup_for
from switchboard.connectors import REGISTRY, get_descriptor
from switchboard.connectors.base import (
    ChannelType,
    ChannelTypeDescriptor,
    ConnectionMethod,
    FormField,
    form_fields,
)
from switchboard.core.errors import Conflict, Forbidden, NotFound, Unprocessable, from_validation_error
from switchboard.core.permissions import Permission, Principal
from switchboard.health.service import health, threshold_for
from switchboard.messages.rules import SendRule, preview, rule_for
from switchboard.messages.schemas import MessageCreate
from switchboard.messages.service import outbound
from switchboard.models import AuditLog, ChannelAccount, Organization, OutboundMessage
from switchboard.oauth.pages import connect_page
from switchboard.sandbox import mail_sandbox
from switchboard.tenancy.byom import ensure_connect_allowed, is_allowed
from switchboard.web.auth import FormPrincipal, WebPrincipal
from switchboard.web.routing import WebDB, WebRoute
from switchboard.web.templating import is_fetch, render, set_flash

router = APIRouter(prefix="/settings/channels", route_class=WebRoute, include_in_schema=False)

INDEX = "/settings/channels"
TABLE_LIMIT = 200

METHOD_LABELS = {
    ConnectionMethod.QR: "QR code",
    ConnectionMethod.OAUTH: "OAuth",
    ConnectionMethod.TOKEN: "Bot token",
    ConnectionMethod.CREDENTIALS: "Credentials",
    ConnectionMethod.CUSTOM_APP: "Custom app",
    ConnectionMethod.VAPID: "VAPID keys",
    ConnectionMethod.API_KEY: "API key",
    ConnectionMethod.PROVIDER: "Provider",
}
STATUS_STYLES = {
    "connected": "bg-success-subtle text-success-emphasis border-success-subtle",
    "pending": "bg-warning-subtle text-warning-emphasis border-warning-subtle",
    "disconnected": "bg-secondary-subtle text-secondary-emphasis border-secondary-subtle",
    "error": "bg-danger-subtle text-danger-emphasis border-danger-subtle",
}
ACTION_LABELS = {
    "channel_account.created": "Created",
    "channel_account.updated": "Updated",
    "channel_account.activated": "Activated",
    "channel_account.deactivated": "Deactivated",
    "channel_account.deleted": "Deleted",
    "channel_account.status_changed": "Connection status changed",
}
# Bookkeeping fields every change touches; they say nothing to a reader of the trail.
_QUIET_FIELDS = {"updated_at", "created_at", "last_checked_at", "id", "organization_id"}


def service(request: Request) -> ChannelAccountService:
    svc: ChannelAccountService = request.app.state.channel_accounts
    return svc


Service = Annotated[ChannelAccountService, Depends(service)]


# --- view models ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    id: uuid.UUID
    name: str
    type_label: str
    is_active: bool
    status: str
    status_label: str
    status_style: str
    status_reason: str
    organization_name: str
    reconnect_type: str | None = None  # OAuth types not connected: Reconnect runs the flow again
    pair_href: str | None = None  # QR types not connected: pair (again)


@dataclass(frozen=True)
class TypeCard:
    key: str
    label: str
    description: str
    method: str
    allowed: bool  # BYOM gating: a gated family stays closed until a platform admin allows it
    family: str


@dataclass(frozen=True)
class FieldView:
    key: str  # the form input name, also the API's error field: settings.<name>
    label: str
    help: str
    input_type: str
    required: bool
    secret: bool
    options: tuple[str, ...]
    value: str
    checked: bool
    placeholder: str
    error: str | None

    @property
    def dom_id(self) -> str:
        return "f-" + self.key.replace(".", "-")


@dataclass(frozen=True)
class WebhookView:
    url: str
    setup: WebhookSetup


@dataclass(frozen=True)
class AuditView:
    at: datetime
    actor: str
    action: str
    changes: list[tuple[str, str, str]]


MESSAGE_STYLES = {
    "queued": "text-bg-secondary",
    "sending": "text-bg-info",
    "sent": "text-bg-primary",
    "delivered": "text-bg-success",
    "read": "text-bg-success",
    "failed": "text-bg-danger",
}
RECENT_MESSAGES = 10


@dataclass(frozen=True)
class MessageView:
    at: datetime
    to: str
    preview: str
    status: str
    style: str
    detail: str  # why it failed, or why it is waiting


@dataclass
class SendForm:
    """The "Send test message" card: what the type takes, and the last submission's values/errors."""

    to_label: str
    heading_field: str | None  # subject (Email) or title (push types), else None
    text_required: bool
    to_optional: bool
    values: dict[str, str]
    errors: dict[str, str]
    general: list[str]


def _message_view(m: OutboundMessage) -> MessageView:
    detail = ""
    if m.status == "failed" or (m.status == "queued" and m.error_message):
        detail = m.error_message or ""
        if m.status == "queued":
            detail = f"Attempt {m.attempts} failed, retrying: {detail}"
    return MessageView(
        at=m.created_at,
        to=m.to if len(m.to) <= 40 else m.to[:39] + "…",
        preview=preview(m.body),
        status=m.status,
        style=MESSAGE_STYLES.get(m.status, "text-bg-secondary"),
        detail=detail,
    )


def _send_form(rule: SendRule, values: dict[str, str] | None = None) -> SendForm:
    heading = "subject" if "subject" in rule.fields else "title" if "title" in rule.fields else None
    return SendForm(
        to_label=rule.recipient_label,
        heading_field=heading,
        text_required=rule.text_required,
        to_optional=rule.recipient_optional,
        values=values or {},
        errors={},
        general=[],
    )


def _row(account: ChannelAccount, org_names: dict[uuid.UUID, str]) -> Row:
    status = account.connection_status
    method = get_descriptor(account.type).connection_method
    connected = status == "connected"
    return Row(
        id=account.id,
        name=account.name,
        type_label=get_descriptor(account.type).label,
        is_active=account.is_active,
        status=status,
        status_label=status.capitalize(),
        status_style=STATUS_STYLES.get(status, STATUS_STYLES["disconnected"]),
        status_reason=account.status_reason or status.capitalize(),
        organization_name=org_names.get(account.organization_id, ""),
        reconnect_type=account.type.lower() if method is ConnectionMethod.OAUTH and not connected else None,
        pair_href=f"{INDEX}/{account.id}/pair" if method is ConnectionMethod.QR and not connected else None,
    )


async def _org_names(
    session: AsyncSession, principal: Principal, accounts: list[ChannelAccount]
) -> dict[uuid.UUID, str]:
    """Only platform admins see several organizations, so only they need the names."""
    if not principal.is_platform_admin or not accounts:
        return {}
    ids = {a.organization_id for a in accounts}
    result = await session.execute(select(Organization.id, Organization.name).where(Organization.id.in_(ids)))
    return {row.id: row.name for row in result}


def _abilities(principal: Principal) -> dict[str, bool]:
    return {
        "can_manage": principal.has(Permission.CHANNELS_MANAGE),
        # Platform admins belong to no organization, so there is nowhere for a new channel to go.
        "can_add": principal.has(Permission.CHANNELS_CONNECT) and principal.organization_id is not None,
        "is_admin": principal.is_platform_admin,
    }


def _descriptor(type_key: str) -> ChannelTypeDescriptor:
    try:
        return get_descriptor(ChannelType(type_key.upper()))
    except ValueError as exc:
        raise NotFound("There is no such channel type.") from exc


def _require_org(principal: Principal) -> None:
    principal.require(Permission.CHANNELS_CONNECT)
    if principal.organization_id is None:
        raise Forbidden("Channels belong to tenants: sign in as one of the organization's admins to add one.")


def _org_id(principal: Principal) -> uuid.UUID:
    assert principal.organization_id is not None  # checked by _require_org
    return principal.organization_id


def _text(form: FormData, key: str) -> str:
    value = form.get(key)
    return value if isinstance(value, str) else ""


def _display(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "on" if value else "off"
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "…"


def _changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[tuple[str, str, str]]:
    """Field-level differences for the trail; both sides are already masked by the service."""
    if not before or not after:
        return []
    out = []
    for key in sorted(set(before) | set(after)):
        if key in _QUIET_FIELDS:
            continue
        old, new = before.get(key), after.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            for sub in sorted(set(old) | set(new)):
                if old.get(sub) != new.get(sub):
                    out.append((f"{key}.{sub}", _display(old.get(sub)), _display(new.get(sub))))
        elif old != new:
            out.append((key, _display(old), _display(new)))
    return out


def _audit(entries: list[AuditLog]) -> list[AuditView]:
    return [
        AuditView(
            at=e.created_at,
            actor=e.actor,
            action=ACTION_LABELS.get(e.action, e.action),
            changes=_changes(e.before, e.after),
        )
        for e in entries
    ]


# --- forms ---------------------------------------------------------------------------------------


@dataclass
class ParsedForm:
    name: str
    settings: dict[str, Any]
    credentials: dict[str, str]
    blank: set[str]  # inputs left empty, so "missing"/"type" errors can say "required"


def _parse(fields: list[FormField], form: FormData, *, editing: bool) -> ParsedForm:
    """Form inputs -> the service's create/update input. Blank secrets are left out: on create they
    are absent, on edit the stored value stays."""
    parsed = ParsedForm(_text(form, "name"), {}, {}, set())
    for f in fields:
        key = f"settings.{f.name}"
        raw = _text(form, key)
        if f.input_type == "checkbox":
            parsed.settings[f.name] = key in form
            continue
        if not raw.strip():
            parsed.blank.add(key)
            if editing and not f.secret:
                # Clearing an input on edit means "no value", not "keep the old one".
                parsed.settings[f.name] = None if f.required else f.default
            continue
        if f.secret:
            parsed.credentials[f.name] = raw
        else:
            parsed.settings[f.name] = raw
    return parsed


def _field_errors(error: Unprocessable, blank: set[str]) -> tuple[dict[str, str], list[str]]:
    """The service's error details, keyed by form input; anything else is a form-level message."""
    by_field: dict[str, str] = {}
    general: list[str] = []
    for detail in error.details:
        field = str(detail.get("field", ""))
        if field.startswith("credentials."):
            field = "settings." + field.removeprefix("credentials.")
        message = str(detail.get("message") or detail.get("rule") or "invalid")
        if detail.get("rule") == "missing" or field in blank:
            message = "This field is required."
        message = message.removeprefix("Value error, ")
        message = message[:1].upper() + message[1:]
        if field == "name" or field.startswith("settings."):
            by_field.setdefault(field, message)
        else:
            general.append(message)
    if not error.details:
        general.append(error.message)
    return by_field, general


def _field_views(
    fields: list[FormField],
    values: dict[str, Any],
    errors: dict[str, str],
    masks: dict[str, str | None] | None = None,
) -> list[FieldView]:
    views = []
    for f in fields:
        key = f"settings.{f.name}"
        value = values.get(f.name, f.default)
        placeholder = ""
        help_text = f.help
        if f.secret:
            value = None  # a secret is never sent back to the browser, not even on a re-render
            mask = (masks or {}).get(f.name)
            if mask:
                placeholder = mask
                help_text = (help_text + " " if help_text else "") + "Leave blank to keep the current value."
        views.append(
            FieldView(
                key=key,
                label=f.label,
                help=help_text,
                input_type=f.input_type,
                # A stored secret may stay blank on edit, so the browser must not insist.
                required=f.required and not (f.secret and masks and masks.get(f.name)),
                secret=f.secret,
                options=f.options,
                value="" if value is None or isinstance(value, bool) else str(value),
                checked=value is True,
                placeholder=placeholder,
                error=errors.get(key),
            )
        )
    return views


# --- pages ---------------------------------------------------------------------------------------


@router.get("")
async def index(request: Request, principal: WebPrincipal) -> Response:
    """The page shell; the table arrives by fetch so loading and error states are real."""
    principal.require(Permission.CHANNELS_READ)
    return render(request, "channels/index.html", _abilities(principal))


@router.get("/table")
async def table(request: Request, session: WebDB, principal: WebPrincipal, svc: Service) -> Response:
    """The channel table as a fragment (a whole page when opened without JavaScript)."""
    accounts, total = await svc.list_accounts(session, principal, limit=TABLE_LIMIT)
    org_names = await _org_names(session, principal, accounts)
    context = {"rows": [_row(a, org_names) for a in accounts], "total": total, **_abilities(principal)}
    name = "channels/table.html" if is_fetch(request) else "channels/table_page.html"
    return render(request, name, context)


@router.get("/new")
async def choose_type(request: Request, session: WebDB, principal: WebPrincipal) -> Response:
    """Add Channel, step 1: pick a type."""
    _require_org(principal)
    org = await session.get(Organization, principal.organization_id)
    if org is None:
        raise NotFound("Organization not found.")
    cards = [
        TypeCard(
            key=d.type.value.lower(),
            label=d.label,
            description=d.description,
            method=METHOD_LABELS.get(d.connection_method, ""),
            # SMS: a number bought through the platform is managed, so the SMS wizard is always open.
            allowed=d.byom_family is None or d.type is ChannelType.SMS or is_allowed(org, d.byom_family),
            family=d.byom_family or "",
        )
        for d in REGISTRY.values()
    ]
    return render(request, "channels/new.html", {"types": sorted(cards, key=lambda c: c.label)})


def _new_form(
    request: Request,
    descriptor: ChannelTypeDescriptor,
    parsed: ParsedForm | None = None,
    errors: dict[str, str] | None = None,
    general: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    values = parsed.settings if parsed else {}
    # Sandbox mode: an Email channel starts out pointed at the service's own SMTP/IMAP servers.
    mail = mail_sandbox(request.app) if descriptor.type is ChannelType.EMAIL else None
    if mail is not None and parsed is None:
        values = mail.channel_settings()
    context = {
        "descriptor": descriptor,
        "method": METHOD_LABELS.get(descriptor.connection_method, ""),
        "type_key": descriptor.type.value.lower(),
        "name": parsed.name if parsed else "",
        "fields": _field_views(form_fields(descriptor), values, errors or {}),
        "errors": errors or {},
        "general_errors": general or [],
        "sandbox_mail": mail.channel_settings() if mail else None,
    }
    return render(request, "channels/form.html", context, status_code=status_code)


@router.get("/new/{type_key}")
async def new_form(type_key: str, request: Request, session: WebDB, principal: WebPrincipal) -> Response:
    """Add Channel, step 2: the form generated from the type's settings schema."""
    _require_org(principal)
    descriptor = _descriptor(type_key)
    if descriptor.type is ChannelType.SMS:
        return RedirectResponse("/settings/channels/sms/new", status_code=303)  # the SMS wizard
    # Say so before the form is filled in, with the service's own refusal (it checks again on save).
    await ensure_connect_allowed(session, principal, _org_id(principal), descriptor)
    if descriptor.connection_method is ConnectionMethod.OAUTH:
        return connect_page(request, descriptor)  # name + "Connect via <provider>" instead of a form
    return _new_form(request, descriptor)


@router.post("/new/{type_key}")
async def create(
    type_key: str, request: Request, session: WebDB, principal: FormPrincipal, svc: Service
) -> Response:
    """Create the channel through the service; invalid input re-renders the form with messages."""
    descriptor = _descriptor(type_key)
    _require_org(principal)
    parsed = _parse(form_fields(descriptor), await request.form(), editing=False)
    try:
        data = ChannelAccountCreate.model_validate(
            {
                "name": parsed.name,
                "type": descriptor.type,
                "settings": parsed.settings,
                "credentials": parsed.credentials,
            }
        )
        account = await svc.create(session, principal, data)
    except ValidationError as exc:
        error = from_validation_error(exc)
    except Unprocessable as exc:
        error = exc
    else:
        # QR types continue on the pairing page.
        qr = descriptor.connection_method is ConnectionMethod.QR
        response = RedirectResponse(f"{INDEX}/{account.id}/pair" if qr else INDEX, status_code=303)
        set_flash(
            response, "success", f"Channel “{account.name}” added. It stays inactive until you switch it on."
        )
        return response
    await session.rollback()
    errors, general = _field_errors(error, parsed.blank)
    return _new_form(request, descriptor, parsed, errors, general, status_code=422)


async def _edit_page(
    request: Request,
    session: WebDB,
    principal: Principal,
    svc: ChannelAccountService,
    account: ChannelAccount,
    parsed: ParsedForm | None = None,
    errors: dict[str, str] | None = None,
    general: list[str] | None = None,
    status_code: int = 200,
    send_form: SendForm | None = None,
) -> Response:
    descriptor = get_descriptor(account.type)
    public = await svc.read(session, account)
    rule = rule_for(account.type)
    if send_form is None and rule.supported and principal.has(Permission.CHANNELS_SEND):
        send_form = _send_form(rule)
    recent, _ = await outbound.list_messages(session, principal, svc, account.id, limit=RECENT_MESSAGES)
    masks = {name: public.settings.get(name) for name in descriptor.secret_fields}
    setup = setup_for(account.type)
    webhook = WebhookView(public.webhook_url, setup) if setup is not None and public.webhook_url else None
    values = parsed.settings if parsed else dict(account.settings)
    history = await svc.history(session, principal, account.id)
    _, health_row, attempts = await health.connection_log(session, principal, svc, account.id, limit=20)
    context = {
        "account": account,
        "row": _row(account, {}),
        "descriptor": descriptor,
        "method": METHOD_LABELS.get(descriptor.connection_method, ""),
        "name": parsed.name if parsed else account.name,
        "fields": _field_views(form_fields(descriptor), values, errors or {}, masks),
        "errors": errors or {},
        "general_errors": general or [],
        "audit": _audit(history),
        "attempts": attempts,
        "health": health_row,
        "threshold": threshold_for(account.type),
        "can_test": principal.has(Permission.CHANNELS_CONNECT),
        "own_reconnect": descriptor.connection_method not in (ConnectionMethod.OAUTH, ConnectionMethod.QR),
        "send_form": send_form,
        "recent_messages": [_message_view(m) for m in recent],
        "webhook": webhook,
        **_abilities(principal),
    }
    return render(request, "channels/edit.html", context, status_code=status_code)


@router.get("/{account_id}/edit")
async def edit_form(
    account_id: uuid.UUID, request: Request, session: WebDB, principal: WebPrincipal, svc: Service
) -> Response:
    """Edit a channel (read-only for members), with its audit trail."""
    account = await svc.get(session, principal, account_id)
    return await _edit_page(request, session, principal, svc, account)


@router.post("/{account_id}/edit")
async def edit(
    account_id: uuid.UUID, request: Request, session: WebDB, principal: FormPrincipal, svc: Service
) -> Response:
    """Save the edit form; blank secret inputs keep the stored secret."""
    account = await svc.get(session, principal, account_id)
    principal.require(Permission.CHANNELS_MANAGE)
    parsed = _parse(form_fields(get_descriptor(account.type)), await request.form(), editing=True)
    try:
        data = ChannelAccountUpdate.model_validate(
            {"name": parsed.name, "settings": parsed.settings, "credentials": parsed.credentials or None}
        )
        account = await svc.update(session, principal, account_id, data)
    except ValidationError as exc:
        error = from_validation_error(exc)
    except Unprocessable as exc:
        error = exc
    else:
        response = RedirectResponse(INDEX, status_code=303)
        set_flash(response, "success", f"Channel “{account.name}” saved.")
        return response
    await session.rollback()
    account = await svc.get(session, principal, account_id)
    errors, general = _field_errors(error, parsed.blank)
    return await _edit_page(
        request, session, principal, svc, account, parsed, errors, general, status_code=422
    )


@router.post("/{account_id}/test")
async def test_connection(
    account_id: uuid.UUID, request: Request, session: WebDB, principal: FormPrincipal, svc: Service
) -> Response:
    """Test connection (or Reconnect: the same connect flow, logged as such); back to the edit page."""
    action = "reconnect" if _text(await request.form(), "action") == "reconnect" else "test"
    account, attempt = await health.test(
        session, principal, svc, request.app.state.runtime.settings, account_id, action
    )
    response = RedirectResponse(f"{INDEX}/{account_id}/edit", status_code=303)
    if attempt.ok:
        set_flash(response, "success", f"Connection to “{account.name}” works.")
    else:
        set_flash(response, "danger", f"Connection test failed: {attempt.message or account.status_reason}")
    return response


@router.post("/{account_id}/messages")
async def send_test_message(
    account_id: uuid.UUID, request: Request, session: WebDB, principal: FormPrincipal, svc: Service
) -> Response:
    """Send test message: queued through the same service as the messages API; back to the edit page,
    where the recent messages show its status."""
    account = await svc.get(session, principal, account_id)
    rule = rule_for(account.type)
    form = await request.form()
    values = {key: _text(form, key) for key in ("to", "text", "subject", "title")}
    body: dict[str, Any] = {"text": values["text"] or None}
    if "subject" in rule.fields:
        body["subject"] = values["subject"] or None
    if "title" in rule.fields:
        body["title"] = values["title"] or None
    try:
        data = MessageCreate.model_validate({"to": values["to"].strip() or None, "body": body})
        message, _ = await outbound.create(session, principal, svc, account_id, data)
    except ValidationError as exc:
        error: Unprocessable | Conflict = from_validation_error(exc)
    except (Unprocessable, Conflict) as exc:
        error = exc
    else:
        response = RedirectResponse(f"{INDEX}/{account_id}/edit", status_code=303)
        set_flash(response, "success", f"Test message queued for {message.to}; its status is shown below.")
        return response
    await session.rollback()
    account = await svc.get(session, principal, account_id)
    send_form = _send_form(rule, values)
    for detail in error.details:
        field = str(detail.get("field", "")).removeprefix("body.")
        if field in ("to", "text", "subject", "title"):
            message_text = str(detail.get("message") or "invalid").removeprefix("Value error, ")
            send_form.errors.setdefault(field, message_text[:1].upper() + message_text[1:])
    if not send_form.errors:
        send_form.general.append(error.message)
    return await _edit_page(
        request, session, principal, svc, account, status_code=error.status_code, send_form=send_form
    )


@router.post("/{account_id}/toggle")
async def toggle(
    account_id: uuid.UUID, request: Request, session: WebDB, principal: FormPrincipal, svc: Service
) -> Response:
    """The Active switch. The form says the wanted state, so a repeated submit changes nothing."""
    active = _text(await request.form(), "is_active") in {"true", "on", "1"}
    account = await svc.update(session, principal, account_id, ChannelAccountUpdate(is_active=active))
    if is_fetch(request):
        row = _row(account, await _org_names(session, principal, [account]))
        return render(request, "channels/_row.html", {"row": row, **_abilities(principal)})
    response = RedirectResponse(INDEX, status_code=303)
    state = "active" if account.is_active else "inactive"
    set_flash(response, "success", f"Channel “{account.name}” is now {state}.")
    return response


@router.get("/{account_id}/delete")
async def confirm_delete(
    account_id: uuid.UUID, request: Request, session: WebDB, principal: WebPrincipal, svc: Service
) -> Response:
    """The confirmation step (the table opens the same question in a dialog)."""
    account = await svc.get(session, principal, account_id)
    principal.require(Permission.CHANNELS_MANAGE)
    return render(request, "channels/delete.html", {"row": _row(account, {})})


@router.post("/{account_id}/delete")
async def delete(
    account_id: uuid.UUID, request: Request, session: WebDB, principal: FormPrincipal, svc: Service
) -> Response:
    """Delete the channel and its credentials; the audit trail stays."""
    account = await svc.get(session, principal, account_id)
    name = account.name
    await svc.delete(session, principal, account_id)
    response = RedirectResponse(INDEX, status_code=303)
    set_flash(response, "success", f"Channel “{name}” deleted.")
    return response
