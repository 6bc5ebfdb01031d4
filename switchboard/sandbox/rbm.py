"""Sandbox Google RBM: the OAuth 2.0 JWT-bearer token endpoint and agentMessages, plus the
webhook traffic RBM sends: the clientToken/secret URL check and signed user messages and events.

Service accounts registered with `add_service_account` have their RS256 assertions verified;
in open mode (the in-app sandbox) an unknown account is accepted so a newcomer can connect
offline. `disable` makes its assertions fail with `invalid_grant`, as a deleted key does.
Numbers in `unreachable` answer 404 NOT_FOUND, as RBM does for users without RCS.

For a newcomer, over HTTP: `POST /service_accounts` (JSON `{name}` or the form on `/`) plays Google
Cloud's "Create key" and answers the key JSON to paste into the channel (its `token_uri` is this
sandbox); `POST /simulate/message` (JSON `{channel_id, client_token, agent_id, from, text}`) is a
user writing to the agent. As RBM does when a webhook is configured, the first message to a
channel's webhook `/webhooks/<channel id>` is preceded by the clientToken/secret check, and is not
sent if the webhook does not echo the secret; then the UserMessage goes out signed.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from switchboard.connectors.rcs_adapter import rbm_signature
from switchboard.sandbox._kit import Platform, Refused, esc, form_or_json, page, simulate


def _b64d(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def _error(code: int, status: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "status": status}}, code)


@dataclass
class RbmSandbox:
    open_mode: bool = True
    base_url: str = ""
    keys: dict[str, rsa.RSAPublicKey] = field(default_factory=dict)
    disabled: set[str] = field(default_factory=set)
    tokens: dict[str, str] = field(default_factory=dict)
    sent: list[dict[str, Any]] = field(default_factory=list)
    unreachable: set[str] = field(default_factory=set)
    verified_webhooks: set[tuple[str, str]] = field(default_factory=set)  # (url, client token)

    def __post_init__(self) -> None:
        self.platform = Platform()
        self.app = Starlette(
            routes=[
                Route("/", self.index),
                Route("/service_accounts", self.create_key, methods=["POST"]),
                Route("/simulate/message", self.simulate_message, methods=["POST"]),
                Route("/token", self.token, methods=["POST"]),
                Route("/v1/phones/{msisdn}/agentMessages", self.agent_message, methods=["POST"]),
            ]
        )

    def configure(self, settings: Any) -> None:
        """Mounted in the app: keys it issues name this sandbox's token endpoint."""
        self.platform.configure(settings)
        self.base_url = self.base_url or f"{self.platform.url}/sandbox/rbm"

    async def index(self, request: Request) -> Any:
        body = (
            f"<p>{len(self.sent)} message(s) sent.</p>"
            '<h2 style="font-size:1.1em">1. A service account key</h2>'
            '<form method="post" action="service_accounts">'
            '<input name="name" value="rbm-agent" aria-label="Service account name"> '
            "<button>Create key</button></form>"
            '<h2 style="font-size:1.1em">2. A user writes to the agent</h2>'
            "<p>Connect the RCS channel with that key, an agent id and a webhook client token, switch it "
            "on, then write to it (the channel id is in the channel page's address).</p>"
            '<form method="post" action="simulate/message">'
            '<input name="channel_id" placeholder="Channel id" aria-label="Channel id" required> '
            '<input name="client_token" placeholder="Webhook client token" aria-label="Client token"'
            " required> "
            '<input name="agent_id" placeholder="Agent id" aria-label="Agent id"> '
            '<input name="from" value="+14155550166" aria-label="User number"> '
            '<input name="text" placeholder="Message" aria-label="Message" required> '
            "<button>Write as an RCS user</button></form>"
        )
        return page("Sandbox RCS Business Messaging", body)

    async def create_key(self, request: Request) -> Any:
        """Google Cloud's "Create key" for a service account: the key JSON, token_uri here."""
        as_json, data = await form_or_json(request)
        name = str((data or {}).get("name") or "rbm-agent").strip()
        if not name.replace("-", "").isalnum() or len(name) > 30:
            return JSONResponse({"error": "name: letters, digits and dashes, at most 30"}, 422)
        key = self.add_service_account(f"{name}-{secrets.token_hex(3)}@rbm-sandbox.iam.gserviceaccount.com")
        if as_json:
            return JSONResponse(json.loads(key), 201)
        return page(
            "Sandbox RCS Business Messaging",
            f"<p>Paste this key into the channel's Service account key field:</p><pre>{esc(key)}</pre>",
            201,
        )

    async def simulate_message(self, request: Request) -> Any:
        async def write(fields: dict[str, str]) -> tuple[int, dict[str, Any]]:
            url = self.platform.channel_webhook(fields["channel_id"])
            token = fields["client_token"]
            if not token:
                raise Refused(422, "client_token", "client_token is required: RBM signs with it.")
            if not fields["text"]:
                raise Refused(422, "text", "text is required.")
            if (url, token) not in self.verified_webhooks:
                body, headers, secret = self.webhook_check(token)
                status, answer = await self.platform.exchange(url, body, headers)
                if status != 200 or answer != secret:
                    raise Refused(
                        409,
                        "client_token",
                        f"The webhook did not pass RBM's check (answered {status}): is the client token the "
                        "channel's, and is the channel saved?",
                    )
                self.verified_webhooks.add((url, token))
            message_id = str(uuid.uuid4())
            event = {
                "senderPhoneNumber": fields["from"] or "+14155550166",
                "messageId": message_id,
                "sendTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "agentId": fields["agent_id"],
                "text": fields["text"],
            }
            body, headers = self.user_event(token, event)
            status = await self.platform.post(url, body, headers)
            return status, {"message_id": message_id}

        return await simulate(
            request,
            "Sandbox RCS Business Messaging",
            ("channel_id", "client_token", "agent_id", "from", "text"),
            write,
        )

    def add_service_account(self, email: str) -> str:
        """A new service account key JSON (as downloaded from Google Cloud) whose token_uri is here."""
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.keys[email] = private.public_key()
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        return json.dumps(
            {
                "type": "service_account",
                "client_email": email,
                "private_key_id": secrets.token_hex(8),
                "private_key": pem,
                "token_uri": f"{self.base_url}/token",
            }
        )

    def disable(self, email: str) -> None:
        self.disabled.add(email)

    async def token(self, request: Request) -> JSONResponse:
        form = await request.form()
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return JSONResponse({"error": "unsupported_grant_type"}, 400)
        try:
            header, claims_b64, sig = str(form.get("assertion") or "").split(".")
            claims = json.loads(_b64d(claims_b64))
            email = str(claims["iss"])
        except (ValueError, KeyError):
            return JSONResponse({"error": "invalid_grant", "error_description": "Invalid JWT"}, 400)
        key = self.keys.get(email)
        if email in self.disabled or (key is None and not self.open_mode):
            return JSONResponse(
                {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}, 400
            )
        if key is not None:
            try:
                key.verify(_b64d(sig), f"{header}.{claims_b64}".encode(), padding.PKCS1v15(), hashes.SHA256())
            except InvalidSignature:
                return JSONResponse(
                    {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}, 400
                )
        if int(claims.get("exp", 0)) < time.time():
            return JSONResponse({"error": "invalid_grant", "error_description": "Token has expired."}, 400)
        token = "ya29." + secrets.token_urlsafe(24)
        self.tokens[token] = email
        return JSONResponse({"access_token": token, "token_type": "Bearer", "expires_in": 3599})

    async def agent_message(self, request: Request) -> JSONResponse:
        token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if token not in self.tokens or self.tokens[token] in self.disabled:
            reason = "Request had invalid authentication credentials."
            return JSONResponse({"error": {"code": 401, "message": reason, "status": "UNAUTHENTICATED"}}, 401)
        body = await request.json()
        msisdn = request.path_params["msisdn"]
        try:
            uuid.UUID(request.query_params.get("messageId") or "")
        except ValueError:
            return _error(400, "INVALID_ARGUMENT", "messageId must be a UUID.")
        if not request.query_params.get("agentId"):
            return _error(400, "INVALID_ARGUMENT", "agentId is required.")
        if msisdn in self.unreachable:
            return _error(404, "NOT_FOUND", "Requested entity was not found.")
        message = {"phone": msisdn, "messageId": request.query_params.get("messageId"),
                   "agentId": request.query_params.get("agentId"), **body}  # fmt: skip
        self.sent.append(message)
        return JSONResponse({"name": f"phones/{msisdn}/agentMessages/{message['messageId']}", **body})

    @staticmethod
    def webhook_check(client_token: str) -> tuple[bytes, dict[str, str], str]:
        """(body, headers, secret) of the POST RBM sends when a webhook URL is configured; the
        endpoint must answer 200 with the secret as its plain-text body."""
        secret = str(secrets.randbelow(10**10))
        body = json.dumps({"clientToken": client_token, "secret": secret}).encode()
        return body, {"Content-Type": "application/json"}, secret

    @staticmethod
    def user_event(client_token: str, event: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        """(body, headers) of a signed webhook push carrying one UserMessage or UserEvent."""
        data = base64.b64encode(json.dumps(event).encode()).decode()
        message = {"data": data, "messageId": secrets.token_hex(8), "publishTime": "2026-01-01T00:00:00Z"}
        body = json.dumps(
            {"message": message, "subscription": "projects/rbm-sandbox/subscriptions/agent"}
        ).encode()
        return body, {
            "Content-Type": "application/json",
            "X-Goog-Signature": rbm_signature(client_token, data),
        }
