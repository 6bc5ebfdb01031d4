"""Channel account helpers for connector and webhook tests."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from switchboard.channels.service import OWNER
from switchboard.core.db import session_scope
from switchboard.core.runtime import Runtime
from switchboard.models import ChannelAccount
from tests.support.tenants import Tenant

URL = "/rest/v1/channel_accounts"
TELEGRAM_TOKEN = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"

# Settings each channel type accepts at creation (nothing is connected with them).
SAMPLE_SETTINGS: dict[str, dict[str, Any]] = {
    "WHATSAPP_LITE": {"sender_id": "s1", "phone_number": "+14155550100"},
    "WHATSAPP_CLOUD": {"waba_id": "1234", "phone_number_id": "5678"},
    "MESSENGER": {},
    "INSTAGRAM": {},
    "TELEGRAM": {"bot_token": TELEGRAM_TOKEN},
    "TIKTOK": {},
    "EMAIL": {"email_address": "help@example.com", "smtp_host": "smtp.example.com"},
    "LINKEDIN": {"organization_urn": "urn:li:organization:42"},
    "SHOPIFY_INBOX": {"shop_domain": "acme.myshopify.com"},
    "SMS": {"phone_number": "+14155550101"},
    "WEB_PUSH": {"site_url": "https://acme.example", "vapid_subject": "mailto:ops@acme.example"},
    "SHRINKIT_PUSH": {"app_id": "com.acme.app"},
    "RCS": {"brand_name": "Acme"},
}


def create_account(
    client: TestClient, tenant: Tenant, type_: str, settings: dict[str, Any]
) -> dict[str, Any]:
    r = client.post(
        URL,
        headers=tenant.headers,
        json={"name": f"My {type_}", "type": type_, "settings": settings, "is_active": True},
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def check_now(client: TestClient, tenant: Tenant, account_id: str, action: str = "test") -> dict[str, Any]:
    r = client.post(f"{URL}/{account_id}/{action}", headers=tenant.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


def create_direct(
    db: Any, tenant: Tenant, type_: str, settings: dict[str, Any], secrets: dict[str, str] | None = None
) -> str:
    """An account written straight to the database (types gated as BYOM for new organizations,
    or created by another flow such as OAuth), connected and active."""

    async def go(rt: Runtime) -> str:
        async for s in session_scope(rt.sessionmaker):
            account = ChannelAccount(
                organization_id=tenant.organization_id,
                name=f"My {type_}",
                type=type_,
                settings=settings,
                is_active=True,
                connection_status="connected",
            )
            s.add(account)
            await s.flush()
            for field, value in (secrets or {}).items():
                await rt.vault.put(s, OWNER, account.id, field, value, tenant.organization_id)
        return str(account.id)

    return str(db.run(go))
