"""A standard OAuth 2.0 authorization server (code + PKCE + refresh tokens) shared by the TikTok and
LinkedIn emulators; each subclass adds its API and its error shapes."""

from __future__ import annotations

import secrets
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from switchboard.sandbox._kit import Grant, Token, esc, hidden, page, redirect_with, s256, token


class OAuth2Sandbox:
    title = "Sandbox — OAuth"
    client_param = "client_id"
    deny_error = "access_denied"
    subject = "sandbox-member"

    def __init__(self, client_id: str, client_secret: str) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.code_ttl: float = 600
        self.access_ttl: float = 86400
        self.refresh_ttl: float = 365 * 86400
        self.codes: dict[str, Grant] = {}
        self.tokens: dict[str, Token] = {}
        self.requests: list[str] = []
        self.pkce_checked = 0

    # --- test controls
    def expire(self, value: str) -> None:
        self.tokens[value].expires_at = time.time() - 1

    def revoke_all(self) -> None:
        for tok in self.tokens.values():
            tok.revoked = True

    def access_tokens(self) -> list[str]:
        return [k for k, t in self.tokens.items() if t.kind == "access"]

    # --- authorize
    async def authorize(self, request: Request) -> Response:
        if request.method == "POST":
            return await self._decide(request)
        q = request.query_params
        if q.get(self.client_param) != self.client_id or not q.get("redirect_uri"):
            return page(self.title, "<p>Unknown client or missing redirect_uri.</p>", 400)
        if q.get("code_challenge") and q.get("code_challenge_method") != "S256":
            return page(self.title, "<p>Only code_challenge_method=S256 is supported.</p>", 400)
        scopes = [s for s in q.get("scope", "").replace(" ", ",").split(",") if s]
        items = "".join(
            f'<li><label><input type="checkbox" name="granted" value="{esc(s)}" checked> '
            f"<code>{esc(s)}</code></label></li>"
            for s in scopes
        )
        form = (
            f'<form method="post"><p><strong>Switchboard</strong> (client {esc(self.client_id)}) wants:</p>'
            f"<ul>{items}</ul>"
            + hidden("redirect_uri", q["redirect_uri"])
            + hidden("state", q.get("state", ""))
            + hidden("code_challenge", q.get("code_challenge", ""))
            + '<button type="submit" name="action" value="continue">Allow</button>'
            '<button type="submit" name="action" value="cancel">Cancel</button></form>'
        )
        return page(self.title, form)

    async def _decide(self, request: Request) -> Response:
        form = await request.form()
        uri, state = str(form.get("redirect_uri", "")), str(form.get("state", ""))
        if not uri:
            return page(self.title, "<p>Invalid request.</p>", 400)
        if form.get("action") != "continue":
            return redirect_with(
                uri,
                {
                    "error": self.deny_error,
                    "error_description": "The user denied the request.",
                    "state": state,
                },
            )
        code = secrets.token_urlsafe(32)
        self.codes[code] = Grant(
            self.client_id,
            uri,
            [str(s) for s in form.getlist("granted")],
            str(form.get("code_challenge") or "") or None,
            time.time() + self.code_ttl,
        )
        return redirect_with(
            uri, {"code": code, "state": state, "scopes": ",".join(str(g) for g in form.getlist("granted"))}
        )

    # --- token
    def token_error(self, error: str, description: str) -> Response:
        return JSONResponse({"error": error, "error_description": description}, status_code=400)

    def token_body(self, access: str, refresh: str, scopes: list[str]) -> dict[str, Any]:
        return {
            "access_token": access,
            "expires_in": int(self.access_ttl),
            "refresh_token": refresh,
            "refresh_expires_in": int(self.refresh_ttl),
            "scope": ",".join(scopes),
            "token_type": "Bearer",
        }

    async def token(self, request: Request) -> Response:
        form = await request.form()
        if form.get(self.client_param) != self.client_id or form.get("client_secret") != self.client_secret:
            return self.token_error("invalid_client", "Client authentication failed.")
        grant_type = form.get("grant_type")
        if grant_type == "refresh_token":
            old = self.tokens.get(str(form.get("refresh_token", "")))
            if old is None or old.kind != "refresh" or not old.valid():
                return self.token_error("invalid_grant", "The refresh token is invalid or expired.")
            return self._issue(old.scopes)
        if grant_type != "authorization_code":
            return self.token_error("unsupported_grant_type", "grant_type must be authorization_code.")
        grant = self.codes.get(str(form.get("code", "")))
        if grant is None or grant.used or grant.expires_at < time.time():
            return self.token_error("invalid_grant", "The authorization code is invalid, used or expired.")
        if grant.redirect_uri != form.get("redirect_uri"):
            return self.token_error("invalid_grant", "redirect_uri does not match the authorization request.")
        if grant.code_challenge:
            verifier = str(form.get("code_verifier", ""))
            if not verifier or s256(verifier) != grant.code_challenge:
                return self.token_error("invalid_grant", "Code verifier does not match the code challenge.")
            self.pkce_checked += 1
        grant.used = True
        return self._issue(grant.scopes)

    def _issue(self, scopes: list[str]) -> Response:
        access, refresh = token("act."), token("rft.")
        now = time.time()
        self.tokens[access] = Token("access", scopes, now + self.access_ttl, self.subject)
        self.tokens[refresh] = Token("refresh", scopes, now + self.refresh_ttl, self.subject)
        return JSONResponse(self.token_body(access, refresh, scopes))

    def check(self, raw: str) -> Token | None:
        tok = self.tokens.get(raw)
        return tok if tok and tok.kind == "access" and tok.valid() else None
