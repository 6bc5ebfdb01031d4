"""LinkedIn pushes an organization's notifications only while an event subscription (developer
application, member, organization) names the platform's webhook: connecting creates it
(`PUT /rest/eventSubscriptions/<key>`, the member from OpenID's userinfo), the periodic check reads it
back and notices when LinkedIn dropped it, Test connection creates it again, and a refused PUT (403:
not an administrator, or no rw_organization_admin in the grant) asks the tenant to act."""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2 as httpx
import pytest
from anyio.from_thread import start_blocking_portal
from fastapi.testclient import TestClient

from switchboard.connectors.adapter import AccountContext, ErrorKind, get_adapter
from switchboard.connectors.base import ChannelType
from switchboard.core.runtime import Runtime
from switchboard.health.tasks import check_active_accounts
from switchboard.sandbox._kit import Token
from switchboard.sandbox.linkedin import LinkedInSandbox
from tests.support.channel_accounts import create_direct
from tests.support.oauth_env import (
    Providers,
    account_by_name,
    callback,
    connect,
    consent,
    provider_settings,
    start,
)
from tests.support.tenants import Tenant
from tests.support.web import Browser

URL = "/rest/v1/channel_accounts"
ORG_A = "urn:li:organization:5550001"  # "Acme Corp", choice 0
ORG_B = "urn:li:organization:5550002"  # "Acme Labs", choice 1
MEMBER = "urn:li:person:sandbox01"  # the sandbox member: userinfo's sub is "sandbox01"
APP_WEBHOOK = "http://testserver/webhooks/linkedin"
# The Rest.li 2.0 key: URL-encoded URNs; 88000042 is the app id tests/support/oauth_env.py configures.
KEY_B = (
    "(developerApplication:urn%3Ali%3AdeveloperApplication%3A88000042,"
    "user:urn%3Ali%3Aperson%3Asandbox01,"
    "entity:urn%3Ali%3Aorganization%3A5550002,"
    "eventType:ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS)"
)
KEY_A = KEY_B.replace("5550002", "5550001")


@pytest.fixture
def linkedin(providers: Providers) -> Iterator[LinkedInSandbox]:
    """The session's LinkedIn emulator with no subscription yet and every role in place."""
    emulator = providers.linkedin
    emulator.subscriptions.clear()
    emulator.not_admin.clear()
    yield emulator
    emulator.subscriptions.clear()
    emulator.not_admin.clear()


def _periodic_check(db: Any, providers: Providers) -> int:
    """The worker's periodic job, with the settings of the app under test (emulator URLs)."""

    async def go(rt: Runtime) -> int:
        live = dataclasses.replace(
            rt, settings=provider_settings(rt.settings, providers, "http://testserver")
        )
        return await check_active_accounts(live)

    return int(db.run(go))


def _account(client: TestClient, tenant: Tenant, account_id: str) -> dict[str, Any]:
    r = client.get(f"{URL}/{account_id}", headers=tenant.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _switch_on(client: TestClient, tenant: Tenant, account_id: str) -> None:
    r = client.patch(f"{URL}/{account_id}", json={"is_active": True}, headers=tenant.headers)
    assert r.status_code == 200, r.text


def _last_attempt(client: TestClient, tenant: Tenant, account_id: str) -> tuple[Any, ...]:
    log = client.get(f"{URL}/{account_id}/connection_log", headers=tenant.headers).json()
    a = log["attempts"][0]
    return a["action"], a["ok"], a["error_kind"], a["error_code"]


def _subscription(providers: Providers, key: str) -> httpx.Response:
    """Read a subscription as LinkedIn answers it, with the member's latest access token."""
    token = providers.linkedin.access_tokens()[-1]
    return httpx.get(
        f"{providers.urls['linkedin']}/rest/eventSubscriptions/{key}",
        headers={
            "Authorization": f"Bearer {token}",
            "LinkedIn-Version": "202401",
            "X-Restli-Protocol-Version": "2.0.0",
        },
    )


def test_connecting_subscribes_the_organization_to_the_platform_webhook(
    web: Browser,
    oauth_client: TestClient,
    tenant: Tenant,
    providers: Providers,
    linkedin: LinkedInSandbox,
    db: Any,
) -> None:
    web.login(tenant)
    location = start(web, "linkedin", "LI subscribed")
    scopes = parse_qs(urlsplit(location).query)["scope"][0].split(" ")
    assert {"openid", "rw_organization_admin", "w_organization_social"} <= set(scopes)
    r = callback(web, consent(location))
    assert r.status_code == 303, r.text
    assert web.post(r.headers["location"], {"choice": ORG_B}).status_code == 303

    account = account_by_name(oauth_client, tenant.headers, "LI subscribed")
    assert (account["connection_status"], account["status_reason"]) == ("connected", None)
    assert account["settings"]["person_urn"] == MEMBER
    assert f"PUT /rest/eventSubscriptions/{KEY_B}" in linkedin.requests
    stored = _subscription(providers, KEY_B)
    assert stored.status_code == 200, stored.text
    assert stored.json()["webhook"] == APP_WEBHOOK
    assert (stored.json()["user"], stored.json()["entity"]) == (MEMBER, ORG_B)
    assert stored.json()["developerApplication"] == "urn:li:developerApplication:88000042"
    assert [s.entity for s in linkedin.subscriptions.values()] == [ORG_B]  # only the chosen one

    # The periodic check reads it back (GET with the same key) and finds it in place.
    _switch_on(oauth_client, tenant, account["id"])
    gets = linkedin.requests.count(f"GET /rest/eventSubscriptions/{KEY_B}")
    assert _periodic_check(db, providers) == 1
    assert linkedin.requests.count(f"GET /rest/eventSubscriptions/{KEY_B}") == gets + 1
    assert _account(oauth_client, tenant, account["id"])["connection_status"] == "connected"
    assert _last_attempt(oauth_client, tenant, account["id"]) == ("health", True, None, None)


def test_a_dropped_subscription_is_noticed_and_test_connection_creates_it_again(
    web: Browser,
    oauth_client: TestClient,
    tenant: Tenant,
    providers: Providers,
    linkedin: LinkedInSandbox,
    db: Any,
) -> None:
    web.login(tenant)
    connect(web, "linkedin", "LI dropped")
    account_id = account_by_name(oauth_client, tenant.headers, "LI dropped")["id"]
    _switch_on(oauth_client, tenant, account_id)

    assert linkedin.drop_subscriptions(ORG_A) == 1  # e.g. LinkedIn removed it
    assert _periodic_check(db, providers) == 1
    account = _account(oauth_client, tenant, account_id)
    assert account["connection_status"] == "disconnected"
    assert account["status_reason"].startswith("LinkedIn has no webhook subscription for Acme Corp")
    assert "Test connection subscribes it again" in account["status_reason"]
    assert _last_attempt(oauth_client, tenant, account_id) == (
        "health",
        False,
        "needs_action",
        "subscription_missing",
    )

    r = oauth_client.post(f"{URL}/{account_id}/test", headers=tenant.headers)
    assert r.status_code == 200, r.text
    assert (r.json()["ok"], r.json()["connection_status"], r.json()["status_reason"]) == (
        True,
        "connected",
        None,
    )
    assert _subscription(providers, KEY_A).json()["webhook"] == APP_WEBHOOK
    assert _periodic_check(db, providers) == 1
    assert _account(oauth_client, tenant, account_id)["connection_status"] == "connected"

    # Pointed at another URL (someone else's PUT with the same key): noticed, and put back.
    token = providers.linkedin.access_tokens()[-1]
    moved = httpx.put(
        f"{providers.urls['linkedin']}/rest/eventSubscriptions/{KEY_A}",
        json={"webhook": "https://elsewhere.example/linkedin"},
        headers={"Authorization": f"Bearer {token}", "LinkedIn-Version": "202401"},
    )
    assert moved.status_code == 204, moved.text
    _periodic_check(db, providers)
    account = _account(oauth_client, tenant, account_id)
    assert account["connection_status"] == "disconnected"
    assert "https://elsewhere.example/linkedin" in account["status_reason"]
    assert _last_attempt(oauth_client, tenant, account_id)[3] == "subscription_elsewhere"
    assert oauth_client.post(f"{URL}/{account_id}/test", headers=tenant.headers).json()["ok"] is True
    assert _subscription(providers, KEY_A).json()["webhook"] == APP_WEBHOOK


def test_a_member_who_lost_the_admin_role_is_refused_and_the_tenant_must_act(
    web: Browser,
    oauth_client: TestClient,
    tenant: Tenant,
    providers: Providers,
    linkedin: LinkedInSandbox,
) -> None:
    web.login(tenant)
    connect(web, "linkedin", "LI demoted")
    account_id = account_by_name(oauth_client, tenant.headers, "LI demoted")["id"]
    linkedin.revoke_admin(5550001)  # LinkedIn drops the member's subscription with the role

    r = oauth_client.post(f"{URL}/{account_id}/test", headers=tenant.headers)
    assert r.status_code == 200, r.text
    result = r.json()
    assert (result["ok"], result["connection_status"]) == (False, "disconnected")
    assert (result["attempt"]["error_kind"], result["attempt"]["error_code"]) == (
        "needs_action",
        "subscription_refused",
    )
    reason = result["status_reason"]
    assert "403 ACCESS_DENIED" in reason
    assert "must be an administrator of the organization" in reason
    assert "reconnect the channel" in reason
    assert linkedin.subscriptions == {}


def test_a_grant_without_rw_organization_admin_is_refused_until_reconnected(
    web: Browser,
    oauth_client: TestClient,
    tenant: Tenant,
    providers: Providers,
    linkedin: LinkedInSandbox,
    db: Any,
) -> None:
    """A channel connected with the scopes asked before subscriptions existed: LinkedIn refuses the
    PUT (403, not enough permissions); Reconnect grants rw_organization_admin and subscribes."""
    old_token = f"act.legacy{len(linkedin.tokens)}"
    linkedin.tokens[old_token] = Token(
        "access",
        ["openid", "profile", "r_organization_admin", "w_organization_social"],
        time.time() + 3600,
        linkedin.subject,
    )
    account_id = create_direct(
        db, tenant, "LINKEDIN", {"organization_urn": ORG_A}, {"access_token": old_token}
    )

    r = oauth_client.post(f"{URL}/{account_id}/test", headers=tenant.headers)
    assert r.status_code == 200, r.text
    result = r.json()
    assert (result["ok"], result["connection_status"]) == (False, "disconnected")
    assert result["attempt"]["error_code"] == "subscription_refused"
    assert "Not enough permissions to access: eventSubscriptions.UPDATE" in result["status_reason"]
    assert "rw_organization_admin" in result["status_reason"]
    assert linkedin.subscriptions == {}

    web.login(tenant)
    assert connect(web, "linkedin", account_id=account_id).status_code == 303
    account = _account(oauth_client, tenant, account_id)
    assert (account["connection_status"], account["status_reason"]) == ("connected", None)
    assert _subscription(providers, KEY_A).json()["webhook"] == APP_WEBHOOK


def test_consent_without_the_organization_admin_permission_is_refused_up_front(
    web: Browser, oauth_client: TestClient, tenant: Tenant
) -> None:
    web.login(tenant)
    r = callback(web, consent(start(web, "linkedin", "No admin"), drop=("rw_organization_admin",)))
    assert r.status_code == 400
    assert "rw_organization_admin" in r.text
    listed = oauth_client.get(URL, headers=tenant.headers).json()
    assert listed["total"] == 0


def test_without_the_app_id_live_mode_says_what_the_operator_must_set(
    providers: Providers, linkedin: LinkedInSandbox
) -> None:
    from switchboard.core.config import get_settings

    settings = provider_settings(get_settings(), providers, "http://testserver").model_copy(
        update={"linkedin_app_id": ""}
    )
    adapter = get_adapter(ChannelType.LINKEDIN, settings)
    assert adapter is not None
    token = f"act.noapp{len(linkedin.tokens)}"
    linkedin.tokens[token] = Token("access", ["openid", "rw_organization_admin"], None, linkedin.subject)
    ctx = AccountContext(uuid.uuid4(), uuid.uuid4(), {"organization_urn": ORG_A}, {"access_token": token})
    puts = sum(r.startswith("PUT /rest/eventSubscriptions") for r in linkedin.requests)
    with start_blocking_portal() as portal:
        result = portal.call(adapter.connect, ctx)  # type: ignore[attr-defined]
    assert result.ok is False
    assert result.error is not None
    assert (result.error.kind, result.error.code) == (ErrorKind.PERMANENT, "not_configured")
    assert "SWITCHBOARD_LINKEDIN_APP_ID" in result.reason
    assert sum(r.startswith("PUT /rest/eventSubscriptions") for r in linkedin.requests) == puts
