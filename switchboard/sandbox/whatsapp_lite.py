"""Sandbox WhatsApp Lite pairing provider.

Assumed wire format (AppGain documents no pairing/session/webhook API; see docs/connections.md),
JSON over HTTPS:
- POST /sessions {"sender_id", "phone_number"} -> 201 {"session_id", "qr_payload", "session_token",
  "status": "pending", "expires_in"}
- GET /sessions/{id} or GET /session (Authorization: Bearer <session_token>) -> {"session_id", "status":
  "pending" | "paired" | "logged_out", "phone_number"}
- POST /messages (Bearer) {"to", "type": "text", "text": {"body"}} -> {"message_id"}
- webhooks are signed `X-Lite-Signature: sha256=<hex HMAC-SHA256(session_token, raw body)>`.
Sandbox only: POST /sessions/{id}/scan (what scanning the QR code with the phone does),
GET /sessions/{id}/phone, a page with a "Simulate scan" button, and POST /simulate/message (the
form on `/` and on a paired phone's page, or JSON `{channel_id, to, from, text}`): a contact writes
to the paired number `to`, and the `message` event, signed with that session's token, goes to the
channel's webhook `/webhooks/<channel id>`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from switchboard.sandbox._kit import Platform, Refused, bearer, esc, hidden, page, simulate


@dataclass
class LiteSession:
    id: str
    token: str
    sender_id: str
    phone_number: str
    qr_payload: str
    status: str = "pending"


class WhatsAppLiteSandbox:
    def __init__(self) -> None:
        self.sessions: dict[str, LiteSession] = {}
        self.sent: list[dict[str, Any]] = []
        self.platform = Platform()
        self.app = Starlette(
            routes=[
                Route("/", self.index),
                Route("/simulate/message", self.simulate_message, methods=["POST"]),
                Route("/sessions", self.create, methods=["POST"]),
                Route("/session", self.current, methods=["GET"]),
                Route("/sessions/{sid}", self.get, methods=["GET"]),
                Route("/sessions/{sid}/scan", self.scan, methods=["POST"]),
                Route("/sessions/{sid}/phone", self.phone, methods=["GET", "POST"]),
                Route("/messages", self.send, methods=["POST"]),
            ]
        )

    def configure(self, settings: Any) -> None:
        self.platform.configure(settings)

    # --- test controls
    def log_out(self, session_id: str) -> None:
        self.sessions[session_id].status = "logged_out"

    def sign(self, session_id: str, body: bytes) -> str:
        key = self.sessions[session_id].token.encode()
        return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()

    def _pair(self, sid: str) -> LiteSession | None:
        found = self.sessions.get(sid)
        if found and found.status == "pending":
            found.status = "paired"
        return found

    # --- API
    async def create(self, request: Request) -> Response:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict) or not body.get("sender_id") or not body.get("phone_number"):
            return JSONResponse(
                {"error": {"code": "invalid_request", "message": "sender_id and phone_number are required"}},
                status_code=400,
            )
        sid = "ses_" + secrets.token_hex(8)
        payload = f"2@{secrets.token_urlsafe(24)},{secrets.token_urlsafe(16)},{sid}"
        self.sessions[sid] = LiteSession(
            sid,
            "lts_" + secrets.token_urlsafe(24),
            str(body["sender_id"]),
            str(body["phone_number"]),
            payload,
        )
        s = self.sessions[sid]
        return JSONResponse(
            {
                "session_id": sid,
                "qr_payload": payload,
                "session_token": s.token,
                "status": "pending",
                "expires_in": 120,
            },
            status_code=201,
        )

    def _authed(self, request: Request, sid: str | None = None) -> LiteSession | Response:
        raw = bearer(request)
        found = next((s for s in self.sessions.values() if s.token == raw), None) if raw else None
        if found is None or (sid is not None and found.id != sid):
            return JSONResponse(
                {"error": {"code": "unauthorized", "message": "Unknown session token"}}, status_code=401
            )
        return found

    async def get(self, request: Request) -> Response:
        found = self._authed(request, request.path_params["sid"])
        if isinstance(found, Response):
            return found
        return JSONResponse(
            {"session_id": found.id, "status": found.status, "phone_number": found.phone_number}
        )

    async def current(self, request: Request) -> Response:
        """The session the bearer token belongs to (what a connected account checks)."""
        found = self._authed(request)
        if isinstance(found, Response):
            return found
        return JSONResponse(
            {"session_id": found.id, "status": found.status, "phone_number": found.phone_number}
        )

    async def scan(self, request: Request) -> Response:
        found = self._pair(request.path_params["sid"])
        if found is None:
            return JSONResponse(
                {"error": {"code": "not_found", "message": "No such session"}}, status_code=404
            )
        return JSONResponse({"session_id": found.id, "status": found.status})

    async def phone(self, request: Request) -> Response:
        sid = request.path_params["sid"]
        if request.method == "POST":
            self._pair(sid)
        found = self.sessions.get(sid)
        if found is None:
            return page("Sandbox — phone", "<p>No such pairing session.</p>", 404)
        if found.status == "paired":
            return page(
                "Sandbox — phone",
                f"<p data-testid='paired'>Paired {esc(found.phone_number)}. You can close this page.</p>"
                + self._write_form(found, "../../simulate/message"),
            )
        return page(
            "Sandbox — phone",
            f"<p>Pretend this is the phone {esc(found.phone_number)} scanning the QR code.</p>"
            '<form method="post"><button type="submit">Simulate scan</button></form>',
        )

    # --- a contact writes to a paired number
    @staticmethod
    def _write_form(session: LiteSession, action: str) -> str:
        return (
            f'<form method="post" action="{esc(action)}">{hidden("to", session.phone_number)}'
            '<input name="channel_id" placeholder="Channel id" aria-label="Channel id" required> '
            '<input name="from" value="+14155550177" aria-label="Contact number"> '
            '<input name="text" placeholder="Message" aria-label="Message" required> '
            f"<button>A contact writes to {esc(session.phone_number)}</button></form>"
        )

    async def index(self, request: Request) -> Response:
        rows = "".join(
            f"<li><b>{esc(s.phone_number)}</b> ({esc(s.sender_id)}): {esc(s.status)}"
            + (self._write_form(s, "simulate/message") if s.status == "paired" else "")
            + "</li>"
            for s in self.sessions.values()
        )
        body = (
            "<p>Pair a WhatsApp Lite channel (its Pair page links to a pretend phone), switch it on, then "
            "write to its number as a contact; the id the form asks for is in the channel page's address.</p>"
            f"<ul>{rows or '<li>No pairing session yet.</li>'}</ul>"
        )
        return page("Sandbox WhatsApp Lite gateway", body)

    def message_event(self, session_id: str, sender: str, text: str) -> tuple[bytes, dict[str, str]]:
        """(body, headers) of a signed webhook carrying one inbound text."""
        event = {"type": "message", "id": "wl_in_" + secrets.token_hex(8), "from": sender, "text": text,
                 "timestamp": int(time.time())}  # fmt: skip
        body = json.dumps({"events": [event]}).encode()
        return body, {"Content-Type": "application/json", "X-Lite-Signature": self.sign(session_id, body)}

    async def simulate_message(self, request: Request) -> Response:
        async def write(fields: dict[str, str]) -> tuple[int, dict[str, Any]]:
            url = self.platform.channel_webhook(fields["channel_id"])
            paired = [
                s for s in self.sessions.values() if s.status == "paired" and s.phone_number == fields["to"]
            ]
            if not paired:
                raise Refused(404, "to", f"No paired session for {fields['to']!r}: pair the channel first.")
            if not fields["text"]:
                raise Refused(422, "text", "text is required.")
            body, headers = self.message_event(
                paired[-1].id, fields["from"] or "+14155550177", fields["text"]
            )
            status = await self.platform.post(url, body, headers)
            return status, {"message_id": json.loads(body)["events"][0]["id"]}

        return await simulate(
            request, "Sandbox WhatsApp Lite gateway", ("channel_id", "to", "from", "text"), write
        )

    async def send(self, request: Request) -> Response:
        found = self._authed(request)
        if isinstance(found, Response):
            return found
        if found.status != "paired":
            return JSONResponse(
                {"error": {"code": "not_paired", "message": "The session is not paired"}}, status_code=409
            )
        body = json.loads(await request.body() or b"{}")
        self.sent.append({"session_id": found.id, **body})
        return JSONResponse({"message_id": "wl_" + secrets.token_hex(8)})
