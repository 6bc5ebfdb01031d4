"""Compliance values are sensitive: planted values must appear in no log line, no analytics event,
no audit row, no stored plaintext and no API response other than the compliance GET of that
connection by a user holding sms.manage."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from switchboard.models import AnalyticsEvent, AuditLog, VaultSecret
from switchboard.sms import tasks
from tests.emulators.twilio_sms import TwilioSmsEmulator, signed_json
from tests.sms.conftest import Destination, complete_compliance
from tests.support.tenants import Tenant

PHONE = "+14155550111"
BRAND = "Quokkaverse"
PLANTED = {
    "brand": BRAND,
    "company": "Zyxwvut Quokka Holdings",
    "ein": "98-7654321",
    "email": "planted.quokka@zyxw-example.com",
    "phone": "+14155557788",
    "street": "77 Wombat Crescent",
    "city": "Quokkaton",
    "sample": "QUOKKASAMPLE",
}


def planted_payload() -> dict[str, Any]:
    payload = complete_compliance(BRAND)
    brand = payload["brand"]
    brand.update(
        companyName=PLANTED["company"],
        registrationNumber=PLANTED["ein"],
        contactEmail=PLANTED["email"],
        contactPhone=PLANTED["phone"],
        address=PLANTED["street"],
        city=PLANTED["city"],
    )
    samples = payload["campaign"]["messageSamples"]
    payload["campaign"]["messageSamples"] = [f"{s} {PLANTED['sample']}{i}" for i, s in enumerate(samples)]
    return payload


def leaks(text: str) -> list[str]:
    return [name for name, value in PLANTED.items() if value in text]


def test_compliance_values_never_leave_the_compliance_resource(
    client: TestClient,
    tenant: Tenant,
    member_of: Callable[[Tenant], Tenant],
    live: TwilioSmsEmulator,
    make_destination: Callable[..., Destination],
    log_lines: Any,
    db: Any,
) -> None:
    live.add_available(PHONE)
    dest = make_destination(tenant)
    member = member_of(tenant)
    responses: list[str] = []

    def call(method: str, path: str, t: Tenant = tenant, **kwargs: Any) -> Any:
        r = client.request(method, path, headers=t.headers, **kwargs)
        responses.append(f"{method} -> {r.status_code}: {r.text}")
        return r

    body = {
        "mode": "new",
        "phone_number": PHONE,
        "workspace_id": dest.workspace_id,
        "agent_id": dest.agent_id,
        "compliance": planted_payload(),
    }
    conn = call("POST", "/channels/sms/connect", json=body).json()
    base = f"/channels/sms/connections/{conn['id']}"

    # Invalid input carrying planted values: the 422 names fields and rules, never the values.
    bad = copy.deepcopy(planted_payload())
    bad["brand"]["website"] = PLANTED["email"]
    bad["brand"]["state"] = PLANTED["city"]
    assert call("PUT", f"{base}/compliance", json=bad).status_code == 422
    bad_connect = body | {"phone_number": "+14155550112", "compliance": bad}
    assert call("POST", "/channels/sms/connect", json=bad_connect).status_code == 422

    edited = planted_payload()
    edited["campaign"]["helpMessage"] = f"{BRAND}: reply to {PLANTED['email']} for help."
    assert call("PUT", f"{base}/compliance", json=edited).status_code == 200
    assert call("POST", f"{base}/registration").status_code == 200
    (brand_sid,) = live.brands
    live.set_brand_status(brand_sid, "APPROVED")
    db.run(lambda rt: tasks.refresh_one(rt, uuid.UUID(conn["id"])))
    event = [
        {
            "type": "com.twilio.messaging.compliance.brand-registration.brand-registered",
            "data": {"brandsid": brand_sid},
        }
    ]
    raw = json.dumps(event).encode()
    url, headers = signed_json(live.auth_token, "http://127.0.0.1:8000/webhooks/twilio/sms/events", raw)
    responses.append(
        client.post(url.removeprefix("http://127.0.0.1:8000"), content=raw, headers=headers).text
    )

    for path in (
        base,
        "/channels/sms/connections",
        "/channels/sms/numbers",
        "/rest/v1/channel_accounts",
        f"/rest/v1/channel_accounts/{conn['channel_account_id']}",
        f"/rest/v1/channel_accounts/{conn['channel_account_id']}/audit",
        f"/channels/sms/segments?body={BRAND}",
    ):
        assert call("GET", path).status_code == 200
    # A member reads the table, not the payload.
    assert call("GET", f"{base}/compliance", t=member).status_code == 403
    assert call("GET", base, t=member).status_code == 200
    call("PATCH", base, json={"is_active": True})
    call("POST", f"{base}/messages", json={"to": "+14155552671", "body": "Hello from the front desk"})

    # The one place the values are served: the compliance GET, by an authorised user.
    own = client.get(f"{base}/compliance", headers=tenant.headers)
    assert own.status_code == 200
    assert set(leaks(own.text)) == set(PLANTED)

    # Everything else: responses (the segment count of a body naming the brand included), logs.
    for text in responses:
        assert not leaks(text), text
    assert not leaks(log_lines.text), [line for line in log_lines.lines if leaks(line)]

    async def stored(session: Any) -> tuple[list[Any], list[Any], list[bytes]]:
        events = [e.properties for e in await session.scalars(select(AnalyticsEvent))]
        audits = [(a.before, a.after, a.reason) for a in await session.scalars(select(AuditLog))]
        secrets = [s.ciphertext for s in await session.scalars(select(VaultSecret))]
        return events, audits, secrets

    events, audits, secrets = db.session(stored)
    assert events, "channel.connected was recorded"
    assert not leaks(json.dumps(events))
    assert not leaks(json.dumps(audits, default=str))
    for ciphertext in secrets:
        assert not any(value.encode() in ciphertext for value in PLANTED.values())
