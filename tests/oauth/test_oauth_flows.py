"""OAuth connection flows end to end: our pages through TestClient, the provider side over real HTTP
to the emulators on 127.0.0.1 (consent page fetched and its form submitted)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient
from sqlalchemy import select

from switchboard.models import OAuthState
from tests.support.oauth_env import Providers, account_by_name, callback, choices, connect, consent, start
from tests.support.tenants import Tenant
from tests.support.web import Browser, allow_byom


def _connected(client: TestClient, tenant: Tenant, name: str) -> dict[str, Any]:
    account = account_by_name(client, tenant.headers, name)
    assert account["connection_status"] == "connected", account
    assert account["status_reason"] is None
    return account


def test_messenger_connects_the_chosen_page(
    web: Browser, oauth_client: TestClient, tenant: Tenant, providers: Providers
) -> None:
    web.login(tenant)
    page = web.get("/settings/channels/new/messenger")
    assert "Connect via Facebook" in page.text
    location = start(web, "messenger", "FB Support")
    assert location.startswith(providers.urls["meta"] + "/v21.0/dialog/oauth?")
    assert "client_id=111222333" in location
    assert "scope=pages_show_list" in location
    r = callback(web, consent(location))
    assert r.status_code == 303
    assert r.headers["location"].startswith("/oauth/select/")
    page_ids = choices(web, r.headers["location"])
    assert page_ids == [p.id for p in providers.meta.pages]
    done = web.post(r.headers["location"], {"choice": page_ids[1]})
    assert done.status_code == 303
    assert done.headers["location"] == "/settings/channels"
    account = _connected(oauth_client, tenant, "FB Support")
    assert account["settings"]["page_id"] == page_ids[1]
    assert account["settings"]["page_name"] == "Acme Shop"
    assert account["settings"]["page_access_token"].startswith("••")  # stored in the vault, masked
    assert account["is_active"] is False


def test_instagram_connects_the_business_account(
    web: Browser, oauth_client: TestClient, tenant: Tenant, providers: Providers
) -> None:
    web.login(tenant)
    assert connect(web, "instagram", "Insta DMs").status_code == 303
    account = _connected(oauth_client, tenant, "Insta DMs")
    assert account["settings"]["instagram_business_account_id"] == "17841400000000001"
    assert account["settings"]["username"] == "acme.shop"


def test_whatsapp_cloud_connects_the_number_and_subscribes_the_waba(
    web: Browser, oauth_client: TestClient, tenant: Tenant, providers: Providers, db: Any
) -> None:
    allow_byom(db, tenant.organization_id)
    web.login(tenant)
    assert connect(web, "whatsapp_cloud", "WA Cloud", choice=1).status_code == 303
    account = _connected(oauth_client, tenant, "WA Cloud")
    assert account["settings"]["phone_number_id"] == "4010000000002"
    assert account["settings"]["waba_id"] == "3010000000001"
    assert account["settings"]["display_phone_number"] == "+14155550102"
    assert account["settings"]["access_token_expires_at"]  # the long-lived token's expiry
    assert "3010000000001" in providers.meta.subscribed_apps


def test_tiktok_business_account_connects_with_refreshable_tokens(
    web: Browser, oauth_client: TestClient, tenant: Tenant, providers: Providers
) -> None:
    web.login(tenant)
    location = start(web, "tiktok", "TikTok DMs")
    query = parse_qs(urlsplit(location).query)
    assert location.startswith(providers.urls["tiktok"] + "/v2/auth/authorize/?")
    assert query["client_key"] == ["tt-client-key"]
    assert query["scope"] == ["user.info.basic,message.list.read,message.list.send,message.list.manage"]
    assert "code_challenge" not in query  # the Business API token exchange takes no PKCE verifier
    exchanges = providers.tiktok.requests.count("POST /tt_user/oauth2/token/")
    r = callback(web, consent(location))
    assert r.status_code == 303
    assert providers.tiktok.requests.count("POST /tt_user/oauth2/token/") == exchanges + 1
    assert choices(web, r.headers["location"]) == [providers.tiktok.subject]
    web.post(r.headers["location"], {"choice": providers.tiktok.subject})
    account = _connected(oauth_client, tenant, "TikTok DMs")
    assert account["settings"]["business_id"] == providers.tiktok.subject
    assert account["settings"]["display_name"] == "Acme on TikTok"
    assert account["settings"]["refresh_token"].startswith("••")


def test_tiktok_without_messaging_permission_is_refused(
    web: Browser, oauth_client: TestClient, tenant: Tenant
) -> None:
    web.login(tenant)
    r = callback(web, consent(start(web, "tiktok", "No DMs"), drop=("message.list.send",)))
    assert r.status_code == 400
    assert "message.list.send" in r.text


def test_linkedin_uses_pkce_and_lists_administered_organizations(
    web: Browser, oauth_client: TestClient, tenant: Tenant, providers: Providers
) -> None:
    web.login(tenant)
    before = providers.linkedin.pkce_checked
    location = start(web, "linkedin", "LinkedIn Page")
    r = callback(web, consent(location))
    urns = choices(web, r.headers["location"])
    assert urns == ["urn:li:organization:5550001", "urn:li:organization:5550002"]
    web.post(r.headers["location"], {"choice": urns[1]})
    account = _connected(oauth_client, tenant, "LinkedIn Page")
    assert account["settings"]["organization_urn"] == "urn:li:organization:5550002"
    assert providers.linkedin.pkce_checked == before + 1


def test_denied_consent_ends_on_a_page_that_says_what_to_do(
    web: Browser, oauth_client: TestClient, tenant: Tenant
) -> None:
    web.login(tenant)
    location = consent(start(web, "messenger", "Denied"), action="cancel")
    assert "error=access_denied" in location
    r = callback(web, location)
    assert r.status_code == 400
    assert "Connection cancelled" in r.text
    assert "What to do" in r.text
    assert "You declined" in r.text
    listed = oauth_client.get("/rest/v1/channel_accounts", headers=tenant.headers).json()
    assert listed["total"] == 0


def test_state_of_another_browser_session_is_refused(
    web: Browser, oauth_client: TestClient, tenant: Tenant, make_tenant: Any
) -> None:
    web.login(tenant)
    location = consent(start(web, "messenger", "Hijack"))
    web.login(make_tenant("Other Org"))  # another user's browser receives the redirect
    r = callback(web, location)
    assert r.status_code == 400
    assert "not valid" in r.text
    web.login(tenant)  # a new session of the same user is another session too
    assert callback(web, location).status_code == 400


def test_bad_or_replayed_state_is_refused(web: Browser, tenant: Tenant, db: Any) -> None:
    web.login(tenant)
    r = web.get("/oauth/callback/facebook?code=abc&state=forged", follow_redirects=False)
    assert r.status_code == 400
    assert "not valid" in r.text
    location = consent(start(web, "messenger", "Replay"))
    assert callback(web, location).status_code == 303
    again = callback(web, location)
    assert again.status_code == 400
    assert "not valid" in again.text

    async def states(session: Any) -> list[OAuthState]:
        return list(await session.scalars(select(OAuthState)))

    rows = db.session(states)
    state = location.split("state=")[1].split("&")[0]
    assert all(row.state_hash != state and len(row.state_hash) == 64 for row in rows)  # stored hashed


def test_expired_code_is_explained(web: Browser, tenant: Tenant, providers: Providers) -> None:
    web.login(tenant)
    providers.meta.code_ttl = -1
    try:
        location = consent(start(web, "messenger", "Late"))
    finally:
        providers.meta.code_ttl = 600
    r = callback(web, location)
    assert r.status_code == 400
    assert "refused the connection" in r.text
    assert "expired" in r.text


def test_missing_permission_names_it(web: Browser, tenant: Tenant) -> None:
    web.login(tenant)
    r = callback(web, consent(start(web, "messenger", "No perms"), drop=("pages_messaging",)))
    assert r.status_code == 400
    assert "A permission is missing" in r.text
    assert "pages_messaging" in r.text


def test_no_pages_shared_is_explained(web: Browser, tenant: Tenant, providers: Providers) -> None:
    web.login(tenant)
    saved = providers.meta.pages
    providers.meta.pages = []
    try:
        r = callback(web, consent(start(web, "messenger", "Nothing")))
    finally:
        providers.meta.pages = saved
    assert r.status_code == 400
    assert "No Facebook Page to connect" in r.text


def test_start_needs_a_name_and_csrf(web: Browser, tenant: Tenant) -> None:
    web.login(tenant)
    r = web.post("/oauth/messenger/start", {"name": ""})
    assert r.status_code == 422
    assert "This field is required." in r.text
    assert web.post("/oauth/messenger/start", {"name": "x"}, csrf="wrong").status_code == 403
    assert web.post("/oauth/telegram/start", {"name": "x"}).status_code == 404


def test_expired_flows_are_purged_with_their_secrets(web: Browser, tenant: Tenant, db: Any) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import func, update

    from switchboard.models import VaultSecret
    from switchboard.oauth.service import FLOW_OWNER
    from switchboard.oauth.tasks import purge_flows

    web.login(tenant)
    start(web, "linkedin", "Abandoned")  # left at the consent page: its PKCE verifier is in the vault

    async def age(session: Any) -> None:
        await session.execute(update(OAuthState).values(expires_at=datetime.now(UTC) - timedelta(days=1)))

    async def counts(session: Any) -> tuple[int, int]:
        flows = await session.scalar(select(func.count()).select_from(OAuthState))
        secrets = await session.scalar(
            select(func.count()).select_from(VaultSecret).where(VaultSecret.owner_type == FLOW_OWNER)
        )
        return int(flows or 0), int(secrets or 0)

    assert db.session(counts) == (1, 1)
    db.session(age)
    assert db.run(purge_flows) == 1
    assert db.session(counts) == (0, 0)
