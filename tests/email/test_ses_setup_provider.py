"""SES setups in live provider mode: boto3 sesv2 over HTTP to the local SES v2 emulator."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from switchboard.models import SesSetup
from tests.emulators.ses import SesEmulator
from tests.support.ses_setups import URL, create_setup
from tests.support.tenants import Tenant


def stored_setups(db: Any) -> list[SesSetup]:
    async def go(session: Any) -> list[SesSetup]:
        return list((await session.scalars(select(SesSetup))).all())

    return db.session(go)  # type: ignore[no-any-return]


def test_create_provisions_tenant_and_identity_and_delete_removes_both(
    live_api: TestClient, tenant: Tenant, ses_emulator: SesEmulator, db: Any
) -> None:
    setup = create_setup(live_api, tenant, "acme-mail", "mail.customer.com")
    # The boundary: an SES tenant holding the identity.
    sestenant = ses_emulator.tenants["acme-mail"]
    identity = ses_emulator.identities["mail.customer.com"]
    assert ses_emulator.identity_arn("mail.customer.com") in sestenant.resources
    # Easy DKIM: the three CNAMEs carry SES's own tokens, and the custom MAIL FROM is set.
    assert [r["address"] for r in setup["dns_records"][:3]] == [
        f"{token}._domainkey.mail.customer.com" for token in identity.dkim_tokens
    ]
    assert [r["record"] for r in setup["dns_records"][:3]] == [
        f"{token}.dkim.amazonses.com" for token in identity.dkim_tokens
    ]
    assert identity.mail_from_domain == "bounce.mail.customer.com"
    (row,) = stored_setups(db)
    assert row.provider_mode == "ses"
    assert row.tenant_ref == sestenant.arn
    assert row.dkim_tokens == identity.dkim_tokens

    r = live_api.delete(f"{URL}/{setup['id']}", headers=tenant.headers)
    assert r.status_code == 204
    assert "acme-mail" not in ses_emulator.tenants
    assert "mail.customer.com" not in ses_emulator.identities
    assert stored_setups(db) == []


def test_retriable_provider_error_is_503_and_nothing_is_left(
    live_api: TestClient, tenant: Tenant, ses_emulator: SesEmulator, db: Any
) -> None:
    # SES keeps failing to create the identity after the tenant was made.
    ses_emulator.inject_fault(
        503, "ServiceUnavailable", times=100, method="POST", path_prefix="/v2/email/identities"
    )
    r = live_api.post(
        URL, json={"tenant_name": "acme-mail", "domain_identity": "mail.customer.com"}, headers=tenant.headers
    )
    assert r.status_code == 503, r.text
    body = r.json()
    assert body["error"] == "provider_unavailable"
    assert "nothing was created" in body["message"]
    assert stored_setups(db) == []
    assert ses_emulator.tenants == {}  # the boundary was removed again
    assert ses_emulator.identities == {}
    ses_emulator.clear_faults()
    create_setup(live_api, tenant, "acme-mail", "mail.customer.com")


def test_provider_side_duplicates_are_409(
    live_api: TestClient, tenant: Tenant, ses_emulator: SesEmulator
) -> None:
    # Names taken in the SES account outside Switchboard.
    client = live_api
    create_setup(client, tenant, "first", "taken.example.com")
    ses_emulator.tenants["outside"] = ses_emulator.tenants["first"]
    r = client.post(
        URL, json={"tenant_name": "outside", "domain_identity": "x.example.com"}, headers=tenant.headers
    )
    assert r.status_code == 409
    assert r.json()["message"] == "tenant name already exists"
    ses_emulator.identities["elsewhere.example.com"] = ses_emulator.identities["taken.example.com"]
    r = client.post(
        URL,
        json={"tenant_name": "second", "domain_identity": "elsewhere.example.com"},
        headers=tenant.headers,
    )
    assert r.status_code == 409
    assert r.json()["message"] == "domain already claimed"
    assert "second" not in ses_emulator.tenants  # boundary undone
    assert len(client.get(URL, headers=tenant.headers).json()["items"]) == 1


def test_delete_during_an_outage_is_503_and_keeps_the_setup(
    live_api: TestClient, tenant: Tenant, ses_emulator: SesEmulator
) -> None:
    setup = create_setup(live_api, tenant)
    ses_emulator.inject_fault(500, "InternalFailure", times=100)
    r = live_api.delete(f"{URL}/{setup['id']}", headers=tenant.headers)
    assert r.status_code == 503
    ses_emulator.clear_faults()
    assert len(live_api.get(URL, headers=tenant.headers).json()["items"]) == 1
    assert "acme-mail" in ses_emulator.tenants
    assert live_api.delete(f"{URL}/{setup['id']}", headers=tenant.headers).status_code == 204
    assert ses_emulator.tenants == {}
