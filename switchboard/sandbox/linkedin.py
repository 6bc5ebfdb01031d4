"""Sandbox LinkedIn: /oauth/v2/authorization, /oauth/v2/accessToken (code with PKCE, refresh_token),
the Rest.li calls Switchboard makes (organizationAcls, organizations, posts) and /v2/userinfo.

`POST /simulate/comment` (the form on `/`, or JSON `{channel_id, organization, text}`) is a member
commenting on one of the organization's posts: an Organization Social Action Notification, signed
`X-LI-Signature` with the client secret, goes to the channel's webhook `/webhooks/<channel id>`
(the URL a LinkedIn app's webhook subscription would be given)."""

from __future__ import annotations

import itertools
import json
import secrets
import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from switchboard.connectors.oauth2_apis import linkedin_signature
from switchboard.oauth.providers import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from switchboard.sandbox._kit import Platform, Refused, bearer, esc, page, simulate
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
        self.post_urns: list[str] = []
        self.platform = Platform()
        self._notifications = itertools.count(460710000)
        self.app = Starlette(
            routes=[
                Route("/", self.index),
                Route("/simulate/comment", self.simulate_comment, methods=["POST"]),
                Route("/oauth/v2/authorization", self.authorize, methods=["GET", "POST"]),
                Route("/oauth/v2/accessToken", self.token, methods=["POST"]),
                Route("/v2/userinfo", self.userinfo, methods=["GET"]),
                Route("/rest/organizationAcls", self.acls, methods=["GET"]),
                Route("/rest/organizations/{org_id:int}", self.organization, methods=["GET"]),
                Route("/rest/posts", self.create_post, methods=["POST"]),
            ]
        )

    def configure(self, settings: Any) -> None:
        self.platform.configure(settings)

    def sign(self, body: bytes) -> str:
        return linkedin_signature(self.client_secret, body)

    def comment_notification(
        self, organization: str, text: str, commenter: str = "urn:li:person:sandboxCommenter"
    ) -> dict[str, Any]:
        """An ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS push: a member commented on the latest post."""
        post = self.post_urns[-1] if self.post_urns else "urn:li:share:7000000000000000001"
        activity = f"urn:li:activity:{post.rsplit(':', 1)[-1]}"
        comment = f"urn:li:comment:({activity},{secrets.randbelow(10**18)})"
        item = {
            "notificationId": next(self._notifications),
            "organizationalEntity": organization,
            "action": "COMMENT",
            "sourcePost": post,
            "decoratedSourcePost": {"entity": post, "owner": organization, "text": "A sandbox post"},
            "generatedActivity": comment,
            "decoratedGeneratedActivity": {
                "comment": {"entity": comment, "owner": commenter, "text": text, "object": activity}
            },
            "lastModifiedAt": int(time.time() * 1000),
            "subscriber": self.subject,
        }
        return {"type": "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS", "notifications": [item]}

    async def index(self, request: Request) -> Response:
        orgs = "".join(
            f"<li><b>{esc(name)}</b> <code>urn:li:organization:{oid}</code></li>"
            for oid, name in self.organizations.items()
        )
        options = "".join(
            f'<option value="urn:li:organization:{oid}">{esc(name)}</option>'
            for oid, name in self.organizations.items()
        )
        body = (
            f"<p>Consent connects one of these organizations:</p><ul>{orgs}</ul>"
            "<p>Switch the channel on, then comment on the organization's latest post as a member; the "
            "notification goes to the channel's webhook (its id is in the channel page's address).</p>"
            '<form method="post" action="simulate/comment">'
            '<input name="channel_id" placeholder="Channel id" aria-label="Channel id" required> '
            f'<select name="organization" aria-label="Organization">{options}</select> '
            '<input name="text" placeholder="Comment" aria-label="Comment" required> '
            "<button>Comment as a member</button></form>"
        )
        return page(self.title, body)

    async def simulate_comment(self, request: Request) -> Response:
        async def write(fields: dict[str, str]) -> tuple[int, dict[str, Any]]:
            url = self.platform.channel_webhook(fields["channel_id"])
            if not fields["text"]:
                raise Refused(422, "text", "text is required.")
            organization = fields["organization"] or f"urn:li:organization:{next(iter(self.organizations))}"
            if organization.rsplit(":", 1)[-1] not in {str(oid) for oid in self.organizations}:
                raise Refused(
                    404, "organization", f"{organization!r} is not an organization of this sandbox."
                )
            body = json.dumps(self.comment_notification(organization, fields["text"])).encode()
            headers = {"Content-Type": "application/json", "X-LI-Signature": self.sign(body)}
            status = await self.platform.post(url, body, headers)
            return status, {"notification_id": json.loads(body)["notifications"][0]["notificationId"]}

        return await simulate(request, self.title, ("channel_id", "organization", "text"), write)

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
        self.post_urns.append(urn)
        return Response(status_code=201, headers={"x-restli-id": urn})
