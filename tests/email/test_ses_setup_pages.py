"""Settings -> Email domains through its forms, as a browser without JavaScript would use it."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.dns_server import LocalDnsServer
from tests.support.ses_setups import URL, create_setup, publish
from tests.support.tenants import Tenant
from tests.support.web import Browser

PAGES = "/settings/email-domains"


@pytest.fixture
def web(api: TestClient) -> Iterator[Browser]:
    api.cookies.clear()
    yield Browser(api)
    api.cookies.clear()


def statuses(page: str) -> list[str]:
    return re.findall(r'data-testid="record-status">([^<]+)<', page)


def reasons(page: str) -> list[str]:
    return [html.unescape(r) for r in re.findall(r'data-testid="record-reason">([^<]+)<', page)]


def setup_id_from(location: str) -> str:
    match = re.fullmatch(rf"{PAGES}/([0-9a-f-]{{36}})", location)
    assert match, location
    return match.group(1)


def test_nav_links_to_email_domains_and_the_empty_list_offers_add(web: Browser, tenant: Tenant) -> None:
    web.login(tenant)
    page = web.get(PAGES).text
    assert f'href="{PAGES}"' in page
    assert ">Email domains</a>" in page
    assert 'data-testid="empty-state"' in page
    assert f'href="{PAGES}/new"' in page


def test_add_domain_then_see_the_seven_records_with_copy_buttons(
    web: Browser, tenant: Tenant, dns_server: LocalDnsServer
) -> None:
    web.login(tenant)
    assert "Tenant name" in web.get(f"{PAGES}/new").text
    r = web.post(f"{PAGES}/new", {"tenant_name": "acme-mail", "domain_identity": "Mail.Customer.com"})
    assert r.status_code == 303, r.text
    setup_id = setup_id_from(r.headers["location"])
    page = web.get(r.headers["location"]).text
    assert "mail.customer.com added" in page  # the flash
    api_view = web.client.get(f"{URL}", headers=tenant.headers).json()["items"][0]
    assert api_view["id"] == setup_id
    names = re.findall(r'data-testid="record-name">([^<]+)<', page)
    values = [html.unescape(v) for v in re.findall(r'data-testid="record-value">([^<]+)<', page)]
    assert len(names) == len(values) == 7
    assert values[3:] == [
        "10 feedback-smtp.us-east-1.amazonses.com",
        "v=spf1 include:amazonses.com ~all",
        "v=DMARC1; p=none",
        "10 inbound-smtp.us-east-1.amazonaws.com",
    ]
    for value in values:
        assert f'data-copy="{html.escape(value)}"' in page
    assert page.count("js-clipboard") == 14  # a copy button for every name and every value
    assert statuses(page) == ["Not checked"] * 7
    assert dns_server.queries == 0  # showing the page does not query DNS
    listing = web.get(PAGES).text
    assert "mail.customer.com" in listing
    assert "Not checked yet" in listing


def test_check_now_runs_the_live_refresh(web: Browser, tenant: Tenant, dns_server: LocalDnsServer) -> None:
    setup = create_setup(web.client, tenant)
    web.login(tenant)
    detail = f"{PAGES}/{setup['id']}"
    publish(dns_server, setup["dns_records"], skip=("dmarc",))
    r = web.post(f"{detail}/check")
    assert r.status_code == 303
    page = web.get(detail).text
    assert "6 of 7 DNS records verified" in page  # the flash
    assert statuses(page) == ["Verified"] * 5 + ["Not verified", "Verified"]
    assert reasons(page) == [
        "No DMARC (TXT) record found at _dmarc.mail.customer.com: the name does not exist. "
        "Add TXT `v=DMARC1; p=none` at your DNS provider."
    ]
    publish(dns_server, setup["dns_records"])
    web.post(f"{detail}/check")
    page = web.get(detail).text
    assert "All 7 DNS records are verified." in page
    assert statuses(page) == ["Verified"] * 7
    assert 'data-testid="verification-badge">Verified<' in web.get(PAGES).text


def test_check_now_needs_the_csrf_token(web: Browser, tenant: Tenant, dns_server: LocalDnsServer) -> None:
    setup = create_setup(web.client, tenant)
    web.login(tenant)
    r = web.post(f"{PAGES}/{setup['id']}/check", csrf="")
    assert r.status_code == 403
    assert dns_server.queries == 0


def test_form_errors_are_shown_by_the_field(web: Browser, tenant: Tenant, make_tenant: Any) -> None:
    web.login(tenant)
    r = web.post(f"{PAGES}/new", {"tenant_name": "bad name", "domain_identity": "-x.example.com"})
    assert r.status_code == 422
    assert "Use only letters, digits, hyphens and underscores." in r.text
    assert "must not start or end with a hyphen" in html.unescape(r.text)
    assert 'value="bad name"' in r.text  # what was typed stays
    other = make_tenant("Other")
    create_setup(web.client, other, "theirs", "claimed.example.com")
    r = web.post(f"{PAGES}/new", {"tenant_name": "mine", "domain_identity": "claimed.example.com"})
    assert r.status_code == 409
    assert "Domain already claimed." in r.text
    assert "theirs" not in r.text
    assert web.client.get(URL, headers=tenant.headers).json()["items"] == []


def test_delete_asks_first_then_removes(web: Browser, tenant: Tenant) -> None:
    setup = create_setup(web.client, tenant)
    web.login(tenant)
    page = web.get(f"{PAGES}/{setup['id']}/delete").text
    assert "Delete email domain?" in page
    assert web.client.get(URL, headers=tenant.headers).json()["items"]  # asking deletes nothing
    r = web.post(f"{PAGES}/{setup['id']}/delete")
    assert r.status_code == 303
    assert r.headers["location"] == PAGES
    assert "mail.customer.com deleted." in web.get(PAGES).text
    assert web.client.get(URL, headers=tenant.headers).json()["items"] == []


def test_members_see_domains_but_cannot_add_or_delete(web: Browser, tenant: Tenant, member_of: Any) -> None:
    setup = create_setup(web.client, tenant)
    member = member_of(tenant)
    web.login(member)
    listing = web.get(PAGES).text
    assert "mail.customer.com" in listing
    assert f'href="{PAGES}/new"' not in listing
    detail = web.get(f"{PAGES}/{setup['id']}").text
    assert "Check now" in detail
    assert f"{setup['id']}/delete" not in detail
    assert web.get(f"{PAGES}/new").status_code == 403
    assert web.post(f"{PAGES}/{setup['id']}/delete").status_code == 403
    assert web.client.get(URL, headers=tenant.headers).json()["items"]


def test_another_tenants_domain_is_not_found(web: Browser, tenant: Tenant, make_tenant: Any) -> None:
    other = make_tenant("Other")
    setup = create_setup(web.client, other)
    web.login(tenant)
    assert web.get(f"{PAGES}/{setup['id']}").status_code == 404
    assert web.post(f"{PAGES}/{setup['id']}/check").status_code == 404
    assert web.post(f"{PAGES}/{setup['id']}/delete").status_code == 404
    assert "mail.customer.com" not in web.get(PAGES).text
