"""HTTP helpers of the OAuth-type adapters, on top of the shared plumbing in connectors/http.py."""

from __future__ import annotations

from typing import Any

from switchboard.connectors.adapter import ErrorKind, ProviderError
from switchboard.connectors.http import json_or_empty, kind_for_status
from switchboard.connectors.http import request as request

# The health service prefixes "reauthorization required: " to messages of errors with these codes.
REAUTH_CODE = "reauthorization_required"
TOKEN_EXPIRED = "token_expired"


def reauth(message: str, code: str = REAUTH_CODE, status: int | None = None) -> ProviderError:
    return ProviderError(message, kind=ErrorKind.NEEDS_ACTION, code=code, status=status)


def json_body(resp: Any) -> dict[str, Any]:
    return json_or_empty(resp)


def status_error(resp: Any, message: str, code: str = "") -> ProviderError:
    """Classify by HTTP status when the provider's body says nothing more useful."""
    kind = kind_for_status(resp.status_code)
    if kind is ErrorKind.NEEDS_ACTION:
        return reauth(message, REAUTH_CODE, resp.status_code)
    return ProviderError(message, kind=kind, code=code or str(resp.status_code), status=resp.status_code)
