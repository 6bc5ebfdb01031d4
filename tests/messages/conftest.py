"""Channels connected to the provider emulators (on 127.0.0.1 ports) for the messages API tests.

The send job runs in the test's job runner thread with the same Settings object as the app, so
pointing the settings at an emulator reaches both the API and the job.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from switchboard.core.config import Settings
from switchboard.sandbox._kit import Token
from switchboard.sandbox.mail import MailSandbox
from switchboard.sandbox.meta import MetaSandbox
from switchboard.sandbox.push import PushSandbox
from switchboard.sandbox.telegram import TelegramSandbox
from switchboard.webhooks.service import process_pending
from tests.support.channel_accounts import check_now, create_account, create_direct
from tests.support.emulator_server import serve
from tests.support.jobs import job_runner, jobs  # noqa: F401
from tests.support.provider_fixtures import MAIL_ADDRESS, MAIL_PASSWORD
from tests.support.provider_fixtures import _mail as _mail
from tests.support.provider_fixtures import _push_server as _push_server
from tests.support.provider_fixtures import _telegram_server as _telegram_server
from tests.support.provider_fixtures import mail as mail
from tests.support.provider_fixtures import push_service as push_service
from tests.support.provider_fixtures import telegram as telegram
from tests.support.tenants import Tenant

TELEGRAM_TOKEN = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"
META_APP_SECRET = "meta-messages-app-secret"
PAGE_ID = "1010000000001"
PAGE_TOKEN = "EAApagemessagestests0001"
WABA_ID = "3010000000001"
PHONE_NUMBER_ID = "4010000000001"
SITE = "https://shop.example.com"


def url(account_id: str, message_id: str = "") -> str:
    base = f"/rest/v1/channel_accounts/{account_id}/messages"
    return f"{base}/{message_id}" if message_id else base


def send(client: TestClient, tenant: Tenant, account_id: str, payload: dict[str, Any]) -> Any:
    return client.post(url(account_id), headers=tenant.headers, json=payload)


def message(client: TestClient, tenant: Tenant, account_id: str, message_id: str) -> dict[str, Any]:
    r = client.get(url(account_id, message_id), headers=tenant.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


def account(client: TestClient, tenant: Tenant, account_id: str) -> dict[str, Any]:
    r = client.get(f"/rest/v1/channel_accounts/{account_id}", headers=tenant.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


# --- Telegram ----------------------------------------------------------------------------------------


@pytest.fixture
def telegram_account(client: TestClient, tenant: Tenant, telegram: TelegramSandbox) -> str:
    """A Telegram bot connected through the API (Test connection), active."""
    created = create_account(client, tenant, "TELEGRAM", {"bot_token": TELEGRAM_TOKEN})
    assert check_now(client, tenant, created["id"])["connection_status"] == "connected"
    return str(created["id"])


# --- Meta (Messenger, WhatsApp Cloud) ----------------------------------------------------------------


@pytest.fixture(scope="module")
def _meta_server() -> Iterator[tuple[MetaSandbox, str]]:
    sandbox = MetaSandbox(app_id="111222333", app_secret=META_APP_SECRET)
    with serve(sandbox.app) as base:
        yield sandbox, base


@pytest.fixture
def meta(
    _meta_server: tuple[MetaSandbox, str], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> MetaSandbox:
    sandbox, base = _meta_server
    sandbox.sent.clear()
    for tok in sandbox.tokens.values():
        tok.revoked = False
    sandbox.tokens[PAGE_TOKEN] = Token("page", ["pages_messaging"], None, PAGE_ID)
    monkeypatch.setattr(settings, "meta_base_url", base)
    monkeypatch.setattr(settings, "meta_app_id", sandbox.app_id)
    monkeypatch.setattr(settings, "meta_app_secret", sandbox.app_secret)
    return sandbox


@pytest.fixture
def whatsapp_account(db: Any, tenant: Tenant, meta: MetaSandbox) -> str:
    """WhatsApp Cloud connected with a system-user token (the manual path), active."""
    return create_direct(
        db,
        tenant,
        "WHATSAPP_CLOUD",
        {"waba_id": WABA_ID, "phone_number_id": PHONE_NUMBER_ID},
        {"access_token": meta.system_user_token},
    )


@pytest.fixture
def messenger_account(db: Any, tenant: Tenant, meta: MetaSandbox) -> str:
    return create_direct(
        db, tenant, "MESSENGER", {"page_id": PAGE_ID, "page_name": "Acme"}, {"page_access_token": PAGE_TOKEN}
    )


def meta_webhook(client: TestClient, db: Any, payload: dict[str, Any]) -> None:
    """Deliver a signed webhook to the Meta app endpoint and run the parse step."""
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(META_APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    r = client.post(
        "/webhooks/meta",
        content=body,
        headers={"X-Hub-Signature-256": signature, "Content-Type": "application/json"},
    )
    assert r.status_code == 200, r.text
    db.run(process_pending)


def whatsapp_status(wamid: str, status: str, recipient: str = "16505551234") -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": WABA_ID,
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "14155550101",
                                "phone_number_id": PHONE_NUMBER_ID,
                            },
                            "statuses": [
                                {
                                    "id": wamid,
                                    "status": status,
                                    "timestamp": "1900000000",
                                    "recipient_id": recipient,
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }


def messenger_event(item: dict[str, Any], psid: str) -> dict[str, Any]:
    return {
        "object": "page",
        "entry": [
            {
                "id": PAGE_ID,
                "time": 1900000000000,
                "messaging": [{"sender": {"id": psid}, "recipient": {"id": PAGE_ID}, **item}],
            }
        ],
    }


# --- Email (sandbox SMTP/IMAP) -----------------------------------------------------------------------


@pytest.fixture
def email_account(db: Any, tenant: Tenant, mail: MailSandbox) -> str:
    settings = {
        "email_address": MAIL_ADDRESS,
        "display_name": "Acme Support",
        "smtp_host": "127.0.0.1",
        "smtp_port": mail.smtp_port,
        "smtp_security": "none",
        "smtp_username": MAIL_ADDRESS,
    }
    return create_direct(db, tenant, "EMAIL", settings, {"smtp_password": MAIL_PASSWORD})


# --- Web Push ----------------------------------------------------------------------------------------


@pytest.fixture
def push_account(client: TestClient, tenant: Tenant, push_service: PushSandbox) -> str:
    created = create_account(
        client, tenant, "WEB_PUSH", {"site_url": SITE, "vapid_subject": "mailto:ops@example.com"}
    )
    assert check_now(client, tenant, created["id"])["connection_status"] == "connected"
    return str(created["id"])
