"""Sandbox TikTok API for Business: the account-holder consent page (/v2/auth/authorize/), the
/open_api/v1.3 token, refresh, Business Account and Business Messaging endpoints, and signed
Business Messaging webhooks. Answers use the Business API envelope `{code, message, request_id,
data}` with HTTP 200 for errors too, as TikTok does. Token lifetimes are attributes tests can
shorten.

`POST /simulate/message` (the form on `/`, or JSON `{text, conversation_id}`) is a TikTok user
writing to the Business Account: a signed `im_receive_msg` goes to the platform's app webhook
(/webhooks/tiktok), which routes it by `user_openid`."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from switchboard.oauth.providers import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from switchboard.sandbox._kit import Platform, Refused, Token, esc, page, simulate, token
from switchboard.sandbox._oauth2 import OAuth2Sandbox

API = "/open_api/v1.3"


def _answer(data: dict[str, Any], code: int = 0, message: str = "OK") -> JSONResponse:
    return JSONResponse({"code": code, "message": message, "request_id": secrets.token_hex(8), "data": data})


class TikTokSandbox(OAuth2Sandbox):
    title = "Sandbox — TikTok for Business"
    client_param = "client_key"
    subject = "-000sandboxBusinessOpenId"

    def __init__(
        self, client_key: str = SANDBOX_CLIENT_ID, client_secret: str = SANDBOX_CLIENT_SECRET
    ) -> None:
        super().__init__(client_key, client_secret)
        self.display_name = "Acme on TikTok"
        self.username = "acme"
        self.sent: list[dict[str, Any]] = []
        self.platform = Platform()
        self.app = Starlette(
            routes=[
                Route("/", self.index),
                Route("/simulate/message", self.simulate_message, methods=["POST"]),
                Route("/v2/auth/authorize/", self.authorize, methods=["GET", "POST"]),
                Route(f"{API}/tt_user/oauth2/token/", self.exchange, methods=["POST"]),
                Route(f"{API}/tt_user/oauth2/refresh_token/", self.refresh, methods=["POST"]),
                Route(f"{API}/business/get/", self.business_get, methods=["GET"]),
                Route(f"{API}/business/message/send/", self.send, methods=["POST"]),
            ]
        )

    def configure(self, settings: Any) -> None:
        self.platform.configure(settings)

    # --- the sandbox's own page: a TikTok user writes to the Business Account
    async def index(self, request: Request) -> Response:
        body = (
            f"<p>Consent connects the Business Account <b>@{esc(self.username)}</b> "
            f"(<code>{esc(self.subject)}</code>). Switch the channel on, then write to it as a TikTok user; "
            "the webhook goes to this Switchboard's /webhooks/tiktok.</p>"
            '<form method="post" action="simulate/message">'
            '<input name="conversation_id" value="sandbox-conversation-1" aria-label="Conversation id"> '
            '<input name="text" placeholder="Message" aria-label="Message" required> '
            "<button>Write as a TikTok user</button></form>"
        )
        return page(self.title, body)

    async def simulate_message(self, request: Request) -> Response:
        async def write(fields: dict[str, str]) -> tuple[int, dict[str, Any]]:
            if not fields["text"] or len(fields["text"]) > 6000:
                raise Refused(422, "text", "text is required (at most 6,000 characters).")
            body, headers = self.message_event(
                fields["text"], fields["conversation_id"] or "sandbox-conversation-1"
            )
            status = await self.platform.post(self.platform.webhook("tiktok"), body, headers)
            content = json.loads(json.loads(body)["content"])
            return status, {
                "message_id": content["message_id"],
                "conversation_id": content["conversation_id"],
            }

        return await simulate(request, self.title, ("text", "conversation_id"), write)

    # --- tokens
    async def _body(self, request: Request) -> dict[str, Any] | None:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    def _client_ok(self, body: dict[str, Any]) -> bool:
        return body.get("client_id") == self.client_id and body.get("client_secret") == self.client_secret

    def _mint(self, scopes: list[str]) -> JSONResponse:
        access, refresh = token("act."), token("rft.")
        now = time.time()
        self.tokens[access] = Token("access", scopes, now + self.access_ttl, self.subject)
        self.tokens[refresh] = Token("refresh", scopes, now + self.refresh_ttl, self.subject)
        return _answer(
            {
                "access_token": access,
                "token_type": "Bearer",
                "scope": ",".join(scopes),
                "expires_in": int(self.access_ttl),
                "refresh_token": refresh,
                "refresh_token_expires_in": int(self.refresh_ttl),
                "open_id": self.subject,
            }
        )

    async def exchange(self, request: Request) -> Response:
        self.requests.append("POST /tt_user/oauth2/token/")
        body = await self._body(request)
        if body is None or not self._client_ok(body):
            return _answer({}, 40101, "Invalid parameter values for authentication: app_id or secret.")
        if body.get("grant_type") != "authorization_code":
            return _answer(
                {}, 40108, f"Invalid value for grant_type: {body.get('grant_type')} is not supported."
            )
        grant = self.codes.get(str(body.get("auth_code", "")))
        if grant is None or grant.used or grant.expires_at < time.time():
            return _answer({}, 40110, "The auth_code is canceled. Please re-authorize.")
        if grant.redirect_uri != body.get("redirect_uri"):
            return _answer({}, 40002, "redirect_uri does not match the authorization request.")
        grant.used = True
        return self._mint(grant.scopes)

    async def refresh(self, request: Request) -> Response:
        self.requests.append("POST /tt_user/oauth2/refresh_token/")
        body = await self._body(request)
        if body is None or not self._client_ok(body):
            return _answer({}, 40101, "Invalid parameter values for authentication: app_id or secret.")
        old = self.tokens.get(str(body.get("refresh_token", "")))
        if (
            body.get("grant_type") != "refresh_token"
            or old is None
            or old.kind != "refresh"
            or not old.valid()
        ):
            return _answer({}, 40107, "Invalid or incorrect refresh token.")
        return self._mint(old.scopes)

    # --- Business Account and Business Messaging
    def _authorized(self, request: Request, business_id: str) -> Response | None:
        raw = request.headers.get("access-token", "")
        if not raw:
            return _answer(
                {}, 40104, "Access token is null, you should set it in http header with key Access-Token."
            )
        tok = self.check(raw)
        if tok is None:
            return _answer({}, 40105, "Invalid or incorrect access token.")
        if business_id != tok.subject:
            return _answer({}, 40001, "No permission to operate this business account.")
        return None

    async def business_get(self, request: Request) -> Response:
        self.requests.append("GET /business/get/")
        refused = self._authorized(request, request.query_params.get("business_id", ""))
        if refused is not None:
            return refused
        return _answer({"username": self.username, "display_name": self.display_name, "profile_image": ""})

    async def send(self, request: Request) -> Response:
        body = await self._body(request) or {}
        refused = self._authorized(request, str(body.get("business_id", "")))
        if refused is not None:
            return refused
        text = (body.get("text") or {}).get("body") if isinstance(body.get("text"), dict) else None
        if body.get("recipient_type") != "CONVERSATION" or not body.get("recipient"):
            return _answer(
                {}, 40002, "recipient_type must be CONVERSATION with a conversation id in recipient."
            )
        if body.get("message_type") != "TEXT" or not text or len(text) > 6000:
            return _answer({}, 40002, "A TEXT message needs text.body of 1 to 6,000 characters.")
        self.sent.append(body)
        return _answer({"message": {"message_id": "ttm_" + secrets.token_hex(8)}})

    # --- webhooks
    def sign(self, body: bytes, timestamp: int | None = None) -> str:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        digest = hmac.new(self.client_secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
        return f"t={ts},s={digest}"

    def message_event(
        self, text: str, conversation_id: str = "sandbox-conversation-1", event: str = "im_receive_msg"
    ) -> tuple[bytes, dict[str, str]]:
        """(body, headers) of a signed Business Messaging webhook: a user's text message by default."""
        now_ms = int(time.time() * 1000)
        user = {"id": "sandbox-user-1", "role": "personal_account"}
        business = {"id": self.subject, "role": "business_account"}
        incoming = event == "im_receive_msg"
        content = {
            "conversation_id": conversation_id,
            "message_id": "ttm_" + secrets.token_hex(8),
            "timestamp": now_ms,
            "type": "text",
            "text": {"body": text},
            "from": "sandbox_user" if incoming else self.username,
            "from_user": user if incoming else business,
            "to": self.username if incoming else "sandbox_user",
            "to_user": business if incoming else user,
        }
        body = json.dumps(
            {
                "client_key": self.client_id,
                "event": event,
                "create_time": now_ms // 1000,
                "user_openid": self.subject,
                "content": json.dumps(content),
            }
        ).encode()
        return body, {"Content-Type": "application/json", "TikTok-Signature": self.sign(body)}
