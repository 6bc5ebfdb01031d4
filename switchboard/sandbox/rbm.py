"""Sandbox Google RBM: the OAuth 2.0 JWT-bearer token endpoint and agentMessages, plus the
webhook traffic RBM sends: the clientToken/secret URL check and signed user messages and events.

Service accounts registered with `add_service_account` have their RS256 assertions verified;
in open mode (the in-app sandbox) an unknown account is accepted so a newcomer can connect
offline. `disable` makes its assertions fail with `invalid_grant`, as a deleted key does.
Numbers in `unreachable` answer 404 NOT_FOUND, as RBM does for users without RCS.
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
from switchboard.sandbox._kit import page


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

    def __post_init__(self) -> None:
        self.app = Starlette(
            routes=[
                Route("/", self.index),
                Route("/token", self.token, methods=["POST"]),
                Route("/v1/phones/{msisdn}/agentMessages", self.agent_message, methods=["POST"]),
            ]
        )

    async def index(self, request: Request) -> Any:
        return page("Sandbox RCS Business Messaging", f"<p>{len(self.sent)} message(s) sent.</p>")

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
