"""What every Twilio emulator shares (the sandbox in switchboard/sandbox/twilio.py, the tests' voice
emulator): accounts and HTTP Basic AccountSid:AuthToken, Twilio's error JSON, the request log, injected
faults, routing, incoming phone numbers, and the ASGI app that serves them.

A wrong Account SID or auth token is HTTP 401 with error 20003 ("Authenticate"). In open mode an
account is learnt on first use: the first request with a well-formed SID (`AC` + 32 hex digits) and a
non-empty auth token creates it with that token; from then on only that token works. A learnt account
owns every E.164 number it names that no other account holds.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import re
import secrets
import threading
from collections import deque
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qs, urlencode

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

JsonDict = dict[str, Any]
Form = dict[str, list[str]]
Handler = Callable[..., tuple[int, JsonDict | None]]
RouteSpec = tuple[str, str, Handler]

API_VERSION = "2010-04-01"
ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
SERVICE_SID = re.compile(r"MG[0-9a-fA-F]{32}")
E164 = re.compile(r"\+[1-9]\d{6,14}")
ACCOUNT_PATH = r"/2010-04-01/Accounts/(?P<ac>[^/]+)"


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


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def twilio_signature(auth_token: str, url: str, params: Mapping[str, Iterable[str]] | None = None) -> str:
    """How Twilio signs a request: the URL, then name+value for each parameter, sorted. Written apart
    from the platform's verifier (switchboard/webhooks/signatures.py) so each checks the other."""
    data = url
    for name in sorted(params or {}):
        for value in sorted((params or {})[name]):
            data += name + value
    return base64.b64encode(hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def twilio_date() -> str:
    return format_datetime(datetime.now(UTC))  # Twilio's RFC 2822 dates


def not_found(path: str) -> TwilioError:
    return TwilioError(404, 20404, f"The requested resource {path} was not found")


def friendly_name_of(phone_number: str) -> str:
    """Twilio's friendly name of a North American number: (415) 555-0100."""
    if re.fullmatch(r"\+1\d{10}", phone_number):
        return f"({phone_number[2:5]}) {phone_number[5:8]}-{phone_number[8:]}"
    return phone_number


@dataclass
class Account:
    sid: str
    auth_token: str
    friendly_name: str = "Sandbox account"
    status: str = "active"
    learnt: bool = False  # created by its first request (open mode)


@dataclass
class Recorded:
    method: str
    path: str
    form: Any  # Form, or {name: last value} for emulators with flat_forms
    query: dict[str, str] = field(default_factory=dict)
    status: int = 0
    account: str | None = None


@dataclass
class Fault:
    path_prefix: str | None
    status: int
    code: int
    remaining: int


@dataclass
class Call:
    """One authenticated API request, as the route handlers see it."""

    method: str
    path: str
    form: Form
    query: dict[str, str]
    account: Account
    # Work to start once the answer is sent (status callbacks).
    later: list[Callable[[], Coroutine[Any, Any, None]]] = field(default_factory=list)

    def one(self, name: str, code: int = 21604, required: bool = True) -> str:
        values = self.form.get(name) or []
        if not values or not values[0]:
            if required:
                raise TwilioError(400, code, f"A '{name}' is required.")
            return ""
        return values[0]

    def integer(self, name: str, default: int) -> int:
        raw = self.query.get(name)
        if not raw:
            return default
        try:
            return int(raw)
        except ValueError as exc:
            raise TwilioError(400, 20001, f"Invalid {name}") from exc


class TwilioRestEmulator:
    """What every Twilio emulator shares: accounts and Basic auth, Twilio's errors, the request log,
    injected faults, routing, incoming numbers, and the ASGI app. Subclasses add `routes()`."""

    flat_forms = False  # record forms as {name: last value} rather than {name: [values]}

    def __init__(self, *, open_mode: bool = False) -> None:
        self.open_mode = open_mode
        self.accounts: dict[str, Account] = {}
        self.incoming: dict[str, JsonDict] = {}
        self.requests: deque[Recorded] = deque(maxlen=5000)
        self.faults: list[Fault] = []
        self._lock = threading.RLock()
        self._tasks: set[asyncio.Task[None]] = set()
        specs: list[RouteSpec] = [
            ("GET", rf"{ACCOUNT_PATH}\.json", self._get_account),
            ("GET", rf"{ACCOUNT_PATH}/IncomingPhoneNumbers\.json", self._list_numbers),
            *self.routes(),
        ]
        self._routes = [(verb, re.compile(pattern), handler) for verb, pattern, handler in specs]
        self.app = Starlette(
            routes=[*self.pages(), Route("/{path:path}", self.handle, methods=["GET", "POST", "DELETE"])]
        )

    def routes(self) -> list[RouteSpec]:
        return []

    def pages(self) -> list[BaseRoute]:
        return []

    # ------------------------------------------------------------------ controls

    def reset(self) -> None:
        with self._lock:
            self.incoming.clear()
            self.requests.clear()
            self.faults.clear()

    def add_account(
        self, sid: str | None = None, auth_token: str | None = None, friendly_name: str = "Test account"
    ) -> Account:
        account = Account(sid or new_sid("AC"), auth_token or secrets.token_hex(16), friendly_name)
        with self._lock:
            self.accounts[account.sid] = account
        return account

    def add_number(
        self,
        account_sid: str,
        phone_number: str,
        *,
        voice: bool = True,
        sms: bool = True,
        mms: bool = True,
        sid: str | None = None,
    ) -> JsonDict:
        """A number the account holds."""
        with self._lock:
            number = self._number_json(sid or new_sid("PN"), account_sid, phone_number, voice, sms, mms)
            self.incoming[number["sid"]] = number
            return number

    def reclaim(self, phone_number: str) -> None:
        """The provider takes a number back (expired, unpaid, ...)."""
        with self._lock:
            for sid, number in list(self.incoming.items()):
                if number["phone_number"] == phone_number:
                    del self.incoming[sid]

    def number(self, phone_number: str) -> JsonDict | None:
        with self._lock:
            return next((n for n in self.incoming.values() if n["phone_number"] == phone_number), None)

    def paths(self, method: str | None = None) -> list[str]:
        return [r.path for r in self.requests if method is None or r.method == method]

    def default_sms_url(self) -> str:
        return ""

    def _number_json(
        self,
        sid: str,
        account_sid: str,
        phone_number: str,
        voice: bool = True,
        sms: bool = True,
        mms: bool = True,
    ) -> JsonDict:
        return {
            "sid": sid,
            "account_sid": account_sid,
            "phone_number": phone_number,
            "friendly_name": friendly_name_of(phone_number),
            "capabilities": {"voice": voice, "sms": sms, "mms": mms, "fax": False},
            "status": "in-use",
            "sms_url": self.default_sms_url(),
            "sms_method": "POST",
            "uri": f"/2010-04-01/Accounts/{account_sid}/IncomingPhoneNumbers/{sid}.json",
        }

    def _claim(self, account: Account, phone_number: str) -> JsonDict | None:
        """The account's number; in open mode a learnt account gets any E.164 number nobody holds."""
        held = self.number(phone_number)
        if held is not None:
            return held if held["account_sid"] == account.sid else None
        if self.open_mode and account.learnt and E164.fullmatch(phone_number):
            return self.add_number(account.sid, phone_number)
        return None

    # ------------------------------------------------------------------ HTTP

    async def handle(self, request: Request) -> Response:
        raw = await request.body()
        form = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
        query = {k: v[-1] for k, v in parse_qs(request.url.query, keep_blank_values=True).items()}
        path = "/" + str(request.path_params["path"])
        call: Call | None = None
        with self._lock:
            recorded_form = {k: v[-1] for k, v in form.items()} if self.flat_forms else form
            record = Recorded(request.method, path, recorded_form, query)
            self.requests.append(record)
            try:
                account = self._authenticate(request.headers.get("authorization"))
                record.account = account.sid
                self._fault(path)
                call = Call(request.method, path, form, query, account)
                status, payload = self._route(call)
            except TwilioError as exc:
                status, payload = exc.status, exc.body()
            record.status = status
        headers = {"WWW-Authenticate": 'Basic realm="Twilio API"'} if status == 401 else None
        response: Response = (
            JSONResponse(payload, status, headers=headers)
            if payload is not None
            else Response(status_code=status, headers=headers)
        )
        if call is not None and call.later:
            response.background = BackgroundTask(self._start, call.later)
        return response

    async def _start(self, jobs: list[Callable[[], Coroutine[Any, Any, None]]]) -> None:
        """Runs after the answer is sent; the jobs go on in the background (they may sleep)."""
        for job in jobs:
            task = asyncio.get_running_loop().create_task(job())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _fault(self, path: str) -> None:
        for fault in self.faults:
            if fault.remaining > 0 and (fault.path_prefix is None or path.startswith(fault.path_prefix)):
                fault.remaining -= 1
                raise TwilioError(fault.status, fault.code, "Service unavailable")

    def _authenticate(self, header: str | None) -> Account:
        unauthorized = TwilioError(401, 20003, "Authenticate")
        if not header or not header.lower().startswith("basic "):
            raise unauthorized
        try:
            user, sep, password = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError) as exc:
            raise unauthorized from exc
        account = self.accounts.get(user)
        if account is None and self.open_mode and ACCOUNT_SID.fullmatch(user) and password:
            account = self.accounts[user] = Account(user, password, learnt=True)
        if (
            account is None
            or not sep
            or not hmac.compare_digest(account.auth_token.encode(), password.encode())
        ):
            raise unauthorized
        return account

    def _route(self, call: Call) -> tuple[int, JsonDict | None]:
        for verb, pattern, handler in self._routes:
            match = pattern.fullmatch(call.path)
            if match and verb == call.method:
                args = match.groupdict()
                # Twilio answers 404 for an account the credentials do not own.
                if "ac" in args and args.pop("ac") != call.account.sid:
                    raise not_found(call.path)
                return handler(call, **args)
        raise not_found(call.path)

    # ------------------------------------------------------------------ shared resources

    def _get_account(self, call: Call) -> tuple[int, JsonDict]:
        account = call.account
        return 200, {
            "sid": account.sid,
            "owner_account_sid": account.sid,
            "friendly_name": account.friendly_name,
            "status": account.status,
            "type": "Full",
            "date_created": "Thu, 01 Jan 2026 00:00:00 +0000",
            "uri": f"/2010-04-01/Accounts/{account.sid}.json",
        }

    def _list_numbers(self, call: Call) -> tuple[int, JsonDict]:
        wanted = call.query.get("PhoneNumber", "")
        if wanted:
            self._claim(call.account, wanted)
        # Partial numbers match anywhere; `*` stands for any digit (Twilio's PhoneNumber filter).
        pattern = re.compile(re.escape(wanted).replace(r"\*", r"\d"))
        owned = [
            n
            for n in self.incoming.values()
            if n["account_sid"] == call.account.sid and pattern.search(n["phone_number"])
        ]
        size = max(1, min(call.integer("PageSize", 50), 1000))
        page_no = max(0, call.integer("Page", 0))
        items = owned[page_no * size : (page_no + 1) * size]
        more = (page_no + 1) * size < len(owned)
        base = call.path + (f"?{urlencode({'PhoneNumber': wanted})}&" if wanted else "?")

        def uri(n: int) -> str:
            return f"{base}PageSize={size}&Page={n}"

        return 200, {
            "incoming_phone_numbers": items,
            "page": page_no,
            "page_size": size,
            "start": page_no * size,
            "end": page_no * size + len(items) - 1,
            "uri": uri(page_no),
            "first_page_uri": uri(0),
            "next_page_uri": uri(page_no + 1) if more else None,
            "previous_page_uri": uri(page_no - 1) if page_no else None,
        }

    def _owned(self, store: dict[str, JsonDict], sid: str, call: Call) -> JsonDict:
        item = store.get(sid)
        if item is None or item.get("account_sid") != call.account.sid:
            raise not_found(call.path)
        return item
