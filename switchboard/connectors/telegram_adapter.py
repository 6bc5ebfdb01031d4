"""Telegram Bot API adapter: getMe, setWebhook with a secret token, sendMessage, webhook checks,
deleteWebhook when the channel is deleted."""

from __future__ import annotations

import hmac
import secrets
from typing import Any

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

SECRET_HEADER = "x-telegram-bot-api-secret-token"
ALLOWED_UPDATES = ["message", "edited_message", "channel_post", "poll", "my_chat_member"]


def webhook_url(settings: Any, account_id: object) -> str:
    return f"{settings.public_base_url.rstrip('/')}/webhooks/{account_id}"


class TelegramAdapter:
    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self.base = base_url(settings, "telegram")

    async def _call(self, ctx: AccountContext, method: str, params: dict[str, Any] | None = None) -> Any:
        token = ctx.secrets.get("bot_token", "")
        try:
            response = await request("POST", f"{self.base}/bot{token}/{method}", json=params or {})
        except ProviderError as exc:
            # The token is part of the URL: never let it reach the connection log.
            exc.message = exc.message.replace(token, "<bot token>") if token else exc.message
            exc.args = (exc.message,)
            raise
        data = json_or_empty(response)
        if response.status_code == 200 and data.get("ok") is True:
            return data.get("result")
        code = int(data.get("error_code") or response.status_code)
        description = str(data.get("description") or f"HTTP {response.status_code}")
        kind = kind_for_status(code)
        # Telegram answers 404 for a token it does not know (deleted bot): the tenant must act.
        if code == 404 and method == "getMe":
            kind = ErrorKind.NEEDS_ACTION
        error_code = "token_revoked" if kind is ErrorKind.NEEDS_ACTION else f"telegram_{code}"
        raise ProviderError(f"Telegram {method}: {description}", kind=kind, code=error_code, status=code)

    async def connect(self, ctx: AccountContext) -> HealthResult:
        me = await self._call(ctx, "getMe")
        secret = ctx.secrets.get("webhook_secret_token") or secrets.token_urlsafe(32)
        await self._call(
            ctx,
            "setWebhook",
            {
                "url": webhook_url(self.settings, ctx.account_id),
                "secret_token": secret,
                "allowed_updates": ALLOWED_UPDATES,
            },
        )
        return HealthResult(
            ok=True,
            details={"bot_id": me.get("id"), "username": me.get("username")},
            refreshed_secrets={"webhook_secret_token": secret},
            settings_updates={"bot_username": me.get("username")} if me.get("username") else {},
        )

    async def release(self, ctx: AccountContext) -> bool:
        """deleteWebhook, so Telegram stops posting the bot's updates to a channel that is gone. Only
        when connect set it (it stored the secret token) and it still points at this channel: a bot
        has one webhook, and the same bot may have been connected again as another channel since."""
        if not ctx.secrets.get("bot_token") or not ctx.secrets.get("webhook_secret_token"):
            return False
        info = await self._call(ctx, "getWebhookInfo") or {}
        if info.get("url") != webhook_url(self.settings, ctx.account_id):
            return False
        await self._call(ctx, "deleteWebhook")
        return True

    async def check_health(self, ctx: AccountContext) -> HealthResult:
        me = await self._call(ctx, "getMe")
        info = await self._call(ctx, "getWebhookInfo") or {}
        expected = webhook_url(self.settings, ctx.account_id)
        if info.get("url") != expected:
            return HealthResult(ok=False, reason="webhook not registered: connect again", details=info)
        return HealthResult(ok=True, details={"username": me.get("username")})

    def verify_webhook(self, ctx: AccountContext, headers: dict[str, str], body: bytes, url: str) -> bool:
        expected = ctx.secrets.get("webhook_secret_token", "")
        given = headers.get(SECRET_HEADER, "")
        return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())

    def webhook_event_id(self, headers: dict[str, str], payload: dict[str, Any]) -> str | None:
        update_id = payload.get("update_id")
        return str(update_id) if update_id is not None else None

    def parse_webhook(self, ctx: AccountContext, payload: dict[str, Any]) -> list[InboundEvent]:
        for key in ("message", "edited_message", "channel_post"):
            msg = payload.get(key)
            if isinstance(msg, dict):
                chat = msg.get("chat") or {}
                sender = msg.get("from") or chat
                return [
                    InboundEvent(
                        kind="message",
                        provider_message_id=f"{chat.get('id')}:{msg.get('message_id')}",
                        sender=str(sender.get("username") or sender.get("id") or ""),
                        text=msg.get("text") or msg.get("caption"),
                        raw={"chat_id": chat.get("id"), "update": key},
                    )
                ]
        return [InboundEvent(kind="other", provider_message_id=str(payload.get("update_id")), raw=payload)]

    async def send(self, ctx: AccountContext, to: str, body: dict[str, Any]) -> SendResult:
        result = await self._call(ctx, "sendMessage", {"chat_id": to, "text": body.get("text", "")})
        return SendResult(provider_message_id=str(result.get("message_id")), details={"chat_id": to})


register_adapter(ChannelType.TELEGRAM, TelegramAdapter)
