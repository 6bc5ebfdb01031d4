"""Live DNS verification through the API, against a local authoritative DNS server whose
records the tests publish, change and remove."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.support.dns_server import LocalDnsServer
from tests.support.ses_setups import URL, create_setup, publish
from tests.support.tenants import Tenant


def refresh(api: TestClient, t: Tenant, setup: dict[str, Any]) -> dict[str, Any]:
    r = api.get(f"{URL}/{setup['id']}", headers=t.headers)
    assert r.status_code == 200, r.text
    return r.json()


def listed(api: TestClient, t: Tenant) -> dict[str, Any]:
    (item,) = api.get(URL, headers=t.headers).json()["items"]
    return item


def by_purpose(setup: dict[str, Any], purpose: str) -> list[dict[str, Any]]:
    return [r for r in setup["dns_records"] if r["purpose"] == purpose]


def audit(api: TestClient, t: Tenant, setup: dict[str, Any]) -> list[dict[str, Any]]:
    return api.get(f"{URL}/{setup['id']}/audit", headers=t.headers).json()  # type: ignore[no-any-return]


def test_all_published_verifies_and_the_list_shows_it(
    api: TestClient, tenant: Tenant, dns_server: LocalDnsServer
) -> None:
    setup = create_setup(api, tenant)
    publish(dns_server, setup["dns_records"])
    data = refresh(api, tenant, setup)
    assert [(r["verified"], r["reason"]) for r in data["dns_records"]] == [(True, None)] * 7
    assert data["dns_verified"] is True
    assert data["dns_checked_at"] is not None
    item = listed(api, tenant)
    assert item["dns_verified"] is True
    assert item["dns_checked_at"] == data["dns_checked_at"]
    entry = audit(api, tenant, setup)[0]
    assert entry["action"] == "ses_setup.verification_changed"
    assert entry["before"]["dns_verified"] is False
    assert entry["after"]["dns_verified"] is True
    assert entry["reason"] == "All DNS records verified."


def test_partially_published_reports_each_missing_record(
    api: TestClient, tenant: Tenant, dns_server: LocalDnsServer
) -> None:
    setup = create_setup(api, tenant)
    publish(dns_server, setup["dns_records"], skip=("mail_from_mx", "spf", "inbound_mx"))
    data = refresh(api, tenant, setup)
    assert [r["verified"] for r in data["dns_records"]] == [True, True, True, False, False, True, False]
    assert data["dns_verified"] is False
    assert listed(api, tenant)["dns_verified"] is False
    (mail_from,) = by_purpose(data, "mail_from_mx")
    assert mail_from["reason"] == (
        "No MX record found at bounce.mail.customer.com: the name does not exist. "
        "Add MX `10 feedback-smtp.us-east-1.amazonses.com` at your DNS provider."
    )
    (spf,) = by_purpose(data, "spf")
    assert spf["reason"].startswith("No SPF (TXT) record found at bounce.mail.customer.com")
    # mail.customer.com exists (it has children), it just has no MX.
    (inbound,) = by_purpose(data, "inbound_mx")
    assert inbound["reason"] == (
        "No MX record found at mail.customer.com: the name exists but has no MX record. "
        "Add MX `10 inbound-smtp.us-east-1.amazonaws.com` at your DNS provider."
    )
    entry = audit(api, tenant, setup)[0]
    assert entry["action"] == "ses_setup.verification_changed"
    assert entry["after"]["dns_verified"] is False
    assert len(entry["after"]["records"]) == 4


def test_wrong_values_are_named_in_the_reasons(
    api: TestClient, tenant: Tenant, dns_server: LocalDnsServer
) -> None:
    setup = create_setup(api, tenant)
    publish(dns_server, setup["dns_records"])
    dkim = setup["dns_records"][0]
    dns_server.set(dkim["address"], "CNAME", ["wrong.dkim.amazonses.com."])
    dns_server.set("mail.customer.com", "MX", ["10 mx.other-provider.com."])
    dns_server.set("_dmarc.mail.customer.com", "TXT", ["v=DMARC1; p=bogus"])
    data = refresh(api, tenant, setup)
    assert [r["verified"] for r in data["dns_records"]] == [False, True, True, True, True, False, False]
    assert data["dns_records"][0]["reason"] == (
        f"Found CNAME {dkim['address']} -> `wrong.dkim.amazonses.com` instead of `{dkim['record']}`. "
        f"Change it to `{dkim['record']}`."
    )
    assert data["dns_records"][6]["reason"] == (
        "No MX record for `inbound-smtp.us-east-1.amazonaws.com` found at mail.customer.com; "
        "found `10 mx.other-provider.com` instead. Replace it with `10 inbound-smtp.us-east-1.amazonaws.com`."
    )
    assert "`p=bogus` is not a valid policy" in data["dns_records"][5]["reason"]
    # Fixing them verifies on the next refresh.
    publish(dns_server, setup["dns_records"])
    assert refresh(api, tenant, setup)["dns_verified"] is True


def test_unanswered_query_times_out_with_a_reason(
    client: TestClient, use_settings: Any, tenant: Tenant, dns_server: LocalDnsServer
) -> None:
    use_settings(dns_timeout=0.5)
    api = client
    setup = create_setup(api, tenant)
    publish(dns_server, setup["dns_records"])
    dns_server.set_fault("_dmarc.mail.customer.com", "drop")
    data = refresh(api, tenant, setup)
    (dmarc,) = by_purpose(data, "dmarc")
    assert dmarc["verified"] is False
    assert dmarc["reason"] == "DNS query for TXT _dmarc.mail.customer.com timed out after 0.5s; try again."
    assert [r["verified"] for r in data["dns_records"]].count(True) == 6


def test_removed_record_after_verification_is_drift(
    api: TestClient, tenant: Tenant, dns_server: LocalDnsServer
) -> None:
    setup = create_setup(api, tenant)
    publish(dns_server, setup["dns_records"])
    assert refresh(api, tenant, setup)["dns_verified"] is True
    dns_server.remove("bounce.mail.customer.com", "MX")
    data = refresh(api, tenant, setup)
    assert data["dns_verified"] is False
    assert [r["verified"] for r in data["dns_records"]] == [True, True, True, False, True, True, True]
    (mail_from,) = by_purpose(data, "mail_from_mx")
    assert mail_from["reason"] == (
        "No MX record found at bounce.mail.customer.com: the name exists but has no MX record. "
        "Add MX `10 feedback-smtp.us-east-1.amazonses.com` at your DNS provider."
    )
    assert listed(api, tenant)["dns_verified"] is False
    drift = audit(api, tenant, setup)[0]
    assert drift["action"] == "ses_setup.drift"
    assert drift["actor"] == tenant.email
    assert drift["before"] == {"dns_verified": True, "records": {"MX bounce.mail.customer.com": True}}
    assert drift["after"] == {"dns_verified": False, "records": {"MX bounce.mail.customer.com": False}}
    assert "MX bounce.mail.customer.com" in drift["reason"]
    # Unchanged state on the next refresh writes nothing new.
    refresh(api, tenant, setup)
    assert len(audit(api, tenant, setup)) == 3


def test_the_list_never_queries_dns(api: TestClient, tenant: Tenant, dns_server: LocalDnsServer) -> None:
    setup = create_setup(api, tenant)
    publish(dns_server, setup["dns_records"])
    assert dns_server.queries == 0  # creating does not query either
    for _ in range(3):
        assert listed(api, tenant)["dns_verified"] is False
    assert dns_server.queries == 0
    refresh(api, tenant, setup)
    assert dns_server.queries == 7
    assert listed(api, tenant)["dns_verified"] is True
    assert dns_server.queries == 7


def test_broken_dns_configuration_is_503_not_500(
    client: TestClient, tenant: Tenant, use_settings: Any
) -> None:
    use_settings()
    setup = create_setup(client, tenant)
    use_settings(dns_nameservers="not-an-address")
    r = client.get(f"{URL}/{setup['id']}", headers=tenant.headers)
    assert r.status_code == 503
    assert "DNS" in r.json()["message"]
    assert client.get(URL, headers=tenant.headers).status_code == 200
