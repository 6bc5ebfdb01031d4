"""Structured JSON logs with a request id, Prometheus metrics, and the request size limit."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
import uuid
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = request_id_var.get()
        if rid:
            data["request_id"] = rid
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str)


def configure_logging(level: str = "INFO", json_logs: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter() if json_logs else logging.Formatter("%(levelname)s %(name)s %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn's access log would print query strings (OAuth codes); ours prints the route only.
    logging.getLogger("uvicorn.access").disabled = True
    # HTTP client libraries log full URLs at INFO, and some providers put tokens in URLs.
    for name in ("httpx", "httpx2", "httpcore", "botocore", "urllib3"):
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "switchboard_http_requests_total",
            "HTTP requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "switchboard_http_request_duration_seconds",
            "HTTP latency",
            ["method", "route"],
            registry=self.registry,
        )

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


access_log = logging.getLogger("switchboard.access")


class RequestContextMiddleware:
    """Request id, access log line, metrics and the body size limit in one pure-ASGI pass."""

    def __init__(self, app: ASGIApp, metrics: Metrics, max_body: int) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        incoming = headers.get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
        token = request_id_var.set(rid)
        start = time.perf_counter()
        status_holder = {"status": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            declared = headers.get(b"content-length")
            if declared is not None and declared.isdigit() and int(declared) > self.max_body:
                await _too_large(send_wrapper, self.max_body)
                return
            # The body is read up front (it is at most max_body bytes) so it can be checked for NUL
            # characters, which PostgreSQL refuses in text and JSON, and then replayed unchanged.
            chunks: list[bytes] = []
            received = 0
            more = scope["method"] not in ("GET", "HEAD", "OPTIONS")
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    break
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > self.max_body:
                    await _too_large(send_wrapper, self.max_body)
                    return
                chunks.append(chunk)
                more = message.get("more_body", False)
            body = b"".join(chunks)
            where = _nul_location(scope, headers, body)
            if where:
                await _nul_refused(send_wrapper, where)
                return
            replayed = False

            async def replay() -> Message:
                nonlocal replayed
                if not replayed:
                    replayed = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()

            await self.app(scope, replay, send_wrapper)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            elapsed = time.perf_counter() - start
            self.metrics.requests.labels(scope["method"], path, str(status_holder["status"])).inc()
            self.metrics.latency.labels(scope["method"], path).observe(elapsed)
            access_log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "route": path,
                    "status": status_holder["status"],
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
            request_id_var.reset(token)


def _nul_location(scope: Scope, headers: dict[bytes, bytes], body: bytes) -> str | None:
    """Where a NUL character hides in the request, if anywhere: 'path', 'query' or 'body'."""
    if b"%00" in scope.get("raw_path", b"") or "\x00" in scope.get("path", ""):
        return "path"
    if b"%00" in scope.get("query_string", b""):
        return "query"
    if body:
        ctype = headers.get(b"content-type", b"").lower()
        # Multipart parts and octet streams (an encrypted Web Push message to the sandbox push
        # service) carry bytes, not text: a NUL there is data.
        if b"\x00" in body and not ctype.startswith((b"multipart/", b"application/octet-stream")):
            return "body"
        if b"json" in ctype and b"\\u0000" in body:
            return "body"
        if ctype.startswith(b"application/x-www-form-urlencoded") and b"%00" in body:
            return "body"
    return None


async def _nul_refused(send: Send, where: str) -> None:
    message = "Text may not contain NUL characters (\\u0000)."
    await _json_error(
        send,
        422,
        {
            "error": "validation_error",
            "message": f"{where}: {message}",
            "details": [{"field": where, "rule": "no_nul_characters", "message": message}],
        },
    )


async def _json_error(send: Send, status: int, payload: dict[str, Any]) -> None:
    body = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _too_large(send: Send, limit: int) -> None:
    await _json_error(
        send,
        413,
        {
            "error": "payload_too_large",
            "message": f"The request body exceeds {limit} bytes.",
            "details": [{"field": "body", "rule": "max_bytes", "message": f"at most {limit} bytes"}],
        },
    )
