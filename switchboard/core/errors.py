"""One error hierarchy and one JSON shape for every 4xx."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("switchboard.errors")


class ErrorDetail(BaseModel):
    field: str
    rule: str
    message: str | None = None


class ErrorBody(BaseModel):
    error: str
    message: str
    details: list[ErrorDetail] = []


class AppError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: list[dict[str, Any]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or []
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, "details": self.details, **self.extra}


class NotFound(AppError):
    status_code = 404
    code = "not_found"


class Conflict(AppError):
    status_code = 409
    code = "conflict"


class Unprocessable(AppError):
    status_code = 422
    code = "validation_error"


class Unauthorized(AppError):
    status_code = 401
    code = "unauthorized"


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"


class TooManyRequests(AppError):
    status_code = 429
    code = "rate_limited"


class PayloadTooLarge(AppError):
    status_code = 413
    code = "payload_too_large"


class ProviderFailed(AppError):
    """An external provider refused the operation for good (not the caller's input)."""

    status_code = 502
    code = "provider_error"


class ProviderUnavailable(AppError):
    """An external provider is unreachable or throttling: try again later."""

    status_code = 503
    code = "provider_unavailable"


def field_error(field: str, rule: str, message: str) -> Unprocessable:
    return Unprocessable(message, details=[{"field": field, "rule": rule, "message": message}])


_LOCATIONS = ("body", "query", "path", "header", "cookie")


def _loc_to_field(loc: tuple[Any, ...] | list[Any], request: bool = False) -> str:
    if request:
        # A request error's loc starts with where the value was (body, query...); only that goes, so a
        # field that is itself called "body" keeps its name (body.text).
        parts = [str(p) for p in (loc[1:] if loc and loc[0] in _LOCATIONS else loc)]
    else:
        parts = [str(p) for p in loc if p not in _LOCATIONS]
    return ".".join(parts) or str(loc[0] if loc else "body")


def validation_details(errors: list[Any], prefix: str = "", request: bool = False) -> list[dict[str, Any]]:
    details = []
    for err in errors:
        field = _loc_to_field(err.get("loc", ()), request)
        if prefix:
            field = f"{prefix}.{field}" if field else prefix
        msg = str(err.get("msg", "invalid"))
        details.append({"field": field, "rule": str(err.get("type", "invalid")), "message": msg})
    return details


def from_validation_error(exc: ValidationError, prefix: str = "") -> Unprocessable:
    details = validation_details(list(exc.errors()), prefix)
    first = details[0] if details else {"field": prefix, "message": "invalid"}
    return Unprocessable(f"{first['field']}: {first['message']}", details=details)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_request: Request, exc: AppError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return JSONResponse(exc.body(), status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            body = {
                "error": "invalid_json",
                "message": "The request body is not valid JSON.",
                "details": [{"field": "body", "rule": "json_invalid", "message": "malformed JSON"}],
            }
            return JSONResponse(body, status_code=422)
        details = validation_details(errors, request=True)
        first = details[0] if details else {"field": "body", "message": "invalid"}
        body = {
            "error": "validation_error",
            "message": f"{first['field']}: {first['message']}",
            "details": details,
        }
        return JSONResponse(body, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized"}.get(
            exc.status_code, "http_error"
        )
        body = {"error": code, "message": str(exc.detail), "details": []}
        return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        body = {"error": "internal_error", "message": "An unexpected error occurred.", "details": []}
        return JSONResponse(body, status_code=500)
