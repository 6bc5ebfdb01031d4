"""Sandbox Twilio: the REST API the SMS channel and the SMS domain speak, served in-process at
/sandbox/twilio in sandbox mode (tests serve the same app on 127.0.0.1 ports).

Wire format as Twilio's: HTTP Basic AccountSid:AuthToken, form-urlencoded requests (repeated keys for
lists), JSON answers, errors `{code, message, more_info, status}`. One host serves every base the
platform uses; their paths do not overlap:

- 2010-04-01: Accounts/{AC}.json; IncomingPhoneNumbers.json (list with paging and `PhoneNumber=`,
  buy), IncomingPhoneNumbers/{PN}.json (get, update SmsUrl, release); AvailablePhoneNumbers/{CC}/
  Local.json; Messages.json (send), Messages/{SM}.json (fetch)
- Pricing v1 PhoneNumbers/Countries/{CC}; TrustHub v1 EndUsers, CustomerProfiles, TrustProducts;
  Messaging v1 a2p/BrandRegistrations, Services, Services/{MG}/PhoneNumbers, .../Compliance/Usa2p;
  Numbers v2 HostedNumber/Orders

Accounts. A wrong Account SID or auth token is HTTP 401 with error 20003 ("Authenticate"). Tests add
accounts with `add_account`. In open mode (the in-app sandbox) an account is learnt on first use: the
first request with a well-formed SID (`AC` + 32 hex digits) and a non-empty auth token creates it with
that token, and from then on only that token works, as on a real account (until the process restarts).
A learnt account owns every E.164 number it names that no other sandbox account holds (as
`PhoneNumber=` in IncomingPhoneNumbers.json, or as `From`), and every Messaging Service SID it sends
with.

Messages. `POST Messages.json` answers `queued` (`accepted` with a Messaging Service), then moves the
message on: `queued` (services only), `sent`, `delivered`, posting each change to its `StatusCallback`
form-encoded and signed with X-Twilio-Signature (no callback for the initial status, as Twilio).
`POST /simulate/inbound` (the form on `/`, or JSON `{"to", "from", "body"}`) is a customer texting
one of the numbers: Twilio's inbound parameters, signed with the owning account's token, go to the
number's SMS URL (by default the platform's /webhooks/twilio/sms). The sandbox only calls URLs under
the platform's public base URL (`_kit.Platform`); anything else is recorded as not sent, so nothing
leaves the machine.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from switchboard.sandbox._kit import Platform, Refused, esc, hidden, page, simulate
from switchboard.sandbox._twilio_rest import (
    ACCOUNT_PATH,
    API_VERSION,
    E164,
    SERVICE_SID,
    Call,
    Fault,
    Form,
    JsonDict,
    RouteSpec,
    TwilioError,
    TwilioRestEmulator,
    friendly_name_of,
    new_sid,
    not_found,
    twilio_date,
    twilio_signature,
)
from switchboard.sms.segments import analyze

_KEYPAD = {c: d for d, letters in {
    "2": "abc", "3": "def", "4": "ghi", "5": "jkl", "6": "mno", "7": "pqrs", "8": "tuv", "9": "wxyz"
}.items() for c in letters}  # fmt: skip
_USE_CASES = {
    "2FA", "ACCOUNT_NOTIFICATION", "AGENTS_FRANCHISES", "CHARITY", "PROXY", "CUSTOMER_CARE",
    "DELIVERY_NOTIFICATION", "EMERGENCY", "FRAUD_ALERT", "HIGHER_EDUCATION", "K12_EDUCATION", "LOW_VOLUME",
    "MARKETING", "MIXED", "POLITICAL", "POLLING_VOTING", "PUBLIC_SERVICE_ANNOUNCEMENT", "SECURITY_ALERT",
    "SOCIAL", "SWEEPSTAKE", "SOLE_PROPRIETOR",
}  # fmt: skip


@dataclass
class Delivery:
    """One request the sandbox made (or refused to make) to the platform."""

    what: str
    url: str
    params: dict[str, str]
    status_code: int | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _length(form: Form, name: str, low: int, high: int, required: bool = True) -> None:
    values = form.get(name) or []
    if not values:
        if required:
            raise TwilioError(400, 21701, f"Missing required parameter {name}")
        return
    for value in values:
        if not low <= len(value) <= high:
            raise TwilioError(400, 21701, f"Invalid parameter {name}: length must be {low}..{high}")


class TwilioSandbox(TwilioRestEmulator):
    """The Twilio the SMS channel and the SMS domain use (see the module docstring)."""

    def __init__(
        self,
        *,
        open_mode: bool = True,
        platform_url: str = "",
        auto_progress: bool = True,
        step_delay: float = 0.0,
    ) -> None:
        self.platform = Platform()  # where webhooks go; only URLs under it are called
        self.platform.url = platform_url.rstrip("/")
        self.auto_progress = auto_progress  # move sent messages on and post their status callbacks
        self.step_delay = step_delay
        self.available: dict[str, list[JsonDict]] = {}
        self.outbox: deque[JsonDict] = deque(maxlen=1000)
        self.prices: dict[str, tuple[str, str]] = {}
        self.end_users: dict[str, JsonDict] = {}
        self.bundles: dict[str, JsonDict] = {}
        self.brands: dict[str, JsonDict] = {}
        self.services: dict[str, JsonDict] = {}
        self.campaigns: dict[str, JsonDict] = {}
        self.hosted_orders: dict[str, JsonDict] = {}
        self.deliveries: deque[Delivery] = deque(maxlen=1000)
        super().__init__(open_mode=open_mode)

    def configure(self, settings: Any) -> None:
        """Mounted in the app: call the platform back at its public base URL."""
        self.platform.configure(settings)
        self.step_delay = float(settings.sandbox_delay_seconds)

    @property
    def platform_url(self) -> str:
        return self.platform.url

    def default_sms_url(self) -> str:
        return self.platform.webhook("twilio/sms") if self.platform.url else ""

    def routes(self) -> list[RouteSpec]:
        return [
            ("GET", rf"{ACCOUNT_PATH}/AvailablePhoneNumbers/(?P<cc>\w+)/Local\.json", self._search),
            ("POST", rf"{ACCOUNT_PATH}/IncomingPhoneNumbers\.json", self._buy),
            ("GET", rf"{ACCOUNT_PATH}/IncomingPhoneNumbers/(?P<sid>\w+)\.json", self._get_incoming),
            ("POST", rf"{ACCOUNT_PATH}/IncomingPhoneNumbers/(?P<sid>\w+)\.json", self._update_incoming),
            ("DELETE", rf"{ACCOUNT_PATH}/IncomingPhoneNumbers/(?P<sid>\w+)\.json", self._release),
            ("POST", rf"{ACCOUNT_PATH}/Messages\.json", self._send),
            ("GET", rf"{ACCOUNT_PATH}/Messages/(?P<sid>\w+)\.json", self._get_message),
            ("GET", r"/v1/PhoneNumbers/Countries/(?P<cc>\w+)", self._price),
            ("POST", r"/v1/EndUsers", self._end_user),
            ("POST", r"/v1/(?P<kind>CustomerProfiles|TrustProducts)", self._bundle),
            ("POST", r"/v1/(?P<kind>CustomerProfiles|TrustProducts)/(?P<sid>\w+)", self._bundle_update),
            (
                "POST",
                r"/v1/(?P<kind>CustomerProfiles|TrustProducts)/(?P<sid>\w+)/EntityAssignments",
                self._assign,
            ),
            ("POST", r"/v1/a2p/BrandRegistrations", self._brand),
            ("GET", r"/v1/a2p/BrandRegistrations/(?P<sid>\w+)", self._get_brand),
            ("POST", r"/v1/Services", self._service),
            ("POST", r"/v1/Services/(?P<mg>\w+)/PhoneNumbers", self._service_number),
            ("POST", r"/v1/Services/(?P<mg>\w+)/Compliance/Usa2p", self._campaign),
            ("GET", r"/v1/Services/(?P<mg>\w+)/Compliance/Usa2p/(?P<sid>\w+)", self._get_campaign),
            ("POST", r"/v2/HostedNumber/Orders", self._hosted_order),
            ("GET", r"/v2/HostedNumber/Orders/(?P<sid>\w+)", self._get_hosted_order),
        ]

    def pages(self) -> list[BaseRoute]:
        return [
            Route("/", self.index),
            Route("/simulate/inbound", self.simulate_inbound, methods=["POST"]),
        ]

    # ------------------------------------------------------------------ controls

    def reset(self) -> None:
        with self._lock:
            super().reset()
            stores: list[dict[str, Any]] = [self.available, self.prices, self.end_users, self.bundles]
            stores += [self.brands, self.services, self.campaigns, self.hosted_orders]
            for store in stores:
                store.clear()
            self.outbox.clear()
            self.deliveries.clear()

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
                    "friendly_name": friendly_name_of(phone_number),
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
            number_sid = str(self.add_number(order["account_sid"], order["phone_number"])["sid"])
            order.update(status="completed", incoming_phone_number_sid=number_sid)
            return number_sid

    def fail_hosted_order(self, sid: str, reason: str) -> None:
        with self._lock:
            self.hosted_orders[sid].update(status="failed", failure_reason=reason)

    def inject_fault(self, path_prefix: str, status: int = 503, code: int = 20503, times: int = 1) -> None:
        with self._lock:
            self.faults.append(Fault(path_prefix, status, code, times))

    # ------------------------------------------------------------------ calling the platform

    async def deliver(self, what: str, url: str, params: dict[str, str], auth_token: str) -> Delivery:
        """POST Twilio-signed form parameters to the platform, as Twilio posts webhooks; a URL
        outside the platform is recorded as skipped, never called."""
        delivery = Delivery(what, url, params)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": twilio_signature(auth_token, url, {k: [v] for k, v in params.items()}),
            "I-Twilio-Idempotency-Token": str(uuid.uuid4()),
            "User-Agent": "TwilioProxy/1.1",
        }
        try:
            delivery.status_code = await self.platform.post(url, urlencode(params).encode(), headers)
        except Refused as exc:
            delivery.error = exc.message
        with self._lock:
            self.deliveries.append(delivery)
        return delivery

    def _status_params(self, message: JsonDict, status: str) -> dict[str, str]:
        params = {
            "MessageSid": message["sid"],
            "SmsSid": message["sid"],
            "AccountSid": message["account_sid"],
            "To": message["to"],
            "MessageStatus": status,
            "SmsStatus": status,
            "ApiVersion": API_VERSION,
        }
        sender = message["from"] or self._pool_number(message["messaging_service_sid"])
        if sender:
            params["From"] = sender
        if message["messaging_service_sid"]:
            params["MessagingServiceSid"] = message["messaging_service_sid"]
        if status == "delivered":
            params["RawDlrDoneDate"] = datetime.now(UTC).strftime("%y%m%d%H%M")
        return params

    def _pool_number(self, service_sid: str | None) -> str | None:
        service = self.services.get(service_sid or "")
        for number_sid in (service or {}).get("numbers") or []:
            if number_sid in self.incoming:
                return str(self.incoming[number_sid]["phone_number"])
        return None

    async def _progress(self, message: JsonDict) -> None:
        steps = (["queued"] if message["messaging_service_sid"] else []) + ["sent", "delivered"]
        for status in steps:
            await asyncio.sleep(self.step_delay)
            with self._lock:
                message.update(status=status, date_updated=twilio_date())
                if status == "sent":
                    message["date_sent"] = message["date_updated"]
                params = self._status_params(message, status)
                account = self.accounts.get(message["account_sid"])
            if message.get("status_callback") and account is not None:
                await self.deliver(f"status {status}", message["status_callback"], params, account.auth_token)

    # ------------------------------------------------------------------ pages

    async def index(self, request: Request) -> Response:
        """The accounts and numbers the sandbox knows, recent messages, and a customer's phone."""
        with self._lock:
            accounts = list(self.accounts.values())
            numbers = list(self.incoming.values())
            messages = list(self.outbox)[-20:][::-1]
            deliveries = list(self.deliveries)[-20:][::-1]
        rows = []
        for account in accounts:
            mine = [n for n in numbers if n["account_sid"] == account.sid]
            forms = "".join(
                f"<li><b>{esc(n['phone_number'])}</b> — SMS URL {esc(n['sms_url'] or 'not set')}"
                f'<form method="post" action="simulate/inbound">{hidden("to", n["phone_number"])}'
                '<input name="from" value="+15005550006" aria-label="Customer number" required> '
                '<input name="body" placeholder="Message" aria-label="Message" required> '
                "<button>Text this number as a customer</button></form></li>"
                for n in mine
            )
            rows.append(
                f"<li>Account <code>{esc(account.sid)}</code>"
                f"<ul>{forms or '<li>No numbers yet: Test connection on the channel claims its number.</li>'}"
                "</ul></li>"
            )
        sent = "".join(
            f"<li><code>{esc(m['sid'])}</code> {esc(m['from'] or m['messaging_service_sid'])} → "
            f"{esc(m['to'])}: {esc(m['status'])}</li>"
            for m in messages
        )
        calls = "".join(
            f"<li>{esc(d.what)} → {esc(d.url)}: {esc(d.status_code or d.error)}</li>" for d in deliveries
        )
        body = (
            "<p>Any Account SID (AC + 32 hex digits) works with the auth token it is first used with; "
            "a different token is then refused (error 20003).</p>"
            f"<h2>Accounts</h2><ul>{''.join(rows) or '<li>None yet.</li>'}</ul>"
            f"<h2>Sent messages</h2><ul>{sent or '<li>None yet.</li>'}</ul>"
            f"<h2>Webhooks to the platform</h2><ul>{calls or '<li>None yet.</li>'}</ul>"
        )
        return page("Sandbox Twilio", body)

    async def simulate_inbound(self, request: Request) -> Response:
        """A customer texts one of the sandbox numbers: Twilio's inbound webhook, signed with the
        owning account's token. The page's form or JSON `{"to", "from", "body"}`."""
        return await simulate(request, "Sandbox Twilio", ("to", "from", "body"), self._inbound)

    async def _inbound(self, fields: dict[str, str]) -> tuple[int, JsonDict]:
        to, sender, text = fields["to"], fields["from"], fields["body"]
        for name, value in (("to", to), ("from", sender)):
            if not E164.fullmatch(value):
                raise Refused(422, name, f"{name} must be an E.164 number, e.g. +14155550100.")
        if not text or len(text) > 1600:
            raise Refused(422, "body", "body is required (at most 1600 characters).")
        with self._lock:
            number = self.number(to)
            account = self.accounts.get(number["account_sid"]) if number else None
        if number is None or account is None:
            raise Refused(
                404, "to", "No sandbox account holds that number yet: run Test connection on the channel."
            )
        sid = new_sid("SM")
        params = {
            "MessageSid": sid,
            "SmsSid": sid,
            "SmsMessageSid": sid,
            "AccountSid": account.sid,
            "From": sender,
            "To": to,
            "Body": text,
            "NumMedia": "0",
            "NumSegments": str(analyze(text).segments),
            "SmsStatus": "received",
            "ApiVersion": API_VERSION,
        }
        url = str(number["sms_url"] or self.default_sms_url())
        delivery = await self.deliver("inbound", url, params, account.auth_token)
        if delivery.status_code is None:
            # Not the platform's address (409), or the platform did not answer (502).
            status = 502 if self.platform.owns(url) else 409
            raise Refused(status, "to", delivery.error or "not sent")
        return delivery.status_code, {"message_sid": sid, "url": url}

    # ------------------------------------------------------------------ numbers

    def _search(self, call: Call, cc: str) -> tuple[int, JsonDict]:
        if cc not in self.available and cc not in {"US", "CA", "GB"}:
            raise not_found(call.path)
        numbers = list(self.available.get(cc, []))
        query = call.query
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
        size = call.integer("PageSize", 30)
        return 200, {"available_phone_numbers": numbers[:size], "uri": call.path, "end": 0}

    def _buy(self, call: Call) -> tuple[int, JsonDict]:
        phone = call.one("PhoneNumber", 21421)
        for country, numbers in self.available.items():
            for number in numbers:
                if number["phone_number"] == phone:
                    if number["address_requirements"] != "none" and not call.form.get("AddressSid"):
                        raise TwilioError(
                            400, 21631, "Phone Number Requires an Address but the 'AddressSid' is empty"
                        )
                    numbers.remove(number)
                    bought = self.add_number(call.account.sid, phone)
                    bought["iso_country"] = country
                    return 201, bought
        raise TwilioError(400, 21422, "PhoneNumber not available")

    def _get_incoming(self, call: Call, sid: str) -> tuple[int, JsonDict]:
        return 200, self._owned(self.incoming, sid, call)

    def _update_incoming(self, call: Call, sid: str) -> tuple[int, JsonDict]:
        number = self._owned(self.incoming, sid, call)
        for param, key in (
            ("SmsUrl", "sms_url"),
            ("SmsMethod", "sms_method"),
            ("FriendlyName", "friendly_name"),
        ):
            if param in call.form:
                number[key] = call.form[param][0]
        return 200, number

    def _release(self, call: Call, sid: str) -> tuple[int, None]:
        self._owned(self.incoming, sid, call)
        del self.incoming[sid]
        return 204, None

    # ------------------------------------------------------------------ messages

    def _messaging_service(self, call: Call, sid: str) -> JsonDict | None:
        service = self.services.get(sid)
        if service is None and self.open_mode and call.account.learnt and SERVICE_SID.fullmatch(sid):
            service = self.services[sid] = {
                "sid": sid,
                "account_sid": call.account.sid,
                "friendly_name": "Sandbox service",
                "numbers": [],
            }
        return service if service is not None and service["account_sid"] == call.account.sid else None

    def _send(self, call: Call) -> tuple[int, JsonDict]:
        to = call.one("To", 21604)
        body = call.one("Body", 21602)
        sender = call.one("From", 21603, required=False)
        service = call.one("MessagingServiceSid", 21603, required=False)
        if not sender and not service:
            raise TwilioError(400, 21603, "A 'From' phone number is required.")
        if sender and self._claim(call.account, sender) is None:
            raise TwilioError(
                400, 21606, "The From phone number is not a valid, SMS-capable inbound phone number"
            )
        if service and self._messaging_service(call, service) is None:
            raise TwilioError(400, 21701, "Messaging Service not found")
        if len(body) > 1600:
            raise TwilioError(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        sid, now = new_sid("SM"), twilio_date()
        message: JsonDict = {
            "sid": sid,
            "account_sid": call.account.sid,
            "api_version": API_VERSION,
            "to": to,
            "from": sender or None,
            "messaging_service_sid": service or None,
            "body": body,
            # Through a Messaging Service a message is `accepted` first, then `queued`.
            "status": "accepted" if service else "queued",
            "direction": "outbound-api",
            "num_segments": str(analyze(body).segments),
            "num_media": "0",
            "error_code": None,
            "error_message": None,
            "price": None,
            "price_unit": "USD",
            "date_created": now,
            "date_updated": now,
            "date_sent": None,
            "uri": f"/2010-04-01/Accounts/{call.account.sid}/Messages/{sid}.json",
            "status_callback": call.one("StatusCallback", required=False) or None,
        }
        self.outbox.append(message)
        if self.auto_progress:
            call.later.append(lambda: self._progress(message))
        return 201, _public(message)

    def _get_message(self, call: Call, sid: str) -> tuple[int, JsonDict]:
        found = next((m for m in self.outbox if m["sid"] == sid), None)
        if found is None or found["account_sid"] != call.account.sid:
            raise not_found(call.path)
        return 200, _public(found)

    def _price(self, call: Call, cc: str) -> tuple[int, JsonDict]:
        if cc not in self.prices:
            raise not_found(call.path)
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

    def _end_user(self, call: Call) -> tuple[int, JsonDict]:
        kind = call.one("Type", 21701)
        call.one("FriendlyName", 21701)
        try:
            attributes = json.loads(call.one("Attributes", 21701))
        except ValueError as exc:
            raise TwilioError(400, 21701, "Attributes must be JSON") from exc
        sid = new_sid("IT")
        self.end_users[sid] = {
            "sid": sid,
            "account_sid": call.account.sid,
            "type": kind,
            "attributes": attributes,
        }
        return 201, self.end_users[sid]

    def _bundle(self, call: Call, kind: str) -> tuple[int, JsonDict]:
        for name in ("FriendlyName", "Email", "PolicySid"):
            call.one(name, 21701)
        sid = new_sid("BU")
        self.bundles[sid] = {
            "sid": sid,
            "account_sid": call.account.sid,
            "kind": kind,
            "policy_sid": call.form["PolicySid"][0],
            "email": call.form["Email"][0],
            "status": "draft",
            "items": [],
        }
        return 201, self.bundles[sid]

    def _bundle_update(self, call: Call, kind: str, sid: str) -> tuple[int, JsonDict]:
        bundle = self._owned(self.bundles, sid, call)
        if call.form.get("Status"):
            bundle["status"] = call.form["Status"][0]
        return 200, bundle

    def _assign(self, call: Call, kind: str, sid: str) -> tuple[int, JsonDict]:
        bundle = self._owned(self.bundles, sid, call)
        item = call.one("ObjectSid", 21701)
        bundle["items"].append(item)
        return 201, {"sid": new_sid("BV"), "object_sid": item, "bundle_sid": sid}

    # ------------------------------------------------------------------ A2P

    def _brand(self, call: Call) -> tuple[int, JsonDict]:
        for name in ("CustomerProfileBundleSid", "A2PProfileBundleSid"):
            bundle = self.bundles.get(call.one(name, 21701))
            if bundle is None or bundle["account_sid"] != call.account.sid:
                raise TwilioError(400, 21701, f"{name} not found")
        brand_type = call.one("BrandType", required=False) or "STANDARD"
        if brand_type not in {"STANDARD", "SOLE_PROPRIETOR"}:
            raise TwilioError(400, 21701, "Invalid BrandType")
        sid = new_sid("BN")
        self.brands[sid] = {
            "sid": sid,
            "account_sid": call.account.sid,
            "customer_profile_bundle_sid": call.form["CustomerProfileBundleSid"][0],
            "a2p_profile_bundle_sid": call.form["A2PProfileBundleSid"][0],
            "brand_type": brand_type,
            "status": "PENDING",
            "failure_reason": None,
            "errors": [],
            "identity_status": "UNVERIFIED",
        }
        return 201, self.brands[sid]

    def _get_brand(self, call: Call, sid: str) -> tuple[int, JsonDict]:
        return 200, self._owned(self.brands, sid, call)

    def _service(self, call: Call) -> tuple[int, JsonDict]:
        name = call.one("FriendlyName", 21701)
        sid = new_sid("MG")
        self.services[sid] = {
            "sid": sid,
            "account_sid": call.account.sid,
            "friendly_name": name,
            "numbers": [],
        }
        return 201, {"sid": sid, "account_sid": call.account.sid, "friendly_name": name}

    def _service_number(self, call: Call, mg: str) -> tuple[int, JsonDict]:
        service = self._owned(self.services, mg, call)
        number = call.one("PhoneNumberSid", 21701)
        held = self.incoming.get(number)
        if held is None or held["account_sid"] != call.account.sid:
            raise TwilioError(400, 21710, "Phone Number not found in this account")
        service["numbers"].append(number)
        return 201, {"sid": number, "service_sid": mg}

    def _campaign(self, call: Call, mg: str) -> tuple[int, JsonDict]:
        self._owned(self.services, mg, call)
        form = call.form
        brand = self.brands.get(call.one("BrandRegistrationSid", 21701))
        if brand is None or brand["account_sid"] != call.account.sid or brand["status"] != "APPROVED":
            raise TwilioError(400, 21712, "The brand is not registered")
        _length(form, "Description", 40, 4096)
        _length(form, "MessageFlow", 40, 2048)
        samples = form.get("MessageSamples") or []
        if not 2 <= len(samples) <= 5:
            raise TwilioError(400, 21701, "MessageSamples must have 2 to 5 items")
        _length(form, "MessageSamples", 20, 1024)
        if call.one("UsAppToPersonUsecase", 21701) not in _USE_CASES:
            raise TwilioError(400, 21701, "Invalid UsAppToPersonUsecase")
        for flag in ("HasEmbeddedLinks", "HasEmbeddedPhone"):
            if call.one(flag, 21701) not in {"true", "false"}:
                raise TwilioError(400, 21701, f"Invalid {flag}")
        for name in ("OptInMessage", "OptOutMessage", "HelpMessage"):
            _length(form, name, 20, 320, required=False)
        for name in ("OptInKeywords", "OptOutKeywords", "HelpKeywords"):
            for keyword in form.get(name) or []:
                if not (keyword.isalnum() and len(keyword) <= 255):
                    raise TwilioError(400, 21701, f"Invalid {name}")
        sid = new_sid("QE")
        self.campaigns[sid] = {
            "sid": sid,
            "account_sid": call.account.sid,
            "messaging_service_sid": mg,
            "brand_registration_sid": brand["sid"],
            "campaign_status": "IN_PROGRESS",
            "campaign_id": None,
            "errors": [],
            "form": {k: list(v) for k, v in form.items()},
        }
        return 201, {k: v for k, v in self.campaigns[sid].items() if k != "form"}

    def _get_campaign(self, call: Call, mg: str, sid: str) -> tuple[int, JsonDict]:
        campaign = self._owned(self.campaigns, sid, call)
        if campaign["messaging_service_sid"] != mg:
            raise not_found(call.path)
        return 200, {k: v for k, v in campaign.items() if k != "form"}

    # ------------------------------------------------------------------ hosted numbers

    def _hosted_order(self, call: Call) -> tuple[int, JsonDict]:
        phone = call.one("PhoneNumber", 21421)
        call.one("Email", 21701)
        sid = new_sid("HR")
        self.hosted_orders[sid] = {
            "sid": sid,
            "account_sid": call.account.sid,
            "phone_number": phone,
            "status": "received",
            "incoming_phone_number_sid": None,
            "failure_reason": None,
        }
        return 201, self.hosted_orders[sid]

    def _get_hosted_order(self, call: Call, sid: str) -> tuple[int, JsonDict]:
        return 200, self._owned(self.hosted_orders, sid, call)


def _public(message: JsonDict) -> JsonDict:
    """A message as Twilio returns it (the callback URL is not part of the resource)."""
    return {k: v for k, v in message.items() if k != "status_callback"}
