"""Sandbox Telegram Bot API: `/bot<token>/<method>` with Telegram's `{"ok", "result"}` envelope.

Any well-formed token is a bot (so a newcomer can connect offline) unless the test revoked it.
`deliver` posts an update to the registered webhook with the secret-token header, as Telegram does.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import httpx2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from switchboard.sandbox._kit import esc, hidden, page


@dataclass
class Bot:
    id: int
    username: str
    webhook_url: str = ""
    secret_token: str = ""
    sent: list[dict[str, Any]] = field(default_factory=list)


def _error(code: int, description: str) -> JSONResponse:
    return JSONResponse({"ok": False, "error_code": code, "description": description}, status_code=code)


class TelegramSandbox:
    def __init__(self) -> None:
        self.bots: dict[str, Bot] = {}
        self.revoked: set[str] = set()
        self.fail_next: list[int] = []  # status codes to answer next (e.g. 502), for transient tests
        self._updates = itertools.count(1000)
        self._messages = itertools.count(1)
        self.app = Starlette(
            routes=[
                Route("/", self.index),
                Route("/send", self.send_as_user, methods=["POST"]),
                Route("/bot{token}/{method}", self.call, methods=["GET", "POST"]),
            ]
        )

    def bot(self, token: str) -> Bot | None:
        if token in self.revoked or ":" not in token or not token.split(":", 1)[0].isdigit():
            return None
        if token not in self.bots:
            bot_id = int(token.split(":", 1)[0])
            self.bots[token] = Bot(id=bot_id, username=f"sandbox_{bot_id}_bot")
        return self.bots[token]

    def revoke(self, token: str) -> None:
        self.revoked.add(token)
        self.bots.pop(token, None)

    async def index(self, request: Request) -> Any:
        """Lists the bots and lets a newcomer write to one as a Telegram user would."""
        rows = "".join(
            f"<li><b>@{esc(bot.username)}</b> — webhook {esc(bot.webhook_url or 'not set')}"
            f'<form method="post" action="send">{hidden("token", token)}'
            '<input name="text" placeholder="Message" required> <button>Send as a user</button></form></li>'
            for token, bot in self.bots.items()
        )
        return page(
            "Sandbox Telegram Bot API", f"<ul>{rows}</ul>" if rows else "<p>No bot connected yet.</p>"
        )

    async def send_as_user(self, request: Request) -> Any:
        form = await request.form()
        token, text = str(form.get("token") or ""), str(form.get("text") or "")
        bot = self.bots.get(token)
        if bot is None or not bot.webhook_url:
            return page("Sandbox Telegram Bot API", "<p>That bot has no webhook.</p>", status_code=404)
        headers = {"X-Telegram-Bot-Api-Secret-Token": bot.secret_token} if bot.secret_token else {}
        async with httpx2.AsyncClient(timeout=10) as client:
            r = await client.post(bot.webhook_url, json=self.update(text), headers=headers)
        return page("Sandbox Telegram Bot API", f"<p>Delivered; the webhook answered {r.status_code}.</p>")

    async def call(self, request: Request) -> JSONResponse:
        if self.fail_next:
            status = self.fail_next.pop(0)
            return _error(status, "Bad Gateway" if status >= 500 else "Too Many Requests")
        bot = self.bot(request.path_params["token"])
        if bot is None:
            return _error(401, "Unauthorized")
        params: dict[str, Any] = dict(request.query_params)
        if request.headers.get("content-type", "").startswith("application/json"):
            params.update(await request.json())
        method = request.path_params["method"]
        if method == "getMe":
            result: Any = {
                "id": bot.id,
                "is_bot": True,
                "first_name": "Sandbox bot",
                "username": bot.username,
            }
        elif method == "setWebhook":
            secret = str(params.get("secret_token") or "")
            if (secret and not all(c.isalnum() or c in "_-" for c in secret)) or len(secret) > 256:
                return _error(400, "Bad Request: secret token contains unallowed characters")
            bot.webhook_url, bot.secret_token = str(params.get("url") or ""), secret
            result = True
        elif method == "deleteWebhook":
            bot.webhook_url, bot.secret_token = "", ""
            result = True
        elif method == "getWebhookInfo":
            result = {"url": bot.webhook_url, "has_custom_certificate": False, "pending_update_count": 0}
        elif method == "sendMessage":
            if not params.get("chat_id") or not params.get("text"):
                return _error(400, "Bad Request: message text is empty")
            message = {
                "message_id": next(self._messages),
                "chat": {"id": params["chat_id"]},
                "text": params["text"],
            }
            bot.sent.append(message)
            result = message
        else:
            return _error(404, "Not Found")
        return JSONResponse({"ok": True, "result": result})

    def update(self, text: str, chat_id: int = 4242, username: str = "alice") -> dict[str, Any]:
        update_id = next(self._updates)
        return {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "from": {"id": chat_id, "is_bot": False, "first_name": username, "username": username},
                "chat": {"id": chat_id, "type": "private"},
                "date": 1700000000,
                "text": text,
            },
        }

    def deliver(self, token: str, update: dict[str, Any]) -> httpx2.Response:
        """Post an update to the bot's webhook the way Telegram does."""
        bot = self.bots[token]
        headers = {"X-Telegram-Bot-Api-Secret-Token": bot.secret_token} if bot.secret_token else {}
        return httpx2.post(bot.webhook_url, json=update, headers=headers, timeout=10)
