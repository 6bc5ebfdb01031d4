"""/v1/ses-events: SNS signature verification, subscription confirmation, event storage."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from switchboard.core.config import Settings
from switchboard.models import EmailEvent
from tests.support.sns import TOPIC_ARN, CertServer, SnsSigner, ses_event
from tests.support.tenants import Tenant
from tests.support.voice import email_use_case, ses_setup_row

URL = "/v1/ses-events"


def deliver(client: TestClient, message: dict[str, Any], header: str | None = "default") -> Any:
    headers = {"Content-Type": "text/plain; charset=UTF-8"}
    if header is not None:
        headers["x-amz-sns-message-type"] = message.get("Type", "") if header == "default" else header
    return client.post(URL, content=json.dumps(message), headers=headers)


def count_events(db: Any) -> int:
    async def go(session: Any) -> int:
        return int(await session.scalar(select(func.count()).select_from(EmailEvent)) or 0)

    return db.session(go)


@pytest.fixture
def use_case(client: TestClient, tenant: Tenant, db: Any) -> dict[str, Any]:
    return email_use_case(client, tenant, ses_setup_row(db, tenant))


def test_subscription_is_confirmed_through_subscribe_url(
    client: TestClient, signer: SnsSigner, cert_server: CertServer
) -> None:
    for version in ("1", "2"):  # SHA1withRSA and SHA256withRSA
        message = signer.subscription_confirmation(version)
        r = deliver(client, message)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "confirmed"
        assert message["Token"] in cert_server.confirmations[-1]
    assert len(cert_server.confirmations) == 2
    # The certificate was fetched once and then served from the cache.
    assert len(cert_server.cert_fetches) == 1


@pytest.mark.parametrize("version", ["1", "2"])
def test_signed_notification_is_stored_and_attributed(
    client: TestClient, signer: SnsSigner, use_case: dict[str, Any], tenant: Tenant, db: Any, version: str
) -> None:
    r = deliver(
        client,
        signer.notification(ses_event("Delivery", use_case["configuration_set_name"]), version=version),
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "stored", "use_case_id": use_case["id"]}
    reputation = client.get(f"/v1/use-case/{use_case['id']}/reputation", headers=tenant.headers).json()
    day = next(w for w in reputation["windows"] if w["window"] == "24h")
    assert (day["sends"], day["bounces"], day["complaints"]) == (1, 0, 0)

    async def stored(session: Any) -> EmailEvent:
        return (await session.scalars(select(EmailEvent))).one()

    event = db.session(stored)
    assert event.kind == "delivery"
    assert str(event.use_case_id) == use_case["id"]
    assert event.topic_arn == TOPIC_ARN
    assert event.payload["eventType"] == "Delivery"


def test_a_replayed_message_is_stored_once(
    client: TestClient, signer: SnsSigner, use_case: dict[str, Any], db: Any
) -> None:
    message = signer.notification(ses_event("Bounce", use_case["configuration_set_name"]))
    assert deliver(client, message).json()["status"] == "stored"
    again = deliver(client, message)
    assert again.status_code == 200
    assert again.json()["status"] == "duplicate"
    assert count_events(db) == 1


def test_a_tampered_message_is_refused_and_not_stored(
    client: TestClient, signer: SnsSigner, use_case: dict[str, Any], db: Any
) -> None:
    message = signer.notification(ses_event("Delivery", use_case["configuration_set_name"]))
    message["Message"] = json.dumps(ses_event("Bounce", use_case["configuration_set_name"]))
    r = deliver(client, message)
    assert r.status_code == 403
    assert r.json()["error"] == "sns_signature_invalid"
    assert count_events(db) == 0


def test_any_signed_field_changed_breaks_the_signature(
    client: TestClient, signer: SnsSigner, db: Any
) -> None:
    changes: dict[str, dict[str, str]] = {
        "MessageId": {"MessageId": str(uuid.uuid4())},
        "Timestamp": {"Timestamp": "2026-01-01T00:00:00.000Z"},
        "TopicArn": {"TopicArn": TOPIC_ARN + "x"},
        "Subject": {"Subject": "added after signing"},
        # Re-typing changes which keys are signed: a notification re-sent as a confirmation fails.
        "Type": {"Type": "SubscriptionConfirmation", "SubscribeURL": signer.server.url + "/?x", "Token": "t"},
    }
    for name, change in changes.items():
        message = signer.notification(ses_event("Delivery", "acme--receipts")) | change
        r = deliver(client, message)
        assert r.status_code == 403, name
    assert count_events(db) == 0


def test_unsigned_messages_are_401(client: TestClient, signer: SnsSigner, db: Any) -> None:
    message = signer.notification(ses_event("Delivery", "acme--receipts"))
    for key in ("Signature", "SigningCertURL", "SignatureVersion"):
        r = deliver(client, {k: v for k, v in message.items() if k != key})
        assert r.status_code == 401
        assert r.json()["error"] == "sns_signature_missing"
    assert count_events(db) == 0


def test_a_signature_by_another_key_is_refused(
    client: TestClient, signer: SnsSigner, cert_server: CertServer, db: Any
) -> None:
    impostor = SnsSigner(cert_server, path=f"/SimpleNotificationService-{uuid.uuid4().hex}.pem")
    message = impostor.notification(ses_event("Delivery", "acme--receipts"))
    message["SigningCertURL"] = signer.cert_url  # claims the real certificate
    r = deliver(client, message)
    assert r.status_code == 403
    assert count_events(db) == 0


def test_certificates_only_come_from_sns_hosts(
    client: TestClient, signer: SnsSigner, cert_server: CertServer, db: Any
) -> None:
    for cert_url in (
        "https://sns.us-east-1.amazonaws.com.evil.example/SimpleNotificationService-1.pem",
        "http://evil.example/SimpleNotificationService-1.pem",
        "http://127.0.0.1:1@evil.example/SimpleNotificationService-1.pem",
        signer.cert_url.replace(".pem", ".txt"),
        "file:///etc/ssl/cert.pem",
        "not a url",
    ):
        message = signer.sign({**signer.notification(ses_event("Delivery", "x")), "SigningCertURL": cert_url})
        r = deliver(client, message)
        assert r.status_code == 403, cert_url
        assert r.json()["error"] == "sns_certificate_url_not_allowed"
    assert cert_server.cert_fetches == []
    assert count_events(db) == 0


def test_the_default_pattern_accepts_only_amazon_sns(
    client: TestClient, signer: SnsSigner, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "sns_url_pattern", Settings.model_fields["sns_url_pattern"].default)
    verifier = client.app.state.ses_events.verifier  # type: ignore[attr-defined]
    assert verifier.url_allowed("https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem")
    assert verifier.url_allowed("https://sns.cn-north-1.amazonaws.com.cn/x.pem")
    assert not verifier.url_allowed("http://sns.us-east-1.amazonaws.com/x.pem")
    assert not verifier.url_allowed("https://sns.us-east-1.amazonaws.com:8443/x.pem")
    assert not verifier.url_allowed("https://evil.com/?sns.us-east-1.amazonaws.com")
    r = deliver(client, signer.notification(ses_event("Delivery", "x")))
    assert r.status_code == 403


def test_subscribe_url_must_be_an_sns_host(
    client: TestClient, signer: SnsSigner, cert_server: CertServer
) -> None:
    message = signer.subscription_confirmation()
    message["SubscribeURL"] = "http://evil.example/?Action=ConfirmSubscription"
    r = deliver(client, signer.sign(message))
    assert r.status_code == 403
    assert cert_server.confirmations == []


def test_topics_can_be_restricted(
    client: TestClient, signer: SnsSigner, settings: Settings, monkeypatch: pytest.MonkeyPatch, db: Any
) -> None:
    monkeypatch.setattr(settings, "sns_topic_arns", "arn:aws:sns:us-east-1:123456789012:other")
    r = deliver(client, signer.notification(ses_event("Delivery", "x")))
    assert r.status_code == 403
    assert r.json()["error"] == "sns_topic_not_allowed"
    monkeypatch.setattr(settings, "sns_topic_arns", f"arn:aws:sns:us-east-1:123456789012:other, {TOPIC_ARN}")
    assert deliver(client, signer.notification(ses_event("Delivery", "x"))).status_code == 200
    assert count_events(db) == 1


def test_bodies_that_are_not_sns_messages_are_422(client: TestClient) -> None:
    cases: list[tuple[bytes, str | None]] = [
        (b"not json", "Notification"),
        (b"[]", "Notification"),
        (b'{"Type": "Gossip"}', "Gossip"),
        (b"{}", None),
        (b'{"Type": "Notification"}', "Notification"),
        (b"\xff\xfe", None),
    ]
    for content, header in cases:
        headers = {"x-amz-sns-message-type": header} if header else {}
        r = client.post(URL, content=content, headers=headers)
        assert r.status_code == 422, content
        assert r.json()["error"] == "invalid_sns_message"


def test_header_must_match_the_type(client: TestClient, signer: SnsSigner) -> None:
    r = deliver(client, signer.notification(ses_event("Delivery", "x")), header="SubscriptionConfirmation")
    assert r.status_code == 422


def test_events_for_unknown_sets_are_kept_unattributed(
    client: TestClient, signer: SnsSigner, db: Any
) -> None:
    r = deliver(client, signer.notification(ses_event("Bounce", "nobody--here")))
    assert r.json() == {"status": "stored", "use_case_id": None}
    assert count_events(db) == 1


def test_notifications_that_are_not_ses_events_are_ignored(
    client: TestClient, signer: SnsSigner, db: Any
) -> None:
    message = signer.sign({**signer.notification({"hello": "world"}), "Message": "plain text"})
    r = deliver(client, message)
    assert r.status_code == 200
    assert r.json()["status"] == "ignored"
    assert count_events(db) == 0


def test_unsubscribe_confirmation_is_acknowledged(client: TestClient, signer: SnsSigner) -> None:
    message = signer.subscription_confirmation()
    message["Type"] = "UnsubscribeConfirmation"
    r = deliver(client, signer.sign(message))
    assert r.status_code == 200
    assert r.json()["status"] == "unsubscribed"
