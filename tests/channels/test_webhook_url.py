"""The webhook URL a tenant (or the platform operator) gives the provider: read-only `webhook_url`
in the API and the channel page's Webhook card, with a copy button, for the types whose adapter
does not register it on connect."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from switchboard.core.config import Settings
from tests.support.channel_accounts import SAMPLE_SETTINGS
from tests.support.tenants import Tenant
from tests.support.web import Browser, allow_byom

URL = "/rest/v1/channel_accounts"
RBM_CLIENT_TOKEN = "rbm-client-token-not-for-display"

SAMPLES = SAMPLE_SETTINGS | {"RCS": SAMPLE_SETTINGS["RCS"] | {"webhook_client_token": RBM_CLIENT_TOKEN}}
PER_ACCOUNT = {"WHATSAPP_LITE", "SHOPIFY_INBOX", "RCS", "TELEGRAM", "SHRINKIT_PUSH"}
APP_LEVEL = {
    "LINKEDIN": "/webhooks/linkedin",
    "TIKTOK": "/webhooks/tiktok",
    "MESSENGER": "/webhooks/meta",
    "INSTAGRAM": "/webhooks/meta",
    "WHATSAPP_CLOUD": "/webhooks/meta",
    "SMS": "/webhooks/twilio/sms",
}


@pytest.fixture
def tenant(make_tenant: Any, db: Any) -> Tenant:
    t: Tenant = make_tenant()
    allow_byom(db, t.organization_id)
    return t


@pytest.fixture
def web(client: TestClient) -> Iterator[Browser]:
    client.cookies.clear()
    yield Browser(client)
    client.cookies.clear()


def _create(client: TestClient, t: Tenant, channel_type: str) -> dict[str, Any]:
    body = {"name": f"{channel_type} hook", "type": channel_type, "settings": SAMPLES[channel_type]}
    r = client.post(URL, json=body, headers=t.headers)
    assert r.status_code == 201, r.text
    return dict(r.json())


def _base(settings: Settings) -> str:
    return settings.public_base_url.rstrip("/")


def test_every_type_reads_its_webhook_url(client: TestClient, tenant: Tenant, settings: Settings) -> None:
    created = {t: _create(client, tenant, t) for t in SAMPLES}
    listed = {a["type"]: a for a in client.get(URL, headers=tenant.headers).json()["items"]}
    for channel_type, account in created.items():
        fetched = client.get(f"{URL}/{account['id']}", headers=tenant.headers).json()
        if channel_type in PER_ACCOUNT:
            expected: str | None = f"{_base(settings)}/webhooks/{account['id']}"
        elif channel_type in APP_LEVEL:
            expected = _base(settings) + APP_LEVEL[channel_type]
        else:
            expected = None  # Email polls IMAP, Web Push receives nothing
        assert account["webhook_url"] == fetched["webhook_url"] == expected, channel_type
        assert listed[channel_type]["webhook_url"] == expected
        # The spec's fields are all still there.
        for key in ("id", "organization_id", "name", "type", "settings", "is_active", "connection_status"):
            assert key in fetched


def test_webhook_url_is_read_only_and_kept_out_of_the_audit_trail(client: TestClient, tenant: Tenant) -> None:
    account = _create(client, tenant, "WHATSAPP_LITE")
    r = client.patch(
        f"{URL}/{account['id']}", json={"webhook_url": "https://evil.example/hook"}, headers=tenant.headers
    )
    assert r.status_code == 422
    assert "webhook_url" in r.text
    assert client.get(f"{URL}/{account['id']}", headers=tenant.headers).json() == account
    trail = client.get(f"{URL}/{account['id']}/audit", headers=tenant.headers).json()
    assert trail
    assert all("webhook_url" not in (entry["after"] or {}) for entry in trail)


def _card(page: str) -> str:
    match = re.search(
        r'<div class="card shadow-sm mb-4" data-testid="webhook-card">(.*?)\n</div>', page, re.S
    )
    assert match, "no Webhook card"
    return match.group(1)


def test_manual_types_show_the_url_with_a_copy_button(
    web: Browser, client: TestClient, tenant: Tenant, settings: Settings
) -> None:
    web.login(tenant)
    expectations = {
        "WHATSAPP_LITE": ("Register it yourself", "AppGain dashboard", "X-Lite-Signature"),
        "SHOPIFY_INBOX": ("Register it yourself", "webhookSubscriptionCreate", "X-Shopify-Hmac-SHA256"),
        "RCS": ("Register it yourself", "Integrations", "X-Goog-Signature"),
        "TIKTOK": ("Platform app", "user_openid", "TikTok-Signature"),
    }
    for channel_type, (badge, where, signature) in expectations.items():
        account = _create(client, tenant, channel_type)
        page = web.get(f"/settings/channels/{account['id']}/edit")
        assert page.status_code == 200
        card = html.unescape(_card(page.text))
        url = account["webhook_url"]
        assert f'value="{url}" readonly' in card, channel_type
        assert f'class="btn btn-outline-secondary js-clipboard" data-copy="{url}"' in card
        assert badge in card, channel_type
        assert where in card, channel_type
        assert signature in card, channel_type
    # The RBM client token is a secret: masked in the settings, never written on the page.
    rcs = next(a for a in client.get(URL, headers=tenant.headers).json()["items"] if a["type"] == "RCS")
    assert rcs["settings"]["webhook_client_token"].startswith("••")
    assert RBM_CLIENT_TOKEN not in web.get(f"/settings/channels/{rcs['id']}/edit").text


def test_automatic_types_say_so_and_types_without_webhooks_show_no_card(
    web: Browser, client: TestClient, tenant: Tenant, settings: Settings
) -> None:
    web.login(tenant)
    telegram = _create(client, tenant, "TELEGRAM")
    card = html.unescape(_card(web.get(f"/settings/channels/{telegram['id']}/edit").text))
    assert "Automatic" in card
    assert "setWebhook" in card
    assert telegram["webhook_url"] in card
    assert "js-clipboard" not in card  # nothing to paste anywhere
    # LinkedIn: connecting subscribes the organization; only the operator registers the app's URL.
    linkedin = _create(client, tenant, "LINKEDIN")
    card = html.unescape(_card(web.get(f"/settings/channels/{linkedin['id']}/edit").text))
    assert "Automatic" in card
    assert "eventSubscriptions" in card
    assert "challengeCode" in card
    assert "X-LI-Signature" in card
    assert linkedin["webhook_url"] == f"{_base(settings)}/webhooks/linkedin"
    assert linkedin["webhook_url"] in card
    assert "js-clipboard" not in card
    # Messenger likewise: connecting subscribes the Page; the operator set the Meta app's URL once.
    messenger = _create(client, tenant, "MESSENGER")
    card = html.unescape(_card(web.get(f"/settings/channels/{messenger['id']}/edit").text))
    assert "Automatic" in card
    assert "subscribed_apps" in card
    assert "SWITCHBOARD_META_VERIFY_TOKEN" in card
    assert "X-Hub-Signature-256" in card
    assert messenger["webhook_url"] == f"{_base(settings)}/webhooks/meta"
    for channel_type in ("EMAIL", "WEB_PUSH"):
        account = _create(client, tenant, channel_type)
        page = web.get(f"/settings/channels/{account['id']}/edit").text
        assert 'data-testid="webhook-card"' not in page


def test_another_tenants_channel_is_404_in_the_api_and_the_page(
    web: Browser, client: TestClient, tenant: Tenant, make_tenant: Any, db: Any
) -> None:
    account = _create(client, tenant, "SHOPIFY_INBOX")
    other: Tenant = make_tenant()
    allow_byom(db, other.organization_id)
    assert client.get(f"{URL}/{account['id']}", headers=other.headers).status_code == 404
    web.login(other)
    assert web.get(f"/settings/channels/{account['id']}/edit").status_code == 404
