"""Emulators of the providers managed-channel provisioning talks to, served over real HTTP on 127.0.0.1
(see tests/support/emulator_server.py): Meta Graph (WABA phone numbers, register, subscribed_apps),
Google Business Communications (brands, agents, verification), a DLT registry and a number pool.

They check what a real provider would refuse (missing token, wrong body, PIN format), keep state so
replays can be observed, log every request, and inject faults per path (`fail(...)`).
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

TOKEN = "test-provider-token"


@dataclass
class Fault:
    pattern: str
    status: int
    body: dict[str, Any]
    remaining: int


@dataclass
class Logged:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class ProviderEmulator:
    graph_version: str = "v21.0"
    requests: list[Logged] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    # Meta
    waba_numbers: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    registered: dict[str, str] = field(default_factory=dict)  # phone number id -> pin
    subscriptions: dict[str, dict[str, str]] = field(default_factory=dict)  # waba -> body
    # Google
    brands: dict[str, dict[str, Any]] = field(default_factory=dict)
    agents: dict[str, dict[str, Any]] = field(default_factory=dict)
    verifications: dict[str, dict[str, Any]] = field(default_factory=dict)
    verify_immediately: bool = True
    # DLT and numbers
    entities: dict[str, dict[str, Any]] = field(default_factory=dict)
    headers: dict[str, dict[str, Any]] = field(default_factory=dict)
    numbers: dict[str, dict[str, Any]] = field(default_factory=dict)
    idempotent: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.app = Starlette(routes=[Route("/{path:path}", self._dispatch, methods=["GET", "POST"])])

    # --- test controls ----------------------------------------------------------------------------

    def fail(self, pattern: str, status: int, body: dict[str, Any] | None = None, times: int = 1) -> None:
        """The next `times` requests whose path matches `pattern` (regex) get this answer."""
        self.faults.append(Fault(pattern, status, body or {"error": {"message": "injected"}}, times))

    def calls(self, pattern: str, method: str = "POST") -> list[Logged]:
        return [r for r in self.requests if r.method == method and re.search(pattern, r.path)]

    def reset(self) -> None:
        fresh = ProviderEmulator(self.graph_version)
        for name in (
            "requests",
            "faults",
            "waba_numbers",
            "registered",
            "subscriptions",
            "brands",
            "agents",
            "verifications",
            "entities",
            "headers",
            "numbers",
            "idempotent",
        ):
            setattr(self, name, getattr(fresh, name))
        self.verify_immediately = True

    # --- dispatch ---------------------------------------------------------------------------------

    async def _dispatch(self, request: Request) -> Response:
        path = "/" + request.path_params["path"]
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return JSONResponse({"error": {"message": "malformed JSON"}}, status_code=400)
        with self._lock:
            self.requests.append(Logged(request.method, path, dict(request.headers), body))
            for fault in self.faults:
                if fault.remaining > 0 and re.search(fault.pattern, path):
                    fault.remaining -= 1
                    return JSONResponse(fault.body, status_code=fault.status)
            if request.headers.get("authorization") != f"Bearer {TOKEN}":
                return JSONResponse(
                    {
                        "error": {
                            "message": "Invalid OAuth access token",
                            "code": 190,
                            "status": "UNAUTHENTICATED",
                        }
                    },
                    status_code=401,
                )
            if path.startswith(f"/{self.graph_version}/"):
                return self._graph(request.method, path[len(self.graph_version) + 2 :], body)
            if path.startswith("/v1/brands"):
                return self._google(request.method, path[len("/v1/") :], body, request)
            if path.startswith("/v1/entities"):
                return self._dlt(path, body, request.headers.get("idempotency-key"))
            if path == "/v1/numbers" and request.method == "POST":
                return self._number(body, request.headers.get("idempotency-key"))
        return JSONResponse({"error": {"message": f"no route {path}"}}, status_code=404)

    # --- Meta Graph -------------------------------------------------------------------------------

    def _graph(self, method: str, path: str, body: Any) -> Response:
        parts = path.split("/")
        if len(parts) == 2 and parts[1] == "phone_numbers":
            waba = parts[0]
            if method == "GET":
                return JSONResponse({"data": self.waba_numbers.get(waba, [])})
            if not isinstance(body, dict) or not {"cc", "phone_number", "verified_name"} <= set(body):
                return _graph_error(400, "(#100) cc, phone_number and verified_name are required", 100)
            entry = {
                "id": f"10{next(self._ids):013d}",
                "display_phone_number": f"+{body['cc']} {body['phone_number']}",
                "verified_name": body["verified_name"],
            }
            self.waba_numbers.setdefault(waba, []).append(entry)
            return JSONResponse({"id": entry["id"]})
        if len(parts) == 2 and parts[1] == "register" and method == "POST":
            if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp":
                return _graph_error(400, "(#100) messaging_product must be whatsapp", 100)
            pin = str(body.get("pin", ""))
            if not re.fullmatch(r"\d{6}", pin):
                return _graph_error(400, "(#100) pin must be 6 digits", 100)
            known = {n["id"] for numbers in self.waba_numbers.values() for n in numbers}
            if parts[0] not in known:
                return _graph_error(400, f"(#100) unknown phone number id {parts[0]}", 100)
            if parts[0] in self.registered and self.registered[parts[0]] != pin:
                return _graph_error(400, "(#133005) Two step verification PIN mismatch", 133005)
            self.registered[parts[0]] = pin
            return JSONResponse({"success": True})
        if len(parts) == 2 and parts[1] == "subscribed_apps" and method == "POST":
            if (
                not isinstance(body, dict)
                or not body.get("override_callback_uri")
                or not body.get("verify_token")
            ):
                return _graph_error(400, "(#100) override_callback_uri needs verify_token", 100)
            self.subscriptions[parts[0]] = dict(body)
            return JSONResponse({"success": True})
        return _graph_error(400, f"Unsupported request {method} {path}", 100)

    # --- Google Business Communications ------------------------------------------------------------

    def _google(self, method: str, path: str, body: Any, request: Request) -> Response:
        if path == "brands":
            if method == "GET":
                return JSONResponse({"brands": list(self.brands.values())})
            if not isinstance(body, dict) or not body.get("displayName"):
                return _google_error(400, "INVALID_ARGUMENT", "displayName is required")
            brand = {"name": f"brands/b{next(self._ids)}", "displayName": body["displayName"]}
            self.brands[brand["name"]] = brand
            return JSONResponse(brand)
        m = re.fullmatch(r"(brands/[^/]+)/agents", path)
        if m:
            if m.group(1) not in self.brands:
                return _google_error(404, "NOT_FOUND", "brand not found")
            if method == "GET":
                return JSONResponse(
                    {"agents": [a for a in self.agents.values() if a["name"].startswith(m.group(1))]}
                )
            if not isinstance(body, dict) or "rcsBusinessMessagingAgent" not in body:
                return _google_error(400, "INVALID_ARGUMENT", "rcsBusinessMessagingAgent is required")
            agent = {"name": f"{m.group(1)}/agents/a{next(self._ids)}", **body}
            self.agents[agent["name"]] = agent
            return JSONResponse(agent)
        m = re.fullmatch(r"(brands/[^/]+/agents/[^/:]+):requestVerification", path)
        if m and method == "POST":
            agent_name = m.group(1)
            if agent_name not in self.agents:
                return _google_error(404, "NOT_FOUND", "agent not found")
            contact = (body or {}).get("agentVerificationContact") if isinstance(body, dict) else None
            required = {
                "partnerName",
                "partnerEmailAddress",
                "brandContactName",
                "brandContactEmailAddress",
                "brandWebsiteUrl",
            }
            if not isinstance(contact, dict) or not required <= set(contact):
                return _google_error(400, "INVALID_ARGUMENT", "agentVerificationContact is incomplete")
            if agent_name in self.verifications:
                return _google_error(400, "FAILED_PRECONDITION", "verification already requested")
            state = "VERIFICATION_STATE_VERIFIED" if self.verify_immediately else "VERIFICATION_STATE_PENDING"
            self.verifications[agent_name] = {
                "name": f"{agent_name}/verification",
                "verificationState": state,
                "agentVerificationContact": contact,
            }
            return JSONResponse(self.verifications[agent_name])
        m = re.fullmatch(r"(brands/[^/]+/agents/[^/]+)/verification", path)
        if m and method == "GET":
            found = self.verifications.get(m.group(1))
            if found is None:
                return _google_error(404, "NOT_FOUND", "no verification")
            return JSONResponse(found)
        return _google_error(404, "NOT_FOUND", f"no route {path}")

    # --- DLT and numbers --------------------------------------------------------------------------

    def _replay(self, key: str | None) -> Response | None:
        if key and key in self.idempotent:
            return JSONResponse(self.idempotent[key])
        return None

    def _dlt(self, path: str, body: Any, key: str | None) -> Response:
        if not key:
            return JSONResponse({"error": {"code": "missing_idempotency_key", "message": "required"}}, 400)
        replay = self._replay(key)
        if replay is not None:
            return replay
        if path == "/v1/entities":
            if not isinstance(body, dict) or not body.get("name") or not body.get("website"):
                return JSONResponse(
                    {"error": {"code": "invalid", "message": "name and website required"}}, 400
                )
            entity = {"id": f"ent_{next(self._ids)}", "status": "approved", **body}
            self.entities[entity["id"]] = entity
            self.idempotent[key] = entity
            return JSONResponse(entity, status_code=201)
        m = re.fullmatch(r"/v1/entities/([^/]+)/headers", path)
        if m:
            if m.group(1) not in self.entities:
                return JSONResponse({"error": {"code": "not_found", "message": "entity"}}, 404)
            header = str((body or {}).get("header", ""))
            if not re.fullmatch(r"[A-Z]{6}", header):
                return JSONResponse({"error": {"code": "invalid_header", "message": "6 letters"}}, 400)
            row = {"id": f"hdr_{next(self._ids)}", "status": "approved", "header": header}
            self.headers[row["id"]] = row
            self.idempotent[key] = row
            return JSONResponse(row, status_code=201)
        return JSONResponse({"error": {"code": "not_found", "message": path}}, 404)

    def _number(self, body: Any, key: str | None) -> Response:
        if not key:
            return JSONResponse({"error": {"code": "missing_idempotency_key", "message": "required"}}, 400)
        replay = self._replay(key)
        if replay is not None:
            return replay
        n = next(self._ids)
        row = {"id": f"num_{n}", "phone_number": f"+1415555{n:04d}", "channel": (body or {}).get("channel")}
        self.numbers[row["id"]] = row
        self.idempotent[key] = row
        return JSONResponse(row, status_code=201)


def _graph_error(status: int, message: str, code: int) -> JSONResponse:
    return JSONResponse(
        {"error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEf"}},
        status_code=status,
    )


def _google_error(status: int, kind: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": status, "message": message, "status": kind}}, status_code=status)
