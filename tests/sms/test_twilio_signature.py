"""X-Twilio-Signature (PROVIDERS.md section 8) with twilio-python's own test vectors: form
parameters, the port variants, and JSON bodies signed through bodySHA256."""

from __future__ import annotations

import hashlib

import pytest

from switchboard.webhooks.signatures import twilio_signature, twilio_signature_ok
from tests.emulators.twilio_sms import signed_json
from tests.emulators.twilio_sms import twilio_signature as emulator_signature

TOKEN = "12345"
URI = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = {
    "CallSid": ["CA1234567890ABCDE"],
    "Digits": ["1234"],
    "From": ["+14158675309"],
    "To": ["+18005551212"],
    "Caller": ["+14158675309"],
}
EXPECTED = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
BODY = b'{"property": "value", "boolean": true}'
BODY_HASH = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"


def test_compute_signature_vector() -> None:
    assert twilio_signature(TOKEN, URI, PARAMS) == EXPECTED
    assert emulator_signature(TOKEN, URI, PARAMS) == EXPECTED


def test_body_hash_vector() -> None:
    assert hashlib.sha256(BODY).hexdigest() == BODY_HASH


def test_validates_form_parameters() -> None:
    assert twilio_signature_ok(TOKEN, URI, PARAMS, EXPECTED)


@pytest.mark.parametrize(
    ("uri", "signature"),
    [
        # https with a port: signed without it.
        (URI.replace(".com", ".com:1234"), EXPECTED),
        # http with port 1234: signed with it.
        (URI.replace(".com", ".com:1234").replace("https", "http"), "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="),
        # Signed with the default port 443 added.
        (URI, "kvajT1Ptam85bY51eRf/AJRuM3w="),
        # Signed with the default port 80 added.
        (URI.replace("https", "http"), "0ZXoZLH/DfblKGATFgpif+LLRf4="),
    ],
)
def test_port_variants(uri: str, signature: str) -> None:
    assert twilio_signature_ok(TOKEN, uri, PARAMS, signature)


def test_json_body_with_body_sha256() -> None:
    uri = f"{URI}&bodySHA256={BODY_HASH}"
    assert twilio_signature_ok(TOKEN, uri, None, "a9nBmqA0ju/hNViExpshrM61xv4=", BODY)
    # Another body under the same signed URL fails the hash.
    assert not twilio_signature_ok(TOKEN, uri, None, "a9nBmqA0ju/hNViExpshrM61xv4=", BODY + b" ")


@pytest.mark.parametrize(
    ("token", "params", "signature"),
    [
        ("wrong", PARAMS, EXPECTED),
        (TOKEN, PARAMS | {"Digits": ["4321"]}, EXPECTED),
        (TOKEN, PARAMS, EXPECTED[:-2] + "A="),
        (TOKEN, PARAMS, None),
        (TOKEN, PARAMS, ""),
        ("", PARAMS, EXPECTED),
    ],
)
def test_rejects_anything_else(token: str, params: dict[str, list[str]], signature: str | None) -> None:
    assert not twilio_signature_ok(token, URI, params, signature)


def test_the_emulator_signs_event_streams_like_twilio() -> None:
    url, headers = signed_json(TOKEN, URI, BODY)
    assert url == f"{URI}&bodySHA256={BODY_HASH}"
    assert headers["X-Twilio-Signature"] == "a9nBmqA0ju/hNViExpshrM61xv4="
