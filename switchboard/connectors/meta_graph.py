"""Meta Graph API client and the runtime adapters for Messenger, Instagram and WhatsApp Cloud.

Webhooks: X-Hub-Signature-256 = "sha256=" + hex HMAC-SHA256(app secret, raw body), compared in
constant time (PROVIDERS.md section 4). Graph errors are classified by their `code`: 190/102
(expired or revoked token) and 10/200-299 (permission) need the tenant to reauthorize; 1, 2, 4, 17,
32, 341, 613 and 5xx are transient; anything else is permanent.

Messenger and Instagram (through the Page linked to the account) only receive webhooks while the
Page is subscribed to the platform's Meta app: connecting (Test connection, Reconnect) calls
`POST /{page-id}/subscribed_apps` with the Page token and the fields below, and the periodic check
reads `GET /{page-id}/subscribed_apps` and asks the tenant to act when our app is gone from it.
Deleting the last channel on a Page calls `DELETE /{page-id}/subscribed_apps`, so Meta stops sending
its events. WhatsApp Cloud keeps the WABA subscribed (see WhatsAppCloudAdapter).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any

from switchboard.connectors.adapter import (
    AccountContext,
    ErrorKind,
    HealthResult,
    InboundEvent,
    ProviderError,
    SendResult,
    SharedRegistration,
    register_adapter,
)
from switchboard.connectors.base import ChannelType
from switchboard.connectors.http import TOKEN_EXPIRED, json_or_empty, reauth, request
from switchboard.core.config import Settings
from switchboard.oauth.providers import MetaConfig, meta

_TRANSIENT_CODES = {1, 2, 4, 17, 32, 341, 368, 613, 80001, 80004, 80006, 130429, 131048, 131056}
_TOKEN_CODES = {102, 190}
# Subcodes that refuse one message to one person (outside the 24-hour window, the person is not
# reachable, no such user): the send fails, the Page's authorization is fine.
_RECIPIENT_SUBCODES = {2018278, 2018108, 2018109, 2018001, 1545041, 2534022}
_TOKEN_MESSAGE = "the Facebook authorization has expired or was revoked. Use Reconnect to sign in again."

# Page webhook fields (Messenger Platform webhook events reference). Instagram messages arrive through
# the linked Page's subscription; deliveries and reads are Messenger-only fields.
MESSENGER_FIELDS = ("messages", "message_deliveries", "message_reads", "messaging_postbacks")
INSTAGRAM_FIELDS = ("messages", "messaging_postbacks")
WEBHOOKS_UNSUBSCRIBED = "webhooks_unsubscribed"


def graph_error(status: int, body: dict[str, Any]) -> ProviderError:
    err = body.get("error") if isinstance(body.get("error"), dict) else {}
    assert isinstance(err, dict)
    code = err.get("code")
    message = str(err.get("message") or f"Graph API answered {status}")
    if err.get("error_subcode") in _RECIPIENT_SUBCODES or code == 551:
        return ProviderError(message, kind=ErrorKind.PERMANENT, code=f"recipient_{code}", status=status)
    if status >= 500 or code in _TRANSIENT_CODES or err.get("is_transient"):
        return ProviderError(message, kind=ErrorKind.TRANSIENT, code=str(code or status), status=status)
    if code in _TOKEN_CODES:
        return reauth(_TOKEN_MESSAGE, TOKEN_EXPIRED, status)
    if code == 10 or (isinstance(code, int) and 200 <= code <= 299):
        return reauth(f"a permission is missing ({message}). Use Reconnect and allow it.", status=status)
    return ProviderError(message, kind=ErrorKind.PERMANENT, code=str(code or status), status=status)


class GraphClient:
    def __init__(self, cfg: MetaConfig) -> None:
        self.cfg = cfg

    async def call(
        self,
        method: str,
        path: str,
        token: str | None = None,
        params: dict[str, str] | None = None,
        json: Any = None,
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        resp = await request(
            method, f"{self.cfg.graph_url}/{path.lstrip('/')}", params=params, json=json, headers=headers
        )
        body = json_or_empty(resp)
        if resp.status_code >= 400 or "error" in body:
            raise graph_error(resp.status_code, body)
        return body

    async def get(self, path: str, token: str, **params: str) -> dict[str, Any]:
        return await self.call("GET", path, token, params or None)

    async def exchange_code(self, code: str, redirect_uri: str) -> dict[str, Any]:
        return await self.call(
            "GET",
            "oauth/access_token",
            params={
                "client_id": self.cfg.app_id,
                "client_secret": self.cfg.app_secret,
                "redirect_uri": redirect_uri,
                "code": code,
            },
        )

    async def long_lived(self, token: str) -> dict[str, Any]:
        """fb_exchange_token: a short-lived (or expiring long-lived) user token -> a ~60-day one."""
        return await self.call(
            "GET",
            "oauth/access_token",
            params={
                "grant_type": "fb_exchange_token",
                "client_id": self.cfg.app_id,
                "client_secret": self.cfg.app_secret,
                "fb_exchange_token": token,
            },
        )


def expiry(body: dict[str, Any]) -> datetime | None:
    seconds = body.get("expires_in")
    return (
        datetime.now(UTC) + timedelta(seconds=int(seconds))
        if isinstance(seconds, int) and seconds > 0
        else None
    )


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _ts(value: Any) -> datetime | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if number > 1e11:  # Messenger uses milliseconds, WhatsApp seconds
        number /= 1000
    return datetime.fromtimestamp(number, UTC)


def _e164(display: str) -> str:
    return "+" + "".join(c for c in display if c.isdigit())


def verify_hub_signature(secret: str, headers: dict[str, str], body: bytes) -> bool:
    sent = {k.lower(): v for k, v in headers.items()}.get("x-hub-signature-256", "")
    if not secret or not sent.startswith("sha256="):
        return False
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, sent.strip().lower())


def _need(ctx: AccountContext, name: str) -> str:
    value = ctx.secrets.get(name) or ctx.settings.get(name)
    if not value:
        raise reauth(f"the channel has no {name.replace('_', ' ')} yet; connect it first.")
    return str(value)


class _MetaAdapter:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.graph = GraphClient(meta(settings))

    def verify_webhook(self, ctx: AccountContext, headers: dict[str, str], body: bytes, url: str) -> bool:
        return verify_hub_signature(ctx.secrets.get("app_secret") or self.graph.cfg.app_secret, headers, body)


class MessengerAdapter(_MetaAdapter):
    token_field = "page_access_token"
    id_field = "page_id"
    subscribed_fields: tuple[str, ...] = MESSENGER_FIELDS
    lost_webhooks = (
        "webhooks are no longer subscribed: Meta no longer sends this Page's messages to "
        "Switchboard. Test connection subscribes the Page again."
    )

    async def _verify(self, ctx: AccountContext) -> tuple[HealthResult, str, str]:
        """The token still belongs to the connected Page: (result, Page id, Page token)."""
        token = _need(ctx, self.token_field)
        me = await self.graph.get("me", token)
        if not me.get("id") or me.get("id") != ctx.settings.get(self.id_field):
            raise reauth("the token no longer belongs to the connected Page.")
        result = HealthResult(ok=True, details={"page_id": me.get("id"), "name": me.get("name")})
        return result, str(me["id"]), token

    async def _our_subscription(self, page_id: str, token: str) -> list[str] | None:
        """The fields the platform app is subscribed to on the Page; None when it is not subscribed."""
        body = await self.graph.get(f"{page_id}/subscribed_apps", token)
        app_id = self.graph.cfg.app_id
        ours = next((a for a in body.get("data") or [] if str(a.get("id")) == app_id), None)
        if ours is None:
            return None
        fields = ours.get("subscribed_fields")
        # Graph lists the fields; an answer without them still names the app as subscribed.
        return [str(f) for f in fields] if isinstance(fields, list) else list(self.subscribed_fields)

    async def _subscribe(self, page_id: str, token: str) -> None:
        # One Page can back a Messenger and an Instagram channel: keep the fields already subscribed
        # so connecting one never drops what the other needs.
        current = await self._our_subscription(page_id, token) or []
        fields = list(dict.fromkeys([*current, *self.subscribed_fields]))
        out = await self.graph.call(
            "POST", f"{page_id}/subscribed_apps", token, params={"subscribed_fields": ",".join(fields)}
        )
        if out.get("success") is not True:
            raise ProviderError(
                f"Meta did not subscribe Page {page_id} to the app's webhooks.",
                kind=ErrorKind.PERMANENT,
                code="subscribe_failed",
            )

    async def _require_subscription(self, page_id: str, token: str) -> None:
        """Our app must still be among the Page's subscribed apps, with every field we asked for."""
        fields = await self._our_subscription(page_id, token)
        if fields is None:
            raise ProviderError(self.lost_webhooks, kind=ErrorKind.NEEDS_ACTION, code=WEBHOOKS_UNSUBSCRIBED)
        missing = [f for f in self.subscribed_fields if f not in fields]
        if missing:
            raise ProviderError(
                f"webhooks for {', '.join(missing)} are no longer subscribed. "
                "Test connection subscribes the Page again.",
                kind=ErrorKind.NEEDS_ACTION,
                code=WEBHOOKS_UNSUBSCRIBED,
            )

    async def connect(self, ctx: AccountContext) -> HealthResult:
        """Verify the Page token, then subscribe the Page to the platform app's webhooks."""
        result, page_id, token = await self._verify(ctx)
        await self._subscribe(page_id, token)
        return result

    def shared_registration(self, ctx: AccountContext) -> SharedRegistration | None:
        """The app's subscription is the Page's, whatever channel asked for it: a Messenger and an
        Instagram channel (of any tenant) on the same Page both rely on it."""
        page_id = ctx.settings.get("page_id")
        if not page_id:
            return None
        return SharedRegistration(
            (ChannelType.MESSENGER.value, ChannelType.INSTAGRAM.value), {"page_id": str(page_id)}
        )

    async def release(self, ctx: AccountContext) -> bool:
        """The last channel on the Page is deleted: `DELETE /{page-id}/subscribed_apps` with the Page
        token removes the platform app from the Page (the service skips this while another channel
        uses the Page). Without a stored Page id there is no Page we know to be ours to release."""
        page_id, token = ctx.settings.get("page_id"), ctx.secrets.get(self.token_field)
        if not page_id or not token:
            return False
        out = await self.graph.call("DELETE", f"{page_id}/subscribed_apps", token)
        if out.get("success") is not True:
            raise ProviderError(
                f"Meta did not unsubscribe Page {page_id} from the app's webhooks.",
                kind=ErrorKind.PERMANENT,
                code="unsubscribe_failed",
            )
        return True

    async def check_health(self, ctx: AccountContext) -> HealthResult:
        result, page_id, token = await self._verify(ctx)
        await self._require_subscription(page_id, token)
        return result

    def parse_webhook(self, ctx: AccountContext, payload: dict[str, Any]) -> list[InboundEvent]:
        events: list[InboundEvent] = []
        for entry in payload.get("entry") or []:
            for item in (entry or {}).get("messaging") or []:
                sender = (item.get("sender") or {}).get("id")
                when = _ts(item.get("timestamp"))
                if "message" in item:
                    msg = item["message"] or {}
                    events.append(
                        InboundEvent("message", msg.get("mid"), sender, msg.get("text"), when, item)
                    )
                elif "delivery" in item:
                    for mid in (item["delivery"] or {}).get("mids") or [None]:
                        events.append(InboundEvent("delivery", mid, sender, None, when, item))
                elif "read" in item:
                    events.append(InboundEvent("read", None, sender, None, when, item))
                else:
                    events.append(InboundEvent("other", None, sender, None, when, item))
        return events

    async def send(self, ctx: AccountContext, to: str, body: dict[str, Any]) -> SendResult:
        payload = {
            "recipient": {"id": to},
            "messaging_type": "RESPONSE",
            "message": {"text": body.get("text", "")},
        }
        out = await self.graph.call("POST", "me/messages", _need(ctx, self.token_field), json=payload)
        return SendResult(str(out.get("message_id")), out)


class InstagramAdapter(MessengerAdapter):
    """Instagram messaging through the Messenger Platform: the token is the linked Page's, and the
    Page's webhook subscription carries the account's messages."""

    token_field = "access_token"
    id_field = "instagram_business_account_id"
    subscribed_fields = INSTAGRAM_FIELDS
    lost_webhooks = (
        "webhooks are no longer subscribed: Meta no longer sends this Instagram account's messages "
        "(through its linked Facebook Page) to Switchboard. Test connection subscribes the Page again."
    )

    async def _verify(self, ctx: AccountContext) -> tuple[HealthResult, str, str]:
        ig_id, token = _need(ctx, self.id_field), _need(ctx, self.token_field)
        page = await self.graph.get("me", token, fields="id,name,instagram_business_account")
        stored = ctx.settings.get("page_id")
        if not page.get("id") or (stored and page.get("id") != stored):
            raise reauth("the token no longer belongs to the Facebook Page linked to the Instagram account.")
        page_id = str(page["id"])
        if (page.get("instagram_business_account") or {}).get("id") != ig_id:
            name = page.get("name") or page_id
            raise ProviderError(
                f"the Instagram account is no longer linked to the Facebook Page {name}. "
                "Link it again in the Page's settings, then use Reconnect.",
                kind=ErrorKind.NEEDS_ACTION,
                code="instagram_unlinked",
            )
        node = await self.graph.get(ig_id, token, fields="username")
        # Accounts connected before the Page id was stored learn it here.
        updates = {} if stored else {"page_id": page_id}
        result = HealthResult(
            ok=True, details={"username": node.get("username"), "page_id": page_id}, settings_updates=updates
        )
        return result, page_id, token


class WhatsAppCloudAdapter(_MetaAdapter):
    # No `release`: the app's subscription is the whole WABA's (POST /{waba-id}/subscribed_apps), and
    # other phone numbers on it, connected here or not, would stop receiving if deleting one number's
    # channel unsubscribed it. Events for a deleted number are acknowledged and dropped.
    async def check_health(self, ctx: AccountContext) -> HealthResult:
        token = _need(ctx, "access_token")
        refreshed: dict[str, str] = {}
        expires_at = _parse_time(ctx.settings.get("access_token_expires_at"))
        margin = timedelta(seconds=self.settings.token_refresh_margin_seconds)
        if expires_at is not None and expires_at - datetime.now(UTC) < margin:
            # A long-lived user token (OAuth connection): renew it before it lapses.
            body = await self.graph.long_lived(token)
            token = str(body["access_token"])
            refreshed["access_token"] = token
            expires_at = expiry(body)
        node = await self.graph.get(
            _need(ctx, "phone_number_id"), token, fields="display_phone_number,verified_name"
        )
        updates = {"access_token_expires_at": expires_at.isoformat()} if refreshed and expires_at else {}
        return HealthResult(
            ok=True,
            details=node,
            refreshed_secrets=refreshed,
            expires_at=expires_at,
            settings_updates=updates,
        )

    async def connect(self, ctx: AccountContext) -> HealthResult:
        """Verify token, WABA and phone number together, then subscribe the app to the WABA's webhooks."""
        result = await self.check_health(ctx)
        token = result.refreshed_secrets.get("access_token") or _need(ctx, "access_token")
        waba_id, phone_id = _need(ctx, "waba_id"), _need(ctx, "phone_number_id")
        numbers = await self.graph.get(f"{waba_id}/phone_numbers", token)
        if not any(str(n.get("id")) == phone_id for n in numbers.get("data") or []):
            raise ProviderError(
                f"phone number {phone_id} is not in WhatsApp Business Account {waba_id}.",
                kind=ErrorKind.PERMANENT,
                code="phone_not_in_waba",
            )
        await self.graph.call("POST", f"{waba_id}/subscribed_apps", token)
        display = result.details.get("display_phone_number")
        if display:
            result.settings_updates = {**result.settings_updates, "display_phone_number": _e164(str(display))}
        return result

    def parse_webhook(self, ctx: AccountContext, payload: dict[str, Any]) -> list[InboundEvent]:
        events: list[InboundEvent] = []
        for entry in payload.get("entry") or []:
            for change in (entry or {}).get("changes") or []:
                value = (change or {}).get("value") or {}
                for msg in value.get("messages") or []:
                    text = (msg.get("text") or {}).get("body")
                    events.append(
                        InboundEvent(
                            "message", msg.get("id"), msg.get("from"), text, _ts(msg.get("timestamp")), msg
                        )
                    )
                for st in value.get("statuses") or []:
                    kind = {"delivered": "delivery", "read": "read"}.get(str(st.get("status")), "status")
                    events.append(
                        InboundEvent(
                            kind, st.get("id"), st.get("recipient_id"), None, _ts(st.get("timestamp")), st
                        )
                    )
        return events

    async def send(self, ctx: AccountContext, to: str, body: dict[str, Any]) -> SendResult:
        payload = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": "text",
            "text": {"preview_url": False, "body": str(body.get("text", ""))[:4096]},
        }
        out = await self.graph.call(
            "POST", f"{_need(ctx, 'phone_number_id')}/messages", _need(ctx, "access_token"), json=payload
        )
        messages = out.get("messages")
        first = (
            messages[0] if isinstance(messages, list) and messages and isinstance(messages[0], dict) else {}
        )
        if not first.get("id"):
            raise ProviderError(
                "WhatsApp accepted the request but returned no message id",
                kind=ErrorKind.PERMANENT,
                code="no_id",
            )
        return SendResult(str(first["id"]), out)


register_adapter(ChannelType.MESSENGER, MessengerAdapter)
register_adapter(ChannelType.INSTAGRAM, InstagramAdapter)
register_adapter(ChannelType.WHATSAPP_CLOUD, WhatsAppCloudAdapter)
