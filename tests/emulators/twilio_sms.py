"""The Twilio sandbox (switchboard/sandbox/twilio.py) as the SMS tests' emulator: strict (one account,
made here, whose SID and token the tests read or rotate; nothing is learnt), served on 127.0.0.1, and
with status callbacks left to the tests (they post them through the TestClient, signed with
`twilio_signature`). Point every Twilio base URL at `emulator.url`.
"""

from __future__ import annotations

import hashlib

from switchboard.sandbox.twilio import TwilioError, TwilioSandbox, twilio_signature
from tests.support.emulator_server import Served

__all__ = ["TwilioError", "TwilioSmsEmulator", "signed_json", "twilio_signature"]


def signed_json(auth_token: str, url: str, body: bytes) -> tuple[str, dict[str, str]]:
    """Event Streams style: bodySHA256 added to the URL, the URL alone signed."""
    sep = "&" if "?" in url else "?"
    signed_url = f"{url}{sep}bodySHA256={hashlib.sha256(body).hexdigest()}"
    headers = {
        "X-Twilio-Signature": twilio_signature(auth_token, signed_url),
        "Content-Type": "application/json",
    }
    return signed_url, headers


class TwilioSmsEmulator(Served, TwilioSandbox):
    def __init__(self) -> None:
        TwilioSandbox.__init__(self, open_mode=False, auto_progress=False)
        self.primary = self.add_account()

    @property
    def account_sid(self) -> str:
        return self.primary.sid

    @property
    def auth_token(self) -> str:
        return self.primary.auth_token

    @auth_token.setter
    def auth_token(self, value: str) -> None:
        """The token rotated on Twilio's side: the old one stops working."""
        self.primary.auth_token = value

    def add_incoming(self, phone_number: str) -> str:
        """A number the account already holds (e.g. the verification sender); its PN sid."""
        return str(self.add_number(self.account_sid, phone_number)["sid"])

    def restore(self, sid: str, phone_number: str) -> None:
        self.add_number(self.account_sid, phone_number, sid=sid)
