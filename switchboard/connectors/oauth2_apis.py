"""TikTok and LinkedIn: token endpoint calls (code exchange, refresh) and their runtime adapters.

Both issue expiring access tokens with refresh tokens, so health checks renew the access token
ahead of expiry; a refused refresh means the tenant must reauthorize.
TikTok is the TikTok API for Business (Business Messaging): JSON calls under /open_api/v1.3 with an
`Access-Token` header, answers wrapped in `{"code", "message", "request_id", "data"}` (code 0 is
success, whatever the HTTP status). Webhooks are signed
`TikTok-Signature: t=<ts>,s=<hex HMAC-SHA256(app secret, "<ts>.<raw body>")>`.
LinkedIn signs `X-LI-Signature: <hex HMAC-SHA256(client secret, "hmacsha256=" + raw body)>` (the
prefix is part of what is signed, not of the header) and pushes Organization Social Action
Notifications `{"type", "notifications": [{"notificationId", "organizationalEntity", "action",
"sourcePost", "decoratedGeneratedActivity": {"comment": {"entity", "owner", "text"}}, ...}]}`. It
validates a webhook URL with `GET ?challengeCode=<uuid>`, answered with JSON `{"challengeCode",
"challengeResponse": <hex HMAC-SHA256(client secret, challengeCode)>}`, and pushes an organization's
notifications only while an event subscription (developer application, member, organization) names
that URL: connecting PUTs it, health checks GET it, deleting the channel DELETEs it.
Sources: docs/connections.md, "Wire formats and their sources".
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

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
from switchboard.connectors.http import json_or_empty, reauth, request, status_error
from switchboard.core.config import Settings
from switchboard.oauth.providers import OAuthEndpoints, linkedin, linkedin_app_id, tiktok

LINKEDIN_VERSION = "202401"
LINKEDIN_EVENT_TYPE = "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS"
LINKEDIN_WEBHOOK_PATH = "/webhooks/linkedin"  # the platform app's URL (webhooks APP_WEBHOOKS)
# A member id as OpenID's `sub` gives it; nothing that would break the subscription key.
_MEMBER_ID = re.compile(r"^[^\s,():]+$")


def linkedin_signature(client_secret: str, body: bytes) -> str:
    """LinkedIn signs "hmacsha256=" followed by the raw body, and sends the hex digest alone."""
    return hmac.new(client_secret.encode(), b"hmacsha256=" + body, hashlib.sha256).hexdigest()


def linkedin_challenge_response(client_secret: str, challenge_code: str) -> str:
    """The answer to LinkedIn's webhook validation: hex HMAC-SHA256 of the code, keyed with the
    client secret."""
    return hmac.new(client_secret.encode(), challenge_code.encode(), hashlib.sha256).hexdigest()


def linkedin_subscription_key(app_id: str, person_urn: str, organization_urn: str) -> str:
    """The Rest.li 2.0 compound key of an event subscription, each URN URL-encoded."""

    def enc(urn: str) -> str:
        return quote(urn, safe="")

    return (
        f"(developerApplication:{enc(f'urn:li:developerApplication:{app_id}')},"
        f"user:{enc(person_urn)},entity:{enc(organization_urn)},eventType:{LINKEDIN_EVENT_TYPE})"
    )


def _expires(body: dict[str, Any]) -> datetime | None:
    seconds = body.get("expires_in")
    return (
        datetime.now(UTC) + timedelta(seconds=int(seconds))
        if isinstance(seconds, int) and seconds > 0
        else None
    )


async def token_request(ep: OAuthEndpoints, client_param: str, data: dict[str, str]) -> dict[str, Any]:
    """POST to the token endpoint; invalid_grant and friends need the tenant, 5xx is transient."""
    resp = await request(
        "POST", ep.token_url, data={client_param: ep.client_id, "client_secret": ep.client_secret, **data}
    )
    body = json_or_empty(resp)
    if resp.status_code >= 500:
        raise ProviderError(
            "The provider's token endpoint failed.", kind=ErrorKind.TRANSIENT, code=str(resp.status_code)
        )
    if resp.status_code >= 400 or body.get("error") or not body.get("access_token"):
        error = str(body.get("error") or "invalid_response")
        description = str(body.get("error_description") or "The token endpoint refused the request.")
        kind = ErrorKind.PERMANENT if error == "invalid_client" else ErrorKind.NEEDS_ACTION
        if kind is ErrorKind.NEEDS_ACTION:
            raise reauth(description, status=resp.status_code)
        raise ProviderError(description, kind=kind, code=error, status=resp.status_code)
    return body


def _updates(expires_at: datetime | None, refreshed: dict[str, str]) -> dict[str, Any]:
    return {"access_token_expires_at": expires_at.isoformat()} if refreshed and expires_at else {}


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _need(ctx: AccountContext, name: str) -> str:
    value = ctx.secrets.get(name) or ctx.settings.get(name)
    if not value:
        raise reauth(f"the channel has no {name.replace('_', ' ')} yet; connect it first.")
    return str(value)


class _RefreshingAdapter:
    client_param = "client_id"

    def __init__(self, settings: Settings, ep: OAuthEndpoints) -> None:
        self.settings = settings
        self.ep = ep

    async def refresh(self, refresh_token: str) -> dict[str, Any]:
        """RFC 6749 section 6 refresh at the token endpoint."""
        return await token_request(
            self.ep, self.client_param, {"grant_type": "refresh_token", "refresh_token": refresh_token}
        )

    async def fresh_token(self, ctx: AccountContext) -> tuple[str, dict[str, str], datetime | None]:
        """The access token to use, refreshed first if it expires within the margin."""
        token = _need(ctx, "access_token")
        expires_at = _parse_time(ctx.settings.get("access_token_expires_at"))
        margin = timedelta(seconds=self.settings.token_refresh_margin_seconds)
        if expires_at is None or expires_at - datetime.now(UTC) >= margin:
            return token, {}, None
        body = await self.refresh(_need(ctx, "refresh_token"))
        refreshed = {"access_token": str(body["access_token"])}
        if body.get("refresh_token"):
            refreshed["refresh_token"] = str(body["refresh_token"])
        return refreshed["access_token"], refreshed, _expires(body)


# Business API return codes (4xxxx client, 5xxxx service): throttling is transient, the 401xx
# authentication family (expired/invalid access or refresh token, bad auth code) needs the tenant.
TIKTOK_THROTTLED = {40016, 40100, 40133}


def tiktok_error(code: int, message: str, status: int | None = None) -> ProviderError:
    if code in TIKTOK_THROTTLED or code >= 50000:
        return ProviderError(message, kind=ErrorKind.TRANSIENT, code=str(code), status=status)
    if 40101 <= code <= 40199:
        return reauth(message, status=status)
    return ProviderError(message, kind=ErrorKind.PERMANENT, code=str(code), status=status)


# How far a TikTok-Signature timestamp may be from our clock (TikTok leaves the tolerance to us).
TIKTOK_SIGNATURE_TOLERANCE = 300


class TikTokAdapter(_RefreshingAdapter):
    """Business Messaging: the account is the Business Account whose `open_id` (our `business_id`)
    the token exchange returns; replies go to a conversation id taken from the inbound webhook."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, tiktok(settings))

    async def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """One Business API call; returns its `data`. The envelope's code decides, not the status."""
        url = path if path.startswith("http") else f"{self.ep.api_url}{path}"
        headers = {"Access-Token": token} if token else {}
        resp = await request(method, url, json=body, params=params, headers=headers)
        answer = json_or_empty(resp)
        code = answer.get("code")
        if resp.status_code >= 400 and not isinstance(code, int):
            raise status_error(resp, f"TikTok answered HTTP {resp.status_code}")
        if not isinstance(code, int):
            raise ProviderError(
                "TikTok's answer is not a Business API response",
                kind=ErrorKind.PERMANENT,
                code="invalid_response",
                status=resp.status_code,
            )
        if code != 0:
            raise tiktok_error(code, str(answer.get("message") or f"TikTok error {code}"), resp.status_code)
        data = answer.get("data")
        return data if isinstance(data, dict) else {}

    async def exchange_code(self, code: str, redirect_uri: str) -> dict[str, Any]:
        """POST /tt_user/oauth2/token/: access_token, refresh_token, expires_in, scope, open_id."""
        return await self.call(
            "POST",
            self.ep.token_url,
            body={
                "client_id": self.ep.client_id,
                "client_secret": self.ep.client_secret,
                "grant_type": "authorization_code",
                "auth_code": code,
                "redirect_uri": redirect_uri,
            },
        )

    async def refresh(self, refresh_token: str) -> dict[str, Any]:
        return await self.call(
            "POST",
            "/tt_user/oauth2/refresh_token/",
            body={
                "client_id": self.ep.client_id,
                "client_secret": self.ep.client_secret,
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
            },
        )

    async def business_account(self, token: str, business_id: str) -> dict[str, Any]:
        return await self.call(
            "GET",
            "/business/get/",
            token=token,
            params={"business_id": business_id, "fields": json.dumps(["username", "display_name"])},
        )

    async def check_health(self, ctx: AccountContext) -> HealthResult:
        token, refreshed, expires_at = await self.fresh_token(ctx)
        account = await self.business_account(token, _need(ctx, "business_id"))
        return HealthResult(
            ok=True,
            details={"display_name": account.get("display_name"), "username": account.get("username")},
            refreshed_secrets=refreshed,
            expires_at=expires_at,
            settings_updates=_updates(expires_at, refreshed),
        )

    def verify_webhook(self, ctx: AccountContext, headers: dict[str, str], body: bytes, url: str) -> bool:
        sent = {k.lower(): v for k, v in headers.items()}.get("tiktok-signature", "")
        parts = dict(p.split("=", 1) for p in sent.split(",") if "=" in p)
        if not parts.get("t") or not parts.get("s") or not self.ep.client_secret:
            return False
        # TikTok signs each delivery (retries included) with its time: an old signature is a replay.
        if not parts["t"].isdigit() or abs(time.time() - int(parts["t"])) > TIKTOK_SIGNATURE_TOLERANCE:
            return False
        expected = hmac.new(
            self.ep.client_secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256
        ).hexdigest()
        return hmac.compare_digest(expected, parts["s"].lower())

    def parse_webhook(self, ctx: AccountContext, payload: dict[str, Any]) -> list[InboundEvent]:
        """`content` is a JSON string. im_receive_msg: a user's message; im_mark_read_msg: the user
        read the conversation; im_send_msg echoes the business's own sends (not stored)."""
        content = payload.get("content")
        try:
            data = json.loads(content) if isinstance(content, str) else dict(content or {})
        except ValueError:
            data = {}
        event = str(payload.get("event") or "")
        kind = {"im_receive_msg": "message", "im_mark_read_msg": "read"}.get(event, "other")
        ms = str(data.get("timestamp") or (data.get("read") or {}).get("last_read_timestamp") or "")
        if ms.isdigit():  # Business Messaging times are epoch milliseconds
            when: datetime | None = datetime.fromtimestamp(int(ms) / 1000, UTC)
        elif str(payload.get("create_time", "")).isdigit():
            when = datetime.fromtimestamp(int(payload["create_time"]), UTC)
        else:
            when = None
        text = (data.get("text") or {}).get("body") if data.get("type") == "text" else None
        conversation = data.get("conversation_id")
        raw = {
            "event": event,
            "type": data.get("type"),
            "from_user_id": (data.get("from_user") or {}).get("id"),
            "thread_key": conversation,
        }
        # Replies are addressed to the conversation, so it is the sender we answer to.
        return [InboundEvent(kind, data.get("message_id"), conversation, text, when, raw)]

    async def send(self, ctx: AccountContext, to: str, body: dict[str, Any]) -> SendResult:
        """A text reply in the conversation `to` (POST /business/message/send/)."""
        data = await self.call(
            "POST",
            "/business/message/send/",
            token=_need(ctx, "access_token"),
            body={
                "business_id": _need(ctx, "business_id"),
                "recipient_type": "CONVERSATION",
                "recipient": to,
                "message_type": "TEXT",
                "text": {"body": str(body.get("text", ""))},
            },
        )
        return SendResult(str((data.get("message") or {}).get("message_id") or ""), data)


def _li_error(body: dict[str, Any], status: int) -> str:
    """LinkedIn's error answer `{"status", "serviceErrorCode", "code", "message"}` in one line."""
    code, message = body.get("code"), body.get("message")
    text = f"{code}: {message}" if code and message else str(message or code or "")
    return f"HTTP {status} {text}".strip()


class LinkedInAdapter(_RefreshingAdapter):
    """An organization page: the member who connected it administers it. Connecting subscribes the
    organization to Organization Social Action Notifications at the platform app's webhook URL (one
    subscription per developer application, member and organization); health checks read it back."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, linkedin(settings))

    def headers(self, token: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {token}",
            "LinkedIn-Version": LINKEDIN_VERSION,
            "X-Restli-Protocol-Version": "2.0.0",
        }

    async def get(self, path: str, token: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        resp = await request("GET", f"{self.ep.api_url}{path}", params=params, headers=self.headers(token))
        body = json_or_empty(resp)
        if resp.status_code >= 400:
            raise status_error(
                resp,
                str(body.get("message") or f"LinkedIn answered {resp.status_code}"),
                str(body.get("code") or ""),
            )
        return body

    def webhook_url(self) -> str:
        return self.settings.public_base_url.rstrip("/") + LINKEDIN_WEBHOOK_PATH

    async def member(self, token: str) -> str:
        """The person URN of the member the token acts for: OpenID Connect's userinfo `sub` (scope
        openid), as `urn:li:person:<sub>`."""
        resp = await request(
            "GET", f"{self.ep.api_url}/v2/userinfo", headers={"Authorization": f"Bearer {token}"}
        )
        body = json_or_empty(resp)
        if resp.status_code == 403:
            raise reauth(
                "LinkedIn did not say which member connected the channel "
                f"({_li_error(body, 403)}): reconnect it and allow Sign In with LinkedIn (openid).",
                status=403,
            )
        if resp.status_code >= 400:
            raise status_error(resp, f"LinkedIn's userinfo failed ({_li_error(body, resp.status_code)})")
        sub = body.get("sub")
        if not isinstance(sub, str) or not _MEMBER_ID.match(sub):
            raise ProviderError(
                "LinkedIn's userinfo answer has no usable member id (sub).",
                kind=ErrorKind.PERMANENT,
                code="invalid_response",
                status=resp.status_code,
            )
        return f"urn:li:person:{sub}"

    def subscription_url(self, person_urn: str, organization_urn: str) -> str:
        app_id = linkedin_app_id(self.settings)
        if not app_id:
            raise ProviderError(
                "The platform's LinkedIn developer application id (SWITCHBOARD_LINKEDIN_APP_ID) is not "
                "set, so the organization cannot be subscribed to LinkedIn's webhook notifications.",
                kind=ErrorKind.PERMANENT,
                code="not_configured",
            )
        key = linkedin_subscription_key(app_id, person_urn, organization_urn)
        return f"{self.ep.api_url}/rest/eventSubscriptions/{key}"

    def _subscription_error(self, resp: Any, organization: str, doing: str) -> ProviderError:
        body = json_or_empty(resp)
        detail = _li_error(body, resp.status_code)
        if resp.status_code == 403:
            # Not an administrator of the organization, or no rw_organization_admin in the grant.
            return ProviderError(
                f"LinkedIn refused {doing} for {organization} ({detail}). The member who connects the "
                "channel must be an administrator of the organization and allow Switchboard to manage "
                "it (rw_organization_admin): reconnect the channel as such a member.",
                kind=ErrorKind.NEEDS_ACTION,
                code="subscription_refused",
                status=403,
            )
        return status_error(resp, f"LinkedIn refused {doing} for {organization} ({detail})")

    async def subscribe(self, token: str, person_urn: str, organization_urn: str) -> str:
        """Create or point the organization's subscription at the platform's webhook (an upsert)."""
        url = self.webhook_url()
        resp = await request(
            "PUT",
            self.subscription_url(person_urn, organization_urn),
            json={"webhook": url},
            headers=self.headers(token),
        )
        if resp.status_code >= 300:
            raise self._subscription_error(resp, organization_urn, "the webhook subscription")
        return url

    async def subscription(self, token: str, person_urn: str, organization_urn: str) -> dict[str, Any] | None:
        """The organization's subscription for this member, or None when LinkedIn has none."""
        resp = await request(
            "GET", self.subscription_url(person_urn, organization_urn), headers=self.headers(token)
        )
        if resp.status_code == 404:
            return None
        if resp.status_code >= 300:
            raise self._subscription_error(resp, organization_urn, "reading the webhook subscription")
        return json_or_empty(resp)

    async def unsubscribe(self, token: str, person_urn: str, organization_urn: str) -> bool:
        """DELETE the organization's subscription for this member; False when LinkedIn has none."""
        resp = await request(
            "DELETE", self.subscription_url(person_urn, organization_urn), headers=self.headers(token)
        )
        if resp.status_code == 404:
            return False
        if resp.status_code >= 300:
            raise self._subscription_error(resp, organization_urn, "removing the webhook subscription")
        return True

    def shared_registration(self, ctx: AccountContext) -> SharedRegistration | None:
        """The subscription's key is (application, member, organization): another channel for the
        same organization connected by the same member relies on the very same subscription."""
        org, person = ctx.settings.get("organization_urn"), ctx.settings.get("person_urn")
        if not org or not person:
            return None
        return SharedRegistration(
            (ChannelType.LINKEDIN.value,), {"organization_urn": str(org), "person_urn": str(person)}
        )

    async def release(self, ctx: AccountContext) -> bool:
        """The channel is deleted: remove the organization's event subscription, so LinkedIn stops
        pushing its notifications. Connect stored the member (`person_urn`) only once it subscribed;
        without it there is nothing of ours to remove."""
        person, urn = ctx.settings.get("person_urn"), ctx.settings.get("organization_urn")
        if not person or not urn or not ctx.secrets.get("access_token"):
            return False
        token, _, _ = await self.fresh_token(ctx)  # the account is going: a refreshed token is not kept
        return await self.unsubscribe(token, str(person), str(urn))

    async def _organization(self, token: str, urn: str) -> dict[str, Any]:
        return await self.get(f"/rest/organizations/{urn.rsplit(':', 1)[-1]}", token)

    async def connect(self, ctx: AccountContext) -> HealthResult:
        """Verify the organization, learn the member, then (re)create the event subscription."""
        token, refreshed, expires_at = await self.fresh_token(ctx)
        result = HealthResult(
            ok=True,
            refreshed_secrets=refreshed,
            expires_at=expires_at,
            settings_updates=_updates(expires_at, refreshed),
        )
        urn = _need(ctx, "organization_urn")
        try:
            org = await self._organization(token, urn)
            person = await self.member(token)
            webhook = await self.subscribe(token, person, urn)
        except ProviderError as exc:  # keep a token refreshed above
            return self._failed(result, exc)
        result.details = {"organization": org.get("localizedName"), "webhook": webhook, "member": person}
        result.settings_updates["person_urn"] = person
        return result

    async def check_health(self, ctx: AccountContext) -> HealthResult:
        """The organization answers and its subscription still points at the platform's webhook
        (LinkedIn drops it when the grant is revoked or the member loses the admin role)."""
        token, refreshed, expires_at = await self.fresh_token(ctx)
        result = HealthResult(
            ok=True,
            refreshed_secrets=refreshed,
            expires_at=expires_at,
            settings_updates=_updates(expires_at, refreshed),
        )
        urn = _need(ctx, "organization_urn")
        try:
            org = await self._organization(token, urn)
            name = str(org.get("localizedName") or urn)
            person = str(ctx.settings.get("person_urn") or "") or await self.member(token)
            found = await self.subscription(token, person, urn)
            expected = self.webhook_url()
            if found is None:
                raise ProviderError(
                    f"LinkedIn has no webhook subscription for {name} ({urn}), so its comments do not "
                    "reach Switchboard. Test connection subscribes it again.",
                    kind=ErrorKind.NEEDS_ACTION,
                    code="subscription_missing",
                )
            if found.get("webhook") != expected:
                raise ProviderError(
                    f"LinkedIn sends {name}'s notifications to {found.get('webhook')!r}, not to "
                    f"{expected}. Test connection points the subscription here again.",
                    kind=ErrorKind.NEEDS_ACTION,
                    code="subscription_elsewhere",
                )
        except ProviderError as exc:
            return self._failed(result, exc)
        result.details = {"organization": org.get("localizedName"), "webhook": expected, "member": person}
        if not ctx.settings.get("person_urn"):
            result.settings_updates["person_urn"] = person
        return result

    @staticmethod
    def _failed(result: HealthResult, exc: ProviderError) -> HealthResult:
        result.ok, result.reason, result.error = False, exc.message, exc
        return result

    def verify_webhook(self, ctx: AccountContext, headers: dict[str, str], body: bytes, url: str) -> bool:
        sent = (
            {k.lower(): v for k, v in headers.items()}.get("x-li-signature", "")
            .strip()
            .lower()
            .removeprefix("hmacsha256=")
        )
        if not sent or not self.ep.client_secret:
            return False
        expected = linkedin_signature(self.ep.client_secret, body)
        return hmac.compare_digest(expected, sent)

    def webhook_validation(self, ctx: AccountContext, params: dict[str, str]) -> dict[str, str] | None:
        """LinkedIn's URL validation (at registration, then every 2 hours): `GET ?challengeCode=`
        answered within 3 s with both values as JSON. None when there is no code to answer."""
        code = params.get("challengeCode", "")
        if not code or len(code) > 200 or not self.ep.client_secret:
            return None
        return {
            "challengeCode": code,
            "challengeResponse": linkedin_challenge_response(self.ep.client_secret, code),
        }

    def webhook_event_id(self, headers: dict[str, str], payload: dict[str, Any]) -> str | None:
        """LinkedIn may deliver a batch twice: its notification ids are the replay key."""
        ids = [n.get("notificationId") for n in payload.get("notifications") or [] if isinstance(n, dict)]
        if not ids or any(i is None for i in ids):
            return None
        return ",".join(str(i) for i in ids)[:200]

    def parse_webhook(self, ctx: AccountContext, payload: dict[str, Any]) -> list[InboundEvent]:
        """Comments on the organization's posts are messages (sender: the commenter, thread: the
        post); the organization's own comments, likes and shares are kept as `other`."""
        events = []
        for item in payload.get("notifications") or [payload]:
            if not isinstance(item, dict):
                continue
            decorated = item.get("decoratedGeneratedActivity") or {}
            comment = (decorated.get("comment") or {}) if isinstance(decorated, dict) else {}
            text = comment.get("text")
            if text is None and isinstance(comment.get("message"), dict):
                text = comment["message"].get("text")
            if text is None:  # older shapes: commentary / message on the item itself
                legacy = item.get("commentary") or item.get("message") or {}
                text = legacy.get("text") if isinstance(legacy, dict) else (str(legacy) or None)
            when = item.get("lastModifiedAt")
            events.append(
                InboundEvent(
                    "message" if item.get("action") in ("COMMENT", "MESSAGE") else "other",
                    str(item.get("notificationId") or comment.get("entity") or item.get("id") or "") or None,
                    comment.get("owner") or item.get("actor"),
                    text,
                    datetime.fromtimestamp(when / 1000, UTC) if isinstance(when, int) else None,
                    {**item, "thread_key": item.get("sourcePost")},
                )
            )
        return events

    async def send(self, ctx: AccountContext, to: str, body: dict[str, Any]) -> SendResult:
        """Publishes a post as the organization (LinkedIn v202401 Posts API)."""
        token = _need(ctx, "access_token")
        post = {
            "author": _need(ctx, "organization_urn"),
            "commentary": str(body.get("text", "")),
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        resp = await request("POST", f"{self.ep.api_url}/rest/posts", json=post, headers=self.headers(token))
        if resp.status_code >= 400:
            raise status_error(resp, "LinkedIn refused the post")
        return SendResult(resp.headers.get("x-restli-id", ""), {})


register_adapter(ChannelType.TIKTOK, TikTokAdapter)
register_adapter(ChannelType.LINKEDIN, LinkedInAdapter)
