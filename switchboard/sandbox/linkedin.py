"""Sandbox LinkedIn: /oauth/v2/authorization, /oauth/v2/accessToken (code with PKCE, refresh_token),
the Rest.li calls Switchboard makes (organizationAcls, organizations, posts, eventSubscriptions) and
/v2/userinfo, and the webhook traffic LinkedIn sends.

LinkedIn calls the webhook URL registered in the developer app's Webhooks tab, the platform's
`/webhooks/linkedin`, and names the organization in each notification. It sends nothing to a URL
it has not validated: `GET <url>?challengeCode=<uuid4>` must answer 200, `application/json`,
`{"challengeCode", "challengeResponse": <hex HMAC-SHA256(client secret, challengeCode)>}` within 3 s.
An organization's notifications go out only while an event subscription names the webhook:
`PUT|GET|DELETE /rest/eventSubscriptions/(developerApplication:<urn>,user:<urn>,entity:<urn>,
eventType:ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS)`, each URN URL-encoded (Rest.li 2.0), by the
member (`user`, the token's) who administers the organization (`entity`) and granted
rw_organization_admin, for this app (`developerApplication`, the sandbox app's id).

`POST /simulate/validate` (JSON `{channel_id?}`, or the form on `/`) runs that validation against
`/webhooks/linkedin`, or against `/webhooks/<channel id>` when a channel id is given.
`POST /simulate/comment` (JSON `{channel_id?, organization?, text}`, or the form on `/`) is a member
commenting on one of the organization's posts: an Organization Social Action Notification, signed
`X-LI-Signature` with the client secret, goes to the webhook the organization's subscription names
(the latest, if several members subscribed it), or to `/webhooks/linkedin` when it has none, or to
the channel's own URL when a channel id is given; validated first if it was not yet."""

from __future__ import annotations

import hmac
import itertools
import json
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from switchboard.connectors.oauth2_apis import (
    LINKEDIN_EVENT_TYPE,
    linkedin_challenge_response,
    linkedin_signature,
)
from switchboard.oauth.providers import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_LINKEDIN_APP_ID
from switchboard.sandbox._kit import Platform, Refused, Token, bearer, esc, page, simulate
from switchboard.sandbox._oauth2 import OAuth2Sandbox

_KEY_PART = re.compile(r"^(developerApplication|user|entity|eventType):([^:,()]+)$")
# Rest.li names the method in its permission errors: PUT is an UPDATE.
_RESTLI_METHOD = {"GET": "GET", "PUT": "UPDATE", "DELETE": "DELETE"}


@dataclass
class Subscription:
    """One event subscription: (application, member, organization, event type) -> webhook."""

    developer_application: str
    user: str
    entity: str
    event_type: str
    webhook: str
    expires_at: int  # epoch ms

    def as_json(self) -> dict[str, Any]:
        return {
            "developerApplication": self.developer_application,
            "user": self.user,
            "entity": self.entity,
            "eventType": self.event_type,
            "webhook": self.webhook,
            "expiresAt": self.expires_at,
        }


class LinkedInSandbox(OAuth2Sandbox):
    title = "Sandbox — LinkedIn"
    deny_error = "user_cancelled_authorize"
    subject = "urn:li:person:sandbox01"

    def __init__(
        self,
        client_id: str = SANDBOX_CLIENT_ID,
        client_secret: str = SANDBOX_CLIENT_SECRET,
        app_id: str = SANDBOX_LINKEDIN_APP_ID,
    ) -> None:
        super().__init__(client_id, client_secret)
        self.app_id = app_id  # the developer application's id: urn:li:developerApplication:<id>
        self.access_ttl = 60 * 86400
        self.organizations: dict[int, str] = {5550001: "Acme Corp", 5550002: "Acme Labs"}
        self.not_admin: set[int] = set()  # organizations the member no longer administers
        # key (application, user, entity, event type) -> subscription; dicts keep creation order
        self.subscriptions: dict[tuple[str, str, str, str], Subscription] = {}
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
                Route(
                    "/rest/eventSubscriptions/{key:path}",
                    self.event_subscription,
                    methods=["GET", "PUT", "DELETE"],
                ),
            ]
        )

    # --- test controls
    def drop_subscriptions(self, organization: str | None = None) -> int:
        """LinkedIn dropped subscriptions (all, or one organization's); how many went."""
        gone = [k for k in self.subscriptions if organization in (None, k[2])]
        for key in gone:
            del self.subscriptions[key]
        return len(gone)

    def revoke_admin(self, org_id: int) -> None:
        """The member lost the ADMINISTRATOR role: LinkedIn drops their subscription for it."""
        self.not_admin.add(org_id)
        self.drop_subscriptions(f"urn:li:organization:{org_id}")

    def subscription_for(self, organization: str) -> Subscription | None:
        """The latest subscription for an organization's notifications, if any."""
        found = [s for s in self.subscriptions.values() if s.entity == organization]
        return found[-1] if found else None

    def configure(self, settings: Any) -> None:
        self.platform.configure(settings)

    def sign(self, body: bytes) -> str:
        return linkedin_signature(self.client_secret, body)

    def comment_notification(
        self,
        organization: str,
        text: str,
        commenter: str = "urn:li:person:sandboxCommenter",
        subscriber: str | None = None,
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
            "subscriber": subscriber or self.subject,
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
        subscribed = "".join(
            f"<li><code>{esc(s.entity)}</code> by <code>{esc(s.user)}</code> → "
            f"<code>{esc(s.webhook)}</code></li>"
            for s in self.subscriptions.values()
        )
        body = (
            f"<p>Consent connects one of these organizations:</p><ul>{orgs}</ul>"
            f"<p>The app's webhook is <code>{esc(app_url)}</code>: LinkedIn validates it "
            "(<code>challengeCode</code>) before sending anything, and names the organization in each "
            "notification. Leave the channel id empty to use it, or give one to use the channel's own "
            "URL.</p>"
            f"<p>Validated: </p><ul>{validated or '<li>none yet</li>'}</ul>"
            "<p>Event subscriptions (connecting creates one per organization, deleting the channel "
            "removes it; a comment goes to its webhook, or to the app's when there is none):</p>"
            f"<ul>{subscribed or '<li>none yet</li>'}</ul>"
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
            target = self.webhook_target(fields["channel_id"])  # checks the channel id first
            if not fields["text"]:
                raise Refused(422, "text", "text is required.")
            organization = fields["organization"] or f"urn:li:organization:{next(iter(self.organizations))}"
            if organization.rsplit(":", 1)[-1] not in {str(oid) for oid in self.organizations}:
                raise Refused(
                    404, "organization", f"{organization!r} is not an organization of this sandbox."
                )
            subscription = self.subscription_for(organization)
            url = subscription.webhook if subscription and not fields["channel_id"] else target
            if url not in self.validated:  # LinkedIn sends only to a validated webhook
                await self.validate(url)
            subscriber = subscription.user if subscription else None
            body = json.dumps(self.comment_notification(organization, fields["text"], subscriber=subscriber))
            headers = {"Content-Type": "application/json", "X-LI-Signature": self.sign(body.encode())}
            status = await self.platform.post(url, body.encode(), headers)
            return status, {
                "notification_id": json.loads(body)["notifications"][0]["notificationId"],
                "url": url,
                "subscribed": subscription is not None,
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

    def _denied(self, resource: str, status: int = 403, message: str | None = None) -> Response:
        return JSONResponse(
            {
                "status": status,
                "serviceErrorCode": 100,
                "code": "ACCESS_DENIED",
                "message": message or f"Not enough permissions to access: {resource}",
            },
            status_code=status,
        )

    async def userinfo(self, request: Request) -> Response:
        """OpenID Connect userinfo: `sub` is the member id (urn:li:person:<sub>); needs openid."""
        self.requests.append("GET /v2/userinfo")
        tok = self.check(bearer(request))
        if tok is None:
            return self._unauthorized()
        if "openid" not in tok.scopes:
            return self._denied("userinfo.GET.NO_VERSION")
        return JSONResponse(
            {
                "sub": tok.subject.rsplit(":", 1)[-1],
                "name": "Sandbox Member",
                "given_name": "Sandbox",
                "family_name": "Member",
                "locale": {"country": "US", "language": "en"},
                "email_verified": True,
            }
        )

    # --- eventSubscriptions

    @staticmethod
    def _raw_key(request: Request) -> str:
        """The compound key as sent: Rest.li 2.0 wants each URN URL-encoded, so it is read from the
        raw path (decoded, a ':' inside a value could not be told from the separator)."""
        raw = bytes(request.scope.get("raw_path") or request.url.path.encode()).decode("latin-1")
        return raw.partition("/rest/eventSubscriptions/")[2]

    def _subscription_key(self, key: str) -> tuple[str, str, str, str] | Response:
        """`(developerApplication:..,user:..,entity:..,eventType:..)`; a raw ':' in a value is malformed."""
        parts: dict[str, str] = {}
        if key.startswith("(") and key.endswith(")"):
            for part in key[1:-1].split(","):
                match = _KEY_PART.match(part)
                if match is None or match.group(1) in parts:
                    parts = {}
                    break
                parts[match.group(1)] = unquote(match.group(2))
        if set(parts) != {"developerApplication", "user", "entity", "eventType"}:
            return JSONResponse(
                {
                    "status": 400,
                    "code": "ILLEGAL_ARGUMENT",
                    "message": "Invalid key: expected (developerApplication:<urn>,user:<urn>,"
                    "entity:<urn>,eventType:<type>) with URL-encoded URNs.",
                },
                status_code=400,
            )
        if parts["eventType"] != LINKEDIN_EVENT_TYPE:
            return JSONResponse(
                {
                    "status": 400,
                    "code": "INVALID_VALUE_FOR_FIELD",
                    "message": f"Unsupported eventType {parts['eventType']!r}",
                },
                status_code=400,
            )
        return parts["developerApplication"], parts["user"], parts["entity"], parts["eventType"]

    def _subscription_refused(
        self, request: Request, tok: Token, key: tuple[str, str, str, str]
    ) -> Response | None:
        app, user, entity, _ = key
        resource = f"eventSubscriptions.{_RESTLI_METHOD[request.method]}.20240101"
        if app != f"urn:li:developerApplication:{self.app_id}":
            return self._denied(resource, message=f"{app} is not the application this token was issued to")
        if user != tok.subject:
            return self._denied(resource, message="user must be the authenticated member")
        if "rw_organization_admin" not in tok.scopes:
            return self._denied(resource)
        if request.method == "PUT":
            oid = entity.rsplit(":", 1)[-1]
            administers = entity.startswith("urn:li:organization:") and oid.isdigit()
            if not administers or int(oid) not in self.organizations or int(oid) in self.not_admin:
                return self._denied(
                    resource, message=f"Member is not an ADMINISTRATOR of {entity}, so it cannot subscribe"
                )
        return None

    async def event_subscription(self, request: Request) -> Response:
        """PUT creates or updates (204), GET reads (200, or 404), DELETE removes (204, or 404)."""
        key_text = self._raw_key(request)
        self.requests.append(f"{request.method} /rest/eventSubscriptions/{key_text}")
        missing = self._version_missing(request)
        if missing:
            return missing
        tok = self.check(bearer(request))
        if tok is None:
            return self._unauthorized()
        key = self._subscription_key(key_text)
        if isinstance(key, Response):
            return key
        refused = self._subscription_refused(request, tok, key)
        if refused:
            return refused
        not_found = JSONResponse(
            {"status": 404, "code": "NOT_FOUND", "message": "No subscription for this key"}, status_code=404
        )
        if request.method == "GET":
            found = self.subscriptions.get(key)
            return JSONResponse(found.as_json()) if found else not_found
        if request.method == "DELETE":
            return Response(status_code=204) if self.subscriptions.pop(key, None) else not_found
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            body = None
        webhook = body.get("webhook") if isinstance(body, dict) else None
        # LinkedIn wants https; the sandbox runs on http://127.0.0.1, so http is accepted here.
        if not isinstance(webhook, str) or not re.match(r"^https?://\S+$", webhook):
            return JSONResponse(
                {"status": 400, "code": "FIELD_VALUE_INVALID", "message": "webhook must be an https URL"},
                status_code=400,
            )
        expires = int((tok.expires_at or time.time() + self.access_ttl) * 1000)
        self.subscriptions.pop(key, None)  # an update moves it last, as the latest
        self.subscriptions[key] = Subscription(*key, webhook=webhook, expires_at=expires)
        return Response(status_code=204)

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
            if oid not in self.not_admin
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
