"""GET /channels/sms/numbers and POST /channels/sms/connect, on the sandbox and over HTTP against
the Twilio emulator: every validation rule, tenancy, permissions and the account it creates."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from switchboard.models import AnalyticsEvent, SmsConnection
from switchboard.sms.provider import SANDBOX_OUTBOX, SandboxSmsProvider
from tests.emulators.twilio_sms import TwilioSmsEmulator
from tests.sms.conftest import Destination
from tests.support.tenants import Tenant

NUMBERS = "/channels/sms/numbers"
CONNECT = "/channels/sms/connect"
SANDBOX_NUMBER = "+14155550101"


# --- numbers ----------------------------------------------------------------------------------------


def test_sandbox_inventory_lists_numbers_with_capabilities_and_price(
    client: TestClient, tenant: Tenant, sandbox: SandboxSmsProvider
) -> None:
    r = client.get(NUMBERS, params={"country": "US", "area_code": "415"}, headers=tenant.headers)
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["sandbox"] is True
    assert data["owned"] == []
    assert len(data["available"]) == 20
    first = data["available"][0]
    assert first["phone_number"].startswith("+1415555")
    assert first["capabilities"] == {"sms": True, "mms": True, "voice": True}
    assert first["monthly_price"] == {"amount": "1.15", "currency": "USD"}
    assert first["region"] == "CA"


def test_contains_filters_digits_and_keypad_letters(
    client: TestClient, tenant: Tenant, sandbox: SandboxSmsProvider
) -> None:
    r = client.get(NUMBERS, params={"area_code": "212", "contains": "0111"}, headers=tenant.headers)
    assert [n["phone_number"] for n in r.json()["available"]] == ["+12125550111"]
    # "J" is 5 on the keypad and * any one digit: "JJJ*11" is 555?11.
    r = client.get(NUMBERS, params={"area_code": "212", "contains": "JJJ*11"}, headers=tenant.headers)
    assert {n["phone_number"] for n in r.json()["available"]} == {f"+1212555011{d}" for d in range(10)}


@pytest.mark.parametrize(
    ("params", "field", "rule"),
    [
        ({"country": "XX"}, "country", "country_code"),
        ({"country": "USA"}, "country", "string_too_long"),
        ({"area_code": "15"}, "area_code", "area_code"),
        ({"area_code": "115"}, "area_code", "area_code"),
        ({"area_code": "41a"}, "area_code", "area_code"),
        ({"country": "GB", "area_code": "123456"}, "area_code", "string_too_long"),
        ({"contains": "5"}, "contains", "pattern"),
        ({"contains": "55-5"}, "contains", "pattern"),
    ],
)
def test_number_search_validation(
    client: TestClient,
    tenant: Tenant,
    sandbox: SandboxSmsProvider,
    params: dict[str, str],
    field: str,
    rule: str,
) -> None:
    r = client.get(NUMBERS, params=params, headers=tenant.headers)
    assert r.status_code == 422, r.text
    assert {"field": field, "rule": rule} in [
        {"field": d["field"], "rule": d["rule"]} for d in r.json()["details"]
    ]


def test_numbers_need_authentication(client: TestClient) -> None:
    assert client.get(NUMBERS).status_code == 401


def test_live_search_goes_to_the_provider_with_its_filters(
    client: TestClient, tenant: Tenant, live: TwilioSmsEmulator
) -> None:
    live.add_available("+14155550111")
    live.add_available("+14155550122")
    live.add_available("+12125550133", region="NY", locality="New York")
    live.add_available("+14155550144", sms=False)
    r = client.get(
        NUMBERS, params={"country": "US", "area_code": "415", "contains": "01*1"}, headers=tenant.headers
    )
    assert r.status_code == 200, r.text
    assert [n["phone_number"] for n in r.json()["available"]] == ["+14155550111"]
    assert r.json()["available"][0]["monthly_price"] == {"amount": "1.15", "currency": "USD"}
    assert r.json()["sandbox"] is False
    search = [req for req in live.requests if "AvailablePhoneNumbers/US/Local.json" in req.path]
    assert search, "the search reached the provider"


def test_provider_outage_is_a_503_not_a_500(
    client: TestClient, tenant: Tenant, live: TwilioSmsEmulator
) -> None:
    live.inject_fault("/2010-04-01", status=503, times=5)
    r = client.get(NUMBERS, headers=tenant.headers)
    assert r.status_code == 503
    assert r.json()["error"] == "provider_unavailable"


# --- connect: new number ----------------------------------------------------------------------------


def test_connect_new_number_creates_an_sms_channel_account(
    client: TestClient,
    tenant: Tenant,
    sandbox: SandboxSmsProvider,
    make_destination: Callable[..., Destination],
    connect: Callable[..., dict[str, Any]],
    db: Any,
) -> None:
    dest = make_destination(tenant)
    conn = connect(tenant, dest, SANDBOX_NUMBER, name="Support line")
    assert conn["type"] == "SMS"
    assert conn["phone_number"] == SANDBOX_NUMBER
    assert conn["mode"] == "new"
    assert conn["agent"]["id"] == dest.agent_id
    assert conn["knowledge_base"]["id"] == dest.knowledge_base_id
    assert conn["status"] == "complete"
    assert conn["registration_status"] == "draft"
    assert conn["registration_label"] == "Draft — not submitted"
    assert conn["connection_status"] == "connected"
    assert conn["is_active"] is False

    accounts = client.get("/rest/v1/channel_accounts", params={"type": "SMS"}, headers=tenant.headers).json()
    assert accounts["total"] == 1
    account = accounts["items"][0]
    assert account["id"] == conn["channel_account_id"]
    assert account["name"] == "Support line"
    assert account["settings"]["phone_number"] == SANDBOX_NUMBER
    assert account["workspace_id"] == dest.workspace_id
    assert account["connection_status"] == "connected"

    numbers = client.get(NUMBERS, params={"area_code": "415"}, headers=tenant.headers).json()
    assert SANDBOX_NUMBER not in [n["phone_number"] for n in numbers["available"]]
    assert numbers["owned"] == [
        {
            "phone_number": SANDBOX_NUMBER,
            "connection_id": conn["id"],
            "channel_account_id": conn["channel_account_id"],
            "mode": "new",
            "status": "complete",
        }
    ]

    async def events(session: Any) -> list[AnalyticsEvent]:
        return list(await session.scalars(select(AnalyticsEvent)))

    rows = db.session(events)
    assert [e.name for e in rows] == ["channel.connected"]
    assert rows[0].organization_id == tenant.organization_id
    assert rows[0].properties == {
        "channel_account_id": conn["channel_account_id"],
        "connection_id": conn["id"],
        "workspace_id": dest.workspace_id,
        "agent_id": dest.agent_id,
        "type": "SMS",
    }


def test_connect_new_number_over_http_buys_it_from_the_provider(
    client: TestClient,
    tenant: Tenant,
    live: TwilioSmsEmulator,
    make_destination: Callable[..., Destination],
    connect: Callable[..., dict[str, Any]],
) -> None:
    live.add_available("+14155550111")
    conn = connect(tenant, make_destination(tenant), "+14155550111")
    assert conn["provider"] == "twilio"
    owned = [n for n in live.incoming.values() if n["phone_number"] == "+14155550111"]
    assert len(owned) == 1
    # Bought means gone from the provider's inventory.
    r = client.get(NUMBERS, params={"area_code": "415"}, headers=tenant.headers)
    assert r.json()["available"] == []


def test_a_number_taken_since_the_search_is_a_clear_422(
    client: TestClient, tenant: Tenant, live: TwilioSmsEmulator, make_destination: Callable[..., Destination]
) -> None:
    dest = make_destination(tenant)
    body = {
        "mode": "new",
        "phone_number": "+14155550177",
        "workspace_id": dest.workspace_id,
        "agent_id": dest.agent_id,
    }
    r = client.post(CONNECT, json=body, headers=tenant.headers)
    assert r.status_code == 422, r.text
    assert r.json()["details"][0] | {"message": ""} == {
        "field": "phone_number",
        "rule": "not_available",
        "message": "",
    }
    assert client.get("/rest/v1/channel_accounts", headers=tenant.headers).json()["total"] == 0


def test_a_number_that_needs_an_address_is_a_compliance_restriction(
    client: TestClient, tenant: Tenant, live: TwilioSmsEmulator, make_destination: Callable[..., Destination]
) -> None:
    live.add_available(
        "+447700900123", country="GB", region="", locality="London", address_requirements="any"
    )
    numbers = client.get(NUMBERS, params={"country": "GB"}, headers=tenant.headers).json()
    assert numbers["available"][0]["address_required"] is True
    dest = make_destination(tenant)
    body = {
        "mode": "new",
        "phone_number": "+447700900123",
        "workspace_id": dest.workspace_id,
        "agent_id": dest.agent_id,
    }
    r = client.post(CONNECT, json=body, headers=tenant.headers)
    assert r.status_code == 422
    assert r.json()["details"][0]["rule"] == "address_required"
    assert "Compliance restriction" in r.json()["message"]


def test_a_failure_after_buying_gives_the_number_back(
    client: TestClient,
    tenant: Tenant,
    live: TwilioSmsEmulator,
    make_destination: Callable[..., Destination],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    live.add_available("+14155550111")
    dest = make_destination(tenant)
    svc = client.app.state.sms  # type: ignore[attr-defined]

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(svc, "_emit_connected", broken)
    body = {
        "mode": "new",
        "phone_number": "+14155550111",
        "workspace_id": dest.workspace_id,
        "agent_id": dest.agent_id,
    }
    r = client.post(CONNECT, json=body, headers=tenant.headers)
    assert r.status_code == 500
    assert live.incoming == {k: v for k, v in live.incoming.items() if v["phone_number"] != "+14155550111"}
    assert any(req.method == "DELETE" for req in live.requests)
    assert client.get("/rest/v1/channel_accounts", headers=tenant.headers).json()["total"] == 0


@pytest.mark.parametrize(
    ("override", "field", "rule"),
    [
        ({"agent_id": None}, "agent_id", "uuid_type"),
        ({"mode": "port"}, "mode", "literal_error"),
        ({"phone_number": "555-0100"}, "phone_number", "value_error"),
        ({"workspace_id": "nope"}, "workspace_id", "uuid_parsing"),
        ({"verification_code": "123456"}, "verification_code", "not_allowed"),
        ({"api_key": "secret-key-123"}, "api_key", "not_allowed"),
        ({"hosted_order": {"email": "ops@example.com"}}, "hosted_order", "not_allowed"),
        ({"name": ""}, "name", "string_too_short"),
        ({"sender_id": "way too long sender"}, "sender_id", "string_pattern_mismatch"),
        (
            {"compliance": {"brand": {"contactEmail": "not-an-email"}}},
            "compliance.brand.contactEmail",
            "value_error",
        ),
        ({"compliance": {"brand": {"colour": "red"}}}, "compliance.brand.colour", "extra_forbidden"),
        ({"surprise": 1}, "surprise", "extra_forbidden"),
    ],
)
def test_connect_validation(
    client: TestClient,
    tenant: Tenant,
    sandbox: SandboxSmsProvider,
    make_destination: Callable[..., Destination],
    override: dict[str, Any],
    field: str,
    rule: str,
) -> None:
    dest = make_destination(tenant)
    body = {
        "mode": "new",
        "phone_number": SANDBOX_NUMBER,
        "workspace_id": dest.workspace_id,
        "agent_id": dest.agent_id,
    }
    r = client.post(CONNECT, json=body | override, headers=tenant.headers)
    assert r.status_code == 422, r.text
    assert {"field": field, "rule": rule} in [
        {"field": d["field"], "rule": d["rule"]} for d in r.json()["details"]
    ]


def test_agent_is_required(client: TestClient, tenant: Tenant, sandbox: SandboxSmsProvider) -> None:
    ws = client.get("/rest/v1/workspaces", headers=tenant.headers).json()[0]["id"]
    r = client.post(
        CONNECT,
        json={"mode": "new", "phone_number": SANDBOX_NUMBER, "workspace_id": ws},
        headers=tenant.headers,
    )
    assert r.status_code == 422
    assert r.json()["details"][0]["field"] == "agent_id"
    assert r.json()["details"][0]["rule"] == "missing"


def test_agent_must_belong_to_the_workspace(
    client: TestClient,
    tenant: Tenant,
    sandbox: SandboxSmsProvider,
    make_destination: Callable[..., Destination],
    db: Any,
) -> None:
    dest = make_destination(tenant)
    other_ws = new_workspace(db, tenant)
    body = {
        "mode": "new",
        "phone_number": SANDBOX_NUMBER,
        "workspace_id": other_ws,
        "agent_id": dest.agent_id,
    }
    r = client.post(CONNECT, json=body, headers=tenant.headers)
    assert r.status_code == 422
    assert r.json()["details"][0]["rule"] == "workspace_mismatch"


def new_workspace(db: Any, tenant: Tenant, name: str = "Second") -> str:
    from switchboard.models import Workspace

    ws_id = uuid.uuid4()

    async def go(session: Any) -> None:
        session.add(Workspace(id=ws_id, organization_id=tenant.organization_id, name=name))

    db.session(go)
    return str(ws_id)


def test_another_tenants_workspace_or_agent_is_404(
    client: TestClient,
    tenant: Tenant,
    make_tenant: Callable[..., Tenant],
    sandbox: SandboxSmsProvider,
    make_destination: Callable[..., Destination],
) -> None:
    mine = make_destination(tenant)
    other = make_tenant("Other")
    theirs = make_destination(other)
    for ws, agent in ((theirs.workspace_id, mine.agent_id), (mine.workspace_id, theirs.agent_id)):
        body = {"mode": "new", "phone_number": SANDBOX_NUMBER, "workspace_id": ws, "agent_id": agent}
        r = client.post(CONNECT, json=body, headers=tenant.headers)
        assert r.status_code == 404, r.text


def test_a_number_is_connected_once_on_the_platform(
    client: TestClient,
    tenant: Tenant,
    make_tenant: Callable[..., Tenant],
    sandbox: SandboxSmsProvider,
    make_destination: Callable[..., Destination],
    connect: Callable[..., dict[str, Any]],
) -> None:
    connect(tenant, make_destination(tenant), SANDBOX_NUMBER)
    other = make_tenant("Other")
    dest = make_destination(other)
    body = {
        "mode": "new",
        "phone_number": SANDBOX_NUMBER,
        "workspace_id": dest.workspace_id,
        "agent_id": dest.agent_id,
    }
    r = client.post(CONNECT, json=body, headers=other.headers)
    assert r.status_code == 409
    assert r.json()["error"] == "number_taken"


def test_members_cannot_connect(
    client: TestClient,
    tenant: Tenant,
    member_of: Callable[[Tenant], Tenant],
    sandbox: SandboxSmsProvider,
    make_destination: Callable[..., Destination],
) -> None:
    dest = make_destination(tenant)
    member = member_of(tenant)
    body = {
        "mode": "new",
        "phone_number": SANDBOX_NUMBER,
        "workspace_id": dest.workspace_id,
        "agent_id": dest.agent_id,
    }
    r = client.post(CONNECT, json=body, headers=member.headers)
    assert r.status_code == 403
    # ...but they can read the numbers and the table.
    assert client.get(NUMBERS, headers=member.headers).status_code == 200
    assert client.get("/channels/sms/connections", headers=member.headers).status_code == 200


def test_new_numbers_are_not_bring_your_own(
    client: TestClient,
    tenant: Tenant,
    sandbox: SandboxSmsProvider,
    make_destination: Callable[..., Destination],
    connect: Callable[..., dict[str, Any]],
    db: Any,
) -> None:
    """With byom_allowed.sms off (the default), a number bought through the platform still connects."""
    from switchboard.models import Organization

    async def flags(session: Any) -> Any:
        return (await session.get(Organization, tenant.organization_id)).meta

    assert (db.session(flags) or {}).get("channels", {}).get("sms", {}).get("byom_allowed") is not True
    connect(tenant, make_destination(tenant), SANDBOX_NUMBER)


# --- connect: use my number -------------------------------------------------------------------------


def _code_for(phone: str) -> str:
    message = next(m for m in reversed(SANDBOX_OUTBOX) if m.to == phone)
    return message.body.split("code is ")[1][:6]


def test_byon_is_refused_while_byom_is_off(
    client: TestClient,
    tenant: Tenant,
    sandbox: SandboxSmsProvider,
    make_destination: Callable[..., Destination],
) -> None:
    r = client.post(f"{CONNECT}/verify", json={"phone_number": "+14155551234"}, headers=tenant.headers)
    assert r.status_code == 403
    assert r.json()["error"] == "byom_not_allowed"
    dest = make_destination(tenant)
    body = {
        "mode": "byon",
        "phone_number": "+14155551234",
        "workspace_id": dest.workspace_id,
        "agent_id": dest.agent_id,
        "verification_code": "123456",
    }
    assert client.post(CONNECT, json=body, headers=tenant.headers).status_code == 403


def test_byon_with_a_one_time_code(
    client: TestClient,
    tenant: Tenant,
    sandbox: SandboxSmsProvider,
    make_destination: Callable[..., Destination],
    allow_byom: Callable[[Tenant], None],
    db: Any,
) -> None:
    allow_byom(tenant)
    phone = "+14155551234"
    r = client.post(f"{CONNECT}/verify", json={"phone_number": "+1 (415) 555-1234"}, headers=tenant.headers)
    assert r.status_code == 202, r.text
    assert r.json()["phone_number"] == phone
    assert r.json()["sandbox"] is True
    assert "code" not in r.json()
    code = _code_for(phone)
    dest = make_destination(tenant)
    body = {
        "mode": "byon",
        "phone_number": phone,
        "workspace_id": dest.workspace_id,
        "agent_id": dest.agent_id,
        "verification_code": code,
        "provider": "victorylink",
        "api_key": "vl-secret-key-0001",
    }
    r = client.post(CONNECT, json=body, headers=tenant.headers)
    assert r.status_code == 201, r.text
    conn = r.json()
    assert conn["mode"] == "byon"
    assert conn["byon_method"] == "code"
    assert conn["provider"] == "victorylink"
    account = client.get(
        f"/rest/v1/channel_accounts/{conn['channel_account_id']}", headers=tenant.headers
    ).json()
    assert account["settings"]["provider"] == "victorylink"
    assert account["settings"]["api_key"].startswith("••••")
    # The code is single-use.
    body["phone_number"] = phone
    r = client.post(CONNECT, json=body, headers=tenant.headers)
    assert r.status_code == 409  # the number is connected now

    async def stored(session: Any) -> list[str]:
        from switchboard.models import SmsVerification

        return [v.code_hash for v in await session.scalars(select(SmsVerification))]

    assert code not in str(db.session(stored))


def test_wrong_codes_are_counted_and_then_refused(
    client: TestClient,
    tenant: Tenant,
    sandbox: SandboxSmsProvider,
    make_destination: Callable[..., Destination],
    allow_byom: Callable[[Tenant], None],
) -> None:
    allow_byom(tenant)
    phone = "+14155551234"
    client.post(f"{CONNECT}/verify", json={"phone_number": phone}, headers=tenant.headers)
    code = _code_for(phone)
    wrong = "000000" if code != "000000" else "111111"
    dest = make_destination(tenant)
    body = {
        "mode": "byon",
        "phone_number": phone,
        "workspace_id": dest.workspace_id,
        "agent_id": dest.agent_id,
    }
    for left in (4, 3, 2, 1, 0):
        r = client.post(CONNECT, json=body | {"verification_code": wrong}, headers=tenant.headers)
        assert r.status_code == 422
        assert r.json()["details"][0]["rule"] == "code_invalid"
        assert f"{left} attempt" in r.json()["message"]
    # Even the right code no longer works: ask for a new one.
    r = client.post(CONNECT, json=body | {"verification_code": code}, headers=tenant.headers)
    assert r.status_code == 422
    assert r.json()["details"][0]["rule"] == "too_many_attempts"


@pytest.mark.parametrize(
    ("setup", "rule"),
    [("none", "no_code"), ("expired", "code_expired"), ("both", "required"), ("neither", "required")],
)
def test_byon_proof_rules(
    client: TestClient,
    tenant: Tenant,
    sandbox: SandboxSmsProvider,
    make_destination: Callable[..., Destination],
    allow_byom: Callable[[Tenant], None],
    db: Any,
    setup: str,
    rule: str,
) -> None:
    allow_byom(tenant)
    phone = "+14155551234"
    dest = make_destination(tenant)
    body: dict[str, Any] = {
        "mode": "byon",
        "phone_number": phone,
        "workspace_id": dest.workspace_id,
        "agent_id": dest.agent_id,
    }
    if setup in {"expired", "none", "both"}:
        body["verification_code"] = "123456"
    if setup == "both":
        body["hosted_order"] = {"email": "ops@example.com"}
    if setup == "expired":
        client.post(f"{CONNECT}/verify", json={"phone_number": phone}, headers=tenant.headers)
        body["verification_code"] = _code_for(phone)
        from datetime import UTC, datetime, timedelta

        from sqlalchemy import update

        from switchboard.models import SmsVerification

        async def expire(session: Any) -> None:
            await session.execute(
                update(SmsVerification).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
            )

        db.session(expire)
    r = client.post(CONNECT, json=body, headers=tenant.headers)
    assert r.status_code == 422, r.text
    assert r.json()["details"][0]["rule"] == rule


def test_codes_are_rate_limited(
    client: TestClient, tenant: Tenant, sandbox: SandboxSmsProvider, allow_byom: Callable[[Tenant], None]
) -> None:
    allow_byom(tenant)
    for _ in range(3):
        assert (
            client.post(
                f"{CONNECT}/verify", json={"phone_number": "+14155551234"}, headers=tenant.headers
            ).status_code
            == 202
        )
    r = client.post(f"{CONNECT}/verify", json={"phone_number": "+14155551234"}, headers=tenant.headers)
    assert r.status_code == 429


def test_byon_code_over_http_is_texted_by_the_provider(
    client: TestClient,
    tenant: Tenant,
    live: TwilioSmsEmulator,
    make_destination: Callable[..., Destination],
    allow_byom: Callable[[Tenant], None],
) -> None:
    allow_byom(tenant)
    phone = "+14155551234"
    r = client.post(f"{CONNECT}/verify", json={"phone_number": phone}, headers=tenant.headers)
    assert r.status_code == 202, r.text
    sent = live.outbox[-1]
    assert sent["to"] == phone
    assert sent["from"] == "+14155550999"
    code = sent["body"].split("code is ")[1][:6]
    dest = make_destination(tenant)
    body = {
        "mode": "byon",
        "phone_number": phone,
        "workspace_id": dest.workspace_id,
        "agent_id": dest.agent_id,
        "verification_code": code,
    }
    r = client.post(CONNECT, json=body, headers=tenant.headers)
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "complete"


def test_byon_hosted_number_order_is_pending_until_the_provider_completes_it(
    client: TestClient,
    tenant: Tenant,
    live: TwilioSmsEmulator,
    make_destination: Callable[..., Destination],
    allow_byom: Callable[[Tenant], None],
    db: Any,
) -> None:
    from switchboard.sms import tasks

    allow_byom(tenant)
    dest = make_destination(tenant)
    body = {
        "mode": "byon",
        "phone_number": "+14155551234",
        "workspace_id": dest.workspace_id,
        "agent_id": dest.agent_id,
        "hosted_order": {"email": "ops@example.com"},
    }
    r = client.post(CONNECT, json=body, headers=tenant.headers)
    assert r.status_code == 201, r.text
    conn = r.json()
    assert conn["status"] == "pending"
    assert conn["number_status"] == "pending"
    assert conn["connection_status"] == "pending"
    order_sid = next(iter(live.hosted_orders))

    db.run(tasks.sync_inventory)
    assert (
        client.get(f"/channels/sms/connections/{conn['id']}", headers=tenant.headers).json()["status"]
        == "pending"
    )

    live.complete_hosted_order(order_sid)
    counts = db.run(tasks.sync_inventory)
    assert counts["hosted_completed"] == 1
    after = client.get(f"/channels/sms/connections/{conn['id']}", headers=tenant.headers).json()
    assert after["status"] == "complete"
    assert after["connection_status"] == "connected"

    async def events(session: Any) -> list[str]:
        return [e.name for e in await session.scalars(select(AnalyticsEvent))]

    assert db.session(events) == ["channel.connected"]

    async def conn_row(session: Any) -> SmsConnection:
        return await session.get(SmsConnection, uuid.UUID(conn["id"]))

    assert db.session(conn_row).number_sid in live.incoming
