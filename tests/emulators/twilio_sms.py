"""A Twilio emulator for the SMS adapter, over real HTTP on 127.0.0.1 (a free port, threaded).

One host serves every Twilio base the adapter uses (point all five base URLs at ``emulator.url``);
their paths do not overlap:

- 2010-04-01: AvailablePhoneNumbers/{Country}/Local.json (AreaCode, Contains, SmsEnabled),
  IncomingPhoneNumbers.json (list with paging, buy), IncomingPhoneNumbers/{PN}.json (get, release),
  Messages.json (send)
- Pricing v1: PhoneNumbers/Countries/{Country}
- TrustHub v1: EndUsers, CustomerProfiles and TrustProducts (create, update Status,
  EntityAssignments)
- Messaging v1: a2p/BrandRegistrations (create, fetch), Services (create), Services/{MG}/PhoneNumbers,
  Services/{MG}/Compliance/Usa2p (create with the documented limits, fetch)
- Numbers v2: HostedNumber/Orders (create, fetch)

Form-urlencoded requests (repeated keys for lists), HTTP Basic AccountSid:AuthToken, Twilio-shaped
JSON answers and errors ``{code, message, more_info, status}``. Tests seed the inventory, decide
registrations, reclaim numbers, complete hosted orders, inject faults, read the outbox and the
request log, and sign webhooks the way Twilio does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

JsonDict = dict[str, Any]
Form = dict[str, list[str]]

_KEYPAD = {c: d for d, letters in {
    "2": "abc", "3": "def", "4": "ghi", "5": "jkl", "6": "mno", "7": "pqrs", "8": "tuv", "9": "wxyz"
}.items() for c in letters}  # fmt: skip
_USE_CASES = {
    "2FA", "ACCOUNT_NOTIFICATION", "AGENTS_FRANCHISES", "CHARITY", "PROXY", "CUSTOMER_CARE",
    "DELIVERY_NOTIFICATION", "EMERGENCY", "FRAUD_ALERT", "HIGHER_EDUCATION", "K12_EDUCATION", "LOW_VOLUME",
    "MARKETING", "MIXED", "POLITICAL", "POLLING_VOTING", "PUBLIC_SERVICE_ANNOUNCEMENT", "SECURITY_ALERT",
    "SOCIAL", "SWEEPSTAKE", "SOLE_PROPRIETOR",
}  # fmt: skip


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


def twilio_signature(auth_token: str, url: str, params: Mapping[str, Iterable[str]] | None = None) -> str:
    """How Twilio signs a request: the URL, then name+value for each parameter, sorted (independent
    of the service's implementation, so the tests check one against the other)."""
    data = url
    for name in sorted(params or {}):
        for value in sorted((params or {})[name]):
            data += name + value
    return base64.b64encode(hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def signed_json(auth_token: str, url: str, body: bytes) -> tuple[str, dict[str, str]]:
    """Event Streams style: bodySHA256 added to the URL, the URL alone signed."""
    sep = "&" if "?" in url else "?"
    signed_url = f"{url}{sep}bodySHA256={hashlib.sha256(body).hexdigest()}"
    headers = {
        "X-Twilio-Signature": twilio_signature(auth_token, signed_url),
        "Content-Type": "application/json",
    }
    return signed_url, headers


@dataclass
class Fault:
    path_prefix: str
    status: int
    code: int
    remaining: int


@dataclass
class Recorded:
    method: str
    path: str
    form: Form
    query: dict[str, str] = field(default_factory=dict)
    status: int = 0


@dataclass
class TwilioSmsEmulator:
    account_sid: str = field(default_factory=lambda: _sid("AC"))
    auth_token: str = field(default_factory=lambda: secrets.token_hex(16))
    available: dict[str, list[JsonDict]] = field(default_factory=dict)
    incoming: dict[str, JsonDict] = field(default_factory=dict)
    outbox: list[JsonDict] = field(default_factory=list)
    prices: dict[str, tuple[str, str]] = field(default_factory=dict)
    end_users: dict[str, JsonDict] = field(default_factory=dict)
    bundles: dict[str, JsonDict] = field(default_factory=dict)
    brands: dict[str, JsonDict] = field(default_factory=dict)
    services: dict[str, JsonDict] = field(default_factory=dict)
    campaigns: dict[str, JsonDict] = field(default_factory=dict)
    hosted_orders: dict[str, JsonDict] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._routes: list[tuple[str, re.Pattern[str], Any]] = [
            (
                "GET",
                re.compile(
                    r"^/2010-04-01/Accounts/(?P<ac>\w+)/AvailablePhoneNumbers/(?P<cc>\w+)/Local\.json$"
                ),
                self._search,
            ),
            (
                "GET",
                re.compile(r"^/2010-04-01/Accounts/(?P<ac>\w+)/IncomingPhoneNumbers\.json$"),
                self._list_incoming,
            ),
            ("POST", re.compile(r"^/2010-04-01/Accounts/(?P<ac>\w+)/IncomingPhoneNumbers\.json$"), self._buy),
            (
                "GET",
                re.compile(r"^/2010-04-01/Accounts/(?P<ac>\w+)/IncomingPhoneNumbers/(?P<sid>\w+)\.json$"),
                self._get_incoming,
            ),
            (
                "DELETE",
                re.compile(r"^/2010-04-01/Accounts/(?P<ac>\w+)/IncomingPhoneNumbers/(?P<sid>\w+)\.json$"),
                self._release,
            ),
            ("POST", re.compile(r"^/2010-04-01/Accounts/(?P<ac>\w+)/Messages\.json$"), self._send),
            ("GET", re.compile(r"^/v1/PhoneNumbers/Countries/(?P<cc>\w+)$"), self._price),
            ("POST", re.compile(r"^/v1/EndUsers$"), self._end_user),
            ("POST", re.compile(r"^/v1/(?P<kind>CustomerProfiles|TrustProducts)$"), self._bundle),
            (
                "POST",
                re.compile(r"^/v1/(?P<kind>CustomerProfiles|TrustProducts)/(?P<sid>\w+)$"),
                self._bundle_update,
            ),
            (
                "POST",
                re.compile(r"^/v1/(?P<kind>CustomerProfiles|TrustProducts)/(?P<sid>\w+)/EntityAssignments$"),
                self._assign,
            ),
            ("POST", re.compile(r"^/v1/a2p/BrandRegistrations$"), self._brand),
            ("GET", re.compile(r"^/v1/a2p/BrandRegistrations/(?P<sid>\w+)$"), self._get_brand),
            ("POST", re.compile(r"^/v1/Services$"), self._service),
            ("POST", re.compile(r"^/v1/Services/(?P<mg>\w+)/PhoneNumbers$"), self._service_number),
            ("POST", re.compile(r"^/v1/Services/(?P<mg>\w+)/Compliance/Usa2p$"), self._campaign),
            (
                "GET",
                re.compile(r"^/v1/Services/(?P<mg>\w+)/Compliance/Usa2p/(?P<sid>\w+)$"),
                self._get_campaign,
            ),
            ("POST", re.compile(r"^/v2/HostedNumber/Orders$"), self._hosted_order),
            ("GET", re.compile(r"^/v2/HostedNumber/Orders/(?P<sid>\w+)$"), self._get_hosted_order),
        ]

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("emulator not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> TwilioSmsEmulator:
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                emulator._handle(self, "GET")

            def do_POST(self) -> None:
                emulator._handle(self, "POST")

            def do_DELETE(self) -> None:
                emulator._handle(self, "DELETE")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="twilio-sms-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> TwilioSmsEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ test controls

    def reset(self) -> None:
        with self._lock:
            stores: list[dict[str, Any]] = [self.available, self.incoming, self.prices, self.end_users]
            stores += [self.bundles, self.brands, self.services, self.campaigns, self.hosted_orders]
            for store in stores:
                store.clear()
            self.outbox.clear()
            self.requests.clear()
            self.faults.clear()

    def add_available(
        self,
        phone_number: str,
        country: str = "US",
        region: str = "CA",
        locality: str = "San Francisco",
        sms: bool = True,
        mms: bool = True,
        voice: bool = True,
        address_requirements: str = "none",
    ) -> None:
        with self._lock:
            self.available.setdefault(country, []).append(
                {
                    "friendly_name": phone_number,
                    "phone_number": phone_number,
                    "lata": "722",
                    "locality": locality,
                    "rate_center": locality.upper(),
                    "latitude": "37.77",
                    "longitude": "-122.41",
                    "region": region,
                    "postal_code": None,
                    "iso_country": country,
                    "address_requirements": address_requirements,
                    "beta": False,
                    # Twilio's own spelling in this resource.
                    "capabilities": {"voice": voice, "SMS": sms, "MMS": mms},
                }
            )

    def add_incoming(self, phone_number: str) -> str:
        """A number the platform account already holds (e.g. the verification sender)."""
        with self._lock:
            sid = _sid("PN")
            self.incoming[sid] = self._incoming_json(sid, phone_number)
            return sid

    def reclaim(self, phone_number: str) -> None:
        """The provider takes a number back (expired, unpaid, ...)."""
        with self._lock:
            for sid, number in list(self.incoming.items()):
                if number["phone_number"] == phone_number:
                    del self.incoming[sid]

    def restore(self, sid: str, phone_number: str) -> None:
        with self._lock:
            self.incoming[sid] = self._incoming_json(sid, phone_number)

    def set_brand_status(self, sid: str, status: str, failure_reason: str | None = None) -> None:
        with self._lock:
            self.brands[sid]["status"] = status
            self.brands[sid]["failure_reason"] = failure_reason
            if failure_reason:
                self.brands[sid]["errors"] = [{"code": 30794, "description": failure_reason}]

    def set_campaign_status(self, sid: str, status: str, description: str | None = None) -> None:
        with self._lock:
            self.campaigns[sid]["campaign_status"] = status
            if description:
                self.campaigns[sid]["errors"] = [{"error_code": 30886, "description": description}]

    def complete_hosted_order(self, sid: str) -> str:
        with self._lock:
            order = self.hosted_orders[sid]
            number_sid = self.add_incoming(order["phone_number"])
            order.update(status="completed", incoming_phone_number_sid=number_sid)
            return number_sid

    def fail_hosted_order(self, sid: str, reason: str) -> None:
        with self._lock:
            self.hosted_orders[sid].update(status="failed", failure_reason=reason)

    def inject_fault(self, path_prefix: str, status: int = 503, code: int = 20503, times: int = 1) -> None:
        with self._lock:
            self.faults.append(Fault(path_prefix, status, code, times))

    def paths(self, method: str | None = None) -> list[str]:
        return [r.path for r in self.requests if method is None or r.method == method]

    # ------------------------------------------------------------------ HTTP

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        form = parse_qs(raw.decode(), keep_blank_values=True)
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        record = Recorded(method, parts.path, form, query)
        status, body = 200, b""
        with self._lock:
            self.requests.append(record)
            try:
                self._fault(parts.path)
                self._authenticate(handler.headers.get("Authorization"))
                status, payload = self._route(method, parts.path, form, query)
                body = json.dumps(payload).encode() if payload is not None else b""
            except TwilioError as exc:
                status, body = exc.status, json.dumps(exc.body()).encode()
            record.status = status
        handler.send_response(status)
        if body:
            handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def _fault(self, path: str) -> None:
        for fault in self.faults:
            if fault.remaining > 0 and path.startswith(fault.path_prefix):
                fault.remaining -= 1
                raise TwilioError(fault.status, fault.code, "Service unavailable")

    def _authenticate(self, header: str | None) -> None:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if header != f"Basic {expected}":
            raise TwilioError(401, 20003, "Authenticate")

    def _route(
        self, method: str, path: str, form: Form, query: dict[str, str]
    ) -> tuple[int, JsonDict | None]:
        for verb, pattern, handler in self._routes:
            match = pattern.match(path)
            if verb == method and match:
                args = match.groupdict()
                if "ac" in args and args.pop("ac") != self.account_sid:
                    raise TwilioError(404, 20404, "The requested resource was not found")
                result: tuple[int, JsonDict | None] = handler(form, query, **args)
                return result
        raise TwilioError(404, 20404, "The requested resource was not found")

    # ------------------------------------------------------------------ form helpers

    @staticmethod
    def _one(form: Form, name: str, code: int = 21604, required: bool = True) -> str:
        values = form.get(name) or []
        if not values or not values[0]:
            if required:
                raise TwilioError(400, code, f"A '{name}' is required.")
            return ""
        return values[0]

    @staticmethod
    def _length(form: Form, name: str, low: int, high: int, required: bool = True) -> None:
        values = form.get(name) or []
        if not values:
            if required:
                raise TwilioError(400, 21701, f"Missing required parameter {name}")
            return
        for value in values:
            if not low <= len(value) <= high:
                raise TwilioError(400, 21701, f"Invalid parameter {name}: length must be {low}..{high}")

    def _incoming_json(self, sid: str, phone_number: str) -> JsonDict:
        return {
            "sid": sid,
            "account_sid": self.account_sid,
            "phone_number": phone_number,
            "friendly_name": phone_number,
            "capabilities": {"voice": True, "sms": True, "mms": True, "fax": False},
            "status": "in-use",
        }

    # ------------------------------------------------------------------ numbers

    def _search(self, form: Form, query: dict[str, str], cc: str) -> tuple[int, JsonDict]:
        if cc not in self.available and cc not in {"US", "CA", "GB"}:
            raise TwilioError(404, 20404, "The requested resource was not found")
        numbers = list(self.available.get(cc, []))
        if query.get("AreaCode"):
            numbers = [n for n in numbers if n["phone_number"][2:5] == query["AreaCode"]]
        if query.get("Contains"):
            pattern = "".join(
                r"\d" if c == "*" else (c if c.isdigit() else _KEYPAD.get(c, re.escape(c)))
                for c in query["Contains"].lower()
            )
            numbers = [n for n in numbers if re.search(pattern, n["phone_number"][1:])]
        if query.get("SmsEnabled") == "true":
            numbers = [n for n in numbers if n["capabilities"]["SMS"]]
        size = int(query.get("PageSize") or 30)
        return 200, {"available_phone_numbers": numbers[:size], "uri": "/2010-04-01/...", "end": 0}

    def _list_incoming(self, form: Form, query: dict[str, str]) -> tuple[int, JsonDict]:
        size = int(query.get("PageSize") or 50)
        page = int(query.get("Page") or 0)
        items = list(self.incoming.values())
        chunk = items[page * size : (page + 1) * size]
        base = f"/2010-04-01/Accounts/{self.account_sid}/IncomingPhoneNumbers.json"
        next_uri = f"{base}?PageSize={size}&Page={page + 1}" if (page + 1) * size < len(items) else None
        return 200, {
            "incoming_phone_numbers": chunk,
            "page": page,
            "page_size": size,
            "next_page_uri": next_uri,
        }

    def _buy(self, form: Form, query: dict[str, str]) -> tuple[int, JsonDict]:
        phone = self._one(form, "PhoneNumber", 21421)
        for country, numbers in self.available.items():
            for number in numbers:
                if number["phone_number"] == phone:
                    if number["address_requirements"] != "none" and not form.get("AddressSid"):
                        raise TwilioError(
                            400, 21631, "Phone Number Requires an Address but the 'AddressSid' is empty"
                        )
                    numbers.remove(number)
                    sid = _sid("PN")
                    self.incoming[sid] = self._incoming_json(sid, phone) | {"iso_country": country}
                    return 201, self.incoming[sid]
        raise TwilioError(400, 21422, "PhoneNumber not available")

    def _get_incoming(self, form: Form, query: dict[str, str], sid: str) -> tuple[int, JsonDict]:
        if sid not in self.incoming:
            raise TwilioError(404, 20404, "The requested resource was not found")
        return 200, self.incoming[sid]

    def _release(self, form: Form, query: dict[str, str], sid: str) -> tuple[int, None]:
        if sid not in self.incoming:
            raise TwilioError(404, 20404, "The requested resource was not found")
        del self.incoming[sid]
        return 204, None

    def _send(self, form: Form, query: dict[str, str]) -> tuple[int, JsonDict]:
        to = self._one(form, "To", 21604)
        body = self._one(form, "Body", 21602)
        sender = self._one(form, "From", 21603, required=False)
        service = self._one(form, "MessagingServiceSid", 21603, required=False)
        if not sender and not service:
            raise TwilioError(400, 21603, "A 'From' phone number is required.")
        if sender and sender not in {n["phone_number"] for n in self.incoming.values()}:
            raise TwilioError(
                400, 21606, "The From phone number is not a valid, SMS-capable inbound phone number"
            )
        if service and service not in self.services:
            raise TwilioError(400, 21701, "Messaging Service not found")
        if len(body) > 1600:
            raise TwilioError(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        message = {
            "sid": _sid("SM"),
            "to": to,
            "from": sender or None,
            "messaging_service_sid": service or None,
            "body": body,
            "status": "queued",
            "status_callback": self._one(form, "StatusCallback", required=False) or None,
        }
        self.outbox.append(message)
        return 201, message

    def _price(self, form: Form, query: dict[str, str], cc: str) -> tuple[int, JsonDict]:
        if cc not in self.prices:
            raise TwilioError(404, 20404, "The requested resource was not found")
        amount, unit = self.prices[cc]
        return 200, {
            "country": cc,
            "iso_country": cc,
            "phone_number_prices": [
                {"number_type": "local", "base_price": amount, "current_price": amount},
                {"number_type": "toll free", "base_price": "2.15", "current_price": "2.15"},
            ],
            "price_unit": unit,
        }

    # ------------------------------------------------------------------ TrustHub

    def _end_user(self, form: Form, query: dict[str, str]) -> tuple[int, JsonDict]:
        kind = self._one(form, "Type", 21701)
        self._one(form, "FriendlyName", 21701)
        try:
            attributes = json.loads(self._one(form, "Attributes", 21701))
        except ValueError as exc:
            raise TwilioError(400, 21701, "Attributes must be JSON") from exc
        sid = _sid("IT")
        self.end_users[sid] = {"sid": sid, "type": kind, "attributes": attributes}
        return 201, self.end_users[sid]

    def _bundle(self, form: Form, query: dict[str, str], kind: str) -> tuple[int, JsonDict]:
        for name in ("FriendlyName", "Email", "PolicySid"):
            self._one(form, name, 21701)
        sid = _sid("BU")
        self.bundles[sid] = {
            "sid": sid,
            "kind": kind,
            "policy_sid": form["PolicySid"][0],
            "email": form["Email"][0],
            "status": "draft",
            "items": [],
        }
        return 201, self.bundles[sid]

    def _bundle_update(self, form: Form, query: dict[str, str], kind: str, sid: str) -> tuple[int, JsonDict]:
        if sid not in self.bundles:
            raise TwilioError(404, 20404, "The requested resource was not found")
        if form.get("Status"):
            self.bundles[sid]["status"] = form["Status"][0]
        return 200, self.bundles[sid]

    def _assign(self, form: Form, query: dict[str, str], kind: str, sid: str) -> tuple[int, JsonDict]:
        if sid not in self.bundles:
            raise TwilioError(404, 20404, "The requested resource was not found")
        item = self._one(form, "ObjectSid", 21701)
        self.bundles[sid]["items"].append(item)
        return 201, {"sid": _sid("BV"), "object_sid": item, "bundle_sid": sid}

    # ------------------------------------------------------------------ A2P

    def _brand(self, form: Form, query: dict[str, str]) -> tuple[int, JsonDict]:
        for name in ("CustomerProfileBundleSid", "A2PProfileBundleSid"):
            if self._one(form, name, 21701) not in self.bundles:
                raise TwilioError(400, 21701, f"{name} not found")
        brand_type = self._one(form, "BrandType", required=False) or "STANDARD"
        if brand_type not in {"STANDARD", "SOLE_PROPRIETOR"}:
            raise TwilioError(400, 21701, "Invalid BrandType")
        sid = _sid("BN")
        self.brands[sid] = {
            "sid": sid,
            "customer_profile_bundle_sid": form["CustomerProfileBundleSid"][0],
            "a2p_profile_bundle_sid": form["A2PProfileBundleSid"][0],
            "brand_type": brand_type,
            "status": "PENDING",
            "failure_reason": None,
            "errors": [],
            "identity_status": "UNVERIFIED",
        }
        return 201, self.brands[sid]

    def _get_brand(self, form: Form, query: dict[str, str], sid: str) -> tuple[int, JsonDict]:
        if sid not in self.brands:
            raise TwilioError(404, 20404, "The requested resource was not found")
        return 200, self.brands[sid]

    def _service(self, form: Form, query: dict[str, str]) -> tuple[int, JsonDict]:
        name = self._one(form, "FriendlyName", 21701)
        sid = _sid("MG")
        self.services[sid] = {"sid": sid, "friendly_name": name, "numbers": []}
        return 201, {"sid": sid, "friendly_name": name}

    def _service_number(self, form: Form, query: dict[str, str], mg: str) -> tuple[int, JsonDict]:
        if mg not in self.services:
            raise TwilioError(404, 20404, "The requested resource was not found")
        number = self._one(form, "PhoneNumberSid", 21701)
        if number not in self.incoming:
            raise TwilioError(400, 21710, "Phone Number not found in this account")
        self.services[mg]["numbers"].append(number)
        return 201, {"sid": number, "service_sid": mg}

    def _campaign(self, form: Form, query: dict[str, str], mg: str) -> tuple[int, JsonDict]:
        if mg not in self.services:
            raise TwilioError(404, 20404, "The requested resource was not found")
        brand = self.brands.get(self._one(form, "BrandRegistrationSid", 21701))
        if brand is None or brand["status"] != "APPROVED":
            raise TwilioError(400, 21712, "The brand is not registered")
        self._length(form, "Description", 40, 4096)
        self._length(form, "MessageFlow", 40, 2048)
        samples = form.get("MessageSamples") or []
        if not 2 <= len(samples) <= 5:
            raise TwilioError(400, 21701, "MessageSamples must have 2 to 5 items")
        self._length(form, "MessageSamples", 20, 1024)
        if self._one(form, "UsAppToPersonUsecase", 21701) not in _USE_CASES:
            raise TwilioError(400, 21701, "Invalid UsAppToPersonUsecase")
        for flag in ("HasEmbeddedLinks", "HasEmbeddedPhone"):
            if self._one(form, flag, 21701) not in {"true", "false"}:
                raise TwilioError(400, 21701, f"Invalid {flag}")
        for name in ("OptInMessage", "OptOutMessage", "HelpMessage"):
            self._length(form, name, 20, 320, required=False)
        for name in ("OptInKeywords", "OptOutKeywords", "HelpKeywords"):
            for keyword in form.get(name) or []:
                if not (keyword.isalnum() and len(keyword) <= 255):
                    raise TwilioError(400, 21701, f"Invalid {name}")
        sid = _sid("QE")
        self.campaigns[sid] = {
            "sid": sid,
            "messaging_service_sid": mg,
            "brand_registration_sid": brand["sid"],
            "campaign_status": "IN_PROGRESS",
            "campaign_id": None,
            "errors": [],
            "form": {k: list(v) for k, v in form.items()},
        }
        return 201, {k: v for k, v in self.campaigns[sid].items() if k != "form"}

    def _get_campaign(self, form: Form, query: dict[str, str], mg: str, sid: str) -> tuple[int, JsonDict]:
        campaign = self.campaigns.get(sid)
        if campaign is None or campaign["messaging_service_sid"] != mg:
            raise TwilioError(404, 20404, "The requested resource was not found")
        return 200, {k: v for k, v in campaign.items() if k != "form"}

    # ------------------------------------------------------------------ hosted numbers

    def _hosted_order(self, form: Form, query: dict[str, str]) -> tuple[int, JsonDict]:
        phone = self._one(form, "PhoneNumber", 21421)
        self._one(form, "Email", 21701)
        sid = _sid("HR")
        self.hosted_orders[sid] = {
            "sid": sid,
            "phone_number": phone,
            "status": "received",
            "incoming_phone_number_sid": None,
            "failure_reason": None,
        }
        return 201, self.hosted_orders[sid]

    def _get_hosted_order(self, form: Form, query: dict[str, str], sid: str) -> tuple[int, JsonDict]:
        if sid not in self.hosted_orders:
            raise TwilioError(404, 20404, "The requested resource was not found")
        return 200, self.hosted_orders[sid]
