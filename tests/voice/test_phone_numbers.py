"""/v1/phone-number: attach, sync from the account, list filters, assign/unassign rules."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from switchboard.voice.provider import TwilioVoiceProvider
from tests.emulators.twilio import TwilioEmulator
from tests.support.tenants import Tenant
from tests.support.voice import (
    NUMBER_URL,
    approved_twilio_setup,
    create_twilio_setup,
    email_use_case,
    ses_setup_row,
    voice_use_case,
)


def add(client: TestClient, t: Tenant, setup_id: str, number: str, **over: Any) -> dict[str, Any]:
    r = client.post(
        NUMBER_URL, json={"twilio_setup_id": setup_id, "phone_number": number} | over, headers=t.headers
    )
    assert r.status_code == 201, r.text
    return r.json()


def numbers(client: TestClient, t: Tenant, **params: Any) -> list[str]:
    r = client.get(NUMBER_URL, params=params, headers=t.headers)
    assert r.status_code == 200, r.text
    return [n["phone_number"] for n in r.json()["items"]]


def test_attach_normalises_to_e164(client: TestClient, tenant: Tenant) -> None:
    setup = create_twilio_setup(client, tenant)
    number = add(client, tenant, setup["id"], "+1 (415) 555-0100", friendly_name="Front desk")
    assert number["phone_number"] == "+14155550100"
    assert number["friendly_name"] == "Front desk"
    assert number["twilio_setup_id"] == setup["id"]
    assert number["use_case_id"] is None
    assert client.get(f"/v1/twilio-setup/{setup['id']}", headers=tenant.headers).json()["phone_numbers"] == 1
    assert client.get(f"{NUMBER_URL}/{number['id']}", headers=tenant.headers).json() == number


def test_non_e164_numbers_are_422(client: TestClient, tenant: Tenant) -> None:
    setup = create_twilio_setup(client, tenant)
    for bad in ("4155550100", "+0155550100", "+1415", "call me", "+1415555010012345"):
        r = client.post(
            NUMBER_URL, json={"twilio_setup_id": setup["id"], "phone_number": bad}, headers=tenant.headers
        )
        assert r.status_code == 422, bad
        assert r.json()["details"][0]["field"] == "phone_number"


def test_a_number_is_unique_on_the_platform(client: TestClient, make_tenant: Callable[..., Tenant]) -> None:
    a, b = make_tenant(), make_tenant()
    add(client, a, create_twilio_setup(client, a)["id"], "+14155550100")
    r = client.post(
        NUMBER_URL,
        json={"twilio_setup_id": create_twilio_setup(client, b)["id"], "phone_number": "+1 415 555 0100"},
        headers=b.headers,
    )
    assert r.status_code == 409
    assert r.json()["error"] == "number_in_use"


def test_attach_to_another_tenants_setup_is_404(
    client: TestClient, make_tenant: Callable[..., Tenant]
) -> None:
    a, b = make_tenant(), make_tenant()
    setup = create_twilio_setup(client, a)
    r = client.post(
        NUMBER_URL, json={"twilio_setup_id": setup["id"], "phone_number": "+14155550100"}, headers=b.headers
    )
    assert r.status_code == 404
    r = client.post(
        NUMBER_URL,
        json={"twilio_setup_id": str(uuid.uuid4()), "phone_number": "+14155550100"},
        headers=a.headers,
    )
    assert r.status_code == 404


def test_list_filters(
    client: TestClient, tenant: Tenant, db: Any, make_tenant: Callable[..., Tenant]
) -> None:
    one = approved_twilio_setup(client, db, tenant)
    two = create_twilio_setup(client, tenant)
    use_case = voice_use_case(client, tenant, one["id"])
    n1 = add(client, tenant, one["id"], "+14155550101")
    add(client, tenant, one["id"], "+14155550102")
    add(client, tenant, two["id"], "+14155550103")
    assert (
        client.post(
            f"{NUMBER_URL}/{n1['id']}/assign", json={"use_case_id": use_case["id"]}, headers=tenant.headers
        ).status_code
        == 200
    )
    assert numbers(client, tenant) == ["+14155550101", "+14155550102", "+14155550103"]
    assert numbers(client, tenant, twilio_setup_id=one["id"]) == ["+14155550101", "+14155550102"]
    assert numbers(client, tenant, use_case_id=use_case["id"]) == ["+14155550101"]
    assert numbers(client, tenant, unassigned="true") == ["+14155550102", "+14155550103"]
    assert numbers(client, tenant, unassigned="false") == ["+14155550101"]
    assert numbers(client, tenant, twilio_setup_id=one["id"], unassigned="true") == ["+14155550102"]
    # Another tenant sees none of them, even when naming the setup.
    other = make_tenant()
    assert numbers(client, other) == []
    assert numbers(client, other, twilio_setup_id=one["id"]) == []
    assert client.get(NUMBER_URL, params={"unassigned": "perhaps"}, headers=tenant.headers).status_code == 422


def test_assign_and_unassign(client: TestClient, tenant: Tenant, db: Any) -> None:
    setup = approved_twilio_setup(client, db, tenant)
    use_case = voice_use_case(client, tenant, setup["id"])
    number = add(client, tenant, setup["id"], "+14155550100")
    url = f"{NUMBER_URL}/{number['id']}"
    r = client.post(f"{url}/assign", json={"use_case_id": use_case["id"]}, headers=tenant.headers)
    assert r.status_code == 200
    assert r.json()["use_case_id"] == use_case["id"]
    # Assigning again to the same use case changes nothing.
    assert (
        client.post(f"{url}/assign", json={"use_case_id": use_case["id"]}, headers=tenant.headers).status_code
        == 200
    )
    # The use case cannot go while the number is on it, nor the number.
    r = client.delete(f"/v1/use-case/{use_case['id']}", headers=tenant.headers)
    assert r.status_code == 409
    assert r.json()["error"] == "phone_numbers_assigned"
    assert client.delete(url, headers=tenant.headers).status_code == 409
    r = client.post(f"{url}/unassign", headers=tenant.headers)
    assert r.status_code == 200
    assert r.json()["use_case_id"] is None
    assert client.post(f"{url}/unassign", headers=tenant.headers).status_code == 200
    assert client.delete(f"/v1/use-case/{use_case['id']}", headers=tenant.headers).status_code == 204
    assert client.delete(url, headers=tenant.headers).status_code == 204
    assert client.get(url, headers=tenant.headers).status_code == 404


def test_assign_only_to_voice_use_cases_of_the_same_setup(
    client: TestClient, tenant: Tenant, db: Any
) -> None:
    setup = approved_twilio_setup(client, db, tenant)
    other_setup = approved_twilio_setup(client, db, tenant)
    number = add(client, tenant, setup["id"], "+14155550100")
    url = f"{NUMBER_URL}/{number['id']}/assign"
    elsewhere = voice_use_case(client, tenant, other_setup["id"])
    r = client.post(url, json={"use_case_id": elsewhere["id"]}, headers=tenant.headers)
    assert r.status_code == 409
    assert r.json()["error"] == "different_setup"
    email = email_use_case(client, tenant, ses_setup_row(db, tenant))
    r = client.post(url, json={"use_case_id": email["id"]}, headers=tenant.headers)
    assert r.status_code == 409
    assert r.json()["error"] == "not_a_voice_use_case"
    first = voice_use_case(client, tenant, setup["id"])
    second = voice_use_case(client, tenant, setup["id"])
    assert client.post(url, json={"use_case_id": first["id"]}, headers=tenant.headers).status_code == 200
    r = client.post(url, json={"use_case_id": second["id"]}, headers=tenant.headers)
    assert r.status_code == 409
    assert r.json()["error"] == "already_assigned"
    assert r.json()["use_case_id"] == first["id"]
    r = client.post(url, json={"use_case_id": str(uuid.uuid4())}, headers=tenant.headers)
    assert r.status_code == 404


def test_other_tenants_numbers_and_use_cases_are_404(
    client: TestClient, db: Any, make_tenant: Callable[..., Tenant]
) -> None:
    a, b = make_tenant(), make_tenant()
    setup_a = approved_twilio_setup(client, db, a)
    number_a = add(client, a, setup_a["id"], "+14155550100")
    use_case_b = voice_use_case(client, b, approved_twilio_setup(client, db, b)["id"])
    number_b = add(client, b, use_case_b["twilio_setup_id"], "+14155550101")
    for path in ("assign", "unassign"):
        r = client.post(
            f"{NUMBER_URL}/{number_a['id']}/{path}", json={"use_case_id": use_case_b["id"]}, headers=b.headers
        )
        assert r.status_code == 404
    assert client.get(f"{NUMBER_URL}/{number_a['id']}", headers=b.headers).status_code == 404
    assert client.delete(f"{NUMBER_URL}/{number_a['id']}", headers=b.headers).status_code == 404
    # B's number cannot be pointed at a use case B cannot see either.
    use_case_a = voice_use_case(client, a, setup_a["id"])
    r = client.post(
        f"{NUMBER_URL}/{number_b['id']}/assign", json={"use_case_id": use_case_a["id"]}, headers=b.headers
    )
    assert r.status_code == 404


def test_members_cannot_assign(
    client: TestClient, tenant: Tenant, db: Any, member_of: Callable[[Tenant], Tenant]
) -> None:
    setup = approved_twilio_setup(client, db, tenant)
    use_case = voice_use_case(client, tenant, setup["id"])
    number = add(client, tenant, setup["id"], "+14155550100")
    member = member_of(tenant)
    assert numbers(client, member) == ["+14155550100"]
    r = client.post(
        f"{NUMBER_URL}/{number['id']}/assign", json={"use_case_id": use_case["id"]}, headers=member.headers
    )
    assert r.status_code == 403
    r = client.post(
        NUMBER_URL,
        json={"twilio_setup_id": setup["id"], "phone_number": "+14155550101"},
        headers=member.headers,
    )
    assert r.status_code == 403


def test_sandbox_sync_imports_the_accounts_numbers_once(client: TestClient, tenant: Tenant) -> None:
    setup = create_twilio_setup(client, tenant)
    r = client.post(f"{NUMBER_URL}/sync", json={"twilio_setup_id": setup["id"]}, headers=tenant.headers)
    assert r.status_code == 200, r.text
    imported = r.json()["items"]
    assert len(imported) == 2
    assert all(n["phone_number"].startswith("+1202555") for n in imported)
    again = client.post(
        f"{NUMBER_URL}/sync", json={"twilio_setup_id": setup["id"]}, headers=tenant.headers
    ).json()
    assert again["items"] == []
    assert {s["reason"] for s in again["skipped"]} == {"already attached"}


@pytest.fixture
def live_twilio(client: TestClient, twilio: TwilioEmulator) -> Iterator[TwilioEmulator]:
    svc = client.app.state.twilio_setups  # type: ignore[attr-defined]
    old = svc._provider
    svc.provider = TwilioVoiceProvider(twilio.url, twilio.url, timeout=5.0)
    yield twilio
    svc._provider = old


def test_live_sync_imports_voice_numbers_from_twilio(
    client: TestClient, make_tenant: Callable[..., Tenant], live_twilio: TwilioEmulator
) -> None:
    a, b = make_tenant(), make_tenant()
    account = live_twilio.add_account()
    pn = live_twilio.add_number(account.sid, "+14155550100")
    live_twilio.add_number(account.sid, "+14155550101", voice=False)
    live_twilio.add_number(account.sid, "+14155550102")
    setup = create_twilio_setup(client, a, account_sid=account.sid, auth_token=account.auth_token)
    # Another tenant already holds one of the numbers.
    other = live_twilio.add_account()
    setup_b = create_twilio_setup(client, b, account_sid=other.sid, auth_token=other.auth_token)
    add(client, b, setup_b["id"], "+14155550102")
    r = client.post(f"{NUMBER_URL}/sync", json={"twilio_setup_id": setup["id"]}, headers=a.headers)
    assert r.status_code == 200, r.text
    data = r.json()
    assert [(n["phone_number"], n["provider_sid"]) for n in data["items"]] == [("+14155550100", pn["sid"])]
    assert {s["phone_number"]: s["reason"] for s in data["skipped"]} == {
        "+14155550101": "not voice capable",
        "+14155550102": "attached to another setup",
    }
    live_twilio.inject_fault(status=503, code=20503)
    r = client.post(f"{NUMBER_URL}/sync", json={"twilio_setup_id": setup["id"]}, headers=a.headers)
    assert r.status_code == 503
