"""Provider webhook signatures, compared in constant time."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qs, urlsplit, urlunsplit

_DEFAULT_PORTS = {"https": 443, "http": 80}


def meta_signature_ok(app_secret: str, body: bytes, header: str | None) -> bool:
    """X-Hub-Signature-256: `sha256=` + lowercase hex HMAC-SHA256 of the raw body."""
    if not app_secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header[len("sha256=") :].lower().encode(), expected.encode())


def twilio_signature(auth_token: str, url: str, params: Mapping[str, Iterable[str]]) -> str:
    """Twilio's scheme: the URL, then each parameter name + value, names sorted, values sorted."""
    data = url
    for name in sorted(params):
        for value in sorted(params[name]):
            data += name + value
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _with_port(url: str) -> str:
    parts = urlsplit(url)
    if parts.port is not None or parts.scheme not in _DEFAULT_PORTS:
        return url
    netloc = f"{parts.netloc}:{_DEFAULT_PORTS[parts.scheme]}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _without_port(url: str) -> str:
    parts = urlsplit(url)
    if parts.port is None:
        return url
    netloc = parts.netloc.rsplit(":", 1)[0]
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def twilio_signature_ok(
    auth_token: str,
    url: str,
    params: Mapping[str, Iterable[str]] | None,
    signature: str | None,
    body: bytes | None = None,
) -> bool:
    """Valid with or without the default port in the URL; a `bodySHA256` URL carries a JSON body
    whose hex SHA-256 must match and whose parameters are then empty (twilio request_validator)."""
    if not auth_token or not signature:
        return False
    body_ok = True
    query = parse_qs(urlsplit(url).query)
    if "bodySHA256" in query:
        digest = hashlib.sha256(body or b"").hexdigest()
        body_ok = hmac.compare_digest(digest.encode(), query["bodySHA256"][0].encode())
        params = {}
    params = params or {}
    given = signature.encode()
    with_port = hmac.compare_digest(twilio_signature(auth_token, _with_port(url), params).encode(), given)
    without = hmac.compare_digest(twilio_signature(auth_token, _without_port(url), params).encode(), given)
    return body_ok and (with_port or without)
