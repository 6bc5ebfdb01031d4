"""A small Twilio emulator for tests, over real HTTP on 127.0.0.1 (a free port, threaded).

It speaks the parts of Twilio's wire format the voice adapter uses, on one host for both the
2010-04-01 REST API and TrustHub (point both base URLs at ``emulator.url``):

- GET  /2010-04-01/Accounts/{AccountSid}.json
- GET  /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json  (PageSize/Page, next_page_uri)
- POST /v1/CustomerProfiles, GET/POST /v1/CustomerProfiles/{Sid},
  POST /v1/CustomerProfiles/{Sid}/EntityAssignments, POST /v1/EndUsers

Requests are form-urlencoded and authenticated with HTTP Basic AccountSid:AuthToken; answers are
Twilio-shaped JSON, errors ``{"code", "message", "more_info", "status"}``. Tests add accounts and
numbers, flip a profile's status, inject faults, and read the request log.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

JsonDict = dict[str, Any]


class TwilioError(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> JsonDict:
        return {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }


def _sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


@dataclass
class Account:
    sid: str
    auth_token: str
    friendly_name: str = "Test account"
    status: str = "active"
    numbers: list[JsonDict] = field(default_factory=list)


@dataclass
class RecordedRequest:
    method: str
    path: str
    form: dict[str, str]
    account: str | None


@dataclass
class Fault:
    status: int
    code: int
    remaining: int
    path_prefix: str | None


class TwilioEmulator:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.accounts: dict[str, Account] = {}
        self.profiles: dict[str, JsonDict] = {}
        self.end_users: dict[str, JsonDict] = {}
        self.assignments: list[JsonDict] = []
        self.requests: list[RecordedRequest] = []
        self._faults: list[Fault] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("emulator not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> TwilioEmulator:
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                emulator._handle(self, "GET")

            def do_POST(self) -> None:
                emulator._handle(self, "POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="twilio-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None

    def __enter__(self) -> TwilioEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ test controls

    def reset(self) -> None:
        with self._lock:
            self.accounts.clear()
            self.profiles.clear()
            self.end_users.clear()
            self.assignments.clear()
            self.requests.clear()
            self._faults.clear()

    def add_account(self, sid: str | None = None, auth_token: str | None = None) -> Account:
        account = Account(sid=sid or _sid("AC"), auth_token=auth_token or secrets.token_hex(16))
        with self._lock:
            self.accounts[account.sid] = account
        return account

    def add_number(self, account_sid: str, phone_number: str, voice: bool = True) -> JsonDict:
        number = {
            "sid": _sid("PN"),
            "account_sid": account_sid,
            "phone_number": phone_number,
            "friendly_name": f"({phone_number[2:5]}) {phone_number[5:8]}-{phone_number[8:]}",
            "capabilities": {"voice": voice, "sms": True, "mms": False, "fax": False},
        }
        with self._lock:
            self.accounts[account_sid].numbers.append(number)
        return number

    def set_profile_status(self, sid: str, status: str, errors: list[JsonDict] | None = None) -> None:
        with self._lock:
            self.profiles[sid]["status"] = status
            self.profiles[sid]["errors"] = errors

    def inject_fault(
        self, status: int = 503, code: int = 20503, times: int = 1, path_prefix: str | None = None
    ) -> None:
        with self._lock:
            self._faults.append(Fault(status, code, times, path_prefix))

    # ------------------------------------------------------------------ HTTP

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        form = {k: v[-1] for k, v in parse_qs(raw.decode("utf-8"), keep_blank_values=True).items()}
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        with self._lock:
            record = RecordedRequest(method, parts.path, form, None)
            self.requests.append(record)
            try:
                account = self._authenticate(handler.headers.get("Authorization"))
                record.account = account.sid
                self._fault(parts.path)
                status, body = self._route(method, parts.path, form, query, account)
            except TwilioError as exc:
                status, body = exc.status, exc.body()
        payload = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    def _fault(self, path: str) -> None:
        for fault in self._faults:
            if fault.remaining > 0 and (fault.path_prefix is None or path.startswith(fault.path_prefix)):
                fault.remaining -= 1
                raise TwilioError(fault.status, fault.code, "Service unavailable (injected)")

    def _authenticate(self, header: str | None) -> Account:
        if not header or not header.startswith("Basic "):
            raise TwilioError(401, 20003, "Authenticate")
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError as exc:
            raise TwilioError(401, 20003, "Authenticate") from exc
        account = self.accounts.get(user)
        if account is None or not secrets.compare_digest(account.auth_token, password):
            raise TwilioError(401, 20003, "Authenticate")
        return account

    def _route(
        self, method: str, path: str, form: dict[str, str], query: dict[str, str], account: Account
    ) -> tuple[int, JsonDict]:
        if method == "GET" and (m := re.fullmatch(r"/2010-04-01/Accounts/([^/]+)\.json", path)):
            return 200, self._account_json(self._own(account, m[1]))
        if method == "GET" and (
            m := re.fullmatch(r"/2010-04-01/Accounts/([^/]+)/IncomingPhoneNumbers\.json", path)
        ):
            return 200, self._numbers(self._own(account, m[1]), path, query)
        if path == "/v1/CustomerProfiles" and method == "POST":
            return 201, self._create_profile(account, form)
        if path == "/v1/EndUsers" and method == "POST":
            return 201, self._create_end_user(account, form)
        if m := re.fullmatch(r"/v1/CustomerProfiles/(BU[0-9a-f]{32})", path):
            profile = self._profile(account, m[1])
            if method == "GET":
                return 200, profile
            if "Status" in form:
                if form["Status"] != "pending-review":
                    raise TwilioError(400, 20001, "Status can only be set to pending-review")
                profile["status"] = "pending-review"
            return 200, profile
        if method == "POST" and (
            m := re.fullmatch(r"/v1/CustomerProfiles/(BU[0-9a-f]{32})/EntityAssignments", path)
        ):
            profile = self._profile(account, m[1])
            assignment = {
                "sid": _sid("BV"),
                "customer_profile_sid": profile["sid"],
                "account_sid": account.sid,
                "object_sid": self._required(form, "ObjectSid"),
            }
            self.assignments.append(assignment)
            return 201, assignment
        raise TwilioError(404, 20404, f"The requested resource {path} was not found")

    @staticmethod
    def _required(form: dict[str, str], name: str) -> str:
        value = form.get(name)
        if not value:
            raise TwilioError(400, 20001, f"Missing required parameter {name} in the post body")
        return value

    @staticmethod
    def _own(account: Account, sid: str) -> Account:
        # Twilio answers 404 for an account the credentials do not own.
        if sid != account.sid:
            raise TwilioError(
                404, 20404, f"The requested resource /2010-04-01/Accounts/{sid}.json was not found"
            )
        return account

    def _account_json(self, account: Account) -> JsonDict:
        return {
            "sid": account.sid,
            "owner_account_sid": account.sid,
            "friendly_name": account.friendly_name,
            "status": account.status,
            "type": "Full",
            "date_created": "Thu, 01 Jan 2026 00:00:00 +0000",
            "uri": f"/2010-04-01/Accounts/{account.sid}.json",
        }

    def _numbers(self, account: Account, path: str, query: dict[str, str]) -> JsonDict:
        size = max(1, min(int(query.get("PageSize", "50")), 1000))
        page = int(query.get("Page", "0"))
        items = account.numbers[page * size : (page + 1) * size]
        more = (page + 1) * size < len(account.numbers)
        return {
            "incoming_phone_numbers": items,
            "page": page,
            "page_size": size,
            "start": page * size,
            "end": page * size + len(items) - 1,
            "uri": f"{path}?PageSize={size}&Page={page}",
            "first_page_uri": f"{path}?PageSize={size}&Page=0",
            "next_page_uri": f"{path}?PageSize={size}&Page={page + 1}" if more else None,
            "previous_page_uri": f"{path}?PageSize={size}&Page={page - 1}" if page else None,
        }

    def _create_profile(self, account: Account, form: dict[str, str]) -> JsonDict:
        sid = _sid("BU")
        profile = {
            "sid": sid,
            "account_sid": account.sid,
            "policy_sid": self._required(form, "PolicySid"),
            "friendly_name": self._required(form, "FriendlyName"),
            "email": self._required(form, "Email"),
            "status": "draft",
            "status_callback": form.get("StatusCallback"),
            "errors": None,
            "url": f"https://trusthub.twilio.com/v1/CustomerProfiles/{sid}",
        }
        self.profiles[sid] = profile
        return profile

    def _create_end_user(self, account: Account, form: dict[str, str]) -> JsonDict:
        try:
            attributes = json.loads(form.get("Attributes") or "{}")
        except ValueError as exc:
            raise TwilioError(400, 20001, "Attributes must be JSON") from exc
        end_user = {
            "sid": _sid("IT"),
            "account_sid": account.sid,
            "friendly_name": self._required(form, "FriendlyName"),
            "type": self._required(form, "Type"),
            "attributes": attributes,
        }
        self.end_users[end_user["sid"]] = end_user
        return end_user

    def _profile(self, account: Account, sid: str) -> JsonDict:
        profile = self.profiles.get(sid)
        if profile is None or profile["account_sid"] != account.sid:
            raise TwilioError(404, 20404, f"The requested resource /v1/CustomerProfiles/{sid} was not found")
        return profile
