"""RCS Business Messaging adapter (Google RBM REST, `SWITCHBOARD_RBM_BASE_URL`).

Auth: the agent's service account key (JSON) signs an RS256 JWT exchanged at its `token_uri`
(OAuth 2.0 JWT bearer grant, scope rcsbusinessmessaging) for an access token. Send: POST
/v1/phones/{E.164}/agentMessages?messageId=<UUID>&agentId= with an AgentMessage body.
Webhooks: Pub/Sub-style push bodies `{"message": {"data": base64 JSON, "messageId", ...}}` signed
`X-Goog-Signature: base64(HMAC-SHA512(clientToken, base64-decoded message.data))`; when the webhook
is configured RBM first POSTs `{"clientToken", "secret"}` and expects 200 with the secret as the
plain-text body. Sources: docs/connections.md, "Wire formats and their sources".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from switchboard.connectors.adapter import (
    AccountContext,
    ErrorKind,
    HealthResult,
    InboundEvent,
    ProviderError,
    SendResult,
    register_adapter,
)
from switchboard.connectors.base import ChannelType
from switchboard.connectors.http import base_url, json_or_empty, kind_for_status, request

SCOPE = "https://www.googleapis.com/auth/rcsbusinessmessaging"
GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"
SIGNATURE_HEADER = "x-goog-signature"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def rbm_signature(client_token: str, data_b64: str) -> str:
    digest = hmac.new(client_token.encode(), base64.b64decode(data_b64), hashlib.sha512).digest()
    return base64.b64encode(digest).decode()


def _service_account(ctx: AccountContext) -> dict[str, Any]:
    try:
        key = json.loads(ctx.secrets.get("service_account_key") or "")
    except ValueError:
        key = None
    if not isinstance(key, dict) or not all(key.get(f) for f in ("client_email", "private_key", "token_uri")):
        raise ProviderError(
            "a service account key (JSON with client_email, private_key, token_uri) is required",
            kind=ErrorKind.NEEDS_ACTION,
            code="missing_credentials",
        )
    return key


def signed_assertion(key: dict[str, Any], now: int | None = None) -> str:
    now = now or int(time.time())
    header = {"alg": "RS256", "typ": "JWT", "kid": key.get("private_key_id", "")}
    claims = {
        "iss": key["client_email"],
        "scope": SCOPE,
        "aud": key["token_uri"],
        "iat": now,
        "exp": now + 3600,
    }
    signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
    private = serialization.load_pem_private_key(key["private_key"].encode(), password=None)
    if not isinstance(private, rsa.RSAPrivateKey):
        raise ProviderError("the service account key is not RSA", kind=ErrorKind.NEEDS_ACTION, code="bad_key")
    signature = private.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64url(signature)}"


class RcsAdapter:
    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self.base = base_url(settings, "rbm")

    def _token_url(self, key: dict[str, Any]) -> str:
        """The key's token_uri, if it is Google's (live) or under the configured RBM host (the
        sandbox): a tenant-supplied URL must not make the service call anywhere else."""
        uri = str(key["token_uri"])
        if uri.startswith(self.base + "/") or (
            self.settings.provider_mode == "live" and uri == GOOGLE_TOKEN_URL
        ):
            return uri
        expected = GOOGLE_TOKEN_URL if self.settings.provider_mode == "live" else f"{self.base}/token"
        hint = (
            "" if self.settings.provider_mode == "live" else " (sandbox mode: create a key at /sandbox/rbm)"
        )
        raise ProviderError(
            f"the service account key's token_uri must be {expected}{hint}",
            kind=ErrorKind.NEEDS_ACTION,
            code="bad_key",
        )

    async def _token(self, ctx: AccountContext) -> str:
        key = _service_account(ctx)
        token_url = self._token_url(key)
        try:
            assertion = signed_assertion(key)
        except ValueError as exc:
            raise ProviderError(
                "the private key cannot be read", kind=ErrorKind.NEEDS_ACTION, code="bad_key"
            ) from exc
        response = await request(
            "POST",
            token_url,
            data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion},
        )
        data = json_or_empty(response)
        if response.status_code == 200 and data.get("access_token"):
            return str(data["access_token"])
        error = str(data.get("error") or response.status_code)
        # invalid_grant: the key was deleted or disabled in Google Cloud; the tenant must act.
        kind = (
            ErrorKind.NEEDS_ACTION
            if error in ("invalid_grant", "unauthorized_client")
            else kind_for_status(response.status_code)
        )
        raise ProviderError(
            f"Google token endpoint: {data.get('error_description') or error}",
            kind=kind,
            code="token_revoked" if kind is ErrorKind.NEEDS_ACTION else error,
            status=response.status_code,
        )

    async def check_health(self, ctx: AccountContext) -> HealthResult:
        if not ctx.settings.get("agent_id"):
            raise ProviderError(
                "the RBM agent ID is missing", kind=ErrorKind.NEEDS_ACTION, code="missing_agent"
            )
        await self._token(ctx)
        return HealthResult(ok=True)

    async def connect(self, ctx: AccountContext) -> HealthResult:
        return await self.check_health(ctx)

    def verify_webhook(self, ctx: AccountContext, headers: dict[str, str], body: bytes, url: str) -> bool:
        token = ctx.secrets.get("webhook_client_token", "")
        try:
            data = json.loads(body)["message"]["data"]
            expected = rbm_signature(token, data)
        except (ValueError, KeyError, TypeError):
            return False
        return bool(token) and hmac.compare_digest(
            headers.get(SIGNATURE_HEADER, "").encode(), expected.encode()
        )

    def webhook_handshake(self, ctx: AccountContext, headers: dict[str, str], body: bytes) -> str | None:
        """RBM's webhook check `{"clientToken", "secret"}`: the secret to echo when the client token
        is this account's, else None (the request is then judged as an ordinary, unsigned push)."""
        if b'"clientToken"' not in body:
            return None
        try:
            check = json.loads(body)
        except ValueError:
            return None
        token = ctx.secrets.get("webhook_client_token", "")
        if not isinstance(check, dict) or not token or not isinstance(check.get("secret"), str):
            return None
        if hmac.compare_digest(str(check.get("clientToken", "")).encode(), token.encode()):
            return str(check["secret"])
        return None

    def webhook_event_id(self, headers: dict[str, str], payload: dict[str, Any]) -> str | None:
        message = payload.get("message") or {}
        return str(message.get("messageId") or "") or None

    def parse_webhook(self, ctx: AccountContext, payload: dict[str, Any]) -> list[InboundEvent]:
        event = json.loads(base64.b64decode((payload.get("message") or {}).get("data") or "e30="))
        sender = event.get("senderPhoneNumber")
        # UserMessage carries the client's messageId; UserEvent carries eventId, plus for DELIVERED
        # and READ the messageId of our agent message (the id we chose when sending).
        message_id = str(event.get("messageId") or event.get("eventId") or "") or None
        reply = event.get("suggestionResponse") or {}
        text = event.get("text") if "text" in event else reply.get("text") or reply.get("postbackData")
        if "eventType" not in event and (text is not None or "userFile" in event or "location" in event):
            return [InboundEvent("message", message_id, sender, text, raw={})]
        # Typing indicators are not worth a row; other events (e.g. unsubscribes) are kept as status.
        kinds = {"DELIVERED": "delivery", "READ": "read", "IS_TYPING": "other"}
        kind = kinds.get(str(event.get("eventType")), "status")
        return [InboundEvent(kind, message_id, sender, raw={"event": event.get("eventType")})]

    async def send(self, ctx: AccountContext, to: str, body: dict[str, Any]) -> SendResult:
        token = await self._token(ctx)
        message_id = str(uuid.uuid4())
        response = await request(
            "POST",
            f"{self.base}/v1/phones/{to}/agentMessages",
            params={"messageId": message_id, "agentId": str(ctx.settings.get("agent_id") or "")},
            json={"contentMessage": {"text": str(body.get("text", ""))}},
            headers={"Authorization": f"Bearer {token}"},
        )
        if response.status_code != 200:
            data = json_or_empty(response)
            raise ProviderError(
                f"RBM: {(data.get('error') or {}).get('message') or response.status_code}",
                kind=kind_for_status(response.status_code),
                status=response.status_code,
            )
        return SendResult(provider_message_id=message_id, details=json_or_empty(response))


register_adapter(ChannelType.RCS, RcsAdapter)
