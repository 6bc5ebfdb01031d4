"""Helpers for SES setup tests: create through the API, publish records on the local DNS server."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi.testclient import TestClient

from tests.support.dns_server import LocalDnsServer
from tests.support.tenants import Tenant

URL = "/v1/ses-setup"


def create_setup(
    client: TestClient, t: Tenant, tenant_name: str = "acme-mail", domain: str = "mail.customer.com"
) -> dict[str, Any]:
    r = client.post(URL, json={"tenant_name": tenant_name, "domain_identity": domain}, headers=t.headers)
    assert r.status_code == 201, r.text
    return r.json()


def publish(server: LocalDnsServer, records: Iterable[dict[str, Any]], skip: Iterable[str] = ()) -> None:
    """Publish each record (by its `purpose`) exactly as the API asked for it."""
    skipped = set(skip)
    server.set_many(
        [(r["address"], r["type"], [r["record"]]) for r in records if r["purpose"] not in skipped]
    )
