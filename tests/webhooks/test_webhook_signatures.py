"""Twilio and Meta signature checks against the published test vectors (PROVIDERS.md §4, §8)."""

from __future__ import annotations

import hashlib
import hmac

from switchboard.webhooks.signatures import meta_signature_ok, twilio_signature, twilio_signature_ok

TOKEN = "12345"
URI = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = {
    "CallSid": ["CA1234567890ABCDE"],
    "Digits": ["1234"],
    "From": ["+14158675309"],
    "To": ["+18005551212"],
    "Caller": ["+14158675309"],
}
VECTOR = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
BODY = b'{"property": "value", "boolean": true}'
BODY_HASH = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"


def test_twilio_vector() -> None:
    assert twilio_signature(TOKEN, URI, PARAMS) == VECTOR
    assert twilio_signature_ok(TOKEN, URI, PARAMS, VECTOR)


def test_twilio_refuses_other_tokens_params_and_missing_signature() -> None:
    assert not twilio_signature_ok("54321", URI, PARAMS, VECTOR)
    assert not twilio_signature_ok(TOKEN, URI, {**PARAMS, "Digits": ["9999"]}, VECTOR)
    assert not twilio_signature_ok(TOKEN, URI, PARAMS, None)
    assert not twilio_signature_ok(TOKEN, URI, PARAMS, "")


def test_twilio_accepts_the_url_with_or_without_the_default_port() -> None:
    with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2"
    signed_with_port = twilio_signature(TOKEN, with_port, PARAMS)
    assert twilio_signature_ok(TOKEN, URI, PARAMS, signed_with_port)
    assert twilio_signature_ok(TOKEN, with_port, PARAMS, VECTOR)
    # A different port is a different URL.
    assert not twilio_signature_ok(
        TOKEN, URI, PARAMS, twilio_signature(TOKEN, URI.replace(".com", ".com:8443"), PARAMS)
    )


def test_twilio_body_sha256_variant() -> None:
    assert hashlib.sha256(BODY).hexdigest() == BODY_HASH
    url = f"https://mycompany.com/myapp.php?bodySHA256={BODY_HASH}"
    signature = twilio_signature(TOKEN, url, {})
    assert twilio_signature_ok(TOKEN, url, {}, signature, BODY)
    assert not twilio_signature_ok(TOKEN, url, {}, signature, BODY + b" ")


def test_meta_signature() -> None:
    body = b'{"object":"page","entry":[]}'
    good = "sha256=" + hmac.new(b"app-secret", body, hashlib.sha256).hexdigest()
    assert meta_signature_ok("app-secret", body, good)
    assert not meta_signature_ok("app-secret", body + b" ", good)
    assert not meta_signature_ok("app-secret", body, good.replace("sha256=", "sha1="))
    assert not meta_signature_ok("app-secret", body, None)
    assert not meta_signature_ok("", body, good)
