"""A Twilio emulator for the voice tests, over real HTTP on 127.0.0.1: the shared Twilio REST base
(switchboard/sandbox/_twilio_rest.py: accounts, Basic auth, error JSON, faults, the request log,
Accounts/{AccountSid}.json and IncomingPhoneNumbers.json with paging) plus the TrustHub calls the
voice adapter makes. Point both base URLs at ``emulator.url``:

- POST /v1/CustomerProfiles, GET/POST /v1/CustomerProfiles/{Sid},
  POST /v1/CustomerProfiles/{Sid}/EntityAssignments, POST /v1/EndUsers

Tests add accounts and numbers, flip a profile's status, inject faults, and read the request log.
"""

from __future__ import annotations

import json

from switchboard.sandbox._twilio_rest import (
    Call,
    Fault,
    JsonDict,
    RouteSpec,
    TwilioError,
    TwilioRestEmulator,
    new_sid,
)
from tests.support.emulator_server import Served

__all__ = ["TwilioEmulator", "TwilioError"]


class TwilioEmulator(Served, TwilioRestEmulator):
    flat_forms = True  # the voice tests read one value per form field

    def __init__(self) -> None:
        self.profiles: dict[str, JsonDict] = {}
        self.end_users: dict[str, JsonDict] = {}
        self.assignments: list[JsonDict] = []
        TwilioRestEmulator.__init__(self)

    def routes(self) -> list[RouteSpec]:
        return [
            ("POST", r"/v1/CustomerProfiles", self._create_profile),
            ("POST", r"/v1/EndUsers", self._create_end_user),
            ("GET", r"/v1/CustomerProfiles/(?P<sid>BU[0-9a-f]{32})", self._get_profile),
            ("POST", r"/v1/CustomerProfiles/(?P<sid>BU[0-9a-f]{32})", self._update_profile),
            ("POST", r"/v1/CustomerProfiles/(?P<sid>BU[0-9a-f]{32})/EntityAssignments", self._assign),
        ]

    # ------------------------------------------------------------------ test controls

    def reset(self) -> None:
        with self._lock:
            super().reset()
            self.accounts.clear()
            self.profiles.clear()
            self.end_users.clear()
            self.assignments.clear()

    def add_number(  # type: ignore[override]
        self, account_sid: str, phone_number: str, voice: bool = True
    ) -> JsonDict:
        return super().add_number(account_sid, phone_number, voice=voice, mms=False)

    def set_profile_status(self, sid: str, status: str, errors: list[JsonDict] | None = None) -> None:
        with self._lock:
            self.profiles[sid]["status"] = status
            self.profiles[sid]["errors"] = errors

    def inject_fault(
        self, status: int = 503, code: int = 20503, times: int = 1, path_prefix: str | None = None
    ) -> None:
        with self._lock:
            self.faults.append(Fault(path_prefix, status, code, times))

    # ------------------------------------------------------------------ TrustHub

    @staticmethod
    def _required(call: Call, name: str) -> str:
        value = (call.form.get(name) or [""])[-1]
        if not value:
            raise TwilioError(400, 20001, f"Missing required parameter {name} in the post body")
        return value

    def _create_profile(self, call: Call) -> tuple[int, JsonDict]:
        sid = new_sid("BU")
        profile = {
            "sid": sid,
            "account_sid": call.account.sid,
            "policy_sid": self._required(call, "PolicySid"),
            "friendly_name": self._required(call, "FriendlyName"),
            "email": self._required(call, "Email"),
            "status": "draft",
            "status_callback": (call.form.get("StatusCallback") or [None])[-1],
            "errors": None,
            "url": f"https://trusthub.twilio.com/v1/CustomerProfiles/{sid}",
        }
        self.profiles[sid] = profile
        return 201, profile

    def _create_end_user(self, call: Call) -> tuple[int, JsonDict]:
        try:
            attributes = json.loads((call.form.get("Attributes") or ["{}"])[-1] or "{}")
        except ValueError as exc:
            raise TwilioError(400, 20001, "Attributes must be JSON") from exc
        end_user = {
            "sid": new_sid("IT"),
            "account_sid": call.account.sid,
            "friendly_name": self._required(call, "FriendlyName"),
            "type": self._required(call, "Type"),
            "attributes": attributes,
        }
        self.end_users[end_user["sid"]] = end_user
        return 201, end_user

    def _get_profile(self, call: Call, sid: str) -> tuple[int, JsonDict]:
        return 200, self._owned(self.profiles, sid, call)

    def _update_profile(self, call: Call, sid: str) -> tuple[int, JsonDict]:
        profile = self._owned(self.profiles, sid, call)
        if "Status" in call.form:
            if call.form["Status"][-1] != "pending-review":
                raise TwilioError(400, 20001, "Status can only be set to pending-review")
            profile["status"] = "pending-review"
        return 200, profile

    def _assign(self, call: Call, sid: str) -> tuple[int, JsonDict]:
        profile = self._owned(self.profiles, sid, call)
        assignment = {
            "sid": new_sid("BV"),
            "customer_profile_sid": profile["sid"],
            "account_sid": call.account.sid,
            "object_sid": self._required(call, "ObjectSid"),
        }
        self.assignments.append(assignment)
        return 201, assignment
