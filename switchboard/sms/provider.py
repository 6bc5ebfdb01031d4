"""Number providers for SMS: the numbers a tenant can buy, the ones the platform holds, A2P 10DLC
brand and campaign registration, hosted (ported-in) numbers and plain sends.

``TwilioSmsProvider`` speaks Twilio's REST wire format (form-urlencoded bodies, HTTP Basic
AccountSid:AuthToken, JSON answers, errors as ``{code, message, more_info, status}``) with the
platform's own account to five configurable bases: the 2010-04-01 API (numbers, messages),
Messaging (A2P brands, services, campaigns), TrustHub (the brand's business profile), Pricing and
Numbers v2 (hosted number orders). Tests run it against the Twilio sandbox (switchboard/sandbox/twilio.py).

``SandboxSmsProvider`` calls nothing and keeps no state, so the web process and the worker agree:
its inventory is made of fictional 555-01xx numbers, and the outcome of a registration is decided
when it is created (a brand or campaign whose name/description contains "reject" is refused) and
encoded in the sid it returns. Messages go to ``SANDBOX_OUTBOX`` (one process), where the sandbox
pages and the tests read verification codes.

Provider answers never reach logs, and error messages carry Twilio's error code but not its text,
which can echo what was sent (brand data included).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Protocol
from urllib.parse import quote

import httpx2

from switchboard.connectors.adapter import ErrorKind, ProviderError
from switchboard.connectors.http import base_url, json_or_empty, kind_for_status, request
from switchboard.core.config import Settings
from switchboard.sms.compliance import EntityType, SmsBrand, SmsCampaign

__all__ = [
    "SANDBOX_OUTBOX",
    "AvailableNumber",
    "Capabilities",
    "HostedOrder",
    "MonthlyPrice",
    "NumberProvider",
    "OwnedNumber",
    "RegistrationState",
    "SandboxMessage",
    "SandboxSmsProvider",
    "SentMessage",
    "TwilioSmsProvider",
    "build_number_provider",
]

# Twilio error 21422: "PhoneNumber not available" (taken between search and purchase).
NOT_AVAILABLE: Final = "21422"

BRAND_APPROVED: Final = frozenset({"APPROVED"})
BRAND_FAILED: Final = frozenset({"FAILED", "SUSPENDED", "DELETION_PENDING", "DELETION_FAILED"})
CAMPAIGN_APPROVED: Final = frozenset({"VERIFIED"})
CAMPAIGN_FAILED: Final = frozenset({"FAILED", "SUSPENDED"})
HOSTED_DONE: Final = frozenset({"completed"})
HOSTED_FAILED: Final = frozenset({"failed", "canceled"})


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Capabilities:
    sms: bool
    mms: bool
    voice: bool


@dataclass(frozen=True)
class AvailableNumber:
    phone_number: str
    country: str
    region: str
    locality: str
    capabilities: Capabilities
    # Some countries only sell numbers to a registered local address; we do not collect one.
    address_required: bool = False


@dataclass(frozen=True)
class MonthlyPrice:
    amount: str  # decimal string, as the provider states it
    currency: str


@dataclass(frozen=True)
class OwnedNumber:
    sid: str
    phone_number: str


@dataclass(frozen=True)
class RegistrationState:
    """A brand or campaign as the provider sees it; ``status`` is the provider's own word."""

    sid: str
    status: str
    failure_reason: str | None = None


@dataclass(frozen=True)
class HostedOrder:
    sid: str
    status: str
    number_sid: str | None = None
    failure_reason: str | None = None


@dataclass(frozen=True)
class SentMessage:
    sid: str
    status: str


class NumberProvider(Protocol):
    name: str

    async def search_available(
        self, country: str, area_code: str | None, contains: str | None, limit: int = 20
    ) -> list[AvailableNumber]: ...

    async def monthly_price(self, country: str) -> MonthlyPrice | None: ...

    async def buy_number(self, phone_number: str, friendly_name: str) -> OwnedNumber: ...

    async def release_number(self, sid: str) -> None: ...

    async def owned_number_sids(self, candidates: set[str]) -> set[str]:
        """Which of ``candidates`` the platform's account still holds."""
        ...

    async def send_sms(
        self,
        to: str,
        body: str,
        *,
        from_: str | None = None,
        messaging_service_sid: str | None = None,
        status_callback: str | None = None,
    ) -> SentMessage: ...

    async def register_brand(self, brand: SmsBrand, friendly_name: str) -> RegistrationState: ...

    async def fetch_brand(self, sid: str) -> RegistrationState: ...

    async def create_messaging_service(self, friendly_name: str, number_sid: str | None) -> str: ...

    async def register_campaign(
        self, messaging_service_sid: str, brand_sid: str, campaign: SmsCampaign
    ) -> RegistrationState: ...

    async def fetch_campaign(self, messaging_service_sid: str, campaign_sid: str) -> RegistrationState: ...

    async def create_hosted_order(self, phone_number: str, email: str, friendly_name: str) -> HostedOrder: ...

    async def fetch_hosted_order(self, sid: str) -> HostedOrder: ...


# --------------------------------------------------------------------------- helpers


def _flag(value: bool | None) -> str:
    return "true" if value else "false"


def _caps(raw: Any) -> Capabilities:
    # Twilio spells them "SMS"/"MMS"/"voice" in some answers and lowercase in others.
    data = {str(k).lower(): bool(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
    return Capabilities(
        sms=data.get("sms", False), mms=data.get("mms", False), voice=data.get("voice", False)
    )


# TrustHub's customer profile wants the business's legal form in words.
_BUSINESS_TYPE: Final = {
    EntityType.PRIVATE_PROFIT: "Corporation",
    EntityType.PUBLIC_PROFIT: "Corporation",
    EntityType.NON_PROFIT: "Non-profit Corporation",
    EntityType.GOVERNMENT: "Corporation",
    EntityType.SOLE_PROPRIETOR: "Sole Proprietorship",
}
# ... and the A2P messaging profile the company type.
_COMPANY_TYPE: Final = {
    EntityType.PRIVATE_PROFIT: "private",
    EntityType.PUBLIC_PROFIT: "public",
    EntityType.NON_PROFIT: "non_profit",
    EntityType.GOVERNMENT: "government",
    EntityType.SOLE_PROPRIETOR: "private",
}


def business_information(brand: SmsBrand) -> dict[str, Any]:
    """TrustHub EndUser ``customer_profile_business_information`` attributes for a brand."""
    entity = brand.entity or EntityType.PRIVATE_PROFIT
    return {
        "business_name": brand.company_name or "",
        "business_identity": "direct_customer",
        "business_type": _BUSINESS_TYPE[entity],
        "business_industry": brand.vertical.value if brand.vertical else "",
        "business_registration_identifier": "EIN" if brand.country == "US" else "Other",
        "business_registration_number": brand.registration_number or "",
        "business_regions_of_operation": "USA_AND_CANADA",
        "website_url": brand.website or "",
        "social_media_profile_urls": "",
    }


def messaging_profile_information(brand: SmsBrand) -> dict[str, Any]:
    """TrustHub EndUser ``us_a2p_messaging_profile_information`` attributes for a brand."""
    entity = brand.entity or EntityType.PRIVATE_PROFIT
    return {"company_type": _COMPANY_TYPE[entity], "brand_contact_email": str(brand.contact_email or "")}


def campaign_form(brand_sid: str, campaign: SmsCampaign) -> dict[str, str | list[str]]:
    """Usa2p create parameters (PROVIDERS.md section 2) for a campaign that passed the precheck."""
    form: dict[str, str | list[str]] = {
        "BrandRegistrationSid": brand_sid,
        "Description": campaign.campaign_description or "",
        "MessageFlow": campaign.message_flow or "",
        "MessageSamples": list(campaign.message_samples or []),
        "UsAppToPersonUsecase": campaign.use_case_type.value if campaign.use_case_type else "",
        "HasEmbeddedLinks": _flag(campaign.embedded_link),
        "HasEmbeddedPhone": _flag(campaign.embedded_phone),
        "SubscriberOptIn": "true",
        "AgeGated": _flag(campaign.age_gated_content),
        "DirectLending": _flag(campaign.direct_lending),
    }
    optional = {
        "OptInMessage": campaign.opt_in_message,
        "OptOutMessage": campaign.opt_out_message,
        "HelpMessage": campaign.help_message,
        "PrivacyPolicyUrl": campaign.privacy_policy_url,
    }
    form.update({k: v for k, v in optional.items() if v})
    for key, words in (
        ("OptInKeywords", campaign.opt_in_keywords),
        ("OptOutKeywords", campaign.opt_out_keywords),
        ("HelpKeywords", campaign.help_keywords),
    ):
        if words:
            form[key] = list(words)
    return form


# --------------------------------------------------------------------------- Twilio


class TwilioSmsProvider:
    name = "twilio"

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        api_base_url: str = "https://api.twilio.com",
        messaging_base_url: str = "https://messaging.twilio.com",
        trusthub_base_url: str = "https://trusthub.twilio.com",
        pricing_base_url: str = "https://pricing.twilio.com",
        numbers_base_url: str = "https://numbers.twilio.com",
        customer_profile_policy_sid: str = "",
        a2p_profile_policy_sid: str = "",
        primary_customer_profile_sid: str = "",
        timeout: float = 10.0,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.api = api_base_url.rstrip("/")
        self.messaging = messaging_base_url.rstrip("/")
        self.trusthub = trusthub_base_url.rstrip("/")
        self.pricing = pricing_base_url.rstrip("/")
        self.numbers = numbers_base_url.rstrip("/")
        self.customer_profile_policy_sid = customer_profile_policy_sid
        self.a2p_profile_policy_sid = a2p_profile_policy_sid
        self.primary_customer_profile_sid = primary_customer_profile_sid
        self.timeout = timeout
        self._prices: dict[str, tuple[float, MonthlyPrice | None]] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> TwilioSmsProvider:
        return cls(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token,
            api_base_url=base_url(settings, "twilio"),
            messaging_base_url=settings.twilio_messaging_base_url,
            trusthub_base_url=settings.twilio_trusthub_base_url,
            pricing_base_url=settings.twilio_pricing_base_url,
            numbers_base_url=settings.twilio_numbers_base_url,
            customer_profile_policy_sid=settings.twilio_customer_profile_policy_sid,
            a2p_profile_policy_sid=settings.twilio_a2p_profile_policy_sid,
            primary_customer_profile_sid=settings.twilio_primary_customer_profile_sid,
            timeout=settings.twilio_timeout,
        )

    async def _call(
        self,
        method: str,
        url: str,
        *,
        data: dict[str, str | list[str]] | None = None,
        params: dict[str, str] | None = None,
        not_found_ok: bool = False,
    ) -> dict[str, Any] | None:
        if not self.account_sid or not self.auth_token:
            raise ProviderError(
                "The platform Twilio account is not configured (SWITCHBOARD_TWILIO_ACCOUNT_SID/_AUTH_TOKEN).",
                kind=ErrorKind.NEEDS_ACTION,
                code="not_configured",
            )
        response = await request(
            method,
            url,
            timeout=self.timeout,
            data=data,
            params=params,
            auth=httpx2.BasicAuth(self.account_sid, self.auth_token),
            headers={"Accept": "application/json"},
        )
        if response.status_code == 404 and not_found_ok:
            return None
        if response.status_code >= 400:
            body = json_or_empty(response)
            code = str(body.get("code") or response.status_code)
            raise ProviderError(
                f"Twilio answered HTTP {response.status_code} (error {code}).",
                kind=kind_for_status(response.status_code),
                code=code,
                status=response.status_code,
            )
        return json_or_empty(response) if response.content else {}

    async def _must(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        result = await self._call(method, url, **kwargs)
        assert result is not None
        return result

    def _account(self, suffix: str) -> str:
        return f"{self.api}/2010-04-01/Accounts/{quote(self.account_sid, safe='')}{suffix}"

    # --- numbers ---------------------------------------------------------------------------------

    async def search_available(
        self, country: str, area_code: str | None, contains: str | None, limit: int = 20
    ) -> list[AvailableNumber]:
        params = {"SmsEnabled": "true", "PageSize": str(limit)}
        if area_code:
            params["AreaCode"] = area_code
        if contains:
            params["Contains"] = contains
        url = self._account(f"/AvailablePhoneNumbers/{quote(country, safe='')}/Local.json")
        data = await self._call("GET", url, params=params, not_found_ok=True)
        out = []
        for item in (data or {}).get("available_phone_numbers") or []:
            out.append(
                AvailableNumber(
                    phone_number=str(item.get("phone_number", "")),
                    country=str(item.get("iso_country") or country),
                    region=str(item.get("region") or ""),
                    locality=str(item.get("locality") or ""),
                    capabilities=_caps(item.get("capabilities")),
                    address_required=str(item.get("address_requirements") or "none") != "none",
                )
            )
        return out

    async def monthly_price(self, country: str) -> MonthlyPrice | None:
        cached = self._prices.get(country)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        data = await self._call(
            "GET", f"{self.pricing}/v1/PhoneNumbers/Countries/{quote(country, safe='')}", not_found_ok=True
        )
        price = None
        for entry in (data or {}).get("phone_number_prices") or []:
            if str(entry.get("number_type", "")).lower() == "local":
                amount = entry.get("current_price") or entry.get("base_price")
                if amount is not None:
                    price = MonthlyPrice(str(amount), str((data or {}).get("price_unit") or "USD").upper())
                break
        self._prices[country] = (time.monotonic() + 3600, price)
        return price

    async def buy_number(self, phone_number: str, friendly_name: str) -> OwnedNumber:
        data = await self._must(
            "POST",
            self._account("/IncomingPhoneNumbers.json"),
            data={"PhoneNumber": phone_number, "FriendlyName": friendly_name[:64]},
        )
        return OwnedNumber(sid=str(data["sid"]), phone_number=str(data.get("phone_number") or phone_number))

    async def release_number(self, sid: str) -> None:
        # Already gone is what we wanted.
        await self._call(
            "DELETE", self._account(f"/IncomingPhoneNumbers/{quote(sid, safe='')}.json"), not_found_ok=True
        )

    async def owned_number_sids(self, candidates: set[str]) -> set[str]:
        owned: set[str] = set()
        url: str | None = self._account("/IncomingPhoneNumbers.json")
        params: dict[str, str] | None = {"PageSize": "1000"}
        while url:
            data = await self._must("GET", url, params=params)
            owned.update(str(n.get("sid")) for n in data.get("incoming_phone_numbers") or [])
            next_uri = data.get("next_page_uri")
            url = f"{self.api}{next_uri}" if next_uri else None
            params = None
        return owned & candidates

    # --- messages --------------------------------------------------------------------------------

    async def send_sms(
        self,
        to: str,
        body: str,
        *,
        from_: str | None = None,
        messaging_service_sid: str | None = None,
        status_callback: str | None = None,
    ) -> SentMessage:
        form: dict[str, str | list[str]] = {"To": to, "Body": body}
        if messaging_service_sid:
            form["MessagingServiceSid"] = messaging_service_sid
        elif from_:
            form["From"] = from_
        if status_callback:
            form["StatusCallback"] = status_callback
        data = await self._must("POST", self._account("/Messages.json"), data=form)
        return SentMessage(sid=str(data["sid"]), status=str(data.get("status") or "queued"))

    # --- A2P 10DLC -------------------------------------------------------------------------------

    async def _end_user(self, friendly_name: str, kind: str, attributes: dict[str, Any]) -> str:
        data = await self._must(
            "POST",
            f"{self.trusthub}/v1/EndUsers",
            data={"FriendlyName": friendly_name, "Type": kind, "Attributes": json.dumps(attributes)},
        )
        return str(data["sid"])

    async def _bundle(
        self, collection: str, friendly_name: str, email: str, policy: str, items: list[str]
    ) -> str:
        base = f"{self.trusthub}/v1/{collection}"
        data = await self._must(
            "POST", base, data={"FriendlyName": friendly_name, "Email": email, "PolicySid": policy}
        )
        sid = str(data["sid"])
        for item in items:
            await self._must("POST", f"{base}/{sid}/EntityAssignments", data={"ObjectSid": item})
        await self._must("POST", f"{base}/{sid}", data={"Status": "pending-review"})
        return sid

    async def register_brand(self, brand: SmsBrand, friendly_name: str) -> RegistrationState:
        """TrustHub profile (business information) + A2P messaging profile, then the brand."""
        email = str(brand.contact_email or "")
        business = await self._end_user(
            f"{friendly_name} business", "customer_profile_business_information", business_information(brand)
        )
        profile_items = [business]
        if self.primary_customer_profile_sid:
            profile_items.append(self.primary_customer_profile_sid)
        profile = await self._bundle(
            "CustomerProfiles", friendly_name, email, self.customer_profile_policy_sid, profile_items
        )
        messaging = await self._end_user(
            f"{friendly_name} messaging",
            "us_a2p_messaging_profile_information",
            messaging_profile_information(brand),
        )
        a2p = await self._bundle(
            "TrustProducts", friendly_name, email, self.a2p_profile_policy_sid, [messaging, profile]
        )
        form: dict[str, str | list[str]] = {"CustomerProfileBundleSid": profile, "A2PProfileBundleSid": a2p}
        if brand.brand_type:
            form["BrandType"] = brand.brand_type.value
        data = await self._must("POST", f"{self.messaging}/v1/a2p/BrandRegistrations", data=form)
        return _brand_state(data)

    async def fetch_brand(self, sid: str) -> RegistrationState:
        return _brand_state(
            await self._must("GET", f"{self.messaging}/v1/a2p/BrandRegistrations/{quote(sid, safe='')}")
        )

    async def create_messaging_service(self, friendly_name: str, number_sid: str | None) -> str:
        data = await self._must(
            "POST", f"{self.messaging}/v1/Services", data={"FriendlyName": friendly_name[:64]}
        )
        sid = str(data["sid"])
        if number_sid:
            await self._must(
                "POST",
                f"{self.messaging}/v1/Services/{quote(sid, safe='')}/PhoneNumbers",
                data={"PhoneNumberSid": number_sid},
            )
        return sid

    async def register_campaign(
        self, messaging_service_sid: str, brand_sid: str, campaign: SmsCampaign
    ) -> RegistrationState:
        url = f"{self.messaging}/v1/Services/{quote(messaging_service_sid, safe='')}/Compliance/Usa2p"
        return _campaign_state(await self._must("POST", url, data=campaign_form(brand_sid, campaign)))

    async def fetch_campaign(self, messaging_service_sid: str, campaign_sid: str) -> RegistrationState:
        url = (
            f"{self.messaging}/v1/Services/{quote(messaging_service_sid, safe='')}"
            f"/Compliance/Usa2p/{quote(campaign_sid, safe='')}"
        )
        return _campaign_state(await self._must("GET", url))

    # --- hosted numbers --------------------------------------------------------------------------

    async def create_hosted_order(self, phone_number: str, email: str, friendly_name: str) -> HostedOrder:
        data = await self._must(
            "POST",
            f"{self.numbers}/v2/HostedNumber/Orders",
            data={
                "PhoneNumber": phone_number,
                "SmsCapability": "true",
                "Email": email,
                "ContactPhoneNumber": phone_number,
                "FriendlyName": friendly_name[:64],
            },
        )
        return _hosted_order(data)

    async def fetch_hosted_order(self, sid: str) -> HostedOrder:
        return _hosted_order(
            await self._must("GET", f"{self.numbers}/v2/HostedNumber/Orders/{quote(sid, safe='')}")
        )


def _first_error(data: dict[str, Any]) -> str | None:
    reason = data.get("failure_reason")
    if reason:
        return str(reason)[:500]
    errors = data.get("errors")
    if isinstance(errors, list) and errors:
        first = errors[0]
        if isinstance(first, dict):
            text = first.get("description") or first.get("message") or first.get("code")
            return str(text)[:500] if text else None
        return str(first)[:500]
    return None


def _brand_state(data: dict[str, Any]) -> RegistrationState:
    return RegistrationState(
        str(data["sid"]), str(data.get("status") or "PENDING").upper(), _first_error(data)
    )


def _campaign_state(data: dict[str, Any]) -> RegistrationState:
    status = str(data.get("campaign_status") or "IN_PROGRESS").upper()
    return RegistrationState(str(data["sid"]), status, _first_error(data))


def _hosted_order(data: dict[str, Any]) -> HostedOrder:
    number_sid = data.get("incoming_phone_number_sid")
    return HostedOrder(
        sid=str(data["sid"]),
        status=str(data.get("status") or "received").lower(),
        number_sid=str(number_sid) if number_sid else None,
        failure_reason=str(data["failure_reason"])[:500] if data.get("failure_reason") else None,
    )


# --------------------------------------------------------------------------- sandbox


@dataclass(frozen=True)
class SandboxMessage:
    sid: str
    to: str
    from_: str | None
    body: str
    sent_at: datetime


# What the sandbox "sent", newest last (verification codes are read from here in sandbox mode).
SANDBOX_OUTBOX: deque[SandboxMessage] = deque(maxlen=500)

# Area codes the sandbox lists when no area code is asked for, with their state and city.
_SANDBOX_AREAS: Final = {
    "US": {
        "212": ("NY", "New York"),
        "305": ("FL", "Miami"),
        "312": ("IL", "Chicago"),
        "415": ("CA", "San Francisco"),
        "512": ("TX", "Austin"),
        "617": ("MA", "Boston"),
        "646": ("NY", "New York"),
        "702": ("NV", "Las Vegas"),
    },
    "CA": {"416": ("ON", "Toronto"), "514": ("QC", "Montreal"), "604": ("BC", "Vancouver")},
}
_NANP_AREA: Final = re.compile(r"^[2-9]\d{2}$")
# NANP 555-0100..0199 and Ofcom's 07700 900xxx are reserved for fiction: nobody owns them.
_SANDBOX_NANP: Final = re.compile(r"^\+1([2-9]\d{2})55501\d{2}$")
_SANDBOX_GB: Final = re.compile(r"^\+447700900\d{3}$")
_KEYPAD: Final = {c: d for d, letters in {
    "2": "abc", "3": "def", "4": "ghi", "5": "jkl", "6": "mno", "7": "pqrs", "8": "tuv", "9": "wxyz"
}.items() for c in letters}  # fmt: skip
_SANDBOX_PRICE: Final = MonthlyPrice("1.15", "USD")


def contains_regex(pattern: str) -> re.Pattern[str]:
    """Twilio's ``Contains``: digits, letters as keypad digits, ``*`` for any one digit."""
    parts = []
    for ch in pattern.lower():
        if ch == "*":
            parts.append(r"\d")
        elif ch.isdigit():
            parts.append(ch)
        else:
            parts.append(_KEYPAD.get(ch, re.escape(ch)))
    return re.compile("".join(parts))


def _digest(prefix: str, value: str) -> str:
    return prefix + hashlib.sha256(f"sandbox:{prefix}:{value}".encode()).hexdigest()[:32]


def _outcome_sid(prefix: str, approve: bool) -> str:
    # The last hex digit carries the decision: a = approve, f = refuse.
    return prefix + secrets.token_hex(16)[:31] + ("a" if approve else "f")


class SandboxSmsProvider:
    name = "sandbox"

    def __init__(self) -> None:
        # Numbers the sandbox has "reclaimed" (a test hook to show the degraded state offline).
        self.reclaimed: set[str] = set()

    async def search_available(
        self, country: str, area_code: str | None, contains: str | None, limit: int = 20
    ) -> list[AvailableNumber]:
        numbers: list[AvailableNumber] = []
        if country in _SANDBOX_AREAS:
            areas = _SANDBOX_AREAS[country]
            codes = [area_code] if area_code else list(areas)
            for code in codes:
                if not _NANP_AREA.match(code):
                    continue
                region, city = areas.get(code, ("", ""))
                for n in range(100, 120):
                    numbers.append(
                        AvailableNumber(
                            f"+1{code}5550{n}", country, region, city, Capabilities(True, True, True)
                        )
                    )
        elif country == "GB" and not area_code:
            for n in range(100, 120):
                numbers.append(
                    AvailableNumber(
                        f"+447700900{n}",
                        "GB",
                        "",
                        "London",
                        Capabilities(True, False, True),
                        address_required=True,
                    )
                )
        if contains:
            regex = contains_regex(contains)
            numbers = [n for n in numbers if regex.search(n.phone_number[1:])]
        return numbers[:limit]

    async def monthly_price(self, country: str) -> MonthlyPrice | None:
        return _SANDBOX_PRICE if country in {"US", "CA", "GB"} else None

    async def buy_number(self, phone_number: str, friendly_name: str) -> OwnedNumber:
        if not (_SANDBOX_NANP.match(phone_number) or _SANDBOX_GB.match(phone_number)):
            raise ProviderError(
                "Sandbox: that number is not in the sandbox inventory.",
                kind=ErrorKind.PERMANENT,
                code=NOT_AVAILABLE,
                status=400,
            )
        if _SANDBOX_GB.match(phone_number):
            # Listed with address_required, like the real inventory of countries that need one.
            raise ProviderError(
                "Sandbox: this number needs a registered address.",
                kind=ErrorKind.PERMANENT,
                code="21631",
                status=400,
            )
        return OwnedNumber(_digest("PN", phone_number), phone_number)

    async def release_number(self, sid: str) -> None:
        return None

    async def owned_number_sids(self, candidates: set[str]) -> set[str]:
        return candidates - self.reclaimed

    async def send_sms(
        self,
        to: str,
        body: str,
        *,
        from_: str | None = None,
        messaging_service_sid: str | None = None,
        status_callback: str | None = None,
    ) -> SentMessage:
        sid = "SM" + uuid.uuid4().hex
        SANDBOX_OUTBOX.append(
            SandboxMessage(sid, to, from_ or messaging_service_sid, body, datetime.now(UTC))
        )
        # Nothing travels in the sandbox, so there is no later status callback: it is delivered now.
        return SentMessage(sid, "delivered")

    async def register_brand(self, brand: SmsBrand, friendly_name: str) -> RegistrationState:
        names = f"{brand.company_name or ''} {brand.display_name or ''}".lower()
        return RegistrationState(_outcome_sid("BN", "reject" not in names), "PENDING")

    async def fetch_brand(self, sid: str) -> RegistrationState:
        if sid.endswith("f"):
            return RegistrationState(sid, "FAILED", "Sandbox: brands named with 'reject' are refused.")
        return RegistrationState(sid, "APPROVED")

    async def create_messaging_service(self, friendly_name: str, number_sid: str | None) -> str:
        return _digest("MG", friendly_name)

    async def register_campaign(
        self, messaging_service_sid: str, brand_sid: str, campaign: SmsCampaign
    ) -> RegistrationState:
        approve = "reject" not in (campaign.campaign_description or "").lower()
        return RegistrationState(_outcome_sid("QE", approve), "IN_PROGRESS")

    async def fetch_campaign(self, messaging_service_sid: str, campaign_sid: str) -> RegistrationState:
        if campaign_sid.endswith("f"):
            return RegistrationState(
                campaign_sid, "FAILED", "Sandbox: campaigns described with 'reject' are refused."
            )
        return RegistrationState(campaign_sid, "VERIFIED")

    async def create_hosted_order(self, phone_number: str, email: str, friendly_name: str) -> HostedOrder:
        return HostedOrder(_digest("HR", phone_number), "received")

    async def fetch_hosted_order(self, sid: str) -> HostedOrder:
        return HostedOrder(sid, "completed", number_sid="PN" + sid[2:])


def build_number_provider(settings: Settings) -> NumberProvider:
    if settings.provider_mode == "sandbox":
        return SandboxSmsProvider()
    return TwilioSmsProvider.from_settings(settings)
