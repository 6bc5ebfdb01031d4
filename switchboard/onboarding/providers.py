"""Provider adapters for provisioning managed channels.

Each adapter speaks its provider's real wire format to a configurable base URL
(`SWITCHBOARD_<PROVIDER>_BASE_URL`); in sandbox mode (the default) an in-process stand-in answers
instead and nothing leaves the machine. `SWITCHBOARD_SANDBOX_DELAY_SECONDS` slows every sandbox
call down, so a step can be caught while it runs.

- Meta Graph (WhatsApp): add a number to the platform's WABA, `POST /{phone-number-id}/register`
  `{messaging_product: "whatsapp", pin}`, and `POST /{waba-id}/subscribed_apps`
  `{override_callback_uri, verify_token}`.
- DLT registry (SMS): a generic REST API: `POST /v1/entities`, `POST /v1/entities/{id}/headers`,
  replay-safe through `Idempotency-Key`.
- Google Business Communications (RCS): brands and agents, `POST /v1/{agent}:requestVerification`
  `{agentVerificationContact}`, `GET /v1/{agent}/verification`.
- Number pool (WhatsApp/SMS senders): a generic REST API, `POST /v1/numbers` with `Idempotency-Key`.

Errors are `connectors.adapter.ProviderError`: transient ones (timeouts, 429, 5xx, Graph's
throttling codes) are retried by the job; the others fail the step with the provider's message.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import dataclass
from typing import Any, Protocol

import httpx2

from switchboard.connectors.adapter import ErrorKind, ProviderError
from switchboard.connectors.http import json_or_empty, kind_for_status, request
from switchboard.core.config import Settings

LIVE_URLS = {
    "meta": "https://graph.facebook.com",
    "business_communications": "https://businesscommunications.googleapis.com",
}
SANDBOX_WABA_ID = "109000000000001"


def live_base_url(settings: Settings, provider: str) -> str:
    explicit = str(getattr(settings, f"{provider}_base_url", "") or "")
    if explicit:
        return explicit.rstrip("/")
    if provider in LIVE_URLS:
        return LIVE_URLS[provider]
    raise ProviderError(
        f"SWITCHBOARD_{provider.upper()}_BASE_URL is not set; live mode needs the provider's address.",
        kind=ErrorKind.PERMANENT,
        code="not_configured",
    )


def _fail(
    provider: str, response: httpx2.Response, message: str, code: str, kind: ErrorKind
) -> ProviderError:
    return ProviderError(f"{provider}: {message}", kind=kind, code=code, status=response.status_code)


# --------------------------------------------------------------------------- number pool


@dataclass(frozen=True)
class AllocatedNumber:
    phone_number: str
    ref: str


class NumberPool(Protocol):
    async def allocate(self, channel: str, key: str, country: str = "US") -> AllocatedNumber: ...


class HttpNumberPool:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def allocate(self, channel: str, key: str, country: str = "US") -> AllocatedNumber:
        url = f"{live_base_url(self.settings, 'number_pool')}/v1/numbers"
        response = await request(
            "POST",
            url,
            json={"channel": channel, "country": country, "reference": key},
            headers=_bearer(self.settings.number_pool_api_key) | {"Idempotency-Key": key},
        )
        data = _generic_ok("number pool", response)
        number, ref = data.get("phone_number"), data.get("id")
        if not isinstance(number, str) or not isinstance(ref, str):
            raise _fail(
                "number pool", response, "answer without phone_number/id", "bad_answer", ErrorKind.PERMANENT
            )
        return AllocatedNumber(number, ref)


class SandboxNumberPool:
    """Numbers in the unassigned +1 555 area code, derived from the idempotency key (so a replay
    returns the same number). A clash with a number in use is retried by the caller with a new key."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay

    async def allocate(self, channel: str, key: str, country: str = "US") -> AllocatedNumber:
        await _sandbox_pause(self.delay)
        digest = int(hashlib.sha256(f"{channel}:{key}".encode()).hexdigest(), 16)
        return AllocatedNumber(f"+1555{digest % 10_000_000:07d}", f"sbx-num-{digest % 10**12:012d}")


# --------------------------------------------------------------------------- Meta Graph

# Graph error codes that mean "later": API unknown/service/too many calls/rate limits.
_META_TRANSIENT = frozenset({1, 2, 4, 17, 32, 341, 613, 80007, 130429, 131016})
_META_NEEDS_ACTION = frozenset({10, 190, 200})


class MetaProvisioning(Protocol):
    async def find_or_add_phone_number(self, waba_id: str, phone_number: str, verified_name: str) -> str: ...

    async def register_phone(self, phone_number_id: str, pin: str) -> None: ...

    async def subscribe_webhook(self, waba_id: str, callback_url: str, verify_token: str) -> None: ...


class MetaGraphProvisioning:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _url(self, path: str) -> str:
        return f"{live_base_url(self.settings, 'meta')}/{self.settings.meta_graph_version}/{path}"

    def _headers(self) -> dict[str, str]:
        return _bearer(self.settings.meta_system_token)

    def _check(self, response: httpx2.Response) -> dict[str, Any]:
        data = json_or_empty(response)
        if response.status_code < 400 and "error" not in data:
            return data
        error = _as_dict(data.get("error"))
        code = error.get("code")
        message = str(error.get("message") or f"HTTP {response.status_code}")
        kind = kind_for_status(response.status_code)
        if isinstance(code, int):
            if code in _META_TRANSIENT:
                kind = ErrorKind.TRANSIENT
            elif code in _META_NEEDS_ACTION:
                kind = ErrorKind.NEEDS_ACTION
            elif response.status_code < 500:
                kind = ErrorKind.PERMANENT
        return_code = f"graph_{code}" if code is not None else f"http_{response.status_code}"
        raise _fail("Meta Graph", response, message, return_code, kind)

    async def find_or_add_phone_number(self, waba_id: str, phone_number: str, verified_name: str) -> str:
        # Look first, so a replayed step finds the number it added before instead of failing.
        listed = self._check(
            await request("GET", self._url(f"{waba_id}/phone_numbers"), headers=self._headers())
        )
        wanted = _digits(phone_number)
        for entry in listed.get("data") or []:
            if isinstance(entry, dict) and _digits(str(entry.get("display_phone_number", ""))) == wanted:
                return str(entry["id"])
        cc, national = _split_country_code(phone_number)
        added = self._check(
            await request(
                "POST",
                self._url(f"{waba_id}/phone_numbers"),
                json={"cc": cc, "phone_number": national, "verified_name": verified_name},
                headers=self._headers(),
            )
        )
        if not added.get("id"):
            raise ProviderError("Meta Graph: no phone number id in the answer", kind=ErrorKind.PERMANENT)
        return str(added["id"])

    async def register_phone(self, phone_number_id: str, pin: str) -> None:
        self._check(
            await request(
                "POST",
                self._url(f"{phone_number_id}/register"),
                json={"messaging_product": "whatsapp", "pin": pin},
                headers=self._headers(),
            )
        )

    async def subscribe_webhook(self, waba_id: str, callback_url: str, verify_token: str) -> None:
        self._check(
            await request(
                "POST",
                self._url(f"{waba_id}/subscribed_apps"),
                json={"override_callback_uri": callback_url, "verify_token": verify_token},
                headers=self._headers(),
            )
        )


class SandboxMetaProvisioning:
    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay

    async def find_or_add_phone_number(self, waba_id: str, phone_number: str, verified_name: str) -> str:
        await _sandbox_pause(self.delay)
        return "1" + _digits(phone_number)[-14:].rjust(14, "0")

    async def register_phone(self, phone_number_id: str, pin: str) -> None:
        await _sandbox_pause(self.delay)
        if not re.fullmatch(r"\d{6}", pin):
            raise ProviderError(
                "Meta Graph: PIN must be 6 digits", kind=ErrorKind.PERMANENT, code="graph_100"
            )

    async def subscribe_webhook(self, waba_id: str, callback_url: str, verify_token: str) -> None:
        await _sandbox_pause(self.delay)


# --------------------------------------------------------------------------- DLT registry


class DltRegistry(Protocol):
    async def register_entity(self, key: str, business: dict[str, Any]) -> dict[str, str]: ...

    async def register_headers(
        self, key: str, entity_id: str, headers: list[str], category: str
    ) -> list[dict[str, str]]: ...


class HttpDltRegistry:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _headers(self, key: str) -> dict[str, str]:
        return _bearer(self.settings.dlt_api_key) | {"Idempotency-Key": key}

    async def register_entity(self, key: str, business: dict[str, Any]) -> dict[str, str]:
        response = await request(
            "POST",
            f"{live_base_url(self.settings, 'dlt')}/v1/entities",
            json={
                "name": business["company_name"],
                "website": business["website"],
                "vertical": business["vertical"],
                "use_case": business["use_case"],
                "reference": key,
            },
            headers=self._headers(key),
        )
        data = _generic_ok("DLT", response)
        return {"entity_id": str(data.get("id", "")), "status": str(data.get("status", ""))}

    async def register_headers(
        self, key: str, entity_id: str, headers: list[str], category: str
    ) -> list[dict[str, str]]:
        out = []
        for header in headers:
            response = await request(
                "POST",
                f"{live_base_url(self.settings, 'dlt')}/v1/entities/{entity_id}/headers",
                json={"header": header, "category": category},
                headers=self._headers(f"{key}:{header}"),
            )
            data = _generic_ok("DLT", response)
            out.append(
                {"header": header, "id": str(data.get("id", "")), "status": str(data.get("status", ""))}
            )
        return out


class SandboxDltRegistry:
    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay

    async def register_entity(self, key: str, business: dict[str, Any]) -> dict[str, str]:
        await _sandbox_pause(self.delay)
        return {"entity_id": "sbx-ent-" + _short_hash(key), "status": "approved"}

    async def register_headers(
        self, key: str, entity_id: str, headers: list[str], category: str
    ) -> list[dict[str, str]]:
        await _sandbox_pause(self.delay)
        return [
            {"header": h, "id": "sbx-hdr-" + _short_hash(f"{key}:{h}"), "status": "approved"} for h in headers
        ]


# --------------------------------------------------------------------------- Google RBM brands

VERIFIED = "VERIFICATION_STATE_VERIFIED"


class BrandVerification(Protocol):
    async def ensure_agent(self, brand_name: str, website: str, description: str) -> dict[str, str]: ...

    async def request_verification(self, agent: str, contact: dict[str, str]) -> str: ...

    async def verification_state(self, agent: str) -> str: ...


class GoogleBusinessCommunications:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _url(self, path: str) -> str:
        return f"{live_base_url(self.settings, 'business_communications')}/v1/{path}"

    def _headers(self) -> dict[str, str]:
        return _bearer(self.settings.business_communications_token)

    def _check(self, response: httpx2.Response) -> dict[str, Any]:
        data = json_or_empty(response)
        if response.status_code < 400:
            return data
        error = _as_dict(data.get("error"))
        status = str(error.get("status") or f"HTTP_{response.status_code}")
        message = str(error.get("message") or status)
        kind = kind_for_status(response.status_code)
        if status in {"UNAVAILABLE", "RESOURCE_EXHAUSTED", "DEADLINE_EXCEEDED", "INTERNAL", "ABORTED"}:
            kind = ErrorKind.TRANSIENT
        raise _fail("Google Business Communications", response, message, status, kind)

    async def _list(self, path: str, key: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        token = ""
        for _ in range(50):  # bounded: pages of 100
            params = {"pageSize": "100"} | ({"pageToken": token} if token else {})
            data = self._check(await request("GET", self._url(path), params=params, headers=self._headers()))
            items += [i for i in data.get(key) or [] if isinstance(i, dict)]
            token = str(data.get("nextPageToken") or "")
            if not token:
                break
        return items

    async def ensure_agent(self, brand_name: str, website: str, description: str) -> dict[str, str]:
        # Brands and agents have no idempotency key: look them up by display name before creating,
        # so a step replayed after a crash reuses what it created.
        brand = next(
            (b for b in await self._list("brands", "brands") if b.get("displayName") == brand_name), None
        )
        if brand is None:
            brand = self._check(
                await request(
                    "POST", self._url("brands"), json={"displayName": brand_name}, headers=self._headers()
                )
            )
        brand_id = str(brand["name"])
        agents = await self._list(f"{brand_id}/agents", "agents")
        agent = next((a for a in agents if a.get("displayName") == brand_name), None)
        if agent is None:
            agent = self._check(
                await request(
                    "POST",
                    self._url(f"{brand_id}/agents"),
                    json={
                        "displayName": brand_name,
                        "rcsBusinessMessagingAgent": {
                            "description": description[:100],
                            "websites": [{"uri": website, "label": "Website"}],
                            "agentUseCase": "MULTI_USE",
                            "hostingRegion": "NORTH_AMERICA",
                        },
                    },
                    headers=self._headers(),
                )
            )
        return {"brand": brand_id, "agent": str(agent["name"])}

    async def request_verification(self, agent: str, contact: dict[str, str]) -> str:
        response = await request(
            "POST",
            self._url(f"{agent}:requestVerification"),
            json={"agentVerificationContact": contact},
            headers=self._headers(),
        )
        if response.status_code in (400, 409) and _as_dict(json_or_empty(response).get("error")).get(
            "status"
        ) in {
            "ALREADY_EXISTS",
            "FAILED_PRECONDITION",
        }:
            # Only one verification at a time: a replay finds the one it started.
            return await self.verification_state(agent)
        return str(self._check(response).get("verificationState") or "VERIFICATION_STATE_UNSPECIFIED")

    async def verification_state(self, agent: str) -> str:
        data = self._check(await request("GET", self._url(f"{agent}/verification"), headers=self._headers()))
        return str(data.get("verificationState") or "VERIFICATION_STATE_UNSPECIFIED")


class SandboxBrandVerification:
    """Google answers verification requests by talking to the brand; the sandbox approves at once."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay

    async def ensure_agent(self, brand_name: str, website: str, description: str) -> dict[str, str]:
        await _sandbox_pause(self.delay)
        brand = f"brands/sbx-{_short_hash(brand_name)}"
        return {"brand": brand, "agent": f"{brand}/agents/sbx-{_short_hash(brand_name + website)}"}

    async def request_verification(self, agent: str, contact: dict[str, str]) -> str:
        await _sandbox_pause(self.delay)
        return VERIFIED

    async def verification_state(self, agent: str) -> str:
        await _sandbox_pause(self.delay)
        return VERIFIED


# --------------------------------------------------------------------------- wiring


@dataclass(frozen=True)
class Providers:
    mode: str
    numbers: NumberPool
    meta: MetaProvisioning
    dlt: DltRegistry
    brands: BrandVerification


def build_providers(settings: Settings) -> Providers:
    if settings.provider_mode == "sandbox":
        delay = settings.sandbox_delay_seconds
        return Providers(
            "sandbox",
            SandboxNumberPool(delay),
            SandboxMetaProvisioning(delay),
            SandboxDltRegistry(delay),
            SandboxBrandVerification(delay),
        )
    return Providers(
        "live",
        HttpNumberPool(settings),
        MetaGraphProvisioning(settings),
        HttpDltRegistry(settings),
        GoogleBusinessCommunications(settings),
    )


def waba_id(settings: Settings) -> str:
    return settings.meta_waba_id or SANDBOX_WABA_ID


# --------------------------------------------------------------------------- helpers


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def _generic_ok(provider: str, response: httpx2.Response) -> dict[str, Any]:
    data = json_or_empty(response)
    if response.status_code < 400:
        return data
    error = _as_dict(data.get("error"))
    message = str(error.get("message") or f"HTTP {response.status_code}")
    code = str(error.get("code") or f"http_{response.status_code}")
    raise _fail(provider, response, message, code, kind_for_status(response.status_code))


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def _split_country_code(e164: str) -> tuple[str, str]:
    import phonenumbers

    parsed = phonenumbers.parse(e164, None)
    return str(parsed.country_code), str(parsed.national_number)


def _short_hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:12]


async def _sandbox_pause(delay: float) -> None:
    if delay > 0:
        await asyncio.sleep(delay)
