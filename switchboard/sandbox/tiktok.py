"""Sandbox TikTok: Login Kit v2 authorize page, /v2/oauth/token/ (code with PKCE, refresh_token),
/v2/user/info/ and a business message send. Token lifetimes are attributes tests can shorten."""

from __future__ import annotations

import json
import secrets
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from switchboard.oauth.providers import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from switchboard.sandbox._kit import bearer
from switchboard.sandbox._oauth2 import OAuth2Sandbox


class TikTokSandbox(OAuth2Sandbox):
    title = "Sandbox — TikTok Login"
    client_param = "client_key"
    subject = "-000sandboxOpenId"

    def __init__(
        self, client_key: str = SANDBOX_CLIENT_ID, client_secret: str = SANDBOX_CLIENT_SECRET
    ) -> None:
        super().__init__(client_key, client_secret)
        self.display_name = "Acme on TikTok"
        self.sent: list[dict[str, Any]] = []
        self.app = Starlette(
            routes=[
                Route("/v2/auth/authorize/", self.authorize, methods=["GET", "POST"]),
                Route("/v2/oauth/token/", self.token, methods=["POST"]),
                Route("/v2/user/info/", self.user_info, methods=["GET"]),
                Route("/v2/business/message/send/", self.send, methods=["POST"]),
            ]
        )

    def token_body(self, access: str, refresh: str, scopes: list[str]) -> dict[str, Any]:
        return {**super().token_body(access, refresh, scopes), "open_id": self.subject}

    def token_error(self, error: str, description: str) -> Response:
        return JSONResponse(
            {"error": error, "error_description": description, "log_id": secrets.token_hex(8)},
            status_code=400,
        )

    def _api_error(self) -> Response:
        return JSONResponse(
            {
                "data": {},
                "error": {
                    "code": "access_token_invalid",
                    "message": "The access token is invalid or not found in the request.",
                    "log_id": secrets.token_hex(8),
                },
            },
            status_code=401,
        )

    async def user_info(self, request: Request) -> Response:
        self.requests.append("GET /v2/user/info/")
        if self.check(bearer(request)) is None:
            return self._api_error()
        user = {"open_id": self.subject, "union_id": "sandbox-union", "display_name": self.display_name}
        return JSONResponse({"data": {"user": user}, "error": {"code": "ok", "message": "", "log_id": "x"}})

    async def send(self, request: Request) -> Response:
        if self.check(bearer(request)) is None:
            return self._api_error()
        body = json.loads(await request.body() or b"{}")
        self.sent.append(body)
        message_id = "ttm_" + secrets.token_hex(8)
        return JSONResponse(
            {"data": {"message_id": message_id}, "error": {"code": "ok", "message": "", "log_id": "x"}}
        )
