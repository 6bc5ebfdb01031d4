"""Shared HTTP plumbing for provider adapters: base URLs and turning answers into ProviderErrors."""

from __future__ import annotations

from typing import Any

import httpx2

from switchboard.connectors.adapter import ErrorKind, ProviderError

# Real providers, used in live mode when no base URL is configured.
LIVE_BASE_URLS = {
    "telegram": "https://api.telegram.org",
    "shopify": "https://{shop}",
    "shrinkit": "https://api.shrinkit.io",
    "twilio": "https://api.twilio.com",
    "rbm": "https://rcsbusinessmessaging.googleapis.com",
}


def base_url(settings: Any, provider: str) -> str:
    """`SWITCHBOARD_<PROVIDER>_BASE_URL`, else the in-process sandbox (sandbox mode) or the provider."""
    explicit = str(getattr(settings, f"{provider}_base_url", "") or "")
    if explicit:
        return explicit.rstrip("/")
    if settings.provider_mode == "sandbox":
        suffix = "/{shop}" if provider == "shopify" else ""
        return f"{settings.public_base_url.rstrip('/')}/sandbox/{provider}{suffix}"
    return LIVE_BASE_URLS[provider]


def kind_for_status(status: int) -> ErrorKind:
    """401/403: the credentials no longer work, the tenant must act; 408/429/5xx: try again later."""
    if status in (401, 403):
        return ErrorKind.NEEDS_ACTION
    if status in (408, 425, 429) or status >= 500:
        return ErrorKind.TRANSIENT
    return ErrorKind.PERMANENT


async def request(method: str, url: str, *, timeout: float = 10.0, **kwargs: Any) -> httpx2.Response:
    """One HTTP call; network failures and timeouts become transient ProviderErrors."""
    try:
        async with httpx2.AsyncClient(timeout=timeout) as client:
            return await client.request(method, url, **kwargs)
    except httpx2.TimeoutException as exc:
        raise ProviderError(
            f"timeout calling the provider: {exc}", kind=ErrorKind.TRANSIENT, code="timeout"
        ) from exc
    except httpx2.HTTPError as exc:
        raise ProviderError(
            f"cannot reach the provider: {exc}", kind=ErrorKind.TRANSIENT, code="unreachable"
        ) from exc
    except (ValueError, httpx2.InvalidURL) as exc:
        # A credential or setting that cannot go on the wire (e.g. non-ASCII in a header).
        raise ProviderError(
            "a credential or setting contains characters the provider cannot accept",
            kind=ErrorKind.PERMANENT,
            code="unsendable_request",
        ) from exc


def json_or_empty(response: httpx2.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


# The health service prefixes "reauthorization required: " to messages of errors with these codes.
REAUTH_CODE = "reauthorization_required"
TOKEN_EXPIRED = "token_expired"


def reauth(message: str, code: str = REAUTH_CODE, status: int | None = None) -> ProviderError:
    return ProviderError(message, kind=ErrorKind.NEEDS_ACTION, code=code, status=status)


def status_error(
    resp: httpx2.Response, message: str, code: str = "", reauth_code: str = REAUTH_CODE
) -> ProviderError:
    """Classify by HTTP status when the provider's body says nothing more useful."""
    kind = kind_for_status(resp.status_code)
    if kind is ErrorKind.NEEDS_ACTION:
        return reauth(message, reauth_code, resp.status_code)
    return ProviderError(message, kind=kind, code=code or str(resp.status_code), status=resp.status_code)
