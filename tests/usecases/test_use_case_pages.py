"""Settings -> Use cases: tier badges in the list, tier history with figures on the detail page."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from switchboard.models import EmailEvent
from switchboard.models.base import utcnow
from switchboard.usecases.tasks import evaluate_all
from tests.support.tenants import Tenant
from tests.support.voice import approved_twilio_setup, email_use_case, ses_setup_row, voice_use_case
from tests.support.web import Browser


@pytest.fixture
def web(client: TestClient) -> Iterator[Browser]:
    client.cookies.clear()
    yield Browser(client)
    client.cookies.clear()


def bounce_until_suspended(db: Any, use_case_id: str) -> None:
    async def go(session: Any) -> None:
        for i in range(100):
            session.add(
                EmailEvent(
                    sns_message_id=str(uuid.uuid4()),
                    topic_arn="arn:aws:sns:us-east-1:123456789012:ses-events",
                    use_case_id=uuid.UUID(use_case_id),
                    kind="bounce" if i < 20 else "delivery",
                    subtype="Permanent" if i < 20 else None,
                    ses_message_id=f"m-{i}",
                    occurred_at=utcnow(),
                    payload={},
                )
            )

    db.session(go)
    assert db.run(evaluate_all) == 1


def test_list_shows_tier_badges_and_detail_shows_history(
    client: TestClient, web: Browser, tenant: Tenant, db: Any
) -> None:
    suspended = email_use_case(client, tenant, ses_setup_row(db, tenant), name="News")
    fresh = email_use_case(client, tenant, ses_setup_row(db, tenant), name="Receipts")
    voice = voice_use_case(client, tenant, approved_twilio_setup(client, db, tenant)["id"], name="Calls")
    bounce_until_suspended(db, suspended["id"])
    web.login(tenant)
    page = web.get("/settings/use-cases")
    assert page.status_code == 200
    html = page.text
    assert 'href="/settings/use-cases"' in html  # in the navigation
    assert ">Suspended</span>" in html
    assert ">Onboarding</span>" in html
    assert html.count('data-testid="tier-badge"') == 2  # voice use cases have no tier
    assert f"/settings/use-cases/{voice['id']}" in html

    detail = web.get(f"/settings/use-cases/{suspended['id']}").text
    assert 'data-testid="tier-history"' in detail
    assert "bounce rate 20% &gt;= 10%" in detail
    assert "24h: 100 sends, 20 bounces, 0 complaints" in detail
    assert "shared-transactional" in detail
    assert 'data-testid="daily-cap">200<' in detail
    assert 'data-testid="reputation-warning"' in detail
    assert "1,000" in web.get(f"/settings/use-cases/{fresh['id']}").text

    voice_page = web.get(f"/settings/use-cases/{voice['id']}").text
    assert "Outbound voice" in voice_page
    assert "tier-history" not in voice_page


def test_other_tenants_use_case_page_is_404(
    client: TestClient, web: Browser, make_tenant: Callable[..., Tenant], db: Any
) -> None:
    a, b = make_tenant(), make_tenant()
    theirs = email_use_case(client, a, ses_setup_row(db, a))
    web.login(b)
    assert web.get(f"/settings/use-cases/{theirs['id']}").status_code == 404
    assert web.get("/settings/use-cases/not-a-uuid").status_code == 404
    assert 'data-testid="empty-state"' in web.get("/settings/use-cases").text


def test_pages_need_a_session(client: TestClient, web: Browser) -> None:
    r = web.get("/settings/use-cases", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login")
