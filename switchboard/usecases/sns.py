"""Amazon SNS message verification, as AWS documents it.

The string to sign is ``Key\\nValue\\n`` for the documented keys of the message type, in byte
order: Message, MessageId, Subject (when present), Timestamp, TopicArn, Type for notifications;
Message, MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type for (un)subscription
confirmations. SignatureVersion "1" signs it with SHA1withRSA, "2" with SHA256withRSA; the
public key comes from the X.509 certificate at SigningCertURL, fetched only from an SNS host
(``SWITCHBOARD_SNS_URL_PATTERN`` matches the URL's origin) and cached.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import ssl
import threading
from collections import OrderedDict
from datetime import UTC, datetime
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import httpx2
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from switchboard.core.config import Settings

log = logging.getLogger("switchboard.sns")

NOTIFICATION_KEYS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION_KEYS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")
MESSAGE_TYPES = ("Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation")
MAX_CERT_BYTES = 64 * 1024
CACHE_SIZE = 32


class SnsError(Exception):
    """Why a message was refused. ``kind``: missing (401), invalid (403) or unavailable (503)."""

    def __init__(self, message: str, *, kind: str, code: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.code = code


@cache
def tls_context() -> ssl.SSLContext:
    # Building a verifying context loads the CA bundle (~80 ms); one per process is enough.
    return httpx2.create_ssl_context()


def string_to_sign(message: dict[str, Any]) -> bytes:
    keys = NOTIFICATION_KEYS if message.get("Type") == "Notification" else CONFIRMATION_KEYS
    parts = []
    for key in keys:
        if key not in message:
            if key == "Subject":
                continue  # the only optional key
            raise SnsError(f"SNS message lacks {key}", kind="invalid", code="sns_message_invalid")
        parts.append(f"{key}\n{message[key]}\n")
    return "".join(parts).encode("utf-8")


class SnsVerifier:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._certs: OrderedDict[str, rsa.RSAPublicKey] = OrderedDict()
        self._lock = threading.Lock()

    def url_allowed(self, url: str) -> bool:
        try:
            parts = urlsplit(url)
        except ValueError:
            return False
        # No user info, query tricks or odd ports can move a URL off the SNS host.
        if not parts.scheme or not parts.hostname or "@" in parts.netloc:
            return False
        origin = f"{parts.scheme}://{parts.netloc}"
        return re.fullmatch(self.settings.sns_url_pattern, origin) is not None

    def topic_allowed(self, topic_arn: str) -> bool:
        allowed = {t.strip() for t in self.settings.sns_topic_arns.split(",") if t.strip()}
        return not allowed or topic_arn in allowed

    async def _public_key(self, url: str) -> rsa.RSAPublicKey:
        with self._lock:
            key = self._certs.get(url)
            if key is not None:
                self._certs.move_to_end(url)
                return key
        try:
            async with httpx2.AsyncClient(
                timeout=self.settings.sns_timeout, follow_redirects=False
            ) as client:
                response = await client.get(url)
        except httpx2.HTTPError as exc:
            raise SnsError(
                f"The signing certificate could not be fetched ({type(exc).__name__}).",
                kind="unavailable",
                code="sns_certificate_unavailable",
            ) from exc
        if response.status_code != 200 or len(response.content) > MAX_CERT_BYTES:
            raise SnsError(
                f"The signing certificate could not be fetched (HTTP {response.status_code}).",
                kind="unavailable",
                code="sns_certificate_unavailable",
            )
        try:
            cert = x509.load_pem_x509_certificate(response.content)
        except ValueError as exc:
            raise SnsError(
                "The signing certificate is not a PEM certificate.",
                kind="invalid",
                code="sns_certificate_invalid",
            ) from exc
        now = datetime.now(UTC)
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            raise SnsError(
                "The signing certificate is expired or not yet valid.",
                kind="invalid",
                code="sns_certificate_invalid",
            )
        public_key = cert.public_key()
        if not isinstance(public_key, rsa.RSAPublicKey):
            raise SnsError(
                "The signing certificate has no RSA key.", kind="invalid", code="sns_certificate_invalid"
            )
        with self._lock:
            self._certs[url] = public_key
            while len(self._certs) > CACHE_SIZE:
                self._certs.popitem(last=False)
        return public_key

    async def verify(self, message: dict[str, Any]) -> None:
        """Raise SnsError unless the message is signed by SNS for an accepted topic."""
        signature_b64 = message.get("Signature")
        cert_url = message.get("SigningCertURL")
        version = message.get("SignatureVersion")
        if not signature_b64 or not cert_url or not version:
            raise SnsError("The SNS message is not signed.", kind="missing", code="sns_signature_missing")
        if not isinstance(signature_b64, str) or not isinstance(cert_url, str):
            raise SnsError("The SNS signature is malformed.", kind="invalid", code="sns_signature_invalid")
        algorithm: hashes.HashAlgorithm
        if version == "1":
            algorithm = hashes.SHA1()  # SignatureVersion 1 is SHA1withRSA by definition
        elif version == "2":
            algorithm = hashes.SHA256()
        else:
            raise SnsError(
                f"Unknown SignatureVersion {version!r}.", kind="invalid", code="sns_signature_invalid"
            )
        if not self.url_allowed(cert_url) or not urlsplit(cert_url).path.endswith(".pem"):
            raise SnsError(
                "SigningCertURL is not an Amazon SNS certificate URL.",
                kind="invalid",
                code="sns_certificate_url_not_allowed",
            )
        try:
            signature = base64.b64decode(signature_b64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise SnsError(
                "The SNS signature is not base64.", kind="invalid", code="sns_signature_invalid"
            ) from exc
        data = string_to_sign(message)
        key = await self._public_key(cert_url)
        try:
            key.verify(signature, data, padding.PKCS1v15(), algorithm)
        except InvalidSignature as exc:
            raise SnsError(
                "The SNS signature does not match the message.", kind="invalid", code="sns_signature_invalid"
            ) from exc
        topic = str(message.get("TopicArn") or "")
        if not self.topic_allowed(topic):
            raise SnsError(
                "Messages from this topic are not accepted.", kind="invalid", code="sns_topic_not_allowed"
            )
