"""GET/PUT /channels/sms/connections/{id}/compliance (set-sms-compliance): empty defaults, drafts,
per-field validation errors, the precheck a person reads, permissions, tenancy and locking."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from switchboard.sms.provider import SandboxSmsProvider
from tests.sms.conftest import Destination, complete_compliance
from tests.support.tenants import Tenant

PHONE = "+14155550101"


@pytest.fixture
def conn(
    client: TestClient,
    tenant: Tenant,
    sandbox: SandboxSmsProvider,
    make_destination: Callable[..., Destination],
    connect: Callable[..., dict[str, Any]],
) -> dict[str, Any]:
    return connect(tenant, make_destination(tenant), PHONE)


def url(conn: dict[str, Any]) -> str:
    return f"/channels/sms/connections/{conn['id']}/compliance"


def test_a_connection_without_compliance_opens_with_empty_defaults(
    client: TestClient, tenant: Tenant, conn: dict[str, Any]
) -> None:
    r = client.get(url(conn), headers=tenant.headers)
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["present"] is False
    brand, campaign = data["compliance"]["brand"], data["compliance"]["campaign"]
    assert set(brand) >= {
        "entity", "vertical", "displayName", "companyName", "registrationNumber", "brandType", "contactPhone",
        "contactEmail", "website", "address", "country", "state", "city", "zipCode",
    }  # fmt: skip
    assert all(v is None for v in brand.values())
    assert set(campaign) >= {
        "campaignDescription", "messageFlow", "privacyPolicyUrl", "useCaseType", "messageSamples",
        "optInKeywords", "optInMessage", "optOutKeywords", "optOutMessage", "helpKeywords", "helpMessage",
        "numberPooling", "directLending", "embeddedLink", "embeddedPhone", "ageGatedContent",
        "termsAndConditions",
    }  # fmt: skip
    # Carriers require STOP and HELP handling, so those keywords start filled in.
    assert campaign["optOutKeywords"][0] == "STOP"
    assert campaign["helpKeywords"] == ["HELP", "INFO"]
    assert data["ready_to_submit"] is False
    assert {"field": "brand.companyName", "code": "missing"} in [
        {"field": i["field"], "code": i["code"]} for i in data["precheck"]
    ]
    assert data["registration"]["status"] == "draft"
    assert data["registration"]["label"] == "Draft — not submitted"
    assert data["locked"] is False


def test_partial_drafts_are_saved_and_read_back(
    client: TestClient, tenant: Tenant, conn: dict[str, Any]
) -> None:
    draft = {"brand": {"companyName": "Acme Widgets Inc", "country": "us", "registrationNumber": "123456789"}}
    r = client.put(url(conn), json=draft, headers=tenant.headers)
    assert r.status_code == 200, r.text
    assert r.json()["present"] is True
    back = client.get(url(conn), headers=tenant.headers).json()
    assert back["compliance"]["brand"]["companyName"] == "Acme Widgets Inc"
    # Normalised: country upper-cased, the EIN formatted.
    assert back["compliance"]["brand"]["country"] == "US"
    assert back["compliance"]["brand"]["registrationNumber"] == "12-3456789"
    assert back["compliance"]["campaign"] is None
    summary = client.get(f"/channels/sms/connections/{conn['id']}", headers=tenant.headers).json()[
        "compliance"
    ]
    assert summary == {"present": True, "brand_complete": False, "campaign_complete": False}


def test_a_complete_payload_passes_the_precheck(
    client: TestClient, tenant: Tenant, conn: dict[str, Any]
) -> None:
    r = client.put(url(conn), json=complete_compliance(), headers=tenant.headers)
    assert r.status_code == 200, r.text
    assert r.json()["ready_to_submit"] is True
    assert [i for i in r.json()["precheck"] if i["severity"] == "error"] == []
    summary = client.get(f"/channels/sms/connections/{conn['id']}", headers=tenant.headers).json()[
        "compliance"
    ]
    assert summary == {"present": True, "brand_complete": True, "campaign_complete": True}


def test_compliance_can_be_set_during_connect(
    client: TestClient,
    tenant: Tenant,
    sandbox: SandboxSmsProvider,
    make_destination: Callable[..., Destination],
    connect: Callable[..., dict[str, Any]],
) -> None:
    conn = connect(tenant, make_destination(tenant), PHONE, compliance=complete_compliance())
    assert conn["compliance"] == {"present": True, "brand_complete": True, "campaign_complete": True}
    assert client.get(url(conn), headers=tenant.headers).json()["ready_to_submit"] is True


@pytest.mark.parametrize(
    ("payload", "field", "rule"),
    [
        ({"brand": {"country": "XX"}}, "brand.country", "country_code"),
        ({"brand": {"entity": "PARTNERSHIP"}}, "brand.entity", "enum"),
        ({"brand": {"vertical": "SPACE"}}, "brand.vertical", "enum"),
        ({"brand": {"brandType": "BIG"}}, "brand.brandType", "enum"),
        (
            {"brand": {"country": "US", "registrationNumber": "12345"}},
            "brand.registrationNumber",
            "registration_number",
        ),
        ({"brand": {"country": "US", "contactPhone": "12"}}, "brand.contactPhone", "phone_number"),
        ({"brand": {"contactEmail": "nobody"}}, "brand.contactEmail", "value_error"),
        ({"brand": {"website": "acme.example.com"}}, "brand.website", "http_url"),
        ({"brand": {"country": "US", "state": "XY"}}, "brand.state", "us_state"),
        ({"brand": {"country": "US", "zipCode": "9410"}}, "brand.zipCode", "zip_code"),
        ({"brand": {"displayName": "x" * 256}}, "brand.displayName", "string_too_long"),
        ({"brand": {"favouriteColour": "red"}}, "brand.favouriteColour", "extra_forbidden"),
        (
            {"campaign": {"campaignDescription": "too short"}},
            "campaign.campaignDescription",
            "string_too_short",
        ),
        ({"campaign": {"messageFlow": "short"}}, "campaign.messageFlow", "string_too_short"),
        ({"campaign": {"privacyPolicyUrl": "ftp://x.example.com"}}, "campaign.privacyPolicyUrl", "http_url"),
        ({"campaign": {"useCaseType": "SPAM"}}, "campaign.useCaseType", "enum"),
        ({"campaign": {"messageSamples": ["x" * 25] * 6}}, "campaign.messageSamples", "too_long"),
        ({"campaign": {"messageSamples": ["too short"]}}, "campaign.messageSamples.0", "string_too_short"),
        ({"campaign": {"optInKeywords": ["OPT IN"]}}, "campaign.optInKeywords.0", "keyword"),
        ({"campaign": {"optOutMessage": "bye"}}, "campaign.optOutMessage", "string_too_short"),
        ({"campaign": {"helpMessage": "h" * 321}}, "campaign.helpMessage", "string_too_long"),
        ({"campaign": {"embeddedLink": "maybe"}}, "campaign.embeddedLink", "bool_parsing"),
        ({"campaign": {"termsAndConditions": "sure"}}, "campaign.termsAndConditions", "bool_parsing"),
        ({"brand": []}, "brand", "model_attributes_type"),
    ],
)
def test_every_validation_rule_names_the_field_and_the_rule(
    client: TestClient, tenant: Tenant, conn: dict[str, Any], payload: dict[str, Any], field: str, rule: str
) -> None:
    r = client.put(url(conn), json=payload, headers=tenant.headers)
    assert r.status_code == 422, r.text
    details = r.json()["details"]
    assert {"field": field, "rule": rule} in [{"field": d["field"], "rule": d["rule"]} for d in details]
    # Nothing was saved.
    assert client.get(url(conn), headers=tenant.headers).json()["present"] is False


def test_precheck_explains_what_blocks_a_submission(
    client: TestClient, tenant: Tenant, conn: dict[str, Any]
) -> None:
    payload = complete_compliance()
    payload["campaign"]["messageSamples"] = payload["campaign"]["messageSamples"][:3]
    payload["campaign"]["optInMessage"] = "You are subscribed to Acme Widgets order alerts, welcome!"
    payload["campaign"]["termsAndConditions"] = False
    r = client.put(url(conn), json=payload, headers=tenant.headers)
    assert r.status_code == 200
    issues = {(i["field"], i["code"]) for i in r.json()["precheck"]}
    assert ("campaign.messageSamples", "sample_count") in issues
    assert ("campaign.optInMessage", "opt_in_missing_frequency") in issues
    assert ("campaign.optInMessage", "opt_in_missing_rates") in issues
    assert ("campaign.termsAndConditions", "terms_not_accepted") in issues
    assert r.json()["ready_to_submit"] is False
    for issue in r.json()["precheck"]:
        assert issue["message"]  # readable by a person


def test_members_see_completion_markers_but_not_the_values(
    client: TestClient, tenant: Tenant, member_of: Callable[[Tenant], Tenant], conn: dict[str, Any]
) -> None:
    client.put(url(conn), json=complete_compliance(), headers=tenant.headers)
    member = member_of(tenant)
    assert client.get(url(conn), headers=member.headers).status_code == 403
    assert client.put(url(conn), json={}, headers=member.headers).status_code == 403
    row = client.get(f"/channels/sms/connections/{conn['id']}", headers=member.headers).json()
    assert row["compliance"] == {"present": True, "brand_complete": True, "campaign_complete": True}


def test_another_tenants_compliance_is_404(
    client: TestClient, make_tenant: Callable[..., Tenant], conn: dict[str, Any]
) -> None:
    other = make_tenant("Other")
    assert client.get(url(conn), headers=other.headers).status_code == 404
    assert client.put(url(conn), json=complete_compliance(), headers=other.headers).status_code == 404
    assert (
        client.post(f"/channels/sms/connections/{conn['id']}/registration", headers=other.headers).status_code
        == 404
    )
    assert client.get(f"/channels/sms/connections/{conn['id']}", headers=other.headers).status_code == 404
    assert (
        client.patch(
            f"/channels/sms/connections/{conn['id']}", json={"is_active": True}, headers=other.headers
        ).status_code
        == 404
    )
    assert client.delete(f"/channels/sms/connections/{conn['id']}", headers=other.headers).status_code == 404
    assert client.get("/channels/sms/connections/not-a-uuid", headers=other.headers).status_code == 422


def test_while_submitted_only_consent_opt_in_opt_out_and_help_stay_editable(
    client: TestClient, tenant: Tenant, conn: dict[str, Any]
) -> None:
    client.put(url(conn), json=complete_compliance(), headers=tenant.headers)
    r = client.post(f"/channels/sms/connections/{conn['id']}/registration", headers=tenant.headers)
    assert r.status_code == 200, r.text
    assert r.json()["locked"] is True

    editable = complete_compliance()
    editable["campaign"]["optOutMessage"] = "Acme Widgets: you will receive no further texts from us."
    editable["campaign"]["helpKeywords"] = ["HELP", "SUPPORT"]
    editable["campaign"]["optInMessage"] = (
        "Acme Widgets: order alerts on. Msg frequency varies. Msg & data rates may apply."
    )
    editable["campaign"]["messageFlow"] = (
        "Customers tick an unchecked opt-in checkbox on the checkout web form."
    )
    r = client.put(url(conn), json=editable, headers=tenant.headers)
    assert r.status_code == 200, r.text
    assert "compliance" not in r.json()  # a write answers the check, not the values
    saved = client.get(url(conn), headers=tenant.headers).json()
    assert saved["compliance"]["campaign"]["helpKeywords"] == ["HELP", "SUPPORT"]

    locked = complete_compliance()
    locked["brand"]["companyName"] = "Someone Else Inc"
    locked["campaign"]["useCaseType"] = "MARKETING"
    r = client.put(url(conn), json=locked, headers=tenant.headers)
    assert r.status_code == 409
    assert r.json()["error"] == "registration_locked"
    assert r.json()["current_state"] == "submitted"
    assert {d["field"] for d in r.json()["details"]} >= {"brand.companyName", "campaign.useCaseType"}
