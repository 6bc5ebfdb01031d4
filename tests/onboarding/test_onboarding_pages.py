"""The onboarding pages through their forms, as a browser without JavaScript would use them: the
tenant's wizard and status page, the admin queue, detail, power card, outbox, and the outlets page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.jobs import JobRunner
from tests.support.onboarding import business_info, request_channel
from tests.support.tenants import Tenant
from tests.support.web import Browser

INFO = {k: str(v) for k, v in business_info().items()}


@pytest.fixture
def web(client: TestClient) -> Iterator[Browser]:
    client.cookies.clear()
    yield Browser(client)
    client.cookies.clear()


def flash(web: Browser, path: str) -> str:
    page = web.get(path).text
    match = re.search(r'class="alert alert-(\w+) alert-dismissible[^>]*>\s*([^<]+)', page)
    return f"{match.group(1)}: {match.group(2).strip()}" if match else ""


def version_on(html: str) -> str:
    match = re.search(r'data-testid="request-version">(\d+)<', html)
    assert match
    return match.group(1)


def test_wizard_offers_only_managed_until_a_platform_admin_allows_byom(
    web: Browser, tenant: Tenant, platform_admin: Tenant
) -> None:
    web.login(tenant)
    page = web.get("/settings/channels/managed/new?channel=whatsapp").text
    assert 'data-testid="managed-path"' in page
    assert 'data-testid="byom-unavailable"' in page
    assert "byom_allowed.whatsapp" in page
    assert 'data-testid="byom-path"' not in page
    assert "/settings/channels/new/whatsapp_lite" not in page
    assert 'data-testid="byom-preferences"' not in page
    # The BYOM form itself is refused as well, naming the flag.
    r = web.get("/settings/channels/new/whatsapp_lite")
    assert r.status_code == 403
    assert "byom_allowed.whatsapp" in r.text

    web.login(platform_admin)
    card = web.get(f"/admin/organizations/{tenant.organization_id}").text
    assert 'data-testid="byom-power-card"' in card
    assert card.count('role="switch"') == 4
    for flag in ("whatsapp", "sms", "email", "rcs"):
        assert f'name="byom_allowed.{flag}"' in card
    r = web.post(f"/admin/organizations/{tenant.organization_id}/byom", {"byom_allowed.whatsapp": "on"})
    assert r.status_code == 303
    assert "byom_allowed.whatsapp on" in flash(web, r.headers["location"])
    card = web.get(f"/admin/organizations/{tenant.organization_id}").text
    assert 'id="byom-whatsapp" name="byom_allowed.whatsapp" checked' in card
    assert 'id="byom-sms" name="byom_allowed.sms">' in card

    web.login(tenant)
    page = web.get("/settings/channels/managed/new?channel=whatsapp").text
    assert 'data-testid="byom-path"' in page
    assert "/settings/channels/new/whatsapp_lite" in page
    assert "/settings/channels/new/whatsapp_cloud" in page
    assert 'data-testid="byom-preferences"' in page
    assert "Customer perception rule" in page
    assert "Sender pin override" in page
    r = web.post(
        "/settings/channels/managed/preferences", {"channel": "whatsapp", "perception_rule": "per_outlet"}
    )
    assert r.status_code == 303
    assert 'value="per_outlet" selected' in web.get("/settings/channels/managed/new?channel=whatsapp").text
    # SMS stays Managed-only.
    page = web.get("/settings/channels/managed/new?channel=sms").text
    assert 'data-testid="byom-path"' not in page
    assert web.post("/settings/channels/managed/preferences", {"channel": "sms"}).status_code == 403


def test_request_managed_email_through_the_form(web: Browser, tenant: Tenant) -> None:
    web.login(tenant)
    r = web.post(
        "/settings/channels/managed/new", {"channel": "email", "company_name": "", "website": "nope"}
    )
    assert r.status_code == 422
    assert "Please correct the highlighted fields." in r.text
    assert 'id="b-company_name-error"' in r.text
    assert 'id="b-website-error"' in r.text
    assert 'value="nope"' in r.text  # what was typed is kept
    r = web.post("/settings/channels/managed/new", {"channel": "email", **INFO})
    assert r.status_code == 303
    status_url = r.headers["location"]
    page = web.get(status_url).text
    assert "Your Managed Email request was sent for review." in page
    assert ">Pending<" in page
    assert "waiting for review" in page
    # The wizard now points at the open request instead of a second form.
    wizard = web.get("/settings/channels/managed/new?channel=email").text
    assert f'href="{status_url}"' in wizard
    assert 'data-testid="managed-form"' not in wizard
    assert status_url in web.get("/settings/channels/managed").text


def test_admin_queue_detail_actions_and_a_stale_page(
    web: Browser, tenant: Tenant, platform_admin: Tenant, client: TestClient
) -> None:
    rid = request_channel(client, tenant, "sms")["id"]
    web.login(platform_admin)
    queue = web.get("/admin/onboarding").text
    row = queue[queue.index(f'id="request-{rid}"') :].split("</tr>", 1)[0]
    for text in ("Acme", str(tenant.organization_id), "SMS", "Acme Ltd", "acme-shop.example", "20,000/month"):
        assert text in row
    assert ">Pending<" in row
    assert f'id="request-{rid}"' not in web.get("/admin/onboarding?channel=email").text
    assert f'id="request-{rid}"' in web.get("/admin/onboarding?status=pending&sort=asc").text
    assert web.get("/admin/onboarding?status=bogus").status_code == 422

    detail = web.get(f"/admin/onboarding/{rid}").text
    assert "Order updates and delivery notifications" in detail  # use case
    assert "Two stores, one brand" in detail  # notes
    assert version_on(detail) == "1"
    for reason in ("Website less than 3 months old", "Business verification failed", "Prohibited use case"):
        assert reason in detail
    r = web.post(f"/admin/onboarding/{rid}/start", {"version": "1"})
    assert r.status_code == 303
    assert flash(web, r.headers["location"]) == "success: Review started."
    # Another admin's tab still shows version 1: its action is refused with what changed.
    r = web.post(f"/admin/onboarding/{rid}/reject", {"version": "1", "reason_choice": "Prohibited use case"})
    message = flash(web, r.headers["location"])
    assert message.startswith("warning: This request changed since you loaded it")
    assert "in_progress" in message
    # Without a reason the tenant would learn nothing: refused.
    r = web.post(
        f"/admin/onboarding/{rid}/reject", {"version": "2", "reason_choice": "other", "reason_text": " "}
    )
    assert flash(web, r.headers["location"]).startswith("danger:")
    r = web.post(
        f"/admin/onboarding/{rid}/reject",
        {
            "version": "2",
            "reason_choice": "Business verification failed",
            "reason_text": "Tax id does not match",
        },
    )
    assert flash(web, r.headers["location"]).startswith("success: Rejected")
    detail = web.get(f"/admin/onboarding/{rid}").text
    assert "Rejected: Business verification failed: Tax id does not match" in detail
    assert "pending → in_progress" in detail  # the audit trail
    assert "in_progress → rejected" in detail

    web.login(tenant)
    status = web.get(f"/settings/channels/managed/{rid}").text
    assert "Business verification failed: Tax id does not match" in status
    assert 'data-testid="resubmit-form"' in status
    assert 'value="Acme Ltd"' in status  # prefilled
    r = web.post(f"/settings/channels/managed/{rid}/resubmit", {**INFO, "notes": "Tax id corrected"})
    assert r.status_code == 303
    status = web.get(f"/settings/channels/managed/{rid}").text
    assert ">Pending<" in status
    assert "Revision 2" in status
    assert "Rejected: Business verification failed" in status  # revision 1's history


def test_admin_pages_are_for_platform_admins_only(web: Browser, tenant: Tenant, client: TestClient) -> None:
    rid = request_channel(client, tenant, "push")["id"]
    web.login(tenant)
    for path in ("/admin/onboarding", f"/admin/onboarding/{rid}", "/admin/organizations", "/admin/outbox"):
        assert web.get(path).status_code == 403, path
    r = web.post(f"/admin/onboarding/{rid}/start", {"version": "1"})
    assert r.status_code == 403
    r = web.post(f"/admin/organizations/{tenant.organization_id}/byom", {"byom_allowed.sms": "on"})
    assert r.status_code == 403
    assert "Admin" not in web.get("/settings/channels/managed").text.split("</nav>")[0]


def test_outbox_page_shows_emails_waiting_without_smtp(
    web: Browser, tenant: Tenant, platform_admin: Tenant, client: TestClient, settings: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(settings, "smtp_url", "")
    rid = request_channel(client, tenant, "rcs")["id"]
    web.login(platform_admin)
    web.post(f"/admin/onboarding/{rid}/reject", {"version": "1", "reason_choice": "Prohibited use case"})
    page = web.get("/admin/outbox").text
    assert 'data-testid="no-smtp"' in page
    assert "Your managed RCS request was not approved" in page
    assert f"to {tenant.email}" in page
    assert "Reason: Prohibited use case" in page
    assert "Your managed RCS request" not in web.get("/admin/outbox?status=sent").text


def test_dns_records_show_in_the_wizard_and_confirming_queues_a_check(
    web: Browser, tenant: Tenant, platform_admin: Tenant, client: TestClient, jobs: JobRunner
) -> None:
    rid = request_channel(client, tenant, "email")["id"]
    web.login(platform_admin)
    web.post(f"/admin/onboarding/{rid}/start", {"version": "1"})
    web.post(f"/admin/onboarding/{rid}/provision", {"version": "2"})
    jobs.run()
    detail = web.get(f"/admin/onboarding/{rid}").text
    steps = detail.split('data-testid="steps"', 1)[1].split("</table>", 1)[0]
    assert steps.count(">Succeeded<") == 2
    assert ">Issue DNS records<" in detail
    web.post(f"/admin/onboarding/{rid}/issue_dns", {"version": version_on(detail)})
    web.login(tenant)
    page = web.get(f"/settings/channels/managed/{rid}").text
    assert 'data-testid="dns-records"' in page
    assert "_dmarc.acme-shop.example" in page
    assert "v=spf1 include:amazonses.com ~all" in page
    assert ">Not checked<" in page
    r = web.post(f"/settings/channels/managed/{rid}/confirm-dns")
    assert "checking your DNS records" in flash(web, r.headers["location"])
    assert jobs.pending() == ["verify_onboarding_dns"]


def test_outlets_page_shows_routing_once_there_is_more_than_one_sender(
    web: Browser, tenant: Tenant, platform_admin: Tenant, client: TestClient, jobs: JobRunner
) -> None:
    web.login(tenant)
    web.post("/settings/outlets", {"name": "Downtown"})
    web.post("/settings/outlets", {"name": "Harbour"})
    assert 'data-testid="routing-sms"' not in web.get("/settings/outlets").text
    rid = request_channel(client, tenant, "sms")["id"]
    headers = platform_admin.headers
    for action, version in (("start", 1), ("provision", 2)):
        client.post(
            f"/rest/v1/admin/onboarding/requests/{rid}/{action}", json={"version": version}, headers=headers
        )
    jobs.run()
    client.post(f"/rest/v1/admin/onboarding/requests/{rid}/activate", json={"version": 3}, headers=headers)
    jobs.run()
    page = web.get("/settings/outlets").text
    # Two senders, BYOM still off: the routing settings are there.
    assert 'data-testid="routing-sms"' in page
    assert 'data-testid="routing-whatsapp"' not in page
    assert page.count("Included") == 2
    sender_ids = re.findall(r'name="sender_id" value="([0-9a-f-]+)"', page)
    outlet_ids = re.findall(r'<option value="([0-9a-f-]+)"', page)
    r = web.post(
        "/settings/outlets/routing",
        {"channel": "sms", "sender_id": sender_ids[1], "outlet_id": outlet_ids[0], "primary": "on"},
    )
    assert flash(web, r.headers["location"]) == "success: Routing saved."
    downtown = web.get("/settings/outlets").text.split('data-outlet="Downtown"', 1)[1].split("</li>", 1)[0]
    assert downtown.count("font-monospace") == 2  # it now has both senders
