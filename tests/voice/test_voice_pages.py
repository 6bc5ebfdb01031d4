"""Settings -> Voice: setups with their customer profile badge, numbers with assign/unassign."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.tenants import Tenant
from tests.support.voice import NUMBER_URL, approved_twilio_setup, create_twilio_setup, voice_use_case
from tests.support.web import Browser


@pytest.fixture
def web(client: TestClient) -> Iterator[Browser]:
    client.cookies.clear()
    yield Browser(client)
    client.cookies.clear()


def add_number(client: TestClient, t: Tenant, setup_id: str, number: str) -> dict[str, Any]:
    r = client.post(NUMBER_URL, json={"twilio_setup_id": setup_id, "phone_number": number}, headers=t.headers)
    assert r.status_code == 201, r.text
    return r.json()


def test_setups_show_profile_status_and_numbers_can_be_assigned(
    client: TestClient, web: Browser, tenant: Tenant, db: Any
) -> None:
    pending = create_twilio_setup(client, tenant, name="Pending line")
    setup = approved_twilio_setup(client, db, tenant, name="Main line")
    use_case = voice_use_case(client, tenant, setup["id"], entity_name="Acme", name="Sales")
    number = add_number(client, tenant, setup["id"], "+14155550100")
    add_number(client, tenant, pending["id"], "+14155550101")
    web.login(tenant)
    html = web.get("/settings/voice").text
    assert ">Pending</span>" in html
    assert ">Approved</span>" in html
    assert pending["auth_token"] in html  # the mask, never the token
    assert "No voice use case on this setup" in html
    assert "Approve</button>" not in html  # only platform admins review

    r = web.post(f"/settings/voice/numbers/{number['id']}/assign", {"use_case_id": use_case["id"]})
    assert r.status_code == 303
    assert (
        client.get(f"{NUMBER_URL}/{number['id']}", headers=tenant.headers).json()["use_case_id"]
        == use_case["id"]
    )
    html = web.get("/settings/voice").text
    assert "+14155550100 is assigned." in html
    assert "Acme · Sales" in html
    assert web.post(f"/settings/voice/numbers/{number['id']}/unassign").status_code == 303
    assert client.get(f"{NUMBER_URL}/{number['id']}", headers=tenant.headers).json()["use_case_id"] is None
    # Without the form's token nothing changes.
    r = web.post(f"/settings/voice/numbers/{number['id']}/assign", {"use_case_id": use_case["id"]}, csrf="")
    assert r.status_code == 403
    assert client.get(f"{NUMBER_URL}/{number['id']}", headers=tenant.headers).json()["use_case_id"] is None


def test_members_see_numbers_without_controls(
    client: TestClient, web: Browser, tenant: Tenant, db: Any, member_of: Callable[[Tenant], Tenant]
) -> None:
    setup = approved_twilio_setup(client, db, tenant)
    voice_use_case(client, tenant, setup["id"])
    add_number(client, tenant, setup["id"], "+14155550100")
    web.login(member_of(tenant))
    html = web.get("/settings/voice").text
    assert "+14155550100" in html
    assert "Assign</button>" not in html


def test_platform_admin_reviews_profiles_from_the_page(
    client: TestClient, web: Browser, tenant: Tenant, platform_admin: Tenant
) -> None:
    setup = create_twilio_setup(client, tenant)
    web.login(platform_admin)
    html = web.get("/settings/voice").text
    assert "Approve</button>" in html
    r = web.post(f"/settings/voice/setups/{setup['id']}/profile/reject", {"reason": "Website is down"})
    assert r.status_code == 303
    profile = client.get(f"/v1/twilio-setup/{setup['id']}", headers=tenant.headers).json()["customer_profile"]
    assert profile["status"] == "rejected"
    assert profile["status_reason"] == "Website is down"
    r = web.post(f"/settings/voice/setups/{setup['id']}/profile/approve")
    assert r.status_code == 409
