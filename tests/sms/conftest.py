"""SMS fixtures: the Twilio SMS emulator, the app's SMS service pointed at it (live mode) or at the
sandbox, and a destination (workspace, knowledge base, agent) to connect numbers to."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from switchboard.core.config import Settings
from switchboard.models import Agent, KnowledgeBase, Organization, Workspace
from switchboard.sms import tasks
from switchboard.sms.provider import SandboxSmsProvider, TwilioSmsProvider
from switchboard.sms.service import SmsService
from tests.emulators.twilio_sms import TwilioSmsEmulator
from tests.support.tenants import Tenant

VERIFY_FROM = "+14155550999"


@pytest.fixture(scope="session")
def twilio_server() -> Iterator[TwilioSmsEmulator]:
    with TwilioSmsEmulator() as emulator:
        yield emulator


@pytest.fixture
def twilio(twilio_server: TwilioSmsEmulator) -> Iterator[TwilioSmsEmulator]:
    twilio_server.reset()
    twilio_server.prices["US"] = ("1.15", "USD")
    yield twilio_server
    twilio_server.reset()


def live_provider(emulator: TwilioSmsEmulator) -> TwilioSmsProvider:
    return TwilioSmsProvider(
        account_sid=emulator.account_sid,
        auth_token=emulator.auth_token,
        api_base_url=emulator.url,
        messaging_base_url=emulator.url,
        trusthub_base_url=emulator.url,
        pricing_base_url=emulator.url,
        numbers_base_url=emulator.url,
        customer_profile_policy_sid="RNcustomerprofile",
        a2p_profile_policy_sid="RNa2pprofile",
        timeout=5.0,
    )


def sms_service(client: TestClient) -> SmsService:
    svc: SmsService = client.app.state.sms  # type: ignore[attr-defined]
    return svc


@pytest.fixture
def sandbox(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> SandboxSmsProvider:
    """The app (and the jobs) on a fresh sandbox provider."""
    provider = SandboxSmsProvider()
    monkeypatch.setattr(sms_service(client), "provider", provider)
    monkeypatch.setattr(tasks, "provider_for", lambda _settings: provider)
    return provider


@pytest.fixture
def live(
    client: TestClient, settings: Settings, twilio: TwilioSmsEmulator, monkeypatch: pytest.MonkeyPatch
) -> TwilioSmsEmulator:
    """The app (and the jobs) on the live Twilio adapter, speaking HTTP to the emulator; webhooks are
    verified with the emulator account's auth token."""
    provider = live_provider(twilio)
    monkeypatch.setattr(sms_service(client), "provider", provider)
    monkeypatch.setattr(tasks, "provider_for", lambda _settings: provider)
    monkeypatch.setattr(settings, "twilio_auth_token", twilio.auth_token)
    monkeypatch.setattr(settings, "sms_verification_from", VERIFY_FROM)
    twilio.add_incoming(VERIFY_FROM)
    return twilio


@dataclass
class Destination:
    workspace_id: str
    knowledge_base_id: str | None
    agent_id: str


@pytest.fixture
def make_destination(db: Any) -> Callable[..., Destination]:
    """The tenant's Default workspace with a knowledge base and an agent linked to it (rows written
    directly: the destinations API has its own tests)."""

    def make(
        t: Tenant, *, kb: bool = True, agent_name: str | None = None, kb_name: str | None = None
    ) -> Destination:
        async def go(session: Any) -> Destination:
            ws = await session.scalar(select(Workspace).where(Workspace.organization_id == t.organization_id))
            kb_row = None
            if kb:
                kb_row = KnowledgeBase(
                    id=uuid.uuid4(),
                    organization_id=t.organization_id,
                    workspace_id=ws.id,
                    name=kb_name or f"KB {uuid.uuid4().hex[:6]}",
                )
                session.add(kb_row)
                await session.flush()
            agent = Agent(
                id=uuid.uuid4(),
                organization_id=t.organization_id,
                workspace_id=ws.id,
                knowledge_base_id=kb_row.id if kb_row else None,
                name=agent_name or f"Agent {uuid.uuid4().hex[:6]}",
            )
            session.add(agent)
            return Destination(str(ws.id), str(kb_row.id) if kb_row else None, str(agent.id))

        return db.session(go)

    return make


@pytest.fixture
def connect(client: TestClient) -> Callable[..., dict[str, Any]]:
    """POST /channels/sms/connect (mode new by default); asserts 201 and returns the connection."""

    def go(t: Tenant, dest: Destination, phone: str, **extra: Any) -> dict[str, Any]:
        body = {
            "mode": "new",
            "phone_number": phone,
            "workspace_id": dest.workspace_id,
            "agent_id": dest.agent_id,
        } | extra
        r = client.post("/channels/sms/connect", json=body, headers=t.headers)
        assert r.status_code == 201, r.text
        return r.json()

    return go


@pytest.fixture
def allow_byom(db: Any) -> Callable[[Tenant], None]:
    """Turn the organization's byom_allowed.sms flag on (as a platform admin would)."""

    def allow(t: Tenant) -> None:
        async def go(session: Any) -> None:
            org = await session.get(Organization, t.organization_id)
            org.meta = {**(org.meta or {}), "channels": {"sms": {"byom_allowed": True}}}

        db.session(go)

    return allow


def complete_compliance(brand_name: str = "Acme Widgets") -> dict[str, Any]:
    """A payload that passes the precheck."""
    return {
        "brand": {
            "entity": "PRIVATE_PROFIT",
            "vertical": "RETAIL",
            "displayName": brand_name,
            "companyName": f"{brand_name} Inc",
            "registrationNumber": "12-3456789",
            "brandType": "STANDARD",
            "contactPhone": "+14155552671",
            "contactEmail": "compliance@acme-widgets.example.com",
            "website": "https://acme-widgets.example.com",
            "address": "1 Market St",
            "country": "US",
            "state": "CA",
            "city": "San Francisco",
            "zipCode": "94105",
        },
        "campaign": {
            "campaignDescription": f"Order updates and delivery notices from {brand_name} to its customers.",
            "messageFlow": "Customers opt in by ticking an unchecked consent checkbox on our web form.",
            "privacyPolicyUrl": "https://acme-widgets.example.com/privacy",
            "useCaseType": "ACCOUNT_NOTIFICATION",
            "messageSamples": [
                f"{brand_name}: your order 1234 has shipped. Reply STOP to opt out.",
                f"{brand_name}: your order 1234 was delivered today. Thanks for shopping!",
                f"{brand_name}: we received your return request for order 77.",
                f"{brand_name}: your refund of 20 dollars was issued to your card.",
                f"{brand_name}: your account password was changed this morning.",
            ],
            "optInKeywords": ["START"],
            "optInMessage": f"{brand_name}: you are subscribed to order alerts. Msg frequency varies. "
            "Msg & data rates may apply.",
            "optOutKeywords": ["STOP", "END"],
            "optOutMessage": f"{brand_name}: you are unsubscribed and will get no more messages.",
            "helpKeywords": ["HELP"],
            "helpMessage": f"{brand_name}: for help email support@acme-widgets.example.com.",
            "numberPooling": False,
            "directLending": False,
            "embeddedLink": False,
            "embeddedPhone": False,
            "ageGatedContent": False,
            "termsAndConditions": True,
        },
    }
