"""LinkedIn's webhooks: the URL validation GET (`challengeCode`) on the app's /webhooks/linkedin and
on a LinkedIn channel's own URL, and notifications posted to the app URL, routed to the channel
whose organization URN each one names."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any

from fastapi.testclient import TestClient

from switchboard.webhooks.service import process_pending
from tests.support.oauth_env import Providers, account_by_name, connect
from tests.support.tenants import Tenant
from tests.support.web import Browser
from tests.support.webhook_rows import count_events, events, inbound

SECRET = b"li-client-secret"  # the LinkedIn app's client secret in tests/support/oauth_env.py
ORG_A, ORG_B = "urn:li:organization:5550001", "urn:li:organization:5550002"  # the emulator's


def _expected(code: str, secret: bytes = SECRET) -> str:
    return hmac.new(secret, code.encode(), hashlib.sha256).hexdigest()


def _connected(web: Browser, client: TestClient, who: Tenant, name: str, choice: int = 0) -> dict[str, Any]:
    """Connect a LinkedIn organization through OAuth (choice 0: ORG_A, 1: ORG_B) and switch it on."""
    web.login(who)
    connect(web, "linkedin", name, choice=choice)
    account = account_by_name(client, who.headers, name)
    r = client.patch(
        f"/rest/v1/channel_accounts/{account['id']}", json={"is_active": True}, headers=who.headers
    )
    assert r.status_code == 200, r.text
    return account


def _push(providers: Providers, *items: tuple[str, str]) -> bytes:
    """One ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS push with a COMMENT per (organization, text)."""
    notifications = [
        providers.linkedin.comment_notification(org, text)["notifications"][0] for org, text in items
    ]
    return json.dumps(
        {"type": "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS", "notifications": notifications}
    ).encode()


def _post(client: TestClient, body: bytes, signature: str | None, path: str = "/webhooks/linkedin") -> int:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-LI-Signature"] = signature
    return client.post(path, content=body, headers=headers).status_code


def test_app_url_answers_the_validation_challenge(oauth_client: TestClient) -> None:
    code = str(uuid.uuid4())
    started = time.monotonic()
    r = oauth_client.get("/webhooks/linkedin", params={"challengeCode": code})
    assert time.monotonic() - started < 3  # LinkedIn waits 3 seconds
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"challengeCode": code, "challengeResponse": _expected(code)}
    # Any other code gets its own answer, and no other secret's.
    other = oauth_client.get(
        "/webhooks/linkedin", params={"challengeCode": "890e4665-4dfe-4ab1-b689-ed553bceeed0"}
    )
    assert other.json()["challengeResponse"] == _expected("890e4665-4dfe-4ab1-b689-ed553bceeed0")
    assert other.json()["challengeResponse"] != _expected("890e4665-4dfe-4ab1-b689-ed553bceeed0", b"another")


def test_validation_without_a_code_or_on_a_url_that_takes_none_is_refused(
    web: Browser, oauth_client: TestClient, tenant: Tenant
) -> None:
    missing = oauth_client.get("/webhooks/linkedin")
    assert missing.status_code == 400
    assert missing.json()["error"] == "bad_request"
    assert "challengeCode" in missing.json()["message"]
    assert oauth_client.get("/webhooks/linkedin", params={"challengeCode": ""}).status_code == 400
    web.login(tenant)
    connect(web, "tiktok", "TT no GET")
    tiktok = account_by_name(oauth_client, tenant.headers, "TT no GET")
    for path in (f"/webhooks/{tiktok['id']}", f"/webhooks/{uuid.uuid4()}"):
        r = oauth_client.get(path, params={"challengeCode": str(uuid.uuid4())})
        assert r.status_code == 404, path
        assert r.json()["error"] == "not_found"


def test_a_linkedin_channels_own_url_answers_the_challenge_too(
    web: Browser, oauth_client: TestClient, tenant: Tenant
) -> None:
    account = _connected(web, oauth_client, tenant, "LI own URL")
    code = str(uuid.uuid4())
    r = oauth_client.get(f"/webhooks/{account['id']}", params={"challengeCode": code})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"challengeCode": code, "challengeResponse": _expected(code)}
    assert oauth_client.get(f"/webhooks/{account['id']}").status_code == 400


def test_app_webhook_routes_each_notification_by_its_organization(
    web: Browser, oauth_client: TestClient, providers: Providers, make_tenant: Any, db: Any
) -> None:
    first: Tenant = make_tenant("Acme")
    second: Tenant = make_tenant("Acme Labs")
    corp = _connected(web, oauth_client, first, "Acme Corp page", choice=0)
    labs = _connected(web, oauth_client, second, "Acme Labs page", choice=1)
    assert (corp["settings"]["organization_urn"], labs["settings"]["organization_urn"]) == (ORG_A, ORG_B)

    body = _push(providers, (ORG_A, "Great post"), (ORG_B, "Is this open source?"), (ORG_A, "Agreed"))
    assert _post(oauth_client, body, providers.linkedin.sign(body)) == 200
    assert _post(oauth_client, body, providers.linkedin.sign(body)) == 200  # LinkedIn delivers twice
    stored = {str(e.channel_account_id): json.loads(e.body) for e in events(db)}
    assert set(stored) == {corp["id"], labs["id"]}  # one event per organization, the replay not stored
    assert [n["organizationalEntity"] for n in stored[corp["id"]]["notifications"]] == [ORG_A, ORG_A]
    assert [n["organizationalEntity"] for n in stored[labs["id"]]["notifications"]] == [ORG_B]

    db.run(process_pending)
    by_account = {(str(m.channel_account_id), m.text) for m in inbound(db)}
    assert by_account == {
        (corp["id"], "Great post"),
        (corp["id"], "Agreed"),
        (labs["id"], "Is this open source?"),
    }
    assert all(m.sender == "urn:li:person:sandboxCommenter" and m.thread_key for m in inbound(db))


def test_forged_signature_is_refused_and_nothing_stored(
    web: Browser, oauth_client: TestClient, tenant: Tenant, providers: Providers, db: Any
) -> None:
    _connected(web, oauth_client, tenant, "LI forged")
    body = _push(providers, (ORG_A, "Forged comment"))
    body_only = hmac.new(SECRET, body, hashlib.sha256).hexdigest()  # without the "hmacsha256=" prefix
    other_key = hmac.new(b"not-the-secret", b"hmacsha256=" + body, hashlib.sha256).hexdigest()
    for signature in (None, "", body_only, other_key, providers.linkedin.sign(body + b" ")):
        r = oauth_client.post(
            "/webhooks/linkedin",
            content=body,
            headers={"Content-Type": "application/json"}
            | ({"X-LI-Signature": signature} if signature is not None else {}),
        )
        assert r.status_code == 401, signature
        assert r.json()["error"] == "invalid_signature"
    assert count_events(db) == 0
    db.run(process_pending)
    assert inbound(db) == []


def test_unknown_organization_is_acknowledged_and_not_stored(
    web: Browser, oauth_client: TestClient, tenant: Tenant, providers: Providers, db: Any
) -> None:
    account = _connected(web, oauth_client, tenant, "LI known")
    stranger = _push(providers, (ORG_B, "Nobody here connected Acme Labs"))
    assert (
        _post(oauth_client, stranger, providers.linkedin.sign(stranger)) == 200
    )  # so LinkedIn does not retry
    nameless = json.dumps(
        {"type": "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS", "notifications": [{"action": "LIKE"}]}
    )
    assert _post(oauth_client, nameless.encode(), providers.linkedin.sign(nameless.encode())) == 200
    assert count_events(db) == 0
    mixed = _push(providers, (ORG_B, "still nobody's"), (ORG_A, "for the connected page"))
    assert _post(oauth_client, mixed, providers.linkedin.sign(mixed)) == 200
    [event] = events(db)
    assert str(event.channel_account_id) == account["id"]
    assert [n["organizationalEntity"] for n in json.loads(event.body)["notifications"]] == [ORG_A]
    assert _post(oauth_client, b"not json", providers.linkedin.sign(b"not json")) == 400
