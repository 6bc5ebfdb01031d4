"""Settings -> Channels -> SMS: the SMS tab (table), the add-channel wizard (Connect, Compliance,
Destination) and the connection settings page. Server-rendered over SmsService: the rules live there."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from switchboard.core.errors import AppError, Forbidden, Unprocessable, from_validation_error
from switchboard.core.permissions import Permission, Principal
from switchboard.destinations.service import destinations
from switchboard.models import KnowledgeBase, Workspace
from switchboard.sms import registration
from switchboard.sms.compliance import SmsCompliance
from switchboard.sms.schemas import ConnectionRead, ConnectionUpdate, ConnectRequest, MessageCreate
from switchboard.sms.service import CodeRejected, SmsService
from switchboard.web.auth import FormPrincipal, WebPrincipal
from switchboard.web.routing import WebDB, WebRoute
from switchboard.web.templating import is_fetch, render, render_error, set_flash

router = APIRouter(prefix="/settings/channels/sms", route_class=WebRoute, include_in_schema=False)

INDEX = "/settings/channels/sms"
COUNTRIES = [("US", "United States (+1)"), ("CA", "Canada (+1)"), ("GB", "United Kingdom (+44)")]
SORTS = {"phone_number": "Phone number", "workspace": "Workspace", "knowledge_base": "Knowledge base"}
REGISTRATION_STYLES = {
    "draft": "text-bg-secondary",
    "submitted": "text-bg-info",
    "approved": "text-bg-success",
    "rejected": "text-bg-danger",
}
ENUMS = {
    "entity": ["PRIVATE_PROFIT", "PUBLIC_PROFIT", "NON_PROFIT", "GOVERNMENT", "SOLE_PROPRIETOR"],
    "brandType": ["STANDARD", "SOLE_PROPRIETOR"],
}
BRAND_FIELDS = [
    ("entity", "Legal entity type", "select"),
    ("brandType", "Brand type", "select"),
    ("vertical", "Industry (vertical)", "select"),
    ("displayName", "Brand display name", "text"),
    ("companyName", "Legal company name", "text"),
    ("registrationNumber", "Registration number (EIN / tax ID)", "text"),
    ("contactPhone", "Contact phone", "tel"),
    ("contactEmail", "Contact email", "email"),
    ("website", "Website", "url"),
    ("address", "Street address", "text"),
    ("city", "City", "text"),
    ("state", "State / region", "text"),
    ("zipCode", "ZIP / postal code", "text"),
    ("country", "Country (ISO code, e.g. US)", "text"),
]
# The campaign in accordions, so operators can work through it progressively.
CAMPAIGN_SECTIONS = [
    (
        "usecase",
        "Use case and consent",
        [
            ("useCaseType", "Use case", "select"),
            ("campaignDescription", "Campaign description", "textarea"),
            ("messageFlow", "Message flow: how recipients give consent", "textarea"),
            ("privacyPolicyUrl", "Privacy policy URL", "url"),
        ],
    ),
    ("samples", "Sample messages", [("messageSamples", "Sample message", "samples")]),
    (
        "keywords",
        "Opt-in, opt-out and help",
        [
            ("optInKeywords", "Opt-in keywords", "text"),
            ("optInMessage", "Opt-in confirmation message", "textarea"),
            ("optOutKeywords", "Opt-out keywords", "text"),
            ("optOutMessage", "Opt-out confirmation message", "textarea"),
            ("helpKeywords", "Help keywords", "text"),
            ("helpMessage", "Help message", "textarea"),
        ],
    ),
    (
        "attributes",
        "Content attributes and terms",
        [
            ("numberPooling", "Number pooling", "yesno"),
            ("directLending", "Direct lending", "yesno"),
            ("embeddedLink", "Messages contain links", "yesno"),
            ("embeddedPhone", "Messages contain phone numbers", "yesno"),
            ("ageGatedContent", "Age-gated content", "yesno"),
            ("termsAndConditions", "I accept the terms and conditions", "check"),
        ],
    ),
]


def service(request: Request) -> SmsService:
    svc: SmsService = request.app.state.sms
    return svc


Service = Annotated[SmsService, Depends(service)]


# --- view models ------------------------------------------------------------------------------------


@dataclass
class AgentOption:
    id: str
    name: str
    workspace_id: str
    workspace_name: str
    knowledge_base: str | None


@dataclass
class FormField:
    name: str  # the input name, e.g. brand.companyName (the API's error field, too)
    label: str
    kind: str
    value: Any
    options: list[str] = field(default_factory=list)
    error: str | None = None
    editable: bool = True

    @property
    def dom_id(self) -> str:
        return "c-" + self.name.replace(".", "-")


@dataclass
class Section:
    key: str
    title: str
    fields: list[FormField]
    complete: bool
    problems: int
    filled: bool = False


def _abilities(principal: Principal) -> dict[str, bool]:
    return {
        "can_manage": principal.has(Permission.CHANNELS_MANAGE),
        "can_add": principal.has(Permission.CHANNELS_CONNECT)
        and principal.has(Permission.SMS_MANAGE)
        and principal.organization_id is not None,
        "can_compliance": principal.has(Permission.SMS_MANAGE),
        "is_admin": principal.is_platform_admin,
    }


def _text(form: FormData, key: str) -> str:
    value = form.get(key)
    return value.strip() if isinstance(value, str) else ""


async def _agents(session: AsyncSession, principal: Principal) -> list[AgentOption]:
    """Every agent the caller can assign, with its workspace and resolved knowledge base."""
    agents = await destinations.list_agents(session, principal)
    names = {
        w.id: w.name
        for w in await session.scalars(
            select(Workspace).where(Workspace.id.in_({a.workspace_id for a in agents}))
        )
    }
    kb_ids = {a.knowledge_base_id for a in agents if a.knowledge_base_id}
    kbs = (
        {k.id: k for k in await session.scalars(select(KnowledgeBase).where(KnowledgeBase.id.in_(kb_ids)))}
        if kb_ids
        else {}
    )
    out = []
    for a in agents:
        kb = kbs.get(a.knowledge_base_id) if a.knowledge_base_id else None
        resolved = kb.name if kb is not None and kb.workspace_id == a.workspace_id else None
        out.append(
            AgentOption(str(a.id), a.name, str(a.workspace_id), names.get(a.workspace_id, ""), resolved)
        )
    return out


async def _workspaces(session: AsyncSession, principal: Principal) -> list[Workspace]:
    stmt = select(Workspace).order_by(Workspace.name)
    if not principal.is_platform_admin:
        stmt = stmt.where(Workspace.organization_id == principal.organization_id)
    return list(await session.scalars(stmt))


def _errors_by_field(error: AppError) -> tuple[dict[str, str], list[str]]:
    by_field: dict[str, str] = {}
    general: list[str] = []
    for detail in error.details:
        name = str(detail.get("field", ""))
        # compliance.brand.x (connect) and brand.x (settings) name the same input.
        name = name.removeprefix("compliance.")
        parts = name.split(".")
        if len(parts) == 3 and parts[2].isdigit():  # campaign.messageSamples.2
            name = f"{parts[0]}.{parts[1]}"
        message = str(detail.get("message") or detail.get("rule") or "invalid").removeprefix("Value error, ")
        if name:
            by_field.setdefault(name, message)
        else:
            general.append(message)
    if not error.details:
        general.append(error.message)
    return by_field, general


# --- compliance form --------------------------------------------------------------------------------


def compliance_from_form(form: FormData) -> dict[str, Any]:
    """The form's inputs as a set-sms-compliance payload (blank means not answered)."""
    brand = {name: _text(form, f"brand.{name}") for name, _, _ in BRAND_FIELDS}
    campaign: dict[str, Any] = {}
    for _, _, fields in CAMPAIGN_SECTIONS:
        for name, _, kind in fields:
            key = f"campaign.{name}"
            if kind == "samples":
                campaign[name] = [v.strip() for v in form.getlist(key) if isinstance(v, str)]
            elif kind == "yesno":
                campaign[name] = {"yes": True, "no": False}.get(_text(form, key))
            elif kind == "check":
                campaign[name] = True if form.get(key) else None
            else:
                campaign[name] = _text(form, key)
    return {"brand": brand, "campaign": campaign}


def has_answers(payload: dict[str, Any]) -> bool:
    for section in payload.values():
        for value in section.values():
            if value not in (None, "", [], [""]):
                return True
    return False


def _field_value(data: dict[str, Any], section: str, name: str) -> Any:
    value = (data.get(section) or {}).get(name)
    if isinstance(value, list) and name != "messageSamples":
        return ", ".join(str(v) for v in value)
    return value


def compliance_sections(
    values: dict[str, Any], issues: list[dict[str, Any]], errors: dict[str, str], locked: bool
) -> tuple[Section, list[Section]]:
    """The brand and campaign accordions with their completion markers."""
    from switchboard.sms.compliance import UseCase, Vertical

    options = ENUMS | {"vertical": [v.value for v in Vertical], "useCaseType": [u.value for u in UseCase]}
    editable = {f"campaign.{f}" for f in registration.ALWAYS_EDITABLE_CAMPAIGN_FIELDS}

    def build(section: str, key: str, title: str, spec: list[tuple[str, str, str]]) -> Section:
        fields = []
        for name, label, kind in spec:
            full = f"{section}.{name}"
            fields.append(
                FormField(
                    name=full,
                    label=label,
                    kind=kind,
                    value=_field_value(values, section, name),
                    options=options.get(name, []),
                    error=errors.get(full),
                    editable=not locked or full in editable,
                )
            )
        names = {f.name for f in fields}
        problems = sum(1 for i in issues if i["severity"] == "error" and i["field"].split("[")[0] in names)
        filled = any(f.value not in (None, "", []) for f in fields)
        return Section(
            key, title, fields, complete=filled and problems == 0, problems=problems, filled=filled
        )

    brand = build("brand", "brand", "Brand", BRAND_FIELDS)
    campaign = [build("campaign", key, title, spec) for key, title, spec in CAMPAIGN_SECTIONS]
    return brand, campaign


def registration_badge(status: str, reason: str | None) -> dict[str, str]:
    return {
        "label": registration.label(status, reason),
        "style": REGISTRATION_STYLES.get(status, "text-bg-secondary"),
    }


# --- the SMS tab ------------------------------------------------------------------------------------


def _sort_params(sort: str, order: str) -> tuple[str, str]:
    return (sort if sort in SORTS else "phone_number", "desc" if order == "desc" else "asc")


@router.get("")
async def index(
    request: Request, principal: WebPrincipal, sort: str = "phone_number", order: str = "asc"
) -> Response:
    """The Channels page's SMS tab; the table arrives by fetch so loading and error states are real."""
    principal.require(Permission.CHANNELS_READ)
    sort, order = _sort_params(sort, order)
    return render(request, "sms/index.html", {"sort": sort, "order": order, **_abilities(principal)})


async def _table_context(
    session: AsyncSession, principal: Principal, svc: SmsService, sort: str, order: str
) -> dict[str, Any]:
    rows = await svc.list_connections(session, principal, sort=sort, descending=order == "desc")  # type: ignore[arg-type]
    return {
        "rows": rows,
        "agents": await _agents(session, principal),
        "sort": sort,
        "order": order,
        "sorts": SORTS,
        "badges": {r.id: registration_badge(r.registration_status, None) for r in rows},
        **_abilities(principal),
    }


@router.get("/table")
async def table(
    request: Request,
    session: WebDB,
    principal: WebPrincipal,
    svc: Service,
    sort: str = "phone_number",
    order: str = "asc",
) -> Response:
    """The SMS table (a fragment for fetch, a page without JavaScript)."""
    sort, order = _sort_params(sort, order)
    context = await _table_context(session, principal, svc, sort, order)
    return render(request, "sms/table.html" if is_fetch(request) else "sms/table_page.html", context)


async def _row_response(
    request: Request, session: AsyncSession, principal: Principal, svc: SmsService, conn_id: uuid.UUID
) -> Response:
    view = await svc.read(session, await svc.get(session, principal, conn_id))
    context = {
        "row": view,
        "agents": await _agents(session, principal),
        "badges": {view.id: registration_badge(view.registration_status, None)},
        **_abilities(principal),
    }
    return render(request, "sms/_row.html", context)


@router.post("/{connection_id}/toggle")
async def toggle(
    connection_id: uuid.UUID, request: Request, session: WebDB, principal: FormPrincipal, svc: Service
) -> Response:
    """The Active switch (the form says the wanted state)."""
    active = _text(await request.form(), "is_active") in {"true", "on", "1"}
    await svc.update(session, principal, connection_id, ConnectionUpdate(is_active=active))
    if is_fetch(request):
        return await _row_response(request, session, principal, svc, connection_id)
    response = RedirectResponse(INDEX, status_code=303)
    set_flash(response, "success", f"The number is now {'active' if active else 'inactive'}.")
    return response


@router.post("/{connection_id}/agent")
async def assign_agent(
    connection_id: uuid.UUID, request: Request, session: WebDB, principal: FormPrincipal, svc: Service
) -> Response:
    """The Agent selector: reassign the agent (its workspace comes along)."""
    form = await request.form()
    try:
        agent_id = uuid.UUID(_text(form, "agent_id"))
    except ValueError:
        return render_error(request, 422, "Invalid input", "Pick an agent.")
    agent = await destinations.get_agent(session, principal, agent_id)
    try:
        await svc.update(
            session,
            principal,
            connection_id,
            ConnectionUpdate(agent_id=agent.id, workspace_id=agent.workspace_id),
        )
    except Unprocessable as exc:
        await session.rollback()
        return render_error(request, 422, "Invalid input", exc.message)
    target = _text(form, "next")
    if is_fetch(request):
        return await _row_response(request, session, principal, svc, connection_id)
    response = RedirectResponse(target if target.startswith(INDEX) else INDEX, status_code=303)
    set_flash(response, "success", f"Agent set to {agent.name}.")
    return response


@router.post("/{connection_id}/delete")
async def delete(
    connection_id: uuid.UUID, request: Request, session: WebDB, principal: FormPrincipal, svc: Service
) -> Response:
    """Delete the number's channel (a platform number goes back to the provider)."""
    conn = await svc.get(session, principal, connection_id)
    phone = conn.phone_number
    await svc.delete(session, principal, connection_id)
    response = RedirectResponse(INDEX, status_code=303)
    set_flash(response, "success", f"SMS number {phone} deleted.")
    return response


# --- the add-channel wizard -------------------------------------------------------------------------


@dataclass
class WizardState:
    name: str = ""
    mode: str = "new"
    country: str = "US"
    area_code: str = ""
    contains: str = ""
    phone_number: str = ""
    byon_phone: str = ""
    verification_code: str = ""
    hosted: bool = False
    hosted_email: str = ""
    workspace_id: str = ""
    agent_id: str = ""
    is_active: bool = False
    compliance: dict[str, Any] = field(default_factory=dict)


def _require_connect(principal: Principal) -> None:
    principal.require(Permission.CHANNELS_CONNECT)
    principal.require(Permission.SMS_MANAGE)
    if principal.organization_id is None:
        raise Forbidden("Numbers belong to tenants: sign in as one of the organization's admins to add one.")


async def _wizard(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    state: WizardState,
    errors: dict[str, str] | None = None,
    general: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    issues: list[dict[str, Any]] = []
    if has_answers(state.compliance):
        try:
            from switchboard.sms.compliance import precheck

            checked = SmsCompliance.model_validate(state.compliance)
            issues = [{"field": i.field, "severity": i.severity} for i in precheck(checked)]
        except ValidationError:
            issues = []
    brand, campaign = compliance_sections(state.compliance, issues, errors or {}, locked=False)
    context = {
        "state": state,
        "countries": COUNTRIES,
        "workspaces": await _workspaces(session, principal),
        "agents": await _agents(session, principal),
        "errors": errors or {},
        "general_errors": general or [],
        "brand": brand,
        "campaign": campaign,
        "sandbox": service(request).sandbox,
    }
    return render(request, "sms/wizard.html", context, status_code=status_code)


@router.get("/new")
async def new(request: Request, session: WebDB, principal: WebPrincipal) -> Response:
    """Add channel -> SMS: Connect (a new number or yours), compliance (optional), Destination."""
    _require_connect(principal)
    workspaces = await _workspaces(session, principal)
    state = WizardState(workspace_id=str(workspaces[0].id) if workspaces else "")
    return await _wizard(request, session, principal, state)


@router.get("/numbers")
async def numbers(
    request: Request,
    session: WebDB,
    principal: WebPrincipal,
    svc: Service,
    country: Annotated[str, Query(max_length=2)] = "US",
    area_code: Annotated[str, Query(max_length=5)] = "",
    contains: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    """The number selector's options (a fragment): available numbers, or why there are none."""
    try:
        found = await svc.numbers(
            session, principal, country=country, area_code=area_code or None, contains=contains or None
        )
    except AppError as exc:
        kind = "provisioning" if exc.status_code >= 500 else "input"
        return render(
            request,
            "sms/_numbers.html",
            {"error": exc.message, "kind": kind, "numbers": []},
            status_code=exc.status_code,
        )
    return render(request, "sms/_numbers.html", {"error": None, "numbers": found.available, "selected": ""})


@router.get("/segments")
async def segments(
    principal: WebPrincipal, svc: Service, body: Annotated[str, Query(max_length=10_000)] = ""
) -> Response:
    """The live segment counter of the compose box."""
    principal.require(Permission.CHANNELS_READ)
    return JSONResponse(svc.segments(body).model_dump())


@router.post("/verify")
async def verify(request: Request, session: WebDB, principal: FormPrincipal, svc: Service) -> Response:
    """Use my number: text the one-time code (answers a small status fragment)."""
    from switchboard.sms.schemas import VerifyRequest

    phone = _text(await request.form(), "phone_number")
    try:
        sent = await svc.send_verification(
            session, principal, VerifyRequest.model_validate({"phone_number": phone})
        )
    except ValidationError:
        return render(
            request,
            "sms/_verify.html",
            {"ok": False, "message": "Enter the number in international format, e.g. +14155550123."},
            status_code=422,
        )
    except AppError as exc:
        await session.rollback()
        return render(
            request, "sms/_verify.html", {"ok": False, "message": exc.message}, status_code=exc.status_code
        )
    return render(
        request, "sms/_verify.html", {"ok": True, "phone": sent.phone_number, "sandbox": sent.sandbox}
    )


def _state_from_form(form: FormData) -> WizardState:
    return WizardState(
        name=_text(form, "name"),
        mode="byon" if _text(form, "mode") == "byon" else "new",
        country=_text(form, "country") or "US",
        area_code=_text(form, "area_code"),
        contains=_text(form, "contains"),
        phone_number=_text(form, "phone_number"),
        byon_phone=_text(form, "byon_phone"),
        verification_code=_text(form, "verification_code"),
        hosted=bool(form.get("hosted")),
        hosted_email=_text(form, "hosted_email"),
        workspace_id=_text(form, "workspace_id"),
        agent_id=_text(form, "agent_id"),
        is_active=bool(form.get("is_active")),
        compliance=compliance_from_form(form),
    )


@router.post("/new")
async def create(request: Request, session: WebDB, principal: FormPrincipal, svc: Service) -> Response:
    """Connect the number through the service; invalid input re-renders the wizard with messages."""
    _require_connect(principal)
    state = _state_from_form(await request.form())
    body: dict[str, Any] = {
        "mode": state.mode,
        "phone_number": state.phone_number if state.mode == "new" else state.byon_phone,
        "workspace_id": state.workspace_id or None,
        "agent_id": state.agent_id or None,
        "is_active": state.is_active,
    }
    if state.name:
        body["name"] = state.name
    if has_answers(state.compliance):
        body["compliance"] = state.compliance
    if state.mode == "byon":
        if state.hosted:
            body["hosted_order"] = {"email": state.hosted_email}
        else:
            body["verification_code"] = state.verification_code or None
    error: AppError
    try:
        conn = await svc.connect(session, principal, ConnectRequest.model_validate(body))
    except ValidationError as exc:
        error = from_validation_error(exc)
        await session.rollback()
    except CodeRejected as exc:
        error = exc  # the wrong guess stays counted: no rollback
    except AppError as exc:
        error = exc
        await session.rollback()
    else:
        response = RedirectResponse(f"{INDEX}/{conn.id}", status_code=303)
        set_flash(response, "success", f"{conn.phone_number} is connected.")
        return response
    errors, general = _errors_by_field(error)
    if state.mode == "byon" and "phone_number" in errors:
        errors["byon_phone"] = errors.pop("phone_number")
    if error.status_code >= 500:
        general = [f"Provisioning failed: {error.message}"]
    elif error.status_code == 403:
        general = [f"Compliance restriction: {error.message}"]
    status = error.status_code if 400 <= error.status_code < 600 else 422
    return await _wizard(request, session, principal, state, errors, general, status_code=status)


# --- the connection settings page -------------------------------------------------------------------


async def _settings_page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    svc: SmsService,
    view: ConnectionRead,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    general: list[str] | None = None,
    sent: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    context: dict[str, Any] = {
        "view": view,
        "agents": [
            a
            for a in await _agents(session, principal)
            if view.workspace and a.workspace_id == str(view.workspace.id)
        ],
        "errors": errors or {},
        "general_errors": general or [],
        "sent": sent,
        **_abilities(principal),
    }
    if principal.has(Permission.SMS_MANAGE):
        read = await svc.get_compliance(session, principal, view.id)
        shown = values if values is not None else read.compliance.model_dump(mode="json", by_alias=True)
        issues = [i.model_dump() for i in read.precheck]
        brand, campaign = compliance_sections(shown, issues, errors or {}, locked=read.locked)
        context |= {
            "compliance": read,
            "issues": issues,
            "brand": brand,
            "campaign": campaign,
            "badge": registration_badge(read.registration.status, read.registration.rejection_reason),
        }
    else:
        context |= {"compliance": None, "badge": registration_badge(view.registration_status, None)}
    return render(request, "sms/settings.html", context, status_code=status_code)


@router.get("/{connection_id}")
async def settings_page(
    connection_id: uuid.UUID, request: Request, session: WebDB, principal: WebPrincipal, svc: Service
) -> Response:
    """Connection settings: destination, 10DLC compliance, registration, a test send."""
    view = await svc.read(session, await svc.get(session, principal, connection_id))
    return await _settings_page(request, session, principal, svc, view)


@router.post("/{connection_id}/compliance")
async def save_compliance(
    connection_id: uuid.UUID, request: Request, session: WebDB, principal: FormPrincipal, svc: Service
) -> Response:
    """Save the brand and campaign (drafts allowed)."""
    conn = await svc.get(session, principal, connection_id)
    principal.require(Permission.SMS_MANAGE)
    payload = compliance_from_form(await request.form())
    if conn.registration_status in {s.value for s in registration.LOCKED_STATES}:
        # Locked inputs are disabled (not posted): keep what is registered, take the editable ones.
        stored = await svc.load_compliance(session, conn) or SmsCompliance.empty()
        merged = stored.model_dump(mode="json", by_alias=True)
        merged["campaign"] = merged.get("campaign") or {}
        for name in registration.ALWAYS_EDITABLE_CAMPAIGN_FIELDS:
            merged["campaign"][name] = payload["campaign"].get(name)
        payload = merged
    error: AppError
    try:
        await svc.set_compliance(session, principal, connection_id, SmsCompliance.model_validate(payload))
    except ValidationError as exc:
        error = from_validation_error(exc)
    except AppError as exc:
        error = exc
    else:
        response = RedirectResponse(f"{INDEX}/{connection_id}", status_code=303)
        set_flash(response, "success", "Compliance details saved.")
        return response
    await session.rollback()
    errors, general = _errors_by_field(error)
    view = await svc.read(session, await svc.get(session, principal, connection_id))
    return await _settings_page(
        request, session, principal, svc, view, values=payload, errors=errors,
        general=general or [error.message], status_code=error.status_code,
    )  # fmt: skip


@router.post("/{connection_id}/registration")
async def submit_registration(
    connection_id: uuid.UUID, request: Request, session: WebDB, principal: FormPrincipal, svc: Service
) -> Response:
    """Submit for 10DLC registration; the precheck's findings come back if it does not pass."""
    try:
        await svc.submit_registration(session, principal, connection_id)
    except AppError as exc:
        await session.rollback()
        view = await svc.read(session, await svc.get(session, principal, connection_id))
        return await _settings_page(
            request, session, principal, svc, view, general=[exc.message], status_code=exc.status_code
        )
    response = RedirectResponse(f"{INDEX}/{connection_id}", status_code=303)
    set_flash(
        response,
        "info",
        "Submitted for carrier review. We will show the carrier's answer here when it arrives.",
    )
    return response


@router.post("/{connection_id}/destination")
async def save_destination(
    connection_id: uuid.UUID, request: Request, session: WebDB, principal: FormPrincipal, svc: Service
) -> Response:
    """Reassign the agent from the settings page."""
    form = await request.form()
    try:
        agent = await destinations.get_agent(session, principal, uuid.UUID(_text(form, "agent_id")))
        await svc.update(
            session,
            principal,
            connection_id,
            ConnectionUpdate(agent_id=agent.id, workspace_id=agent.workspace_id),
        )
    except (ValueError, AppError) as exc:
        await session.rollback()
        view = await svc.read(session, await svc.get(session, principal, connection_id))
        message = exc.message if isinstance(exc, AppError) else "Pick an agent."
        return await _settings_page(
            request, session, principal, svc, view, errors={"agent_id": message}, status_code=422
        )
    response = RedirectResponse(f"{INDEX}/{connection_id}", status_code=303)
    set_flash(response, "success", f"Agent set to {agent.name}.")
    return response


@router.post("/{connection_id}/send")
async def test_send(
    connection_id: uuid.UUID, request: Request, session: WebDB, principal: FormPrincipal, svc: Service
) -> Response:
    """A test message from this number (links shortened, segments counted)."""
    form = await request.form()
    try:
        data = MessageCreate.model_validate({"to": _text(form, "to"), "body": form.get("body") or ""})
        message, body, info, _links = await svc.send_test(session, principal, connection_id, data)
    except ValidationError as exc:
        error: AppError = from_validation_error(exc)
    except AppError as exc:
        error = exc
    else:
        view = await svc.read(session, await svc.get(session, principal, connection_id))
        sent = {"status": message.status, "body": body, "info": info}
        return await _settings_page(request, session, principal, svc, view, sent=sent)
    await session.rollback()
    view = await svc.read(session, await svc.get(session, principal, connection_id))
    errors, general = _errors_by_field(error)
    return await _settings_page(
        request, session, principal, svc, view, errors={f"send.{k}": v for k, v in errors.items()},
        general=general, status_code=error.status_code,
    )  # fmt: skip
