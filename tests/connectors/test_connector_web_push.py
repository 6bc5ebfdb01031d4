from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from switchboard.models import PushSubscription
from switchboard.sandbox.push import PushSandbox
from tests.support.channel_accounts import URL, check_now
from tests.support.tenants import Tenant

SITE = "https://shop.example.com"


def _connected(client: TestClient, tenant: Tenant, db: Any) -> dict[str, Any]:
    r = client.post(
        URL,
        headers=tenant.headers,
        json={
            "name": "Site push",
            "type": "WEB_PUSH",
            "settings": {"site_url": SITE, "vapid_subject": "mailto:ops@example.com"},
            "is_active": True,
        },
    )
    assert r.status_code == 201, r.text
    account = r.json()
    result = check_now(client, tenant, account["id"])
    assert result["connection_status"] == "connected"
    return dict(client.get(f"{URL}/{account['id']}", headers=tenant.headers).json())


def _subscriptions(db: Any) -> int:
    async def go(s: Any) -> int:
        return int(await s.scalar(select(func.count()).select_from(PushSubscription)) or 0)

    return int(db.session(go))


def test_connect_generates_a_vapid_key_pair_once(
    client: TestClient, tenant: Tenant, db: Any, push_service: PushSandbox
) -> None:
    account = _connected(client, tenant, db)
    public = account["settings"]["vapid_public_key"]
    assert len(public) == 87  # base64url of a 65-byte uncompressed P-256 point
    assert account["settings"]["vapid_private_key"].startswith("••")
    check_now(client, tenant, account["id"], "reconnect")
    again = client.get(f"{URL}/{account['id']}", headers=tenant.headers).json()
    assert again["settings"]["vapid_public_key"] == public  # existing subscriptions keep working


def test_snippet_and_service_worker_are_served(client: TestClient, tenant: Tenant, db: Any) -> None:
    account = _connected(client, tenant, db)
    snippet = client.get(f"/push/{account['id']}/subscribe.js")
    assert snippet.status_code == 200
    assert snippet.headers["content-type"].startswith("application/javascript")
    assert json.dumps(account["settings"]["vapid_public_key"]) in snippet.text
    assert f"/push/{account['id']}/subscriptions" in snippet.text
    sw = client.get(f"/push/{account['id']}/sw.js")
    assert "showNotification" in sw.text
    assert "notificationclick" in sw.text


def test_subscribe_allows_only_the_tenants_site_by_cors(
    client: TestClient, tenant: Tenant, db: Any, push_service: PushSandbox
) -> None:
    account = _connected(client, tenant, db)
    _, info = push_service.new_subscription()
    url = f"/push/{account['id']}/subscriptions"
    pre = client.options(url, headers={"Origin": SITE, "Access-Control-Request-Method": "POST"})
    assert pre.headers.get("access-control-allow-origin") == SITE
    other = client.options(
        url, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in other.headers
    r = client.post(url, json=info, headers={"Origin": SITE})
    assert r.status_code == 201
    assert r.headers["access-control-allow-origin"] == SITE
    assert client.post(url, json=info, headers={"Origin": SITE}).status_code == 201  # re-sent: one row
    assert _subscriptions(db) == 1
    bad = client.post(url, json={"endpoint": "https://x.example/1", "keys": {"p256dh": "short", "auth": "x"}})
    assert bad.status_code == 422


def test_send_is_encrypted_for_the_browser_and_gone_subscriptions_are_removed(
    client: TestClient, tenant: Tenant, db: Any, push_service: PushSandbox
) -> None:
    account = _connected(client, tenant, db)
    alive, alive_info = push_service.new_subscription()
    gone, gone_info = push_service.new_subscription()
    for info in (alive_info, gone_info):
        assert client.post(f"/push/{account['id']}/subscriptions", json=info).status_code == 201
    gone.gone = True  # the browser unsubscribed: the push service answers 410
    r = client.post(
        f"{URL}/{account['id']}/push",
        headers=tenant.headers,
        json={"title": "Sale", "body": "20% off today", "url": f"{SITE}/sale"},
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"sent": 1, "removed": 1, "failed": 0}
    assert json.loads(push_service.decrypt(alive)) == {
        "title": "Sale",
        "body": "20% off today",
        "url": f"{SITE}/sale",
    }
    assert _subscriptions(db) == 1


def test_unknown_push_channel_is_404(client: TestClient, db: Any) -> None:
    assert client.get("/push/00000000-0000-0000-0000-000000000001/sw.js").status_code == 404
