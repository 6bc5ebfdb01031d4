"""Every channel type, offline, the way a newcomer meets it after `make run`: the service in
`SWITCHBOARD_PROVIDER_MODE=sandbox` with no provider base URL set, served over real HTTP. Each type
connects through its real method against the in-process emulators (/sandbox/<provider>, the
sandbox SMTP/IMAP servers), shows `connected`, and receives: the emulator's "customer writes"
action posts the provider's webhook back to the service (or mail lands in the IMAP inbox), and
after the parse job (or the IMAP poll) the inbound message is stored for that account. Web Push
has no inbound: a browser's subscription is stored and a send reaches the sandbox push service.

Everything the test needs (ids, tokens, ports) it reads from the pages a newcomer would read.
"""

from __future__ import annotations

import html
import json
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx2 as httpx
import pytest

from switchboard.connectors.adapter import SendResult, get_adapter
from switchboard.core.db import session_scope
from switchboard.core.runtime import Runtime
from switchboard.health.service import account_context
from switchboard.models import ChannelAccount, InboundMessage
from switchboard.webhooks.service import poll_mailboxes, process_pending
from tests.support.oauth_env import consent
from tests.support.sandbox_server import SandboxServer, login
from tests.support.tenants import Tenant
from tests.support.web import allow_byom, csrf_from
from tests.support.webhook_rows import inbound

API = "/rest/v1/channel_accounts"
TEXT = "Hello, is my order on its way?"


class Newcomer:
    """One tenant admin on the sandbox server: a signed-in browser and the API key."""

    def __init__(self, base: str, tenant: Tenant, browser: httpx.Client) -> None:
        self.base, self.tenant, self.browser = base, tenant, browser
        self.api = httpx.Client(base_url=base, headers=tenant.headers, timeout=15)

    def csrf(self, path: str = "/settings/channels") -> str:
        return csrf_from(self.browser.get(path).text)

    def create(self, type_: str, settings: dict[str, Any], name: str | None = None) -> str:
        """Add Channel through the API (what the generated form posts), switched on."""
        r = self.api.post(
            API,
            json={"name": name or f"Sandbox {type_}", "type": type_, "settings": settings, "is_active": True},
        )
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    def test_connection(self, account_id: str) -> dict[str, Any]:
        r = self.api.post(f"{API}/{account_id}/test")
        assert r.status_code == 200, r.text
        result = dict(r.json())
        assert result["ok"] is True, result
        return result

    def account(self, account_id: str) -> dict[str, Any]:
        r = self.api.get(f"{API}/{account_id}")
        assert r.status_code == 200, r.text
        return dict(r.json())

    def by_name(self, name: str) -> dict[str, Any]:
        items = self.api.get(API).json()["items"]
        return dict(next(a for a in items if a["name"] == name))

    def switch_on(self, account_id: str) -> None:
        r = self.api.patch(f"{API}/{account_id}", json={"is_active": True})
        assert r.status_code == 200, r.text

    def connected(self, account_id: str) -> dict[str, Any]:
        """Test connection, then the account as the API shows it: connected."""
        self.test_connection(account_id)
        account = self.account(account_id)
        assert account["connection_status"] == "connected", account
        return account

    def oauth(self, type_key: str, name: str) -> dict[str, Any]:
        """Connect via <provider>: the consent page, the callback, the choice of what to connect."""
        csrf = self.csrf(f"/settings/channels/new/{type_key}")
        r = self.browser.post(f"/oauth/{type_key}/start", data={"csrf_token": csrf, "name": name})
        assert r.status_code == 303, r.text
        provider_page = r.headers["location"]
        assert provider_page.startswith(f"{self.base}/sandbox/"), provider_page
        r = self.browser.get(consent(provider_page))
        assert r.status_code == 303, r.text
        select_url = r.headers["location"]
        choices = re.findall(r'name="choice" value="([^"]+)"', self.browser.get(select_url).text)
        assert choices, f"nothing to choose for {type_key}"
        r = self.browser.post(select_url, data={"csrf_token": csrf, "choice": html.unescape(choices[0])})
        assert r.status_code == 303, r.text
        return self.by_name(name)

    def sandbox(self, path: str, **fields: str) -> dict[str, Any]:
        """A "customer writes" action of an emulator, as JSON; it must have been delivered."""
        r = httpx.post(f"{self.base}/sandbox/{path}", json=fields, timeout=15)
        assert r.status_code == 200, r.text
        answer = dict(r.json())
        assert answer["delivered"] is True, answer
        return answer


@pytest.fixture
def newcomer(sandbox_server: SandboxServer, tenant: Tenant, db: Any) -> Iterator[Newcomer]:
    # The organization may bring its own WhatsApp, SMS, email, RCS and push (the demo tenant can).
    allow_byom(db, tenant.organization_id)
    browser = login(sandbox_server.url, tenant)
    person = Newcomer(sandbox_server.url, tenant, browser)
    yield person
    browser.close()
    person.api.close()


def received(db: Any, account_id: str) -> list[InboundMessage]:
    """The parse job's work: stored webhook events become inbound messages."""
    db.run(process_pending)
    return [m for m in inbound(db) if str(m.channel_account_id) == account_id]


def only_message(db: Any, account_id: str, text: str = TEXT) -> InboundMessage:
    [message] = [m for m in received(db, account_id) if m.kind == "message"]
    assert message.text == text
    return message


def send_through_adapter(
    db: Any, server: SandboxServer, account_id: str, to: str, body: dict[str, Any]
) -> SendResult:
    """The platform's own send path (the type's adapter, with the server's settings)."""
    settings = server.app.state.runtime.settings

    async def go(rt: Runtime) -> SendResult:
        async for s in session_scope(rt.sessionmaker):
            account = await s.get(ChannelAccount, uuid.UUID(account_id))
            assert account is not None
            ctx = await account_context(s, rt.vault, account)
        adapter = get_adapter(account.type, settings)
        assert adapter is not None
        return await adapter.send(ctx, to, body)

    result: SendResult = db.run(go)
    return result


# --- OAuth: consent page, then the choice ----------------------------------------------------------


def _meta_writes(to_setting: str) -> Callable[[Newcomer, dict[str, Any]], None]:
    def write(person: Newcomer, account: dict[str, Any]) -> None:
        person.sandbox("meta/simulate/message", to=account["settings"][to_setting], text=TEXT)

    return write


def _tiktok_writes(person: Newcomer, account: dict[str, Any]) -> None:
    person.sandbox("tiktok/simulate/message", text=TEXT)


def _linkedin_writes(person: Newcomer, account: dict[str, Any]) -> None:
    person.sandbox("linkedin/simulate/comment", channel_id=account["id"], text=TEXT)


@pytest.mark.parametrize(
    ("type_key", "customer_writes"),
    [
        ("messenger", _meta_writes("page_id")),
        ("instagram", _meta_writes("instagram_business_account_id")),
        ("whatsapp_cloud", _meta_writes("phone_number_id")),
        ("tiktok", _tiktok_writes),
        ("linkedin", _linkedin_writes),
    ],
)
def test_oauth_types_connect_through_the_consent_page_and_receive(
    newcomer: Newcomer, db: Any, type_key: str, customer_writes: Callable[[Newcomer, dict[str, Any]], None]
) -> None:
    account = newcomer.oauth(type_key, f"Sandbox {type_key}")
    assert account["connection_status"] == "connected"
    newcomer.connected(account["id"])
    newcomer.switch_on(account["id"])

    customer_writes(newcomer, account)

    message = only_message(db, account["id"])
    assert message.sender


def test_linkedin_validates_the_app_webhook_then_sends_a_comment_to_it(
    newcomer: Newcomer, db: Any, sandbox_server: SandboxServer
) -> None:
    """LinkedIn calls the developer app's one webhook, validated first, and names the organization:
    the comment reaches the channel connected with it without being told the channel id."""
    account = newcomer.oauth("linkedin", "Sandbox LinkedIn app webhook")
    newcomer.connected(account["id"])
    newcomer.switch_on(account["id"])
    app_url = f"{newcomer.base}/webhooks/linkedin"
    assert account["webhook_url"] == app_url
    card = newcomer.browser.get(f"/settings/channels/{account['id']}/edit").text
    assert f'<code class="text-break" data-testid="webhook-url">{app_url}</code>' in card  # automatic

    # Connecting subscribed the organization to the app's webhook, in the sandbox app's name.
    emulator = sandbox_server.app.state.sandboxes["linkedin"]
    subscription = emulator.subscription_for(account["settings"]["organization_urn"])
    assert subscription is not None
    assert (subscription.webhook, subscription.user) == (app_url, account["settings"]["person_urn"])
    assert subscription.developer_application == "urn:li:developerApplication:77000001"
    assert "Event subscriptions" in httpx.get(f"{newcomer.base}/sandbox/linkedin/").text

    checked = newcomer.sandbox("linkedin/simulate/validate")
    assert (checked["validated"], checked["url"]) == (True, app_url)
    own = newcomer.sandbox("linkedin/simulate/validate", channel_id=account["id"])
    assert own["url"] == f"{newcomer.base}/webhooks/{account['id']}"
    sent = newcomer.sandbox("linkedin/simulate/comment", text=TEXT)
    assert (sent["url"], sent["subscribed"]) == (app_url, True)
    assert only_message(db, account["id"]).sender == "urn:li:person:sandboxCommenter"

    # An app whose client secret differs from the platform's fails LinkedIn's check, and then
    # LinkedIn sends nothing there.
    secret, emulator.client_secret = emulator.client_secret, "another-apps-secret"
    try:
        for path, fields in (("validate", {}), ("comment", {"text": "never sent"})):
            r = httpx.post(f"{newcomer.base}/sandbox/linkedin/simulate/{path}", json=fields, timeout=15)
            assert r.status_code == 502, r.text
            assert r.json()["delivered"] is False
            assert "did not pass the security challenge check" in r.json()["error"]
    finally:
        emulator.client_secret = secret
    assert [m.text for m in received(db, account["id"]) if m.kind == "message"] == [TEXT]
    # Without a subscription the sandbox still posts to the app's webhook (a channel created by hand).
    emulator.drop_subscriptions()
    unsubscribed = newcomer.sandbox("linkedin/simulate/comment", text="Still there?")
    assert (unsubscribed["url"], unsubscribed["subscribed"]) == (app_url, False)


def test_whatsapp_cloud_connects_by_manual_entry_with_the_sandbox_system_user(
    newcomer: Newcomer, db: Any
) -> None:
    page = newcomer.browser.get("/oauth/whatsapp_cloud/manual").text
    hint = dict(re.findall(r'<code data-field="(\w+)">([^<]+)</code>', page))
    assert set(hint) == {"access_token", "waba_id", "phone_number_id"}, "no sandbox hint on the manual page"
    r = newcomer.browser.post(
        "/oauth/whatsapp_cloud/manual",
        data={"csrf_token": csrf_from(page), "name": "Sandbox WA manual", **hint},
    )
    assert r.status_code == 303, r.text
    account = newcomer.by_name("Sandbox WA manual")
    newcomer.connected(account["id"])
    newcomer.switch_on(account["id"])

    newcomer.sandbox(
        "meta/simulate/message", to=hint["phone_number_id"], text=TEXT, **{"from": "+14155550123"}
    )

    assert only_message(db, account["id"]).sender == "14155550123"


# --- QR: WhatsApp Lite ------------------------------------------------------------------------------


def test_whatsapp_lite_pairs_by_qr_and_receives_from_a_contact(newcomer: Newcomer, db: Any) -> None:
    r = newcomer.browser.post(
        "/settings/channels/new/whatsapp_lite",
        data={
            "csrf_token": newcomer.csrf(),
            "name": "Sandbox Lite",
            "settings.sender_id": "S",
            "settings.phone_number": "+14155550140",
        },
    )
    assert r.status_code == 303, r.text
    pair_url = r.headers["location"]
    account_id = pair_url.split("/")[-2]
    phone = re.search(r'href="([^"]+/phone)"', newcomer.browser.get(pair_url).text)
    assert phone, "no sandbox phone on the pairing page"
    assert "Paired" in httpx.post(phone.group(1)).text  # "Simulate scan"
    assert newcomer.browser.get(f"{pair_url}/status").json()["status"] == "paired"
    newcomer.connected(account_id)
    newcomer.switch_on(account_id)

    newcomer.sandbox(
        "whatsapp-lite/simulate/message",
        channel_id=account_id,
        to="+14155550140",
        text=TEXT,
        **{"from": "+14155550177"},
    )

    assert only_message(db, account_id).sender == "+14155550177"


# --- Token: Telegram --------------------------------------------------------------------------------


def test_telegram_connects_with_a_bot_token_and_receives_from_a_user(newcomer: Newcomer, db: Any) -> None:
    token = "7000001:AAsandbox-newcomer-bot-token_0123456789"
    account_id = newcomer.create("TELEGRAM", {"bot_token": token})
    newcomer.connected(account_id)

    # The sandbox's page: "Send as a user" to the bot (its webhook was set by Test connection).
    page = httpx.get(f"{newcomer.base}/sandbox/telegram/").text
    assert "@sandbox_7000001_bot" in page
    answer = httpx.post(f"{newcomer.base}/sandbox/telegram/send", data={"token": token, "text": TEXT})
    assert answer.status_code == 200, answer.text
    assert "answered 200" in answer.text

    assert only_message(db, account_id).sender == "alice"


# --- Credentials: Email -----------------------------------------------------------------------------


def test_email_connects_to_the_sandbox_mail_servers_and_receives_a_customer_mail(
    newcomer: Newcomer, db: Any
) -> None:
    form = newcomer.browser.get("/settings/channels/new/email").text
    assert 'data-testid="sandbox-mail-hint"' in form
    prefilled = {
        name: html.unescape(value)
        for name, value in re.findall(r'name="settings\.(\w+)" value="([^"]*)"', form)
        if value
    }
    prefilled.update(
        re.findall(r'name="settings\.(\w+_security)".*?<option value="(\w+)" selected', form, re.S)
    )
    address = "support@newcomer.example"
    account_id = newcomer.create(
        "EMAIL",
        {**prefilled, "email_address": address, "smtp_password": "pw-1", "imap_password": "pw-1"},
    )
    newcomer.connected(account_id)

    answer = newcomer.sandbox(
        "mail/send", to=address, text=TEXT, subject="Order", **{"from": "c@customer.example"}
    )

    assert db.run(poll_mailboxes) == 1  # the worker's IMAP poll
    [message] = [m for m in inbound(db) if str(m.channel_account_id) == account_id]
    assert message.text is not None
    assert message.text.strip() == TEXT
    assert message.provider_message_id == answer["message_id"]


# --- Custom app: Shopify Inbox ----------------------------------------------------------------------


def test_shopify_connects_with_custom_app_credentials_and_receives_a_chat(
    newcomer: Newcomer, db: Any
) -> None:
    secret = "shpss_sandbox_client_secret"
    account_id = newcomer.create(
        "SHOPIFY_INBOX",
        {
            "shop_domain": "newcomer-shop.myshopify.com",
            "client_id": "sandbox-client-id",
            "client_secret": secret,
            "admin_api_access_token": "shpat_sandbox_token",
        },
    )
    newcomer.connected(account_id)

    newcomer.sandbox(
        "shopify/simulate/message",
        shop="newcomer-shop.myshopify.com",
        channel_id=account_id,
        client_secret=secret,
        text=TEXT,
    )

    assert only_message(db, account_id).sender


# --- VAPID: Web Push (no inbound: a subscription is stored and a push is delivered) -----------------


def test_web_push_generates_vapid_keys_stores_a_browser_subscription_and_delivers_a_push(
    newcomer: Newcomer,
) -> None:
    account_id = newcomer.create(
        "WEB_PUSH",
        {"site_url": "https://shop.newcomer.example", "vapid_subject": "mailto:ops@newcomer.example"},
    )
    account = newcomer.connected(account_id)
    assert account["settings"]["vapid_public_key"]  # generated by the connect

    # A browser subscribes on the sandbox push service, then the site's snippet stores it here.
    r = httpx.post(f"{newcomer.base}/sandbox/push/subscriptions", json={})
    assert r.status_code == 201, r.text
    subscription = r.json()
    assert subscription["endpoint"].startswith(f"{newcomer.base}/sandbox/push/")
    stored = httpx.post(
        f"{newcomer.base}/push/{account_id}/subscriptions",
        json=subscription,
        headers={"Origin": "https://shop.newcomer.example"},
    )
    assert stored.status_code == 201, stored.text

    sent = newcomer.api.post(f"{API}/{account_id}/push", json={"title": "Order shipped", "body": TEXT})
    assert sent.status_code == 200, sent.text
    assert sent.json() == {"sent": 1, "removed": 0, "failed": 0}

    browser_id = subscription["endpoint"].rsplit("/", 1)[-1]
    browser = httpx.get(f"{newcomer.base}/sandbox/push/subscriptions/{browser_id}")
    assert browser.status_code == 200, browser.text
    [push] = browser.json()["received"]
    assert json.loads(push) == {"title": "Order shipped", "body": TEXT}


# --- API key: ShrinkIt Push (inbound: delivery receipts) --------------------------------------------


def test_shrinkit_connects_with_an_api_key_and_receives_a_delivery_receipt(
    newcomer: Newcomer, db: Any, sandbox_server: SandboxServer
) -> None:
    account_id = newcomer.create("SHRINKIT_PUSH", {"app_id": "newcomer-app", "api_key": "sk_sandbox_key"})
    newcomer.connected(account_id)  # also registers the receipt webhook with the service

    sent = send_through_adapter(db, sandbox_server, account_id, "device-42", {"title": "Hi", "text": TEXT})
    answer = newcomer.sandbox("shrinkit/simulate/receipt", app_id="newcomer-app", type="opened")
    assert answer["notification_id"] == sent.provider_message_id

    [receipt] = received(db, account_id)
    assert (receipt.kind, receipt.provider_message_id) == ("read", sent.provider_message_id)


# --- Service account: RCS ---------------------------------------------------------------------------


def test_rcs_connects_with_a_sandbox_service_account_and_receives_a_user_message(
    newcomer: Newcomer, db: Any
) -> None:
    # The sandbox plays Google Cloud's "Create key": a service account key JSON to paste.
    key = httpx.post(f"{newcomer.base}/sandbox/rbm/service_accounts", json={"name": "newcomer-agent"})
    assert key.status_code == 201, key.text
    assert key.json()["token_uri"].startswith(f"{newcomer.base}/sandbox/rbm/")
    account_id = newcomer.create(
        "RCS",
        {
            "brand_name": "Newcomer",
            "agent_id": "newcomer_agent",
            "service_account_key": key.text,
            "webhook_client_token": "sandbox-client-token",
        },
    )
    newcomer.connected(account_id)

    newcomer.sandbox(
        "rbm/simulate/message",
        channel_id=account_id,
        client_token="sandbox-client-token",
        agent_id="newcomer_agent",
        text=TEXT,
        **{"from": "+14155550166"},
    )

    assert only_message(db, account_id).sender == "+14155550166"


# --- Provider credentials: SMS through Twilio ---------------------------------------------------------


def test_sms_connects_with_twilio_credentials_and_receives_a_text(newcomer: Newcomer, db: Any) -> None:
    number = "+14155550188"
    account_id = newcomer.create(
        "SMS",
        {
            "phone_number": number,
            "provider": "twilio",
            "account_sid": "AC" + uuid.uuid4().hex,
            "auth_token": "sandbox-twilio-auth-token",
        },
    )
    newcomer.connected(account_id)  # the sandbox account learns the token and claims the number

    newcomer.sandbox("twilio/simulate/inbound", to=number, body=TEXT, **{"from": "+14155550999"})

    assert only_message(db, account_id).sender == "+14155550999"
