"""Amazon SNS as tests need it: a signing key and certificate, signed messages, a cert server.

Messages are signed exactly as SNS does (the documented keys, ``Key\\nValue\\n``, SHA1withRSA for
SignatureVersion 1 and SHA256withRSA for 2); the certificate is served over HTTP on 127.0.0.1,
which is also where SubscribeURL points, so confirmations can be observed.
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from switchboard.usecases.sns import string_to_sign

TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:ses-events"
CERT_PATH = "/SimpleNotificationService-0000000000000000000000.pem"
URL_PATTERN = r"^http://127\.0\.0\.1:\d+$"


def make_key_and_cert(common_name: str = "sns.amazonaws.com") -> tuple[rsa.RSAPrivateKey, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return key, cert.public_bytes(serialization.Encoding.PEM)


@dataclass
class CertServer:
    """Serves PEM certificates by path and answers SubscribeURL confirmations."""

    certs: dict[str, bytes] = field(default_factory=dict)
    confirmations: list[str] = field(default_factory=list)
    cert_fetches: list[str] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> CertServer:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path in outer.certs:
                    outer.cert_fetches.append(path)
                    body, status = outer.certs[path], 200
                elif "Action=ConfirmSubscription" in self.path:
                    outer.confirmations.append(self.path)
                    body, status = b"<ConfirmSubscriptionResponse/>", 200
                else:
                    body, status = b"not found", 404
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


class SnsSigner:
    def __init__(self, server: CertServer, path: str = CERT_PATH) -> None:
        self.key, pem = make_key_and_cert()
        self.server = server
        self.path = path
        server.certs[path] = pem

    @property
    def cert_url(self) -> str:
        return self.server.url + self.path

    def sign(self, message: dict[str, Any], version: str = "1") -> dict[str, Any]:
        message = dict(
            message, SignatureVersion=version, SigningCertURL=message.get("SigningCertURL", self.cert_url)
        )
        algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()
        signature = self.key.sign(string_to_sign(message), padding.PKCS1v15(), algorithm)
        message["Signature"] = base64.b64encode(signature).decode()
        return message

    def notification(
        self, event: dict[str, Any], *, message_id: str | None = None, version: str = "1"
    ) -> dict[str, Any]:
        return self.sign(
            {
                "Type": "Notification",
                "MessageId": message_id or str(uuid.uuid4()),
                "TopicArn": TOPIC_ARN,
                "Message": json.dumps(event),
                "Timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "UnsubscribeURL": f"{self.server.url}/?Action=Unsubscribe&SubscriptionArn={TOPIC_ARN}:1",
            },
            version,
        )

    def subscription_confirmation(self, version: str = "1") -> dict[str, Any]:
        token = uuid.uuid4().hex * 4
        return self.sign(
            {
                "Type": "SubscriptionConfirmation",
                "MessageId": str(uuid.uuid4()),
                "Token": token,
                "TopicArn": TOPIC_ARN,
                "Message": f"You have chosen to subscribe to the topic {TOPIC_ARN}.",
                "SubscribeURL": (
                    f"{self.server.url}/?Action=ConfirmSubscription&TopicArn={quote(TOPIC_ARN)}&Token={token}"
                ),
                "Timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            },
            version,
        )


def ses_event(
    kind: str,
    configuration_set: str,
    *,
    message_id: str | None = None,
    when: datetime | None = None,
    bounce_type: str = "Permanent",
) -> dict[str, Any]:
    """An SES event as event publishing sends it (eventType, mail with tags, the type's section)."""
    at = (when or datetime.now(UTC)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    event: dict[str, Any] = {
        "eventType": kind,
        "mail": {
            "timestamp": at,
            "source": "receipts@mail.example.com",
            "messageId": message_id or f"0100{uuid.uuid4().hex}-000000",
            "destination": ["someone@example.net"],
            "tags": {"ses:configuration-set": [configuration_set], "ses:caller-identity": ["switchboard"]},
        },
    }
    if kind == "Bounce":
        event["bounce"] = {
            "bounceType": bounce_type,
            "bounceSubType": "General",
            "bouncedRecipients": [{"emailAddress": "someone@example.net"}],
            "timestamp": at,
            "feedbackId": uuid.uuid4().hex,
        }
    elif kind == "Complaint":
        event["complaint"] = {
            "complainedRecipients": [{"emailAddress": "someone@example.net"}],
            "timestamp": at,
            "feedbackId": uuid.uuid4().hex,
            "complaintFeedbackType": "abuse",
        }
    elif kind == "Delivery":
        event["delivery"] = {"timestamp": at, "recipients": ["someone@example.net"], "smtpResponse": "250 ok"}
    elif kind == "Send":
        event["send"] = {}
    return event
