"""Managed channel onboarding end to end in headless Chromium, with a real worker process, a local DNS
server and a local SMTP server: a tenant requests Managed Email and an admin provisions, issues DNS
records and activates it; and a request rejected with a reason, resubmitted and approved."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.dns_fixtures import dns_server  # noqa: F401
from tests.support.dns_server import LocalDnsServer
from tests.support.jobs import JobRunner, job_runner, jobs  # noqa: F401
from tests.support.onboarding import publish
from tests.support.smtp import SmtpSink, smtp_server  # noqa: F401
from tests.support.tenants import Tenant
from tests.support.worker import StartWorker, start_worker, worker_logs  # noqa: F401

pytestmark = pytest.mark.browser

Shot = Callable[[str], Path]


@pytest.fixture
def admin_page(
    browser: Browser, live_server: str, request: pytest.FixtureRequest
) -> Iterator[tuple[Page, Shot]]:
    """The platform admin's own browser (a second context), with screenshots named like the tenant's."""
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 860})
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    folder = Path(request.config.rootpath) / "test-artifacts" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    test = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)

    def shot(step: str) -> Path:
        path = folder / f"{test}-admin-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        request.node.user_properties.append(("screenshot", str(path)))
        return path

    yield page, shot
    context.close()
    assert not problems, f"browser errors: {problems}"


@pytest.fixture
def worker(
    start_worker: StartWorker,  # noqa: F811
    dns_server: LocalDnsServer,  # noqa: F811
    smtp_server: SmtpSink,  # noqa: F811
    jobs: JobRunner,  # noqa: F811 (used to empty the queue first)
    tmp_path: Path,
) -> Path:
    """A worker process that resolves through the local DNS server and mails through the local SMTP."""
    start_worker(
        SWITCHBOARD_DNS_NAMESERVERS=dns_server.nameserver,
        SWITCHBOARD_DNS_TIMEOUT="2",
        SWITCHBOARD_SMTP_URL=smtp_server.url,
    )
    return tmp_path


def sign_in(page: Page, who: Tenant, path: str) -> None:
    page.goto(path)
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("E-mail").fill(who.email)
    page.get_by_label("Password").fill(who.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(path.split("?")[0])))


def reload_until(page: Page, ready: Callable[[], bool], what: str, logs: Path, timeout: float = 90) -> None:
    """The pages say "reload to see progress": do that until the background job has finished."""
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; worker logs:\n{worker_logs(logs)}")
        time.sleep(0.5)
        page.reload()


def wait_for_mail(smtp: SmtpSink, subject: str, logs: Path, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for received in smtp.messages:
            if received.message["Subject"] == subject:
                return received
        time.sleep(0.2)
    raise AssertionError(
        f"no email {subject!r}; got {[m.message['Subject'] for m in smtp.messages]}\n{worker_logs(logs)}"
    )


def fill_business_info(page: Page, website: str) -> None:
    page.get_by_label("Company name").fill("Acme Ltd")
    page.get_by_label("Website").fill(website)
    page.get_by_label("Vertical").select_option("retail")
    page.get_by_label("Expected monthly volume").fill("20000")
    page.get_by_label("Use case").fill("Order updates and delivery notifications")
    page.get_by_label("Notes").fill("Two stores, one brand")


def open_request(page: Page, company: str, channel: str) -> None:
    """From the Channel Onboarding queue, open the request."""
    page.goto("/admin/onboarding")
    row = (
        page.get_by_test_id("onboarding-queue").locator("tbody tr", has_text=channel).filter(has_text=company)
    )
    expect(row.first).to_be_visible()
    row.first.get_by_role("link", name="Review").click()
    expect(page.get_by_role("heading", name=re.compile(f"Managed {channel}"))).to_be_visible()


def click_action(page: Page, name: str, flash: str) -> None:
    page.get_by_test_id("actions").get_by_role("button", name=name).click()
    expect(page.get_by_role("status").filter(has_text=flash)).to_be_visible()


def test_managed_email_from_request_to_active(
    page: Page,
    screenshot: Shot,
    admin_page: tuple[Page, Shot],
    make_tenant: Any,
    platform_admin: Tenant,
    live_server: str,
    worker: Path,
    dns_server: LocalDnsServer,  # noqa: F811
    smtp_server: SmtpSink,  # noqa: F811
) -> None:
    tenant = make_tenant("Acme Shops")
    admin, admin_shot = admin_page

    # The tenant asks for Managed Email in the setup wizard (BYOM is off: only Managed is offered).
    sign_in(page, tenant, "/settings/channels/managed/new?channel=email")
    expect(page.get_by_test_id("byom-unavailable")).to_contain_text("byom_allowed.email")
    fill_business_info(page, "https://www.acme-shops.example")
    screenshot("1-wizard-filled")
    page.get_by_role("button", name="Request Managed Email").click()
    expect(page.get_by_text("Your Managed Email request was sent for review.")).to_be_visible()
    expect(page.get_by_test_id("request-status")).to_have_text("Pending")
    request_url = page.url
    request_id = request_url.rsplit("/", 1)[1]
    screenshot("2-pending")

    # The admin reviews and provisions it.
    sign_in(admin, platform_admin, "/admin/onboarding")
    open_request(admin, "Acme Ltd", "Email")
    expect(admin.get_by_test_id("business-info")).to_contain_text("Order updates and delivery notifications")
    admin_shot("1-detail")
    click_action(admin, "Start review", "Review started.")
    click_action(admin, "Provision", "Provisioning started")
    issue = admin.get_by_test_id("actions").get_by_role("button", name="Issue DNS records")
    reload_until(admin, issue.is_visible, "provisioning to finish", worker)
    expect(admin.get_by_test_id("steps").get_by_text("Succeeded")).to_have_count(2)
    admin_shot("2-provisioned")
    click_action(admin, "Issue DNS records", "DNS records issued")
    expect(admin.get_by_test_id("request-status")).to_have_text("DNS setup")

    # The tenant sees the records, publishes them (the test's DNS server plays its DNS provider), confirms.
    page.goto(request_url)
    expect(page.get_by_test_id("dns-records")).to_contain_text("_dmarc.acme-shops.example")
    screenshot("3-dns-records")
    with httpx.Client(base_url=live_server, headers=tenant.headers, timeout=10) as api:
        records = api.get(f"/rest/v1/onboarding/requests/{request_id}").json()["dns_records"]
    assert len(records) == 7
    publish(dns_server, records)
    page.get_by_role("button", name="I've added these records").click()
    expect(page.get_by_text("We are checking your DNS records now")).to_be_visible()
    reload_until(page, page.get_by_test_id("dns-verified").is_visible, "DNS verification", worker)
    expect(page.get_by_test_id("dns-records").get_by_text("Verified")).to_have_count(7)
    screenshot("4-dns-verified")

    # The admin activates it.
    admin.reload()
    expect(admin.get_by_test_id("dns-verified")).to_be_visible()
    click_action(admin, "Activate", "Activated")
    expect(admin.get_by_test_id("request-status")).to_have_text("Active")
    admin_shot("3-active")

    # The tenant's channel is active in its workspace, and its admin got the email.
    page.goto(request_url)
    expect(page.get_by_test_id("active-notice")).to_be_visible()
    page.get_by_role("link", name="See it in Channels").click()
    row = page.get_by_test_id("channels-table").locator("tbody tr", has_text="Acme Ltd Email (managed)")
    expect(row).to_contain_text("Active")
    expect(row).to_contain_text("Connected")
    screenshot("5-channel-active")
    mail = wait_for_mail(smtp_server, "Your managed Email channel is active", worker)
    assert mail.recipients == [tenant.email]
    assert "Acme Ltd Email (managed)" in mail.message.get_payload()


def test_rejected_then_resubmitted_then_approved(
    page: Page,
    screenshot: Shot,
    admin_page: tuple[Page, Shot],
    make_tenant: Any,
    platform_admin: Tenant,
    worker: Path,
    smtp_server: SmtpSink,  # noqa: F811
) -> None:
    tenant = make_tenant("Newco")
    admin, admin_shot = admin_page
    sign_in(page, tenant, "/settings/channels/managed/new?channel=sms")
    fill_business_info(page, "https://brand-new-shop.example")
    page.get_by_role("button", name="Request Managed SMS").click()
    expect(page.get_by_test_id("request-status")).to_have_text("Pending")
    request_url = page.url

    # Rejected with a common reason and a note.
    sign_in(admin, platform_admin, "/admin/onboarding")
    open_request(admin, "Acme Ltd", "SMS")
    form = admin.get_by_test_id("reject-form")
    form.get_by_label("Reason").select_option("Website less than 3 months old")
    form.get_by_label("Details for the tenant").fill("The domain was registered last week.")
    admin_shot("1-reject")
    form.get_by_role("button", name="Reject request").click()
    expect(
        admin.get_by_role("status").filter(has_text="Rejected: the tenant sees the reason")
    ).to_be_visible()
    expect(admin.get_by_test_id("request-status")).to_have_text("Rejected")

    # The tenant sees why, corrects the website, resubmits.
    page.goto(request_url)
    expect(page.get_by_test_id("rejection-reason")).to_have_text(
        "Website less than 3 months old: The domain was registered last week."
    )
    screenshot("1-rejected")
    resubmit = page.get_by_test_id("resubmit-form")
    resubmit.get_by_label("Website").fill("https://acme-since-2015.example")
    resubmit.get_by_role("button", name="Resubmit request").click()
    expect(page.get_by_text("Your request was resubmitted for review.")).to_be_visible()
    expect(page.get_by_test_id("request-status")).to_have_text("Pending")
    expect(page.get_by_test_id("revisions")).to_contain_text("Revision 2")
    screenshot("2-resubmitted")

    # Approved this time: reviewed, provisioned, activated.
    admin.reload()
    expect(admin.get_by_test_id("business-info")).to_contain_text("https://acme-since-2015.example")
    click_action(admin, "Start review", "Review started.")
    click_action(admin, "Provision", "Provisioning started")
    activate = admin.get_by_test_id("actions").get_by_role("button", name="Activate")
    reload_until(admin, activate.is_visible, "provisioning to finish", worker)
    click_action(admin, "Activate", "Activated")
    admin_shot("2-active")

    page.goto(request_url)
    expect(page.get_by_test_id("request-status")).to_have_text("Active")
    screenshot("3-active")
    rejection = wait_for_mail(smtp_server, "Your managed SMS request was not approved", worker)
    assert "Website less than 3 months old" in rejection.message.get_payload()
    wait_for_mail(smtp_server, "Your managed SMS channel is active", worker)
