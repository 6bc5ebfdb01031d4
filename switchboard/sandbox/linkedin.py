"""Sandbox LinkedIn: /oauth/v2/authorization, /oauth/v2/accessToken (code with PKCE, refresh_token),
the Rest.li calls Switchboard makes (organizationAcls, organizations, posts) and /v2/userinfo, and the
webhook traffic LinkedIn sends.

LinkedIn calls the webhook URL registered in the developer app's Webhooks tab, the platform's
`/webhooks/linkedin`, and names the organization in each notification. It sends nothing to a URL
it has not validated: `GET <url>?challengeCode=<uuid4>` must answer 200, `application/json`,
`{"challengeCode", "challengeResponse": <hex HMAC-SHA256(client secret, challengeCode)>}` within 3 s.

`POST /simulate/validate` (JSON `{channel_id?}`, or the form on `/`) runs that validation against
`/webhooks/linkedin`, or against `/webhooks/<channel id>` when a channel id is given.
`POST /simulate/comment` (JSON `{channel_id?, organization?, text}`, or the form on `/`) is a member
commenting on one of the organization's posts: an Organization Social Action Notification, signed
`X-LI-Signature` with the client secret, goes to `/webhooks/linkedin` (or the channel's own URL when
a channel id is given), validated first if it was not yet."""

from __future__ import annotations

import hmac
import itertools
import json
import secrets
import time
import uuid
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from switchboard.connectors.oauth2_apis import linkedin_challenge_response, linkedin_signature
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
        self.validated: set[str] = set()  # webhook URLs that passed the challenge
        self.validation_timeout = 3.0  # seconds LinkedIn waits for the answer
        self._notifications = itertools.count(460710000)
        self.app = Starlette(
            routes=[
                Route("/", self.index),
                Route("/simulate/validate", self.simulate_validate, methods=["POST"]),
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

    def webhook_target(self, channel_id: str) -> str:
        """The app's webhook URL, or a channel's own when its id is given."""
        return self.platform.channel_webhook(channel_id) if channel_id else self.platform.webhook("linkedin")

    async def validate(self, url: str) -> str:
        """LinkedIn's webhook validation; returns the challenge code answered. Refused (502, or 504
        past the timeout) when the answer is not the right JSON in time."""
        code = str(uuid.uuid4())
        status, content_type, text = await self.platform.get(
            url, {"challengeCode": code}, timeout=self.validation_timeout
        )
        try:
            answer = json.loads(text)
        except ValueError:
            answer = None
        expected = linkedin_challenge_response(self.client_secret, code)
        ok = (
            status == 200
            and content_type.split(";")[0].strip() == "application/json"
            and isinstance(answer, dict)
            and answer.get("challengeCode") == code
            and hmac.compare_digest(str(answer.get("challengeResponse", "")), expected)
        )
        if not ok:
            self.validated.discard(url)
            raise Refused(
                502, "url", f"This URL did not pass the security challenge check (it answered {status})."
            )
        self.validated.add(url)
        return code

    async def index(self, request: Request) -> Response:
        orgs = "".join(
            f"<li><b>{esc(name)}</b> <code>urn:li:organization:{oid}</code></li>"
            for oid, name in self.organizations.items()
        )
        options = "".join(
            f'<option value="urn:li:organization:{oid}">{esc(name)}</option>'
            for oid, name in self.organizations.items()
        )
        app_url = self.platform.url + "/webhooks/linkedin" if self.platform.url else "/webhooks/linkedin"
        validated = "".join(f"<li><code>{esc(u)}</code></li>" for u in sorted(self.validated))
        body = (
            f"<p>Consent connects one of these organizations:</p><ul>{orgs}</ul>"
            f"<p>The app's webhook is <code>{esc(app_url)}</code>: LinkedIn validates it "
            "(<code>challengeCode</code>) before sending anything, and names the organization in each "
            "notification. Leave the channel id empty to use it, or give one to use the channel's own "
            "URL.</p>"
            f"<p>Validated: </p><ul>{validated or '<li>none yet</li>'}</ul>"
            '<form method="post" action="simulate/validate">'
            '<input name="channel_id" placeholder="Channel id (optional)" aria-label="Channel id"> '
            "<button>Validate webhook</button></form>"
            "<p>Switch the channel on, then comment on the organization's latest post as a member:</p>"
            '<form method="post" action="simulate/comment">'
            '<input name="channel_id" placeholder="Channel id (optional)" aria-label="Channel id"> '
            f'<select name="organization" aria-label="Organization">{options}</select> '
            '<input name="text" placeholder="Comment" aria-label="Comment" required> '
            "<button>Comment as a member</button></form>"
        )
        return page(self.title, body)

    async def simulate_validate(self, request: Request) -> Response:
        async def check(fields: dict[str, str]) -> tuple[int, dict[str, Any]]:
            url = self.webhook_target(fields["channel_id"])
            code = await self.validate(url)
            return 200, {"validated": True, "url": url, "challenge_code": code}

        return await simulate(request, self.title, ("channel_id",), check)

    async def simulate_comment(self, request: Request) -> Response:
        async def write(fields: dict[str, str]) -> tuple[int, dict[str, Any]]:
            url = self.webhook_target(fields["channel_id"])
            if not fields["text"]:
                raise Refused(422, "text", "text is required.")
            organization = fields["organization"] or f"urn:li:organization:{next(iter(self.organizations))}"
            if organization.rsplit(":", 1)[-1] not in {str(oid) for oid in self.organizations}:
                raise Refused(
                    404, "organization", f"{organization!r} is not an organization of this sandbox."
                )
            if url not in self.validated:  # LinkedIn sends only to a validated webhook
                await self.validate(url)
            body = json.dumps(self.comment_notification(organization, fields["text"])).encode()
            headers = {"Content-Type": "application/json", "X-LI-Signature": self.sign(body)}
            status = await self.platform.post(url, body, headers)
            return status, {
                "notification_id": json.loads(body)["notifications"][0]["notificationId"],
                "url": url,
            }

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
