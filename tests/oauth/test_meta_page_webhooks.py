"""Messenger and Instagram receive webhooks only while the Page is subscribed to the platform's Meta
app: connecting subscribes it (POST /{page-id}/subscribed_apps with the Page token and the fields),
the periodic check notices when the app is gone from the Page and asks the tenant to act, and Test
connection or Reconnect subscribes it again. The Meta emulator answers subscribed_apps as Graph does."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient

from switchboard.core.runtime import Runtime
from switchboard.health.tasks import check_active_accounts
from switchboard.sandbox._kit import Token
from switchboard.sandbox.meta import MetaSandbox
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
SHOP_PAGE = "1010000000002"  # "Acme Shop", linked to @acme.shop
SHOP_IG = "17841400000000001"
OTHER_PAGE = "1010000000001"
MESSENGER_FIELDS = ["messages", "message_deliveries", "message_reads", "messaging_postbacks"]
INSTAGRAM_FIELDS = ["messages", "messaging_postbacks"]


@pytest.fixture
def meta(providers: Providers) -> Iterator[MetaSandbox]:
    """The session's Meta emulator with no Page subscribed yet."""
    providers.meta.page_apps.clear()
    yield providers.meta
    providers.meta.page_apps.clear()


def _graph(providers: Providers, method: str, path: str, token: str, **params: str) -> httpx.Response:
    return httpx.request(
        method,
        f"{providers.urls['meta']}/v21.0/{path}",
        params=params or None,
        headers={"Authorization": f"Bearer {token}"},
    )


def _page_token(meta: MetaSandbox, page_id: str, scopes: tuple[str, ...] = ("pages_manage_metadata",)) -> str:
    value = f"EAApagetest{page_id}{len(meta.tokens)}"
    meta.tokens[value] = Token("page", list(scopes), None, page_id)
    return value


def _periodic_check(db: Any, providers: Providers) -> int:
    """The worker's periodic job, with the settings of the app under test (emulator URLs)."""

    async def go(rt: Runtime) -> int:
        live = dataclasses.replace(
            rt, settings=provider_settings(rt.settings, providers, "http://testserver")
        )
        return await check_active_accounts(live)

    return int(db.run(go))


def _switch_on(client: TestClient, tenant: Tenant, account_id: str) -> None:
    r = client.patch(f"{URL}/{account_id}", json={"is_active": True}, headers=tenant.headers)
    assert r.status_code == 200, r.text


def _account(client: TestClient, tenant: Tenant, account_id: str) -> dict[str, Any]:
    return dict(client.get(f"{URL}/{account_id}", headers=tenant.headers).json())


def _last_attempt(client: TestClient, tenant: Tenant, account_id: str) -> dict[str, Any]:
    log = client.get(f"{URL}/{account_id}/connection_log", headers=tenant.headers).json()
    return dict(log["attempts"][0])


def test_connected_messenger_and_instagram_end_subscribed_with_their_fields(
    web: Browser, oauth_client: TestClient, tenant: Tenant, providers: Providers, meta: MetaSandbox
) -> None:
    web.login(tenant)
    assert connect(web, "messenger", "FB shop", choice=1).status_code == 303
    fb = account_by_name(oauth_client, tenant.headers, "FB shop")
    assert (fb["settings"]["page_id"], fb["connection_status"]) == (SHOP_PAGE, "connected")
    assert meta.page_fields(SHOP_PAGE) == MESSENGER_FIELDS
    assert meta.page_fields(OTHER_PAGE) is None  # only the chosen Page

    assert connect(web, "instagram", "IG shop").status_code == 303
    ig = account_by_name(oauth_client, tenant.headers, "IG shop")
    assert ig["connection_status"] == "connected"
    assert ig["settings"]["instagram_business_account_id"] == SHOP_IG
    assert ig["settings"]["page_id"] == SHOP_PAGE  # the linked Page, stored by the selection step
    # Both channels live on one Page: connecting Instagram kept what Messenger needs.
    assert set(meta.page_fields(SHOP_PAGE) or []) == set(MESSENGER_FIELDS) | set(INSTAGRAM_FIELDS)

    # Graph's own answer, as the periodic check reads it (with the Page token).
    token = _page_token(meta, SHOP_PAGE)
    listed = _graph(providers, "GET", f"{SHOP_PAGE}/subscribed_apps", token).json()
    assert listed["data"] == [
        {"id": meta.app_id, "name": meta.app_name, "subscribed_fields": meta.page_fields(SHOP_PAGE)}
    ]
    for account in (fb, ig):
        r = oauth_client.post(f"{URL}/{account['id']}/test", headers=tenant.headers)
        assert r.json()["ok"] is True, r.text


def test_instagram_alone_subscribes_its_linked_page_with_the_instagram_fields(
    web: Browser, oauth_client: TestClient, tenant: Tenant, meta: MetaSandbox
) -> None:
    web.login(tenant)
    assert connect(web, "instagram", "IG only").status_code == 303
    assert account_by_name(oauth_client, tenant.headers, "IG only")["connection_status"] == "connected"
    assert meta.page_fields(SHOP_PAGE) == INSTAGRAM_FIELDS


def test_lost_messenger_subscription_disconnects_with_the_reason_and_test_connection_resubscribes(
    web: Browser, oauth_client: TestClient, tenant: Tenant, providers: Providers, meta: MetaSandbox, db: Any
) -> None:
    web.login(tenant)
    connect(web, "messenger", "FB lost", choice=1)
    account_id = account_by_name(oauth_client, tenant.headers, "FB lost")["id"]
    _switch_on(oauth_client, tenant, account_id)
    meta.subscribe_other_app(SHOP_PAGE, "999000111", "Another inbox", ["messages"])
    assert _periodic_check(db, providers) == 1
    assert _account(oauth_client, tenant, account_id)["connection_status"] == "connected"

    assert meta.unsubscribe(SHOP_PAGE)  # a Page admin removed the app; another app is still there
    assert _periodic_check(db, providers) == 1
    account = _account(oauth_client, tenant, account_id)
    assert account["connection_status"] == "disconnected"
    assert account["status_reason"].startswith("webhooks are no longer subscribed")
    assert "Test connection subscribes the Page again" in account["status_reason"]
    attempt = _last_attempt(oauth_client, tenant, account_id)
    assert (attempt["action"], attempt["ok"], attempt["error_kind"], attempt["error_code"]) == (
        "health",
        False,
        "needs_action",
        "webhooks_unsubscribed",
    )

    r = oauth_client.post(f"{URL}/{account_id}/test", headers=tenant.headers)
    assert r.status_code == 200
    assert (r.json()["ok"], r.json()["connection_status"], r.json()["status_reason"]) == (
        True,
        "connected",
        None,
    )
    assert meta.page_fields(SHOP_PAGE) == MESSENGER_FIELDS
    assert _periodic_check(db, providers) == 1
    assert _account(oauth_client, tenant, account_id)["connection_status"] == "connected"


def test_a_dropped_field_is_noticed_too(
    web: Browser, oauth_client: TestClient, tenant: Tenant, providers: Providers, meta: MetaSandbox, db: Any
) -> None:
    web.login(tenant)
    connect(web, "messenger", "FB fields", choice=1)
    account_id = account_by_name(oauth_client, tenant.headers, "FB fields")["id"]
    _switch_on(oauth_client, tenant, account_id)
    token = _page_token(meta, SHOP_PAGE)
    r = _graph(providers, "POST", f"{SHOP_PAGE}/subscribed_apps", token, subscribed_fields="messages")
    assert r.json() == {"success": True}
    _periodic_check(db, providers)
    account = _account(oauth_client, tenant, account_id)
    assert account["connection_status"] == "disconnected"
    assert account["status_reason"].startswith(
        "webhooks for message_deliveries, message_reads, messaging_postbacks are no longer subscribed"
    )
    reconnect = oauth_client.post(f"{URL}/{account_id}/reconnect", headers=tenant.headers).json()
    assert (reconnect["ok"], reconnect["connection_status"]) == (True, "connected")
    assert meta.page_fields(SHOP_PAGE) == MESSENGER_FIELDS


def test_lost_instagram_subscription_disconnects_and_reconnect_through_facebook_resubscribes(
    web: Browser, oauth_client: TestClient, tenant: Tenant, providers: Providers, meta: MetaSandbox, db: Any
) -> None:
    web.login(tenant)
    connect(web, "instagram", "IG lost")
    account_id = account_by_name(oauth_client, tenant.headers, "IG lost")["id"]
    _switch_on(oauth_client, tenant, account_id)
    token = _page_token(meta, SHOP_PAGE)
    assert _graph(providers, "DELETE", f"{SHOP_PAGE}/subscribed_apps", token).json() == {"success": True}
    assert _graph(providers, "GET", f"{SHOP_PAGE}/subscribed_apps", token).json() == {"data": []}

    _periodic_check(db, providers)
    account = _account(oauth_client, tenant, account_id)
    assert account["connection_status"] == "disconnected"
    assert account["status_reason"].startswith("webhooks are no longer subscribed")
    assert "Instagram account" in account["status_reason"]

    # Reconnect through Facebook Login (the list's Reconnect button) runs connect, which subscribes.
    done = connect(web, "instagram", account_id=account_id)
    assert done.status_code == 303, done.text
    again = _account(oauth_client, tenant, account_id)
    assert (again["connection_status"], again["settings"]["page_id"]) == ("connected", SHOP_PAGE)
    assert meta.page_fields(SHOP_PAGE) == INSTAGRAM_FIELDS


def test_instagram_connected_before_the_page_id_was_stored_learns_it_and_subscribes(
    oauth_client: TestClient, tenant: Tenant, meta: MetaSandbox, db: Any
) -> None:
    token = _page_token(
        meta, SHOP_PAGE, ("instagram_basic", "instagram_manage_messages", "pages_manage_metadata")
    )
    account_id = create_direct(
        db, tenant, "INSTAGRAM", {"instagram_business_account_id": SHOP_IG, "username": "acme.shop"},
        {"access_token": token},
    )  # fmt: skip
    r = oauth_client.post(f"{URL}/{account_id}/test", headers=tenant.headers)
    assert r.json()["ok"] is True, r.text
    assert _account(oauth_client, tenant, account_id)["settings"]["page_id"] == SHOP_PAGE
    assert meta.page_fields(SHOP_PAGE) == INSTAGRAM_FIELDS


def test_instagram_unlinked_from_its_page_needs_action(
    oauth_client: TestClient, tenant: Tenant, meta: MetaSandbox, db: Any
) -> None:
    token = _page_token(meta, OTHER_PAGE, ("instagram_basic", "pages_manage_metadata"))
    account_id = create_direct(
        db, tenant, "INSTAGRAM", {"instagram_business_account_id": SHOP_IG, "page_id": OTHER_PAGE},
        {"access_token": token},
    )  # fmt: skip
    result = oauth_client.post(f"{URL}/{account_id}/test", headers=tenant.headers).json()
    assert (result["ok"], result["connection_status"]) == (False, "disconnected")
    assert "no longer linked to the Facebook Page Acme Sandbox Page" in result["status_reason"]
    assert meta.page_fields(OTHER_PAGE) is None


def test_a_token_without_pages_manage_metadata_asks_to_reconnect(
    oauth_client: TestClient, tenant: Tenant, meta: MetaSandbox, db: Any
) -> None:
    token = _page_token(meta, SHOP_PAGE, ("pages_messaging",))
    account_id = create_direct(db, tenant, "MESSENGER", {"page_id": SHOP_PAGE}, {"page_access_token": token})
    result = oauth_client.post(f"{URL}/{account_id}/test", headers=tenant.headers).json()
    assert (result["ok"], result["connection_status"]) == (False, "disconnected")
    assert "pages_manage_metadata" in result["status_reason"]
    assert "Reconnect" in result["status_reason"]


def test_connecting_a_page_without_pages_manage_metadata_is_refused(
    web: Browser, oauth_client: TestClient, tenant: Tenant
) -> None:
    web.login(tenant)
    for key in ("messenger", "instagram"):
        r = callback(web, consent(start(web, key, f"No metadata {key}"), drop=("pages_manage_metadata",)))
        assert r.status_code == 400
        assert "A permission is missing" in r.text
        assert "pages_manage_metadata" in r.text
    assert oauth_client.get(URL, headers=tenant.headers).json()["total"] == 0


def test_emulator_subscribed_apps_needs_that_pages_token(providers: Providers, meta: MetaSandbox) -> None:
    path = f"{SHOP_PAGE}/subscribed_apps"
    user = meta.system_user_token  # not a Page token
    refused = _graph(providers, "POST", path, user, subscribed_fields="messages").json()["error"]
    assert (refused["code"], refused["type"]) == (210, "OAuthException")
    other = _graph(providers, "GET", path, _page_token(meta, OTHER_PAGE)).json()["error"]
    assert other["code"] == 200
    no_scope = _graph(providers, "GET", path, _page_token(meta, SHOP_PAGE, ("pages_messaging",))).json()
    assert no_scope["error"]["code"] == 200
    assert "pages_manage_metadata" in no_scope["error"]["message"]
    expired = _page_token(meta, SHOP_PAGE)
    meta.expire(expired)
    assert _graph(providers, "GET", path, expired).json()["error"]["code"] == 190

    token = _page_token(meta, SHOP_PAGE)
    missing = _graph(providers, "POST", path, token).json()["error"]
    assert (missing["code"], missing["message"]) == (
        100,
        "(#100) The parameter subscribed_fields is required.",
    )
    unknown = _graph(providers, "POST", path, token, subscribed_fields="messages,telepathy").json()["error"]
    assert unknown["code"] == 100
    assert "subscribed_fields[1] must be one of" in unknown["message"]
    assert meta.page_fields(SHOP_PAGE) is None  # refused requests changed nothing
