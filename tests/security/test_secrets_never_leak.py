"""A planted secret must never come back: not in any API or page response, not in any log line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from switchboard.models import AuditLog, ChannelAccount, VaultSecret
from tests.support.tenants import Tenant
from tests.support.web import FETCH, Browser, allow_byom

API = "/rest/v1/channel_accounts"
# Distinctive values: any leak, whole or in part, is found by a plain substring search.
TG_SECRET_API = "7770001112:PLANTEDtelegramSECRETviaAPI_0123456789"
TG_SECRET_UI = "7770001113:PLANTEDtelegramSECRETviaUI_9876543210"
SMTP_SECRET_API = "smtp-PLANTED-password-api-4c1d"
SMTP_SECRET_UI = "smtp-PLANTED-password-ui-77e2"
SECRETS = [TG_SECRET_API, TG_SECRET_UI, SMTP_SECRET_API, SMTP_SECRET_UI]
# The parts before the mask's visible tail: finding one of these means more than the hint leaked.
FRAGMENTS = ["PLANTEDtelegramSECRET", "smtp-PLANTED-password"]


class Recorder:
    """Every response the test sees, so one check can cover them all."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.responses: list[httpx.Response] = []

    def __call__(self, response: httpx.Response) -> httpx.Response:
        self.responses.append(response)
        return response

    def exposed_text(self) -> str:
        parts = []
        for r in self.responses:
            parts.append(str(r.request.url))
            parts.extend(f"{k}: {v}" for k, v in r.headers.multi_items())
            parts.append(r.text)
        return "\n".join(parts)


@pytest.fixture
def web(client: TestClient) -> Iterator[Browser]:
    client.cookies.clear()
    yield Browser(client)
    client.cookies.clear()


@pytest.fixture
def tenant(make_tenant: Any, db: Any) -> Tenant:
    """A tenant whose platform admin has allowed bring-your-own WhatsApp, SMS, email and RCS."""
    t: Tenant = make_tenant()
    allow_byom(db, t.organization_id)
    return t


def _assert_clean(text: str, where: str) -> None:
    for needle in [*SECRETS, *FRAGMENTS]:
        assert needle not in text, f"secret {needle[:12]}… found in {where}"


def test_planted_secrets_never_leak(web: Browser, tenant: Tenant, db: Any, log_lines: Any) -> None:
    rec = Recorder(web.client)
    c, h = web.client, tenant.headers

    # --- plant through the API ------------------------------------------------------------------
    tg_api = rec(
        c.post(
            API,
            json={"name": "API bot", "type": "TELEGRAM", "settings": {"bot_token": TG_SECRET_API}},
            headers=h,
        )
    ).json()
    mail_api = rec(
        c.post(
            API,
            json={
                "name": "API mail",
                "type": "EMAIL",
                "settings": {"email_address": "help@example.com", "smtp_host": "smtp.example.com"},
                "credentials": {"smtp_password": SMTP_SECRET_API},
            },
            headers=h,
        )
    ).json()
    assert tg_api["settings"]["bot_token"].startswith("••")
    assert mail_api["settings"]["smtp_password"].startswith("••")

    # --- plant through the UI forms -------------------------------------------------------------
    rec(web.login(tenant))
    rec(web.post("/settings/channels/new/telegram", {"name": "UI bot", "settings.bot_token": TG_SECRET_UI}))
    rec(
        web.post(
            "/settings/channels/new/email",
            {
                "name": "UI mail",
                "settings.email_address": "sales@example.com",
                "settings.smtp_host": "smtp.example.com",
                "settings.smtp_port": "587",
                "settings.smtp_security": "starttls",
                "settings.smtp_password": SMTP_SECRET_UI,
                "settings.imap_port": "993",
                "settings.imap_security": "ssl",
            },
        )
    )
    # A form that fails validation elsewhere must not echo the secret it was given.
    invalid = rec(
        web.post(
            "/settings/channels/new/email",
            {
                "name": "Broken mail",
                "settings.email_address": "not-an-email",
                "settings.smtp_host": "smtp.example.com",
                "settings.smtp_password": SMTP_SECRET_UI,
            },
        )
    )
    assert invalid.status_code == 422
    # The same for a bad secret itself.
    rec(web.post("/settings/channels/new/telegram", {"name": "x", "settings.bot_token": SMTP_SECRET_UI}))

    items = rec(c.get(API, headers=h)).json()["items"]
    by_name = {a["name"]: a for a in items}
    assert set(by_name) == {"API bot", "API mail", "UI bot", "UI mail"}

    # --- exercise every read, change and audit path ----------------------------------------------
    for acc in by_name.values():
        url = f"{API}/{acc['id']}"
        rec(c.get(url, headers=h))
        rec(c.patch(url, json={"name": acc["name"] + " (renamed)"}, headers=h))
        rec(c.patch(url, json={"is_active": True}, headers=h))
        rec(c.get(f"{url}/audit", headers=h))
        page = f"/settings/channels/{acc['id']}"
        rec(web.get(f"{page}/edit"))
        rec(web.post(f"{page}/edit", {"name": acc["name"]}))  # secrets left blank: kept
        rec(web.client.post(f"{page}/toggle", data={"csrf_token": web.csrf}, headers=FETCH))
        rec(web.get(f"{page}/delete"))
    # Re-sending the mask through the API keeps the secret and must not reveal it either.
    ui_bot = by_name["UI bot"]
    rec(
        c.patch(
            f"{API}/{ui_bot['id']}",
            json={"settings": {"bot_token": ui_bot["settings"]["bot_token"]}},
            headers=h,
        )
    )
    rec(web.get("/settings/channels"))
    rec(web.fragment())
    rec(web.get("/settings/channels/table"))
    rec(c.get("/rest/v1/channel_types", headers=h))
    # The secrets were kept (masked hints still there) through all of that.
    assert rec(c.get(f"{API}/{ui_bot['id']}", headers=h)).json()["settings"]["bot_token"] == "••••3210"
    # Deleting leaves an audit trail; it too holds only masks.
    for acc in by_name.values():
        rec(c.delete(f"{API}/{acc['id']}", headers=h))
        trail = rec(c.get(f"{API}/{acc['id']}/audit", headers=h)).json()
        assert trail[0]["action"] == "channel_account.deleted"

    # --- the checks ------------------------------------------------------------------------------
    assert len(rec.responses) > 50
    _assert_clean(rec.exposed_text(), "a response")
    assert log_lines.lines, "the log capture saw nothing"
    _assert_clean(log_lines.text, "a log line")
    # The user's password went through the login form: it is not logged either.
    assert tenant.password not in log_lines.text

    async def stored(s: Any) -> str:
        audit = [(e.before, e.after) for e in await s.scalars(select(AuditLog))]
        accounts = [a.settings for a in await s.scalars(select(ChannelAccount))]
        vault = [v.ciphertext.hex() for v in await s.scalars(select(VaultSecret))]
        return json.dumps([audit, accounts, vault], default=str)

    # At rest, only ciphertext: the audit trail and the plain settings hold masks.
    _assert_clean(db.session(stored), "the database")
