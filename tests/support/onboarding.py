"""Driving managed-channel onboarding through the API, as a tenant and a platform admin would."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.support.dns_server import LocalDnsServer
from tests.support.tenants import Tenant

TENANT_URL = "/rest/v1/onboarding/requests"
ADMIN_URL = "/rest/v1/admin/onboarding/requests"


def business_info(**over: Any) -> dict[str, Any]:
    return {
        "company_name": "Acme Ltd",
        "website": "https://www.acme-shop.example",
        "vertical": "retail",
        "expected_monthly_volume": 20000,
        "use_case": "Order updates and delivery notifications",
        "notes": "Two stores, one brand",
    } | over


def request_channel(client: TestClient, tenant: Tenant, channel: str, **info: Any) -> dict[str, Any]:
    r = client.post(
        TENANT_URL, json={"channel": channel, "business_info": business_info(**info)}, headers=tenant.headers
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def admin_get(client: TestClient, admin: Tenant, request_id: str) -> dict[str, Any]:
    r = client.get(f"{ADMIN_URL}/{request_id}", headers=admin.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


def act(
    client: TestClient, admin: Tenant, request_id: str, action: str, version: int | None = None, **body: Any
) -> Any:
    """POST an admin action with the version the admin saw (fetched now when not given)."""
    if version is None:
        version = admin_get(client, admin, request_id)["version"]
    return client.post(
        f"{ADMIN_URL}/{request_id}/{action}", json={"version": version, **body}, headers=admin.headers
    )


def ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return dict(response.json())


def publish(dns: LocalDnsServer, records: list[dict[str, Any]]) -> None:
    """Publish issued records the way a tenant would at its DNS provider (one RRset per name and type)."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for r in records:
        value = r["record"]
        if r["type"] == "CNAME":
            value = value.rstrip(".") + "."
        elif r["type"] == "MX":
            prio, host = value.split(None, 1)
            value = f"{prio} {host.rstrip('.')}."
        grouped.setdefault((r["address"], r["type"]), []).append(value)
    dns.set_many([(name, rtype, values) for (name, rtype), values in grouped.items()])
