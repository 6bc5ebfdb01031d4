"""TikTok and LinkedIn: token endpoint calls (code exchange, refresh) and their runtime adapters.

Both issue expiring access tokens with refresh tokens (RFC 6749 section 6), so health checks renew
the access token ahead of expiry; a refused refresh means the tenant must reauthorize.
Webhooks: TikTok signs `TikTok-Signature: t=<ts>,s=<hex HMAC-SHA256(client secret, "<ts>.<body>")>`;
LinkedIn signs `X-LI-Signature: <hex HMAC-SHA256(client secret, body)>` (optionally "hmacsha256=").
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any

from switchboard.connectors._http import json_body, reauth, request, status_error
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
from switchboard.core.config import Settings
from switchboard.oauth.providers import OAuthEndpoints, linkedin, tiktok

LINKEDIN_VERSION = "202401"


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
    body = json_body(resp)
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

    async def fresh_token(self, ctx: AccountContext) -> tuple[str, dict[str, str], datetime | None]:
        """The access token to use, refreshed first if it expires within the margin."""
        token = _need(ctx, "access_token")
        expires_at = _parse_time(ctx.settings.get("access_token_expires_at"))
        margin = timedelta(seconds=self.settings.token_refresh_margin_seconds)
        if expires_at is None or expires_at - datetime.now(UTC) >= margin:
            return token, {}, None
        body = await token_request(
            self.ep,
            self.client_param,
            {"grant_type": "refresh_token", "refresh_token": _need(ctx, "refresh_token")},
        )
        refreshed = {"access_token": str(body["access_token"])}
        if body.get("refresh_token"):
            refreshed["refresh_token"] = str(body["refresh_token"])
        return refreshed["access_token"], refreshed, _expires(body)


class TikTokAdapter(_RefreshingAdapter):
    client_param = "client_key"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, tiktok(settings))

    async def user_info(self, token: str) -> dict[str, Any]:
        resp = await request(
            "GET",
            f"{self.ep.api_url}/v2/user/info/",
            params={"fields": "open_id,union_id,display_name"},
            headers={"Authorization": f"Bearer {token}"},
        )
        body = json_body(resp)
        err = body.get("error") or {}
        if resp.status_code >= 400 or (isinstance(err, dict) and err.get("code") not in (None, "ok")):
            raise status_error(
                resp,
                str(err.get("message") if isinstance(err, dict) else "TikTok refused the call"),
                str(err.get("code", "")) if isinstance(err, dict) else "",
            )
        return dict((body.get("data") or {}).get("user") or {})

    async def check_health(self, ctx: AccountContext) -> HealthResult:
        token, refreshed, expires_at = await self.fresh_token(ctx)
        user = await self.user_info(token)
        return HealthResult(
            ok=True,
            details={"display_name": user.get("display_name")},
            refreshed_secrets=refreshed,
            expires_at=expires_at,
            settings_updates=_updates(expires_at, refreshed),
        )

    def verify_webhook(self, ctx: AccountContext, headers: dict[str, str], body: bytes, url: str) -> bool:
        sent = {k.lower(): v for k, v in headers.items()}.get("tiktok-signature", "")
        parts = dict(p.split("=", 1) for p in sent.split(",") if "=" in p)
        if not parts.get("t") or not parts.get("s") or not self.ep.client_secret:
            return False
        expected = hmac.new(
            self.ep.client_secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256
        ).hexdigest()
        return hmac.compare_digest(expected, parts["s"].lower())

    def parse_webhook(self, ctx: AccountContext, payload: dict[str, Any]) -> list[InboundEvent]:
        import json

        content = payload.get("content")
        data = json.loads(content) if isinstance(content, str) else (content or {})
        kind = "message" if "message" in str(payload.get("event", "")) else "other"
        when = (
            datetime.fromtimestamp(int(payload["create_time"]), UTC)
            if str(payload.get("create_time", "")).isdigit()
            else None
        )
        return [
            InboundEvent(
                kind,
                data.get("message_id"),
                data.get("from_user_id") or payload.get("user_openid"),
                data.get("text"),
                when,
                payload,
            )
        ]

    async def send(self, ctx: AccountContext, to: str, body: dict[str, Any]) -> SendResult:
        token = _need(ctx, "access_token")
        resp = await request(
            "POST",
            f"{self.ep.api_url}/v2/business/message/send/",
            json={"recipient_id": to, "message_type": "TEXT", "text": str(body.get("text", ""))},
            headers={"Authorization": f"Bearer {token}"},
        )
        data = json_body(resp)
        if resp.status_code >= 400:
            raise status_error(resp, "TikTok refused the message")
        return SendResult(str((data.get("data") or {}).get("message_id")), data)


class LinkedInAdapter(_RefreshingAdapter):
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
        body = json_body(resp)
        if resp.status_code >= 400:
            raise status_error(
                resp,
                str(body.get("message") or f"LinkedIn answered {resp.status_code}"),
                str(body.get("code") or ""),
            )
        return body

    async def check_health(self, ctx: AccountContext) -> HealthResult:
        token, refreshed, expires_at = await self.fresh_token(ctx)
        urn = _need(ctx, "organization_urn")
        org = await self.get(f"/rest/organizations/{urn.rsplit(':', 1)[-1]}", token)
        return HealthResult(
            ok=True,
            details={"organization": org.get("localizedName")},
            refreshed_secrets=refreshed,
            expires_at=expires_at,
            settings_updates=_updates(expires_at, refreshed),
        )

    def verify_webhook(self, ctx: AccountContext, headers: dict[str, str], body: bytes, url: str) -> bool:
        sent = (
            {k.lower(): v for k, v in headers.items()}.get("x-li-signature", "")
            .strip()
            .lower()
            .removeprefix("hmacsha256=")
        )
        if not sent or not self.ep.client_secret:
            return False
        expected = hmac.new(self.ep.client_secret.encode(), body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, sent)

    def parse_webhook(self, ctx: AccountContext, payload: dict[str, Any]) -> list[InboundEvent]:
        events = []
        for item in payload.get("notifications") or [payload]:
            text = (item.get("commentary") or item.get("message") or {}) if isinstance(item, dict) else {}
            events.append(
                InboundEvent(
                    "message" if item.get("action") in ("COMMENT", "MESSAGE") else "other",
                    item.get("sourcePost") or item.get("id"),
                    item.get("actor"),
                    text.get("text") if isinstance(text, dict) else str(text),
                    None,
                    item,
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
