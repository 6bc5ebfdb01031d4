"""Voice provider adapters: the Twilio account, its TrustHub customer profile, its numbers.

``TwilioVoiceProvider`` speaks Twilio's REST wire format (form-urlencoded requests, HTTP Basic
AccountSid:AuthToken, JSON answers, errors as ``{code, message, more_info, status}``) to
configurable bases (``SWITCHBOARD_TWILIO_BASE_URL`` for the 2010-04-01 API,
``SWITCHBOARD_TWILIO_TRUSTHUB_BASE_URL`` for TrustHub), so tests point it at an emulator.
``SandboxVoiceProvider`` calls nothing: accounts are accepted as given, profiles wait for the
scheduled sandbox review, and each account "owns" two fictional 555-01xx numbers.
"""

from __future__ import annotations

import hashlib
import json
import ssl
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol
from urllib.parse import quote

import httpx2

__all__ = [
    "AccountInfo",
    "BusinessProfile",
    "IncomingNumber",
    "ProfileResult",
    "SandboxVoiceProvider",
    "TwilioVoiceProvider",
    "VoiceProvider",
    "VoiceProviderError",
    "build_voice_provider",
    "profile_status",
]

# TrustHub customer profile statuses, folded into the three the API shows.
_PROFILE_STATUS = {
    "draft": "pending",
    "pending-review": "pending",
    "in-review": "pending",
    "twilio-approved": "approved",
    "twilio-rejected": "rejected",
}


def profile_status(provider_status: str) -> str:
    """pending / approved / rejected for a TrustHub status (unknown ones stay pending)."""
    return _PROFILE_STATUS.get(provider_status, "pending")


class VoiceProviderError(Exception):
    """A Twilio call failed. ``retriable`` errors (429, 5xx, network) deserve a later retry."""

    def __init__(self, message: str, *, code: str, status: int | None, retriable: bool) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.retriable = retriable

    @property
    def unauthorized(self) -> bool:
        return self.status in (401, 403)

    @property
    def not_found(self) -> bool:
        return self.status == 404

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only fields would be lost by default pickling (the job queue pickles errors).
        return (_rebuild, (str(self), self.code, self.status, self.retriable))


def _rebuild(message: str, code: str, status: int | None, retriable: bool) -> VoiceProviderError:
    return VoiceProviderError(message, code=code, status=status, retriable=retriable)


@dataclass(frozen=True)
class AccountInfo:
    sid: str
    friendly_name: str
    status: str


@dataclass(frozen=True)
class BusinessProfile:
    business_name: str
    business_type: str
    website: str
    contact_email: str


@dataclass(frozen=True)
class ProfileResult:
    sid: str
    provider_status: str
    reason: str | None = None

    @property
    def status(self) -> str:
        return profile_status(self.provider_status)


@dataclass(frozen=True)
class IncomingNumber:
    sid: str
    phone_number: str
    friendly_name: str | None
    voice: bool


class VoiceProvider(Protocol):
    mode: str

    async def validate_account(self, account_sid: str, auth_token: str) -> AccountInfo: ...

    async def create_customer_profile(
        self, account_sid: str, auth_token: str, profile: BusinessProfile, status_callback: str | None = None
    ) -> ProfileResult: ...

    async def fetch_customer_profile(
        self, account_sid: str, auth_token: str, profile_sid: str
    ) -> ProfileResult: ...

    async def list_incoming_numbers(self, account_sid: str, auth_token: str) -> list[IncomingNumber]: ...


# --------------------------------------------------------------------------- Twilio


@cache
def _tls() -> ssl.SSLContext:
    # Building a verifying context loads the CA bundle (~80 ms); one per process is enough.
    return httpx2.create_ssl_context()


class TwilioVoiceProvider:
    mode = "live"

    # Following next_page_uri is bounded: an account with more numbers than this is imported in part.
    MAX_PAGES = 20

    def __init__(
        self,
        base_url: str = "https://api.twilio.com",
        trusthub_base_url: str = "https://trusthub.twilio.com",
        *,
        policy_sid: str = "RNdfbf3fae0e1107f8aded0e7cead80bf5",
        timeout: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.trusthub_base_url = trusthub_base_url.rstrip("/")
        self.policy_sid = policy_sid
        self.timeout = timeout

    async def _request(
        self,
        method: str,
        url: str,
        account_sid: str,
        auth_token: str,
        data: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        timeout = httpx2.Timeout(self.timeout, connect=min(self.timeout, 5.0))
        try:
            async with httpx2.AsyncClient(
                timeout=timeout, auth=(account_sid, auth_token), verify=_tls()
            ) as client:
                response = await client.request(
                    method, url, data=data, headers={"Accept": "application/json"}
                )
        except httpx2.TimeoutException as exc:
            raise VoiceProviderError(
                f"Twilio timed out: {type(exc).__name__}", code="Timeout", status=None, retriable=True
            ) from exc
        except httpx2.HTTPError as exc:
            raise VoiceProviderError(
                f"Twilio could not be reached: {type(exc).__name__}",
                code="ConnectionError",
                status=None,
                retriable=True,
            ) from exc
        try:
            body = response.json() if response.content else {}
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        if response.status_code >= 400:
            code = str(body.get("code") or response.status_code)
            message = str(body.get("message") or response.reason_phrase or "error")
            retriable = response.status_code == 429 or response.status_code >= 500
            raise VoiceProviderError(
                f"Twilio answered {response.status_code} ({code}): {message}",
                code=code,
                status=response.status_code,
                retriable=retriable,
            )
        return body

    def _account_url(self, account_sid: str, suffix: str = "") -> str:
        return f"{self.base_url}/2010-04-01/Accounts/{quote(account_sid, safe='')}{suffix}.json"

    async def validate_account(self, account_sid: str, auth_token: str) -> AccountInfo:
        body = await self._request("GET", self._account_url(account_sid), account_sid, auth_token)
        return AccountInfo(
            sid=str(body.get("sid") or account_sid),
            friendly_name=str(body.get("friendly_name") or ""),
            status=str(body.get("status") or "active"),
        )

    async def create_customer_profile(
        self, account_sid: str, auth_token: str, profile: BusinessProfile, status_callback: str | None = None
    ) -> ProfileResult:
        # TrustHub's flow: a draft profile, an end user with the business information, the
        # assignment between them, then submission for review.
        base = f"{self.trusthub_base_url}/v1"
        created = await self._request(
            "POST",
            f"{base}/CustomerProfiles",
            account_sid,
            auth_token,
            {
                "FriendlyName": profile.business_name,
                "Email": profile.contact_email,
                "PolicySid": self.policy_sid,
            }
            | ({"StatusCallback": status_callback} if status_callback else {}),
        )
        sid = str(created.get("sid") or "")
        if not sid:
            raise VoiceProviderError(
                "Twilio created a customer profile without a sid",
                code="BadResponse",
                status=None,
                retriable=False,
            )
        attributes = {
            "business_name": profile.business_name,
            "business_type": profile.business_type,
            "website_url": profile.website,
            "business_identity": "direct_customer",
        }
        end_user = await self._request(
            "POST",
            f"{base}/EndUsers",
            account_sid,
            auth_token,
            {
                "FriendlyName": profile.business_name,
                "Type": "customer_profile_business_information",
                "Attributes": json.dumps(attributes),
            },
        )
        await self._request(
            "POST",
            f"{base}/CustomerProfiles/{quote(sid, safe='')}/EntityAssignments",
            account_sid,
            auth_token,
            {"ObjectSid": str(end_user.get("sid") or "")},
        )
        submitted = await self._request(
            "POST",
            f"{base}/CustomerProfiles/{quote(sid, safe='')}",
            account_sid,
            auth_token,
            {"Status": "pending-review"},
        )
        return ProfileResult(sid=sid, provider_status=str(submitted.get("status") or "pending-review"))

    async def fetch_customer_profile(
        self, account_sid: str, auth_token: str, profile_sid: str
    ) -> ProfileResult:
        body = await self._request(
            "GET",
            f"{self.trusthub_base_url}/v1/CustomerProfiles/{quote(profile_sid, safe='')}",
            account_sid,
            auth_token,
        )
        status = str(body.get("status") or "pending-review")
        reason = None
        if profile_status(status) == "rejected":
            errors = body.get("errors")
            reason = "Twilio rejected the customer profile."
            if isinstance(errors, list) and errors:
                reason += " " + "; ".join(
                    str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors
                )
        return ProfileResult(
            sid=profile_sid, provider_status=status, reason=reason[:1000] if reason else None
        )

    async def list_incoming_numbers(self, account_sid: str, auth_token: str) -> list[IncomingNumber]:
        numbers: list[IncomingNumber] = []
        url: str | None = self._account_url(account_sid, "/IncomingPhoneNumbers") + "?PageSize=100"
        for _ in range(self.MAX_PAGES):
            if url is None:
                break
            body = await self._request("GET", url, account_sid, auth_token)
            for item in body.get("incoming_phone_numbers") or []:
                if not isinstance(item, dict) or not item.get("phone_number"):
                    continue
                capabilities = item.get("capabilities") or {}
                numbers.append(
                    IncomingNumber(
                        sid=str(item.get("sid") or ""),
                        phone_number=str(item["phone_number"]),
                        friendly_name=(
                            str(item["friendly_name"])[:64] if item.get("friendly_name") else None
                        ),
                        voice=bool(capabilities.get("voice", True))
                        if isinstance(capabilities, dict)
                        else True,
                    )
                )
            next_uri = body.get("next_page_uri")
            # next_page_uri is relative to the API base; never follow it anywhere else.
            url = (
                f"{self.base_url}{next_uri}"
                if isinstance(next_uri, str) and next_uri.startswith("/")
                else None
            )
        return numbers


# --------------------------------------------------------------------------- sandbox


def _digest(value: str) -> int:
    return int.from_bytes(hashlib.sha256(value.encode()).digest()[:4], "big")


class SandboxVoiceProvider:
    """Offline stand-in. Profiles stay pending until the sandbox review job (or an admin) decides."""

    mode = "sandbox"

    async def validate_account(self, account_sid: str, auth_token: str) -> AccountInfo:
        return AccountInfo(sid=account_sid, friendly_name="Sandbox account", status="active")

    async def create_customer_profile(
        self, account_sid: str, auth_token: str, profile: BusinessProfile, status_callback: str | None = None
    ) -> ProfileResult:
        return ProfileResult(
            sid="BU" + hashlib.sha256(account_sid.encode()).hexdigest()[:32], provider_status="pending-review"
        )

    async def fetch_customer_profile(
        self, account_sid: str, auth_token: str, profile_sid: str
    ) -> ProfileResult:
        return ProfileResult(sid=profile_sid, provider_status="pending-review")

    async def list_incoming_numbers(self, account_sid: str, auth_token: str) -> list[IncomingNumber]:
        # 555-0100..0199 numbers are reserved for fiction, so these can never reach a real line.
        base = _digest(account_sid) % 99
        return [
            IncomingNumber(
                sid="PN" + hashlib.sha256(f"{account_sid}{i}".encode()).hexdigest()[:32],
                phone_number=f"+1202555{100 + (base + i) % 100:04d}",
                friendly_name=f"Sandbox number {i + 1}",
                voice=True,
            )
            for i in range(2)
        ]


def build_voice_provider(
    mode: str,
    *,
    base_url: str = "https://api.twilio.com",
    trusthub_base_url: str = "https://trusthub.twilio.com",
    policy_sid: str = "RNdfbf3fae0e1107f8aded0e7cead80bf5",
    timeout: float = 10.0,
) -> VoiceProvider:
    """Provider for ``SWITCHBOARD_PROVIDER_MODE``: ``sandbox`` or ``live``."""
    if mode == "sandbox":
        return SandboxVoiceProvider()
    if mode == "live":
        return TwilioVoiceProvider(base_url, trusthub_base_url, policy_sid=policy_sid, timeout=timeout)
    raise ValueError(f"unknown voice provider mode {mode!r}")
