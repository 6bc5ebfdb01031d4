"""Sandbox Meta: the Facebook Login dialog and the Graph API calls Switchboard makes.

Its page (`/`) lists the sandbox's Pages (with their webhook subscription), Instagram accounts,
WhatsApp numbers and the system-user token for WhatsApp Cloud manual entry. `POST /simulate/message`
(form or JSON `{to, from, text}`, `to` a Page, Instagram account or phone number id) is a customer
writing: the Messenger, Instagram or WhatsApp webhook, signed with the app secret, goes to the
platform's /webhooks/meta. As on Meta, only a Page (the Instagram account's linked Page) or WABA
subscribed to the app gets its messages sent. `POST /simulate/unsubscribe` (`{page}`) removes the
app from a Page's subscribed apps, as a Page admin removing the app would.

Page `subscribed_apps` (Graph reference page/subscribed_apps): POST with `subscribed_fields`
(comma-separated) -> `{"success": true}`, GET -> `{"data": [{"id", "name", "subscribed_fields"}]}`,
DELETE -> `{"success": true}`; each needs that Page's access token with pages_manage_metadata.

Wire format per PROVIDERS.md section 4 (login dialog, code exchange, fb_exchange_token, pages,
WABA/phone numbers, subscribed_apps, messages). Errors use Graph's shape
`{"error": {"message", "type": "OAuthException", "code", "error_subcode", "fbtrace_id"}}`.
Token lifetimes are attributes so tests can make tokens expire.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from switchboard.oauth.providers import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from switchboard.sandbox._kit import (
    Grant,
    Platform,
    Refused,
    Token,
    bearer,
    esc,
    form_or_json,
    hidden,
    page,
    redirect_with,
    simulate,
    token,
)

# Who writes in, by default: a Page-scoped id, an Instagram-scoped id, a WhatsApp number.
_PSID, _IGSID, _WA_ID = "7000000000000001", "7100000000000001", "14155550199"

SCOPE_LABELS = {
    "pages_show_list": "Show a list of the Pages you manage",
    "pages_messaging": "Manage and access Page conversations in Messenger",
    "pages_manage_metadata": "Manage accounts, settings and webhooks for a Page",
    "instagram_basic": "Access profile and posts from the Instagram account",
    "instagram_manage_messages": "Manage messages of the Instagram account",
    "business_management": "Manage your business",
    "whatsapp_business_management": "Manage your WhatsApp accounts",
    "whatsapp_business_messaging": "Send and receive WhatsApp messages",
}

# Page webhook fields Graph accepts in subscribed_fields (the messaging ones and a few others).
PAGE_WEBHOOK_FIELDS = frozenset(
    {
        "messages",
        "message_deliveries",
        "message_echoes",
        "message_edits",
        "message_reactions",
        "message_reads",
        "messaging_account_linking",
        "messaging_handovers",
        "messaging_optins",
        "messaging_policy_enforcement",
        "messaging_postbacks",
        "messaging_referrals",
        "standby",
        "feed",
    }
)


@dataclass
class SandboxPage:
    id: str
    name: str
    ig_id: str | None = None
    ig_username: str | None = None


@dataclass
class MetaSandbox:
    app_id: str = SANDBOX_CLIENT_ID
    app_secret: str = SANDBOX_CLIENT_SECRET
    app_name: str = "Switchboard (sandbox)"
    user_id: str = "1000000000001"
    user_name: str = "Sandbox User"
    code_ttl: float = 600
    short_ttl: float = 3600
    long_ttl: float = 60 * 86400
    pages: list[SandboxPage] = field(
        default_factory=lambda: [
            SandboxPage("1010000000001", "Acme Sandbox Page"),
            SandboxPage("1010000000002", "Acme Shop", "17841400000000001", "acme.shop"),
        ]
    )
    businesses: list[dict[str, str]] = field(
        default_factory=lambda: [{"id": "2010000000001", "name": "Acme Business"}]
    )
    wabas: dict[str, list[dict[str, str]]] = field(
        default_factory=lambda: {"2010000000001": [{"id": "3010000000001", "name": "Acme WABA"}]}
    )
    phone_numbers: dict[str, list[dict[str, str]]] = field(
        default_factory=lambda: {
            "3010000000001": [
                {
                    "id": "4010000000001",
                    "display_phone_number": "+1 415-555-0101",
                    "verified_name": "Acme Sales",
                },
                {
                    "id": "4010000000002",
                    "display_phone_number": "+1 415-555-0102",
                    "verified_name": "Acme Care",
                },
            ]
        }
    )
    system_user_token: str = "EAAsandboxSystemUserToken0001"

    def __post_init__(self) -> None:
        self.codes: dict[str, Grant] = {}
        self.tokens: dict[str, Token] = {
            self.system_user_token: Token(
                "system", ["whatsapp_business_management", "whatsapp_business_messaging"], None, self.user_id
            )
        }
        self.subscribed_apps: set[str] = set()  # WABAs subscribed to the app
        # Page id -> app id -> (app name, subscribed fields): the Page's subscribed apps.
        self.page_apps: dict[str, dict[str, tuple[str, list[str]]]] = {}
        self.sent: list[dict[str, Any]] = []
        self.requests: list[str] = []
        self.platform = Platform()
        self.app = Starlette(
            routes=[
                Route("/", self.index),
                Route("/simulate/message", self.simulate_message, methods=["POST"]),
                Route("/simulate/unsubscribe", self.simulate_unsubscribe, methods=["POST"]),
                Route("/{path:path}", self._dispatch, methods=["GET", "POST", "DELETE"]),
            ]
        )

    def configure(self, settings: Any) -> None:
        self.platform.configure(settings)

    # --- test controls -------------------------------------------------------------------------

    def expire(self, access_token: str) -> None:
        self.tokens[access_token].expires_at = time.time() - 1

    def expire_all(self) -> None:
        """Every user and page token lapses (as when the user changes their password); system-user
        tokens do not expire."""
        for tok in self.tokens.values():
            if tok.kind != "system":
                tok.expires_at = time.time() - 1

    def page_fields(self, page_id: str) -> list[str] | None:
        """The fields our app is subscribed to on a Page; None when it is not subscribed."""
        found = self.page_apps.get(page_id, {}).get(self.app_id)
        return list(found[1]) if found else None

    def unsubscribe(self, page_id: str) -> bool:
        """Remove our app from a Page's subscribed apps (a Page admin removing the app)."""
        return self.page_apps.get(page_id, {}).pop(self.app_id, None) is not None

    def subscribe_other_app(self, page_id: str, app_id: str, name: str, fields: list[str]) -> None:
        """Another app (an inbox tool, a bot) subscribed to the same Page."""
        self.page_apps.setdefault(page_id, {})[app_id] = (name, list(fields))

    def sign(self, body: bytes, secret: str | None = None) -> str:
        digest = hmac.new((secret or self.app_secret).encode(), body, hashlib.sha256).hexdigest()
        return f"sha256={digest}"

    # --- the sandbox's own page: what exists, and a customer writing -----------------------------

    async def index(self, request: Request) -> Response:
        def write_form(target: str, sender: str) -> str:
            return (
                f'<form method="post" action="simulate/message">{hidden("to", target)}'
                f'<input name="from" value="{esc(sender)}" aria-label="Customer id"> '
                '<input name="text" placeholder="Message" aria-label="Message" required> '
                "<button>Write as a customer</button></form>"
            )

        def subscription(page_id: str) -> str:
            fields = self.page_fields(page_id)
            if fields is None:
                return (
                    f'<br><small data-testid="subscription-{esc(page_id)}">Webhooks: not subscribed to '
                    "the app (connect the channel, or Test connection)</small>"
                )
            return (
                f'<br><small data-testid="subscription-{esc(page_id)}">Webhooks: subscribed to '
                f"{esc(', '.join(fields))}</small>"
                f'<form method="post" action="simulate/unsubscribe">{hidden("page", page_id)}'
                "<button>Remove the app from this Page</button></form>"
            )

        pages = "".join(
            f"<li>Page <b>{esc(p.name)}</b> <code>{esc(p.id)}</code>{subscription(p.id)}"
            f"{write_form(p.id, _PSID)}</li>"
            for p in self.pages
        ) + "".join(
            f"<li>Instagram <b>@{esc(p.ig_username)}</b> <code>{esc(p.ig_id)}</code>"
            f"{write_form(p.ig_id, _IGSID)}</li>"
            for p in self.pages
            if p.ig_id
        )
        numbers = "".join(
            f"<li>WABA <code>{esc(waba)}</code>, number {esc(n['display_phone_number'])} "
            f"({esc(n['verified_name'])}), phone number ID <code>{esc(n['id'])}</code>"
            f"{write_form(n['id'], _WA_ID)}</li>"
            for waba, nums in self.phone_numbers.items()
            for n in nums
        )
        first_waba = next(iter(self.phone_numbers), "")
        first_phone = self.phone_numbers[first_waba][0]["id"] if first_waba else ""
        manual = (
            '<h2 style="font-size:1.1em">WhatsApp Cloud manual entry</h2>'
            '<p data-testid="sandbox-meta-manual">System-user access token '
            f"<code>{esc(self.system_user_token)}</code>"
            f", WhatsApp Business Account ID <code>{esc(first_waba)}</code>, phone number ID "
            f"<code>{esc(first_phone)}</code>.</p>"
        )
        body = (
            f"<p>Facebook Login signs you in as {esc(self.user_name)}. Connect a channel, switch it on, "
            "then write to it here; the webhook goes to this Switchboard's /webhooks/meta.</p>"
            f'<h2 style="font-size:1.1em">Pages and Instagram accounts</h2><ul>{pages}</ul>'
            f'<h2 style="font-size:1.1em">WhatsApp numbers</h2><ul>{numbers}</ul>{manual}'
        )
        return page("Sandbox Meta", body)

    async def simulate_message(self, request: Request) -> Response:
        """A customer writes to a Page, an Instagram account or a WhatsApp number."""

        async def write(fields: dict[str, str]) -> tuple[int, dict[str, Any]]:
            if not fields["text"]:
                raise Refused(422, "text", "text is required.")
            payload, message_id = self.inbound_message(fields["to"], fields["text"], fields["from"])
            self._require_subscribed(fields["to"])
            body = json.dumps(payload).encode()
            headers = {"Content-Type": "application/json", "X-Hub-Signature-256": self.sign(body)}
            status = await self.platform.post(self.platform.webhook("meta"), body, headers)
            return status, {"object": payload["object"], "message_id": message_id}

        return await simulate(request, "Sandbox Meta", ("to", "from", "text"), write)

    def _require_subscribed(self, to: str) -> None:
        """Meta sends a Page's (or its Instagram account's) messages only to apps the Page subscribed,
        and a number's only when its WABA subscribed the app."""
        target = next((p for p in self.pages if to in (p.id, p.ig_id)), None)
        if target is not None:
            if "messages" not in (self.page_fields(target.id) or []):
                raise Refused(
                    409,
                    "to",
                    f"Page {target.name} ({target.id}) has not subscribed the app to its messages "
                    "webhooks, so Meta sends nothing. Connect the channel, or press Test connection on it.",
                )
            return
        waba = next((w for w, nums in self.phone_numbers.items() if any(n["id"] == to for n in nums)), None)
        if waba is not None and waba not in self.subscribed_apps:
            raise Refused(
                409,
                "to",
                f"WhatsApp Business Account {waba} has not subscribed the app, so Meta sends nothing. "
                "Connect the channel first.",
            )

    async def simulate_unsubscribe(self, request: Request) -> Response:
        """A Page admin removes the app from the Page: its webhooks stop (form or JSON `{page}`)."""
        as_json, data = await form_or_json(request)
        page_id = str((data or {}).get("page") or "").strip()
        found = self._page(page_id)
        if found is None:
            message = f"{page_id!r} is not a Page id of this sandbox."
            if as_json:
                return JSONResponse({"unsubscribed": False, "error": message, "field": "page"}, 404)
            return page("Sandbox Meta", f'<p>{esc(message)}</p><p><a href="../">Back</a></p>', 404)
        removed = self.unsubscribe(page_id)
        if as_json:
            return JSONResponse({"unsubscribed": removed, "page": page_id})
        what = "no longer subscribed to" if removed else "was not subscribed to"
        return page(
            "Sandbox Meta",
            f'<p data-testid="unsubscribed">Page {esc(found.name)} {what} the app\'s webhooks.</p>'
            '<p><a href="../">Back</a></p>',
        )

    def inbound_message(self, to: str, text: str, sender: str = "") -> tuple[dict[str, Any], str]:
        """(webhook payload, message id) of a customer's text to a Page, Instagram account or number."""
        now = time.time()
        for p in self.pages:
            if to in (p.id, p.ig_id):
                mid = "m_" + secrets.token_hex(12)
                item = {
                    "sender": {"id": sender or (_PSID if to == p.id else _IGSID)},
                    "recipient": {"id": to},
                    "timestamp": int(now * 1000),
                    "message": {"mid": mid, "text": text},
                }
                entry = {"id": to, "time": int(now * 1000), "messaging": [item]}
                return {"object": "page" if to == p.id else "instagram", "entry": [entry]}, mid
        for waba, nums in self.phone_numbers.items():
            for n in nums:
                if n["id"] == to:
                    wamid = "wamid." + secrets.token_hex(12)
                    wa_id = (sender or _WA_ID).lstrip("+")
                    display = "".join(c for c in n["display_phone_number"] if c.isdigit())
                    value = {
                        "messaging_product": "whatsapp",
                        "metadata": {"display_phone_number": display, "phone_number_id": n["id"]},
                        "contacts": [{"profile": {"name": "Sandbox Customer"}, "wa_id": wa_id}],
                        "messages": [
                            {"from": wa_id, "id": wamid, "timestamp": str(int(now)), "type": "text",
                             "text": {"body": text}}
                        ],
                    }  # fmt: skip
                    entry = {"id": waba, "changes": [{"field": "messages", "value": value}]}
                    return {"object": "whatsapp_business_account", "entry": [entry]}, wamid
        raise Refused(
            404, "to", f"{to!r} is not a Page, Instagram account or phone number id of this sandbox."
        )

    # --- routing -------------------------------------------------------------------------------

    async def _dispatch(self, request: Request) -> Response:
        parts = [p for p in request.path_params["path"].split("/") if p]
        self.requests.append(f"{request.method} /{'/'.join(parts)}")
        if parts and parts[0].startswith("v") and parts[0][1:2].isdigit():
            parts = parts[1:]  # the Graph/dialog version prefix
        if parts == ["dialog", "oauth"]:
            return await (self._dialog(request) if request.method == "GET" else self._decide(request))
        if parts == ["oauth", "access_token"]:
            return self._access_token(request)
        return await self._graph(request, parts)

    # --- Facebook Login dialog -----------------------------------------------------------------

    async def _dialog(self, request: Request) -> Response:
        q = request.query_params
        if q.get("client_id") != self.app_id or not q.get("redirect_uri"):
            return page("Sandbox — Facebook Login", "<p>Invalid App ID or redirect_uri.</p>", 400)
        scopes = [s for s in q.get("scope", "").replace(" ", ",").split(",") if s]
        items = "".join(
            f'<li><label><input type="checkbox" name="granted" value="{esc(s)}" checked> '
            f"{esc(SCOPE_LABELS.get(s, s))} <code>{esc(s)}</code></label></li>"
            for s in scopes
        )
        body = (
            f"<p><strong>App {esc(self.app_id)}</strong> (Switchboard) wants to:</p><ul>{items}</ul>"
            f"<p>Signed in as {esc(self.user_name)}.</p>"
            + hidden("client_id", q["client_id"])
            + hidden("redirect_uri", q["redirect_uri"])
            + hidden("state", q.get("state", ""))
        )
        form = (
            f'<form method="post">{body}'
            '<button type="submit" name="action" value="continue">Continue</button>'
            '<button type="submit" name="action" value="cancel">Cancel</button></form>'
        )
        return page("Sandbox — Facebook Login", form)

    async def _decide(self, request: Request) -> Response:
        form = await request.form()
        redirect_uri, state = str(form.get("redirect_uri", "")), str(form.get("state", ""))
        if form.get("client_id") != self.app_id or not redirect_uri:
            return page("Sandbox — Facebook Login", "<p>Invalid request.</p>", 400)
        if form.get("action") != "continue":
            return redirect_with(
                redirect_uri,
                {
                    "error": "access_denied",
                    "error_code": "200",
                    "error_description": "Permissions error",
                    "error_reason": "user_denied",
                    "state": state,
                },
            )
        code = secrets.token_urlsafe(32)
        self.codes[code] = Grant(
            self.app_id,
            redirect_uri,
            [str(s) for s in form.getlist("granted")],
            None,
            time.time() + self.code_ttl,
        )
        return redirect_with(redirect_uri, {"code": code, "state": state})

    # --- tokens --------------------------------------------------------------------------------

    def _access_token(self, request: Request) -> Response:
        q = request.query_params
        if q.get("client_id") != self.app_id or q.get("client_secret") != self.app_secret:
            return _error(400, "Error validating client secret.", 1, 404)
        if q.get("grant_type") == "fb_exchange_token":
            old = self.tokens.get(q.get("fb_exchange_token", ""))
            if old is None or old.kind != "user":
                return _error(400, "Invalid OAuth access token - Cannot parse access token", 190)
            if not old.valid():
                return _error(400, "Error validating access token: Session has expired.", 190, 463)
            return self._issue_user(old.scopes, self.long_ttl)
        grant = self.codes.get(q.get("code", ""))
        if grant is None:
            return _error(400, "Invalid verification code format.", 100)
        if grant.used:
            return _error(400, "This authorization code has been used.", 100, 36009)
        if grant.expires_at < time.time():
            return _error(400, "This authorization code has expired.", 100, 36007)
        if grant.redirect_uri != q.get("redirect_uri"):
            return _error(
                400,
                "Error validating verification code. Please make sure your redirect_uri is identical to the "
                "one you used in the OAuth dialog request",
                100,
                36008,
            )
        grant.used = True
        return self._issue_user(grant.scopes, self.short_ttl)

    def _issue_user(self, scopes: list[str], ttl: float) -> Response:
        value = token("EAAuser")
        self.tokens[value] = Token("user", list(scopes), time.time() + ttl, self.user_id)
        return JSONResponse({"access_token": value, "token_type": "bearer", "expires_in": int(ttl)})

    # --- Graph ---------------------------------------------------------------------------------

    def _auth(self, request: Request) -> Token | Response:
        raw = bearer(request)
        if not raw:
            return _error(
                400, "An active access token must be used to query information about the current user.", 2500
            )
        tok = self.tokens.get(raw)
        if tok is None or tok.revoked:
            return _error(400, "Invalid OAuth access token - Cannot parse access token", 190)
        if not tok.valid():
            return _error(400, "Error validating access token: Session has expired.", 190, 463)
        return tok

    def _page_token(self, user: Token, page_id: str) -> str:
        value = token(f"EAApage{page_id}")
        # Page tokens obtained with a long-lived user token have no expiry.
        self.tokens[value] = Token("page", list(user.scopes), None, page_id)
        return value

    def _page(self, page_id: str) -> SandboxPage | None:
        return next((p for p in self.pages if p.id == page_id), None)

    async def _graph(self, request: Request, parts: list[str]) -> Response:
        auth = self._auth(request)
        if isinstance(auth, Response):
            return auth
        tok, method = auth, request.method
        fields = request.query_params.get("fields", "")
        if parts == ["debug_token"]:
            target = self.tokens.get(request.query_params.get("input_token", ""))
            data: dict[str, Any] = {"is_valid": bool(target and target.valid()), "app_id": self.app_id}
            if target:
                data.update(
                    scopes=target.scopes, expires_at=int(target.expires_at or 0), type=target.kind.upper()
                )
            return JSONResponse({"data": data})
        if parts == ["me"] and method == "GET":
            if tok.kind == "page":
                found = self._page(tok.subject)
                me: dict[str, Any] = {"id": tok.subject, "name": found.name if found else ""}
                if "instagram_business_account" in fields and found and found.ig_id:
                    me["instagram_business_account"] = {"id": found.ig_id}
                return JSONResponse(me)
            return JSONResponse({"id": self.user_id, "name": self.user_name})
        if parts == ["me", "permissions"]:
            granted = set(tok.scopes)
            asked = [s for s in SCOPE_LABELS if s in granted] + sorted(granted - set(SCOPE_LABELS))
            declined = [s for s in SCOPE_LABELS if s not in granted]
            return JSONResponse(
                {
                    "data": [{"permission": s, "status": "granted"} for s in asked]
                    + [{"permission": s, "status": "declined"} for s in declined]
                }
            )
        if parts == ["me", "accounts"]:
            if tok.kind != "user" or "pages_show_list" not in tok.scopes:
                return JSONResponse({"data": []})
            rows = []
            for p in self.pages:
                row: dict[str, Any] = {
                    "id": p.id,
                    "name": p.name,
                    "access_token": self._page_token(tok, p.id),
                }
                if "instagram_business_account" in fields and p.ig_id:
                    row["instagram_business_account"] = {"id": p.ig_id}
                rows.append(row)
            return JSONResponse(
                {"data": rows, "paging": {"cursors": {"before": "MAZDZD", "after": "MAZDZD"}}}
            )
        if parts == ["me", "businesses"]:
            if "business_management" not in tok.scopes:
                return _error(403, "(#100) Missing Permission", 100)
            return JSONResponse({"data": self.businesses})
        if parts[:1] == ["me"] and parts[1:] == ["messages"] and method == "POST":
            if tok.kind != "page":
                return _error(400, "(#230) Requires pages_messaging permission to manage the object", 230)
            return await self._send_messenger(request, tok.subject)
        if len(parts) == 1 and method == "GET":
            return self._node(tok, parts[0])
        if len(parts) == 2:
            node, edge = parts
            if edge == "subscribed_apps" and self._page(node) is not None:
                return await self._page_subscribed_apps(request, tok, node)
            if edge == "owned_whatsapp_business_accounts" and node in self.wabas:
                return JSONResponse({"data": self.wabas[node]})
            if edge == "phone_numbers" and node in self.phone_numbers:
                if not {"whatsapp_business_management"} & set(tok.scopes):
                    return _error(403, "(#200) Requires whatsapp_business_management permission", 200)
                return JSONResponse({"data": self.phone_numbers[node]})
            if edge == "subscribed_apps" and node in self.phone_numbers:
                if method == "POST":
                    self.subscribed_apps.add(node)
                    return JSONResponse({"success": True})
                subscribed = (
                    [{"whatsapp_business_api_data": {"id": self.app_id}}]
                    if node in self.subscribed_apps
                    else []
                )
                return JSONResponse({"data": subscribed})
            if edge == "messages" and method == "POST":
                if any(node == n["id"] for nums in self.phone_numbers.values() for n in nums):
                    return await self._send_whatsapp(request, tok, node)
                if any(node in (p.id, p.ig_id) for p in self.pages):
                    return await self._send_messenger(request, node)
        return _error(
            400,
            f"Unsupported {method} request. Object with ID '{parts[0] if parts else ''}' does not exist.",
            100,
            33,
        )

    async def _page_subscribed_apps(self, request: Request, tok: Token, page_id: str) -> Response:
        if tok.kind != "page":
            return _error(400, "(#210) A page access token is required to request this resource.", 210)
        if tok.subject != page_id:
            return _error(403, "(#200) The access token does not belong to this Page.", 200)
        if "pages_manage_metadata" not in tok.scopes:
            return _error(403, "(#200) Requires pages_manage_metadata permission to manage the object", 200)
        apps = self.page_apps.setdefault(page_id, {})
        if request.method == "GET":
            rows = [
                {"id": app_id, "name": name, "subscribed_fields": list(fields)}
                for app_id, (name, fields) in apps.items()
            ]
            return JSONResponse({"data": rows})
        if request.method == "DELETE":
            apps.pop(self.app_id, None)
            return JSONResponse({"success": True})
        form = await request.form()  # Graph takes parameters in the query string or the form body
        raw = str(request.query_params.get("subscribed_fields") or form.get("subscribed_fields") or "")
        asked = [f.strip() for f in raw.split(",") if f.strip()]
        if not asked:
            return _error(400, "(#100) The parameter subscribed_fields is required.", 100)
        known = ", ".join(sorted(PAGE_WEBHOOK_FIELDS))
        for i, name in enumerate(asked):
            if name not in PAGE_WEBHOOK_FIELDS:
                return _error(
                    400,
                    f'(#100) Param subscribed_fields[{i}] must be one of {{{known}}} - got "{name}".',
                    100,
                )
        apps[self.app_id] = (self.app_name, list(dict.fromkeys(asked)))
        return JSONResponse({"success": True})

    def _node(self, tok: Token, node: str) -> Response:
        found = self._page(node)
        if found:
            out: dict[str, Any] = {"id": found.id, "name": found.name}
            if found.ig_id:
                out["instagram_business_account"] = {"id": found.ig_id}
            return JSONResponse(out)
        ig = next((p for p in self.pages if p.ig_id == node), None)
        if ig:
            return JSONResponse({"id": node, "username": ig.ig_username, "name": ig.name})
        for nums in self.phone_numbers.values():
            for n in nums:
                if n["id"] == node:
                    if not {"whatsapp_business_management", "whatsapp_business_messaging"} & set(tok.scopes):
                        return _error(403, "(#200) Requires whatsapp_business_management permission", 200)
                    return JSONResponse({**n, "quality_rating": "GREEN"})
        for wabas in self.wabas.values():
            for w in wabas:
                if w["id"] == node:
                    return JSONResponse(w)
        return _error(400, f"Unsupported get request. Object with ID '{node}' does not exist.", 100, 33)

    async def _send_whatsapp(self, request: Request, tok: Token, phone_id: str) -> Response:
        if "whatsapp_business_messaging" not in tok.scopes:
            return _error(403, "(#10) Application does not have permission for this action", 10)
        body = json.loads(await request.body() or b"{}")
        to = str(body.get("to", ""))
        self.sent.append({"phone_number_id": phone_id, **body})
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to.lstrip("+")}],
                "messages": [{"id": "wamid." + secrets.token_hex(12)}],
            }
        )

    async def _send_messenger(self, request: Request, page_id: str) -> Response:
        body = json.loads(await request.body() or b"{}")
        self.sent.append({"page_id": page_id, **body})
        return JSONResponse(
            {"recipient_id": body.get("recipient", {}).get("id"), "message_id": "m_" + secrets.token_hex(12)}
        )


def _error(status: int, message: str, code: int, subcode: int | None = None) -> JSONResponse:
    err: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": secrets.token_hex(6),
    }
    if subcode is not None:
        err["error_subcode"] = subcode
    return JSONResponse({"error": err}, status_code=status)
