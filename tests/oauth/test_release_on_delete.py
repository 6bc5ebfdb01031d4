"""Deleting a LinkedIn, Messenger or Instagram channel undoes the subscription connecting made at
the provider (LinkedIn's event subscription, the Page's subscription to the platform Meta app), so
its events stop arriving for nobody. A Page that another remaining channel uses keeps its
subscription; a provider that refuses never keeps the channel, and the deletion's audit entry says
what happened."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from switchboard.sandbox.linkedin import LinkedInSandbox
from switchboard.sandbox.meta import MetaSandbox
from tests.support.oauth_env import Providers, account_by_name, connect
from tests.support.tenants import Tenant
from tests.support.web import Browser

URL = "/rest/v1/channel_accounts"
SHOP_PAGE = "1010000000002"  # "Acme Shop", linked to @acme.shop; choice 1 for Messenger
ORG_A = "urn:li:organization:5550001"  # "Acme Corp", choice 0
MEMBER = "urn:li:person:sandbox01"


@pytest.fixture
def meta(providers: Providers) -> Iterator[MetaSandbox]:
    providers.meta.page_apps.clear()
    yield providers.meta
    providers.meta.page_apps.clear()


@pytest.fixture
def linkedin(providers: Providers) -> Iterator[LinkedInSandbox]:
    providers.linkedin.subscriptions.clear()
    providers.linkedin.not_admin.clear()
    yield providers.linkedin
    providers.linkedin.subscriptions.clear()
    providers.linkedin.not_admin.clear()


def _delete(client: TestClient, tenant: Tenant, account_id: str) -> dict[str, Any]:
    """DELETE through the API; the account is gone; returns the deletion's audit entry."""
    r = client.delete(f"{URL}/{account_id}", headers=tenant.headers)
    assert r.status_code == 204, r.text
    return _deleted(client, tenant, account_id)


def _deleted(client: TestClient, tenant: Tenant, account_id: str) -> dict[str, Any]:
    assert client.get(f"{URL}/{account_id}", headers=tenant.headers).status_code == 404
    trail = client.get(f"{URL}/{account_id}/audit", headers=tenant.headers).json()
    assert trail[0]["action"] == "channel_account.deleted"
    return dict(trail[0])


# --- LinkedIn ------------------------------------------------------------------------------------


def test_deleting_a_linkedin_channel_removes_the_event_subscription(
    web: Browser, oauth_client: TestClient, tenant: Tenant, linkedin: LinkedInSandbox
) -> None:
    web.login(tenant)
    assert connect(web, "linkedin", "LI gone").status_code == 303
    account = account_by_name(oauth_client, tenant.headers, "LI gone")
    assert account["connection_status"] == "connected"
    assert linkedin.subscription_for(ORG_A) is not None

    entry = _delete(oauth_client, tenant, account["id"])
    assert entry["after"] == {"provider_release": "done"}
    assert linkedin.subscription_for(ORG_A) is None
    assert linkedin.requests[-1].startswith("DELETE /rest/eventSubscriptions/(developerApplication:")


def test_a_linkedin_subscription_another_channel_relies_on_is_kept(
    web: Browser,
    oauth_client: TestClient,
    tenant: Tenant,
    make_tenant: Any,
    linkedin: LinkedInSandbox,
) -> None:
    """Same member, same organization: one subscription key, so the second channel still needs it."""
    web.login(tenant)
    connect(web, "linkedin", "LI first")
    first = account_by_name(oauth_client, tenant.headers, "LI first")
    other = make_tenant()
    web.login(other)
    connect(web, "linkedin", "LI second")
    second = account_by_name(oauth_client, other.headers, "LI second")
    assert second["settings"]["person_urn"] == first["settings"]["person_urn"] == MEMBER

    assert _delete(oauth_client, tenant, first["id"])["after"] == {"provider_release": "not needed"}
    assert linkedin.subscription_for(ORG_A) is not None
    assert _delete(oauth_client, other, second["id"])["after"] == {"provider_release": "done"}
    assert linkedin.subscription_for(ORG_A) is None


def test_a_refused_linkedin_release_still_deletes_and_is_recorded(
    web: Browser, oauth_client: TestClient, tenant: Tenant, linkedin: LinkedInSandbox
) -> None:
    web.login(tenant)
    connect(web, "linkedin", "LI revoked")
    account = account_by_name(oauth_client, tenant.headers, "LI revoked")
    linkedin.revoke_all()  # the member revoked the grant: LinkedIn answers 401

    entry = _delete(oauth_client, tenant, account["id"])
    assert entry["after"] == {"provider_release": "failed: reauthorization_required"}
    assert linkedin.subscription_for(ORG_A) is not None  # what the audit entry warns about


# --- Messenger and Instagram ---------------------------------------------------------------------


def test_deleting_a_messenger_channel_unsubscribes_its_page(
    web: Browser, oauth_client: TestClient, tenant: Tenant, meta: MetaSandbox
) -> None:
    web.login(tenant)
    assert connect(web, "messenger", "FB gone", choice=1).status_code == 303
    account = account_by_name(oauth_client, tenant.headers, "FB gone")
    assert meta.page_fields(SHOP_PAGE) is not None
    meta.subscribe_other_app(SHOP_PAGE, "999", "Another inbox", ["messages"])

    # The page's Delete button, as the tenant presses it.
    r = web.post(f"/settings/channels/{account['id']}/delete")
    assert r.status_code == 303, r.text
    entry = _deleted(oauth_client, tenant, account["id"])
    assert entry["after"] == {"provider_release": "done"}
    assert meta.page_fields(SHOP_PAGE) is None
    assert "999" in meta.page_apps[SHOP_PAGE]  # only our app left the Page
    assert f"DELETE /v21.0/{SHOP_PAGE}/subscribed_apps" in meta.requests[-1]


def test_a_page_shared_by_messenger_and_instagram_stays_subscribed_until_the_last_goes(
    web: Browser, oauth_client: TestClient, tenant: Tenant, meta: MetaSandbox
) -> None:
    web.login(tenant)
    connect(web, "messenger", "FB pair", choice=1)
    connect(web, "instagram", "IG pair")
    fb = account_by_name(oauth_client, tenant.headers, "FB pair")
    ig = account_by_name(oauth_client, tenant.headers, "IG pair")
    assert fb["settings"]["page_id"] == ig["settings"]["page_id"] == SHOP_PAGE
    subscribed = meta.page_fields(SHOP_PAGE)
    assert subscribed is not None

    assert _delete(oauth_client, tenant, fb["id"])["after"] == {"provider_release": "not needed"}
    assert meta.page_fields(SHOP_PAGE) == subscribed  # Instagram's messages still come
    r = oauth_client.post(f"{URL}/{ig['id']}/test", headers=tenant.headers)
    assert r.json()["ok"] is True, r.text

    assert _delete(oauth_client, tenant, ig["id"])["after"] == {"provider_release": "done"}
    assert meta.page_fields(SHOP_PAGE) is None


def test_a_page_token_meta_refuses_still_deletes_and_is_recorded(
    web: Browser, oauth_client: TestClient, tenant: Tenant, meta: MetaSandbox
) -> None:
    web.login(tenant)
    connect(web, "messenger", "FB expired", choice=1)
    account = account_by_name(oauth_client, tenant.headers, "FB expired")
    meta.expire_all()  # the user changed their password: Graph answers code 190

    entry = _delete(oauth_client, tenant, account["id"])
    assert entry["after"] == {"provider_release": "failed: token_expired"}
    assert meta.page_fields(SHOP_PAGE) is not None
