"""/v1/ses-setup as a tenant's integration uses it: field rules, the records, tenancy, deletion."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from switchboard.models import SesSetup
from switchboard.models.use_case import UseCase
from tests.support.dns_server import LocalDnsServer
from tests.support.ses_setups import URL, create_setup
from tests.support.tenants import Tenant

TOKEN = re.compile(r"^[a-z2-7]{32}$")
SETUP_FIELDS = {
    "id",
    "tenant_name",
    "domain_identity",
    "dns_checked_at",
    "dns_records",
    "created_at",
    "updated_at",
}
LIST_FIELDS = {
    "id",
    "tenant_name",
    "domain_identity",
    "dns_verified",
    "dns_checked_at",
    "created_at",
    "updated_at",
}


def post(client: TestClient, t: Tenant, **body: Any) -> Any:
    return client.post(
        URL,
        json={"tenant_name": "acme-mail", "domain_identity": "mail.customer.com"} | body,
        headers=t.headers,
    )


def assert_422(r: Any, field: str, rule: str) -> None:
    assert r.status_code == 422, r.text
    details = r.json()["details"]
    assert {"field": field, "rule": rule} in [{"field": d["field"], "rule": d["rule"]} for d in details], (
        details
    )


# --- create: the response and the seven records ------------------------------------------------


def test_create_returns_the_spec_fields_and_the_seven_records(api: TestClient, tenant: Tenant) -> None:
    r = post(api, tenant)
    assert r.status_code == 201, r.text
    data = r.json()
    assert set(data) >= SETUP_FIELDS
    uuid.UUID(data["id"])
    assert data["tenant_name"] == "acme-mail"
    assert data["domain_identity"] == "mail.customer.com"
    assert data["dns_checked_at"] is None
    assert data["dns_verified"] is False
    records = data["dns_records"]
    assert len(records) == 7
    dkim = records[:3]
    tokens = [r["address"].split(".", 1)[0] for r in dkim]
    assert all(TOKEN.match(t) for t in tokens)
    assert len(set(tokens)) == 3
    assert [(r["address"], r["record"], r["type"], r["verified"]) for r in records] == [
        *[(f"{t}._domainkey.mail.customer.com", f"{t}.dkim.amazonses.com", "CNAME", False) for t in tokens],
        ("bounce.mail.customer.com", "10 feedback-smtp.us-east-1.amazonses.com", "MX", False),
        ("bounce.mail.customer.com", "v=spf1 include:amazonses.com ~all", "TXT", False),
        ("_dmarc.mail.customer.com", "v=DMARC1; p=none", "TXT", False),
        ("mail.customer.com", "10 inbound-smtp.us-east-1.amazonaws.com", "MX", False),
    ]
    assert all(r["reason"] is None for r in records)


def test_each_setup_gets_its_own_dkim_tokens(api: TestClient, tenant: Tenant) -> None:
    a = create_setup(api, tenant, "a", "a.example.com")
    b = create_setup(api, tenant, "b", "b.example.com")
    assert {r["record"] for r in a["dns_records"][:3]}.isdisjoint(r["record"] for r in b["dns_records"][:3])


def test_create_writes_an_audit_entry(api: TestClient, tenant: Tenant) -> None:
    setup = create_setup(api, tenant)
    trail = api.get(f"{URL}/{setup['id']}/audit", headers=tenant.headers).json()
    assert [e["action"] for e in trail] == ["ses_setup.created"]
    assert trail[0]["actor"] == tenant.email
    assert trail[0]["after"]["domain_identity"] == "mail.customer.com"


# --- field rules --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["a", "A" * 64, "acme_mail-2", "0-_"])
def test_tenant_name_accepts(api: TestClient, tenant: Tenant, name: str) -> None:
    r = post(api, tenant, tenant_name=name)
    assert r.status_code == 201, r.text
    assert r.json()["tenant_name"] == name


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("", "string_too_short"),
        ("a" * 65, "string_too_long"),
        ("acme mail", "string_pattern_mismatch"),
        ("acme.mail", "string_pattern_mismatch"),
        ("café", "string_pattern_mismatch"),
        ("acme/../x", "string_pattern_mismatch"),
        (" acme", "string_pattern_mismatch"),
    ],
)
def test_tenant_name_rejects(api: TestClient, tenant: Tenant, name: str, rule: str) -> None:
    assert_422(post(api, tenant, tenant_name=name), "tenant_name", rule)


def _long_domain(length: int) -> str:
    """A valid domain of exactly `length` characters: 62-character labels, ending in `.com`."""
    body = (("a" * 62 + ".") * 5)[: length - len(".com")]
    if body.endswith("."):
        body = body[:-1] + "b"  # that label becomes 63 characters, still valid
    domain = body + ".com"
    assert len(domain) == length
    return domain


@pytest.mark.parametrize(
    ("domain", "stored"),
    [
        ("mail.customer.com", "mail.customer.com"),
        ("Mail.Customer.COM.", "mail.customer.com"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("例え.テスト", "xn--r8jz45g.xn--zckzah"),
        (f"{'a' * 63}.example.com", f"{'a' * 63}.example.com"),
        (_long_domain(209), _long_domain(209)),
    ],
)
def test_domain_accepts(api: TestClient, tenant: Tenant, domain: str, stored: str) -> None:
    r = post(api, tenant, domain_identity=domain)
    assert r.status_code == 201, r.text
    data = r.json()
    assert data["domain_identity"] == stored
    assert data["dns_records"][6]["address"] == stored
    assert data["dns_records"][5]["address"] == f"_dmarc.{stored}"


@pytest.mark.parametrize(
    ("domain", "rule"),
    [
        ("", "string_too_short"),
        (_long_domain(256), "string_too_long"),
        (f"{'a' * 64}.example.com", "invalid_domain"),
        ("localhost", "invalid_domain"),
        ("mail..customer.com", "invalid_domain"),
        ("-mail.customer.com", "invalid_domain"),
        ("mail_x.customer.com", "invalid_domain"),
        ("mail customer.com", "invalid_domain"),
        ("user@customer.com", "invalid_domain"),
        ("https://customer.com", "invalid_domain"),
        (".", "invalid_domain"),
        ("xn--.com", "invalid_domain"),
        # Valid as a name, but `<token>._domainkey.<domain>` would pass DNS's 253 characters.
        (_long_domain(210), "too_long_for_dns_records"),
        (_long_domain(255), "too_long_for_dns_records"),
    ],
)
def test_domain_rejects(api: TestClient, tenant: Tenant, domain: str, rule: str) -> None:
    r = post(api, tenant, domain_identity=domain)
    assert_422(r, "domain_identity", rule)
    assert api.get(URL, headers=tenant.headers).json()["items"] == []


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        ({"domain_identity": "a.example.com"}, "tenant_name", "missing"),
        ({"tenant_name": "a"}, "domain_identity", "missing"),
        ({"tenant_name": 5, "domain_identity": "a.example.com"}, "tenant_name", "string_type"),
        (
            {"tenant_name": "a", "domain_identity": "a.example.com", "region": "x"},
            "region",
            "extra_forbidden",
        ),
    ],
)
def test_body_rules(api: TestClient, tenant: Tenant, body: dict[str, Any], field: str, rule: str) -> None:
    assert_422(api.post(URL, json=body, headers=tenant.headers), field, rule)


def test_malformed_json_is_422(api: TestClient, tenant: Tenant) -> None:
    r = api.post(URL, content=b"{", headers={**tenant.headers, "content-type": "application/json"})
    assert r.status_code == 422
    assert r.json()["error"] == "invalid_json"


# --- uniqueness ---------------------------------------------------------------------------------


def test_duplicate_tenant_name_is_409_in_any_organization(
    api: TestClient, make_tenant: Callable[..., Tenant]
) -> None:
    a, b = make_tenant("A"), make_tenant("B")
    create_setup(api, a, "shared-name", "a.example.com")
    for t in (a, b):
        r = post(api, t, tenant_name="shared-name", domain_identity="other.example.com")
        assert r.status_code == 409, r.text
        assert r.json()["message"] == "tenant name already exists"


def test_duplicate_domain_in_the_same_organization_is_409(api: TestClient, tenant: Tenant) -> None:
    create_setup(api, tenant, "one", "mail.customer.com")
    r = post(api, tenant, tenant_name="two", domain_identity="MAIL.customer.com.")
    assert r.status_code == 409
    assert r.json()["message"] == "domain already exists"


def test_domain_of_another_organization_is_409_without_saying_whose(
    api: TestClient, make_tenant: Callable[..., Tenant]
) -> None:
    owner, other = make_tenant("Owner Corp"), make_tenant("Other")
    setup = create_setup(api, owner, "owner-mail", "mail.customer.com")
    r = post(api, other, tenant_name="other-mail", domain_identity="mail.customer.com")
    assert r.status_code == 409
    body = r.json()
    assert body["message"] == "domain already claimed"
    text = r.text
    for leak in ("Owner Corp", "owner-mail", str(owner.organization_id), setup["id"]):
        assert leak not in text
    assert api.get(URL, headers=other.headers).json()["items"] == []
    # The IDN and its punycode are one domain.
    create_setup(api, owner, "idn", "bücher.example")
    r = post(api, other, tenant_name="other-idn", domain_identity="xn--bcher-kva.example")
    assert r.json()["message"] == "domain already claimed"


# --- tenancy and permissions -------------------------------------------------------------------


def test_another_tenants_setup_is_404_and_not_listed(
    api: TestClient, make_tenant: Callable[..., Tenant]
) -> None:
    a, b = make_tenant("A"), make_tenant("B")
    setup = create_setup(api, a)
    for method in ("GET", "DELETE"):
        r = api.request(method, f"{URL}/{setup['id']}", headers=b.headers)
        assert r.status_code == 404, (method, r.text)
    assert api.get(f"{URL}/{setup['id']}/audit", headers=b.headers).status_code == 404
    assert api.get(URL, headers=b.headers).json()["items"] == []
    assert api.get(f"{URL}/{setup['id']}", headers=a.headers).status_code == 200


def test_member_can_read_but_not_create_or_delete(
    api: TestClient, tenant: Tenant, member_of: Callable[[Tenant], Tenant]
) -> None:
    member = member_of(tenant)
    setup = create_setup(api, tenant)
    assert api.get(URL, headers=member.headers).status_code == 200
    assert api.get(f"{URL}/{setup['id']}", headers=member.headers).status_code == 200
    r = post(api, member, tenant_name="x", domain_identity="x.example.com")
    assert r.status_code == 403
    assert "channels.manage" in r.json()["message"]
    assert api.delete(f"{URL}/{setup['id']}", headers=member.headers).status_code == 403
    assert len(api.get(URL, headers=tenant.headers).json()["items"]) == 1


def test_unauthenticated_is_401(api: TestClient) -> None:
    assert api.get(URL).status_code == 401
    assert api.post(URL, json={"tenant_name": "a", "domain_identity": "a.example.com"}).status_code == 401


def test_platform_admin_names_the_organization_and_sees_all(
    api: TestClient, tenant: Tenant, platform_admin: Tenant
) -> None:
    assert_422(post(api, platform_admin), "organization_id", "required")
    r = post(api, platform_admin, organization_id=str(tenant.organization_id))
    assert r.status_code == 201, r.text
    assert r.json()["organization_id"] == str(tenant.organization_id)
    assert [i["id"] for i in api.get(URL, headers=tenant.headers).json()["items"]] == [r.json()["id"]]
    assert len(api.get(URL, headers=platform_admin.headers).json()["items"]) == 1
    r = post(
        api,
        platform_admin,
        tenant_name="x",
        domain_identity="x.example.com",
        organization_id=str(uuid.uuid4()),
    )
    assert r.status_code == 404


# --- list and get ------------------------------------------------------------------------------


def test_list_has_the_spec_fields(api: TestClient, tenant: Tenant) -> None:
    a = create_setup(api, tenant, "a", "a.example.com")
    b = create_setup(api, tenant, "b", "b.example.com")
    items = api.get(URL, headers=tenant.headers).json()["items"]
    assert [i["id"] for i in items] == [a["id"], b["id"]]
    assert set(items[0]) >= LIST_FIELDS
    assert items[0]["dns_verified"] is False
    assert items[0]["dns_checked_at"] is None


def test_get_unknown_or_malformed_id(api: TestClient, tenant: Tenant) -> None:
    r = api.get(f"{URL}/{uuid.uuid4()}", headers=tenant.headers)
    assert r.status_code == 404
    assert r.json()["error"] == "not_found"
    assert api.get(f"{URL}/not-a-uuid", headers=tenant.headers).status_code == 422
    assert api.delete(f"{URL}/{uuid.uuid4()}", headers=tenant.headers).status_code == 404


def test_get_refreshes_live_and_has_the_post_shape(
    api: TestClient, tenant: Tenant, dns_server: LocalDnsServer
) -> None:
    created = create_setup(api, tenant)
    r = api.get(f"{URL}/{created['id']}", headers=tenant.headers)
    assert r.status_code == 200
    data = r.json()
    assert set(data) == set(created)
    assert data["dns_checked_at"] is not None
    assert [(x["address"], x["record"], x["type"]) for x in data["dns_records"]] == [
        (x["address"], x["record"], x["type"]) for x in created["dns_records"]
    ]
    assert dns_server.queries == 7


# --- delete -------------------------------------------------------------------------------------


def test_delete_removes_the_setup_and_frees_its_names(api: TestClient, tenant: Tenant) -> None:
    setup = create_setup(api, tenant)
    r = api.delete(f"{URL}/{setup['id']}", headers=tenant.headers)
    assert r.status_code == 204
    assert r.content == b""
    assert api.get(f"{URL}/{setup['id']}", headers=tenant.headers).status_code == 404
    assert api.get(URL, headers=tenant.headers).json()["items"] == []
    trail = api.get(f"{URL}/{setup['id']}/audit", headers=tenant.headers).json()
    assert [e["action"] for e in trail] == ["ses_setup.deleted", "ses_setup.created"]
    create_setup(api, tenant)  # the tenant name and the domain are free again


def test_delete_is_409_while_email_use_cases_reference_it(api: TestClient, tenant: Tenant, db: Any) -> None:
    setup = create_setup(api, tenant)

    async def add_use_case(session: Any) -> uuid.UUID:
        use_case = UseCase(
            id=uuid.uuid4(),
            organization_id=tenant.organization_id,
            channel="email",
            entity_name="Acme",
            name="Receipts",
            ses_setup_id=uuid.UUID(setup["id"]),
            email_type="transactional",
            tier="onboarding",
        )
        session.add(use_case)
        return use_case.id

    use_case_id = db.session(add_use_case)
    r = api.delete(f"{URL}/{setup['id']}", headers=tenant.headers)
    assert r.status_code == 409
    assert "use cases" in r.json()["message"]
    assert api.get(f"{URL}/{setup['id']}", headers=tenant.headers).status_code == 200

    async def drop_use_case(session: Any) -> None:
        await session.delete(await session.get(UseCase, use_case_id))

    db.session(drop_use_case)
    assert api.delete(f"{URL}/{setup['id']}", headers=tenant.headers).status_code == 204

    async def count(session: Any) -> int:
        return len((await session.scalars(select(SesSetup))).all())

    assert db.session(count) == 0
