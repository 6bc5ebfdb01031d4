"""Helpers for voice and use case tests: Twilio setups through the API, SES setups as rows."""

from __future__ import annotations

import secrets
import string
import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update

from switchboard.models import SesSetup, TwilioSetup
from tests.support.tenants import Tenant

SETUP_URL = "/v1/twilio-setup"
NUMBER_URL = "/v1/phone-number"
USE_CASE_URL = "/v1/use-case"


def letters(n: int = 8) -> str:
    """A random name part that passes the use case name rule (letters only)."""
    return "".join(secrets.choice(string.ascii_letters) for _ in range(n))


def setup_body(**over: Any) -> dict[str, Any]:
    body = {
        "name": f"Voice {secrets.token_hex(3)}",
        "account_sid": "AC" + secrets.token_hex(16),
        "auth_token": secrets.token_hex(16),
        "business_name": "Acme Inc",
        "business_type": "Corporation",
        "website": "https://acme.example",
        "contact_email": "compliance@acme.example",
    }
    return body | over


def create_twilio_setup(client: TestClient, t: Tenant, **over: Any) -> dict[str, Any]:
    r = client.post(SETUP_URL, json=setup_body(**over), headers=t.headers)
    assert r.status_code == 201, r.text
    return r.json()


def set_profile_status(db: Any, setup_id: str, status: str) -> None:
    async def go(session: Any) -> None:
        await session.execute(
            update(TwilioSetup).where(TwilioSetup.id == uuid.UUID(setup_id)).values(profile_status=status)
        )

    db.session(go)


def approved_twilio_setup(client: TestClient, db: Any, t: Tenant, **over: Any) -> dict[str, Any]:
    setup = create_twilio_setup(client, t, **over)
    set_profile_status(db, setup["id"], "approved")
    return setup


def ses_setup_row(db: Any, t: Tenant, domain: str | None = None, verified: bool = True) -> dict[str, str]:
    """An SES setup as the SES setup service leaves it (created here directly, DNS state chosen)."""
    domain = domain or f"mail-{secrets.token_hex(4)}.example.com"

    async def go(session: Any) -> dict[str, str]:
        setup = SesSetup(
            id=uuid.uuid4(),
            organization_id=t.organization_id,
            tenant_name=f"tn-{secrets.token_hex(6)}",
            domain_identity=domain,
            region="us-east-1",
            dns_records=[],
            dns_verified=verified,
        )
        session.add(setup)
        await session.flush()
        return {"id": str(setup.id), "domain": domain, "tenant_name": setup.tenant_name}

    return db.session(go)


def voice_use_case(client: TestClient, t: Tenant, setup_id: str, **over: Any) -> dict[str, Any]:
    body = {
        "channel": "outbound_voice",
        "entity_name": "Acme",
        "name": f"Calls {letters()}",
        "twilio_setup_id": setup_id,
    } | over
    r = client.post(USE_CASE_URL, json=body, headers=t.headers)
    assert r.status_code == 201, r.text
    return r.json()


def email_use_case(client: TestClient, t: Tenant, ses: dict[str, str], **over: Any) -> dict[str, Any]:
    body = {
        "channel": "email",
        "entity_name": "Acme",
        "name": "Receipts",
        "ses_setup_id": ses["id"],
        "sender_email_address": f"receipts@{ses['domain']}",
        "email_type": "transactional",
    } | over
    r = client.post(USE_CASE_URL, json=body, headers=t.headers)
    assert r.status_code == 201, r.text
    return r.json()
