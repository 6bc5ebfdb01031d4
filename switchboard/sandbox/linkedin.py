"""Sandbox LinkedIn: /oauth/v2/authorization, /oauth/v2/accessToken (code with PKCE, refresh_token),
the Rest.li calls Switchboard makes (organizationAcls, organizations, posts) and /v2/userinfo."""

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


class LinkedInSandbox(OAuth2Sandbox):
    title = "Sandbox — LinkedIn"
    deny_error = "user_cancelled_authorize"
    subject = "urn:li:person:sandbox01"

    def __init__(
        self, client_id: str = SANDBOX_CLIENT_ID, client_secret: str = SANDBOX_CLIENT_SECRET
    ) -> None:
        super().__init__(client_id, client_secret)
        self.access_ttl = 60 * 86400
        self.organizations: dict[int, str] = {5550001: "Acme Corp", 5550002: "Acme Labs"}
        self.posts: list[dict[str, Any]] = []
        self.app = Starlette(
            routes=[
                Route("/oauth/v2/authorization", self.authorize, methods=["GET", "POST"]),
                Route("/oauth/v2/accessToken", self.token, methods=["POST"]),
                Route("/v2/userinfo", self.userinfo, methods=["GET"]),
                Route("/rest/organizationAcls", self.acls, methods=["GET"]),
                Route("/rest/organizations/{org_id:int}", self.organization, methods=["GET"]),
                Route("/rest/posts", self.create_post, methods=["POST"]),
            ]
        )

    def token_body(self, access: str, refresh: str, scopes: list[str]) -> dict[str, Any]:
        return {
            "access_token": access,
            "expires_in": int(self.access_ttl),
            "refresh_token": refresh,
            "refresh_token_expires_in": int(self.refresh_ttl),
            "scope": ",".join(scopes),
        }

    def _unauthorized(self) -> Response:
        return JSONResponse(
            {
                "status": 401,
                "serviceErrorCode": 65600,
                "code": "INVALID_ACCESS_TOKEN",
                "message": "Invalid access token",
            },
            status_code=401,
        )

    def _version_missing(self, request: Request) -> Response | None:
        if not request.headers.get("linkedin-version"):
            return JSONResponse(
                {"status": 400, "code": "VERSION_MISSING", "message": "A version must be present."},
                status_code=400,
            )
        return None

    async def userinfo(self, request: Request) -> Response:
        if self.check(bearer(request)) is None:
            return self._unauthorized()
        return JSONResponse({"sub": "sandbox01", "name": "Sandbox Member", "email_verified": True})

    async def acls(self, request: Request) -> Response:
        self.requests.append(f"GET /rest/organizationAcls?{request.url.query}")
        missing = self._version_missing(request)
        if missing:
            return missing
        tok = self.check(bearer(request))
        if tok is None:
            return self._unauthorized()
        if request.query_params.get("q") != "roleAssignee":
            return JSONResponse({"status": 400, "message": "q must be roleAssignee"}, status_code=400)
        if "r_organization_admin" not in tok.scopes and "rw_organization_admin" not in tok.scopes:
            return JSONResponse(
                {
                    "status": 403,
                    "serviceErrorCode": 100,
                    "code": "ACCESS_DENIED",
                    "message": "Not enough permissions to access: organizationAcls.FINDER-roleAssignee",
                },
                status_code=403,
            )
        elements = [
            {
                "organization": f"urn:li:organization:{oid}",
                "role": "ADMINISTRATOR",
                "state": "APPROVED",
                "roleAssignee": self.subject,
            }
            for oid in self.organizations
        ]
        return JSONResponse(
            {"elements": elements, "paging": {"count": 10, "start": 0, "total": len(elements)}}
        )

    async def organization(self, request: Request) -> Response:
        missing = self._version_missing(request)
        if missing:
            return missing
        if self.check(bearer(request)) is None:
            return self._unauthorized()
        oid = request.path_params["org_id"]
        if oid not in self.organizations:
            return JSONResponse({"status": 404, "message": "Not found"}, status_code=404)
        return JSONResponse({"id": oid, "localizedName": self.organizations[oid], "vanityName": f"org{oid}"})

    async def create_post(self, request: Request) -> Response:
        missing = self._version_missing(request)
        if missing:
            return missing
        if self.check(bearer(request)) is None:
            return self._unauthorized()
        body = json.loads(await request.body() or b"{}")
        self.posts.append(body)
        urn = f"urn:li:share:{secrets.randbelow(10**12)}"
        return Response(status_code=201, headers={"x-restli-id": urn})
