"""Sending rules: the segment count shown before a send, link shortening with click counting per
message, test sends, and delivery tracking from signed status callbacks."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient

from switchboard.core.config import Settings
from switchboard.sms import links
from switchboard.sms.provider import SANDBOX_OUTBOX, SandboxSmsProvider
from tests.emulators.twilio_sms import TwilioSmsEmulator, twilio_signature
from tests.sms.conftest import Destination
from tests.support.tenants import Tenant

SEGMENTS = "/channels/sms/segments"
BASE = "http://127.0.0.1:8000"


# --- segment count ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "encoding", "segments", "ucs2"),
    [
        ("", "GSM-7", 1, []),
        ("a" * 160, "GSM-7", 1, []),
        ("a" * 161, "GSM-7", 2, []),
        ("{" * 80, "GSM-7", 1, []),
        ("Café au lait", "GSM-7", 1, []),
        ("Ça va? ç", "UCS-2", 1, ["ç"]),
        ("Hi 👋 there — ok", "UCS-2", 1, ["👋", "—"]),
        ("x" * 70 + "ł", "UCS-2", 2, ["ł"]),
    ],
)
def test_segment_count_before_a_send(
    client: TestClient, tenant: Tenant, body: str, encoding: str, segments: int, ucs2: list[str]
) -> None:
    for r in (
        client.get(SEGMENTS, params={"body": body}, headers=tenant.headers),
        client.post(SEGMENTS, json={"body": body}, headers=tenant.headers),
    ):
        assert r.status_code == 200, r.text
        data = r.json()
        assert (data["encoding"], data["segments"], data["ucs2_characters"]) == (encoding, segments, ucs2)
        assert data["characters"] == len(body)
        assert data["max_characters"] == 1600


def test_too_long_bodies_are_flagged(client: TestClient, tenant: Tenant) -> None:
    data = client.post(SEGMENTS, json={"body": "a" * 1601}, headers=tenant.headers).json()
    assert data["too_long"] is True
    assert data["segments"] == 11
    assert client.post(SEGMENTS, json={"body": "a" * 10_001}, headers=tenant.headers).status_code == 422
    assert client.post(SEGMENTS, json={"body": "hi"}).status_code == 401


# --- link shortening --------------------------------------------------------------------------------


def test_find_links_stops_at_sentence_punctuation() -> None:
    body = "See https://a.example.com/x?y=1. Or (https://b.example.com/p). Wiki https://en.example.org/A_(b)!"
    assert [url for _, _, url in links.find_links(body)] == [
        "https://a.example.com/x?y=1",
        "https://b.example.com/p",
        "https://en.example.org/A_(b)",
    ]
    assert links.find_links("no links, just example.com and ftp://x.example.com") == []


def test_shorten_links_replaces_each_link_once_per_message(
    db: Any, tenant: Tenant, settings: Settings
) -> None:
    body = "Track https://shop.example.com/o/1 and again https://shop.example.com/o/1, help: http://help.example.com."

    async def go(session: Any) -> str:
        return await links.shorten_links(
            session, body, "msg-1", organization_id=tenant.organization_id, base_url="https://sb.example.net"
        )

    short = db.session(go)
    codes = [url.rsplit("/", 1)[1] for _, _, url in links.find_links(short)]
    assert len(codes) == 3
    assert codes[0] == codes[1] != codes[2]
    assert all(links.CODE_RE.match(c) for c in codes)
    assert short.startswith("Track https://sb.example.net/s/")
    assert short.endswith(".")
    # Our own short links are left alone.
    assert db.session(lambda s: links.shorten_links(
        s, short, "msg-2", organization_id=tenant.organization_id, base_url="https://sb.example.net"
    )) == short  # fmt: skip


def test_short_links_redirect_and_count_clicks_per_message(
    client: TestClient, tenant: Tenant, make_tenant: Callable[..., Tenant], db: Any
) -> None:
    async def go(session: Any) -> str:
        return await links.shorten_links(
            session,
            "Go https://shop.example.com/sale",
            "msg-7",
            organization_id=tenant.organization_id,
            base_url=BASE,
        )

    code = db.session(go).rsplit("/", 1)[1]
    for _ in range(3):
        r = client.get(f"/s/{code}", follow_redirects=False)
        assert r.status_code == 302
        assert r.headers["location"] == "https://shop.example.com/sale"
        assert r.headers["cache-control"] == "no-store"
    listed = client.get("/channels/sms/links", params={"message_ref": "msg-7"}, headers=tenant.headers).json()
    assert listed == [
        {
            "code": code,
            "short_url": f"{BASE}/s/{code}",
            "target_url": "https://shop.example.com/sale",
            "message_ref": "msg-7",
            "clicks": 3,
        }
    ]
    # Clicks belong to the tenant that sent the message.
    other = make_tenant("Other")
    assert (
        client.get("/channels/sms/links", params={"message_ref": "msg-7"}, headers=other.headers).json() == []
    )


@pytest.mark.parametrize("code", ["AbCdEfGh", "short", "../../etc", "AbCdEfGh1"])
def test_unknown_or_malformed_codes_are_404(client: TestClient, code: str) -> None:
    r = client.get(f"/s/{code}", follow_redirects=False)
    assert r.status_code == 404


def test_a_nul_in_a_short_code_is_refused_not_crashed_on(client: TestClient) -> None:
    assert client.get("/s/ab%00cd", follow_redirects=False).status_code == 422


# --- test sends and delivery tracking ---------------------------------------------------------------


@pytest.fixture
def active(
    client: TestClient,
    tenant: Tenant,
    make_destination: Callable[..., Destination],
    connect: Callable[..., dict[str, Any]],
) -> Callable[[str], dict[str, Any]]:
    def make(phone: str) -> dict[str, Any]:
        conn = connect(tenant, make_destination(tenant), phone, is_active=True)
        assert conn["is_active"] is True
        return conn

    return make


def test_sandbox_send_shortens_links_and_counts_segments(
    client: TestClient, tenant: Tenant, sandbox: SandboxSmsProvider, active: Callable[[str], dict[str, Any]]
) -> None:
    conn = active("+14155550101")
    body = "Your order shipped: https://shop.example.com/orders/12345/tracking?carrier=ups&ref=abcdef"
    r = client.post(
        f"/channels/sms/connections/{conn['id']}/messages",
        json={"to": "+14155552671", "body": body},
        headers=tenant.headers,
    )
    assert r.status_code == 201, r.text
    sent = r.json()
    assert sent["status"] == "delivered"
    assert sent["encoding"] == "GSM-7"
    assert sent["segments"] == 1
    assert sent["segment_info"]["characters"] == len(sent["body_sent"])
    (link,) = sent["links"]
    assert link["target_url"] == "https://shop.example.com/orders/12345/tracking?carrier=ups&ref=abcdef"
    assert sent["body_sent"] == f"Your order shipped: {link['short_url']}"
    assert SANDBOX_OUTBOX[-1].body == sent["body_sent"]
    assert SANDBOX_OUTBOX[-1].from_ == "+14155550101"
    client.get(f"/s/{link['code']}", follow_redirects=False)
    listed = client.get(f"/channels/sms/connections/{conn['id']}/messages", headers=tenant.headers).json()
    assert listed[0]["id"] == sent["id"]
    assert listed[0]["links"][0]["clicks"] == 1
    assert (
        client.get("/channels/sms/links", params={"message_ref": sent["id"]}, headers=tenant.headers).json()[
            0
        ]["clicks"]
        == 1
    )


@pytest.mark.parametrize(
    ("body", "status", "rule"),
    [("   ", 422, "blank"), ("é" + "€" * 1600, 422, "too_long"), ("", 422, "string_too_short")],
)
def test_send_validation(
    client: TestClient,
    tenant: Tenant,
    sandbox: SandboxSmsProvider,
    active: Callable[[str], dict[str, Any]],
    body: str,
    status: int,
    rule: str,
) -> None:
    conn = active("+14155550101")
    r = client.post(
        f"/channels/sms/connections/{conn['id']}/messages",
        json={"to": "+14155552671", "body": body},
        headers=tenant.headers,
    )
    assert r.status_code == status
    assert r.json()["details"][0]["rule"] == rule


def test_inactive_connections_do_not_send(
    client: TestClient,
    tenant: Tenant,
    sandbox: SandboxSmsProvider,
    make_destination: Callable[..., Destination],
    connect: Callable[..., dict[str, Any]],
) -> None:
    conn = connect(tenant, make_destination(tenant), "+14155550101")
    r = client.post(
        f"/channels/sms/connections/{conn['id']}/messages",
        json={"to": "+14155552671", "body": "hi"},
        headers=tenant.headers,
    )
    assert r.status_code == 409
    assert r.json()["error"] == "inactive"


def status_callback(client: TestClient, token: str, **params: str) -> Any:
    url = BASE + "/webhooks/twilio/sms/status"
    signature = twilio_signature(token, url, {k: [v] for k, v in params.items()})
    return client.post(
        "/webhooks/twilio/sms/status",
        content=urlencode(params),
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature},
    )


def test_live_send_and_delivery_tracking(
    client: TestClient, tenant: Tenant, live: TwilioSmsEmulator, active: Callable[[str], dict[str, Any]]
) -> None:
    live.add_available("+14155550111")
    conn = active("+14155550111")
    r = client.post(
        f"/channels/sms/connections/{conn['id']}/messages",
        json={"to": "+14155552671", "body": "Olá! Seu pedido chegou 📦"},
        headers=tenant.headers,
    )
    assert r.status_code == 201, r.text
    sent = r.json()
    assert sent["status"] == "queued"
    assert sent["encoding"] == "UCS-2"
    message = live.outbox[-1]
    assert message["from"] == "+14155550111"
    assert message["status_callback"] == BASE + "/webhooks/twilio/sms/status"

    def status() -> tuple[str, str | None]:
        row = client.get(f"/channels/sms/connections/{conn['id']}/messages", headers=tenant.headers).json()[0]
        return row["status"], row["error_code"]

    assert (
        status_callback(client, "wrong", MessageSid=message["sid"], MessageStatus="sent").status_code == 401
    )
    assert status() == ("queued", None)
    assert (
        status_callback(client, live.auth_token, MessageSid=message["sid"], MessageStatus="sent").status_code
        == 204
    )
    assert status() == ("sent", None)
    status_callback(
        client, live.auth_token, MessageSid=message["sid"], MessageStatus="undelivered", ErrorCode="30005"
    )
    assert status() == ("undelivered", "30005")
    # A late "sent" never moves it back.
    status_callback(client, live.auth_token, MessageSid=message["sid"], MessageStatus="sent")
    assert status() == ("undelivered", "30005")
    # Unknown messages are ignored, not errors.
    assert (
        status_callback(
            client, live.auth_token, MessageSid="SM" + uuid.uuid4().hex, MessageStatus="sent"
        ).status_code
        == 204
    )


def test_the_provider_refusing_a_sender_is_a_422(
    client: TestClient,
    tenant: Tenant,
    live: TwilioSmsEmulator,
    make_destination: Callable[..., Destination],
    allow_byom: Callable[[Tenant], None],
) -> None:
    """Your own number (verified by code) is not a sender on the platform's provider account."""
    allow_byom(tenant)
    phone = "+14155551234"
    client.post("/channels/sms/connect/verify", json={"phone_number": phone}, headers=tenant.headers)
    code = live.outbox[-1]["body"].split("code is ")[1][:6]
    dest = make_destination(tenant)
    body = {
        "mode": "byon",
        "phone_number": phone,
        "workspace_id": dest.workspace_id,
        "agent_id": dest.agent_id,
        "verification_code": code,
        "is_active": True,
    }
    conn = client.post("/channels/sms/connect", json=body, headers=tenant.headers).json()
    r = client.post(
        f"/channels/sms/connections/{conn['id']}/messages",
        json={"to": "+14155552671", "body": "hi"},
        headers=tenant.headers,
    )
    assert r.status_code == 422
    assert r.json()["error"] == "provider_refused"
    assert "21606" in r.json()["message"]
