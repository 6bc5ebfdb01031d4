"""Webhook ingest (verify, persist raw, answer) and the parse step the job runs.

The endpoint only verifies and stores; the stored row is the durable hand-off to the parse job
(an outbox), so a crash between answering and parsing loses nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from switchboard.channels.service import OWNER
from switchboard.connectors.adapter import AccountContext, ChannelAdapter, InboundEvent, get_adapter
from switchboard.connectors.base import ChannelType
from switchboard.core.db import session_scope
from switchboard.core.runtime import Runtime
from switchboard.core.security import constant_time_equals
from switchboard.messages.service import outbound
from switchboard.models import ChannelAccount, InboundMessage, WebhookEvent
from switchboard.oauth.providers import meta as meta_app
from switchboard.webhooks.parsers import split_meta, twilio_events
from switchboard.webhooks.signatures import meta_signature_ok, twilio_signature_ok

log = logging.getLogger(__name__)

# Headers worth keeping for troubleshooting; never the secret-bearing ones.
KEPT_HEADERS = (
    "content-type",
    "user-agent",
    "x-shopify-topic",
    "x-shopify-shop-domain",
    "x-shopify-webhook-id",
    "x-shopify-api-version",
    "i-twilio-idempotency-token",
)


# An app-level delivery routed to accounts: (the id naming the account, that account's payload).
AppRoute = tuple[str, dict[str, Any]]


def _whole_by(name: str) -> Callable[[dict[str, Any]], list[AppRoute]]:
    """The payload names one account at its top level (TikTok: `user_openid`)."""

    def routes(payload: dict[str, Any]) -> list[AppRoute]:
        value = payload.get(name)
        return [(value, payload)] if isinstance(value, str) and value else []

    return routes


def _items_by(items: str, name: str) -> Callable[[dict[str, Any]], list[AppRoute]]:
    """A batch whose items each name their account (LinkedIn: `notifications[].organizationalEntity`):
    one payload per account, with its items in order; items naming no account are left out."""

    def routes(payload: dict[str, Any]) -> list[AppRoute]:
        batch = payload.get(items)
        groups: dict[str, list[Any]] = {}
        for item in batch if isinstance(batch, list) else []:
            value = item.get(name) if isinstance(item, dict) else None
            if isinstance(value, str) and value:
                groups.setdefault(value, []).append(item)
        if len(groups) == 1 and len(next(iter(groups.values()))) == len(batch or []):
            return [(next(iter(groups)), payload)]  # the whole delivery is one account's: kept as sent
        return [(key, {**payload, items: group}) for key, group in groups.items()]

    return routes


# provider -> (channel type, the account setting that holds the id, the payload's routes)
APP_WEBHOOKS: dict[str, tuple[ChannelType, str, Callable[[dict[str, Any]], list[AppRoute]]]] = {
    "tiktok": (ChannelType.TIKTOK, "business_id", _whole_by("user_openid")),
    "linkedin": (
        ChannelType.LINKEDIN,
        "organization_urn",
        _items_by("notifications", "organizationalEntity"),
    ),
}


def _app_context() -> AccountContext:
    """An app-level webhook is checked with the app's own secret, not any account's."""
    return AccountContext(uuid.UUID(int=0), uuid.UUID(int=0), {}, {})


class WebhookRejected(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class _Verifier:
    account_type: str
    organization_id: uuid.UUID
    ctx: AccountContext
    adapter: ChannelAdapter
    loaded_at: float


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise WebhookRejected(400, "body is not JSON") from exc
    if not isinstance(payload, dict):
        raise WebhookRejected(400, "body is not a JSON object")
    return payload


def _kept(headers: dict[str, str]) -> dict[str, Any]:
    return {k: headers[k] for k in KEPT_HEADERS if k in headers}


def _insert(dialect: str) -> Any:
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


# One statement per dialect, built once: executed with a list of rows ("insertmanyvalues"), its
# compiled form is cached, where a multi-VALUES statement would be compiled again for every batch.
_INSERTS: dict[str, Any] = {}


def _insert_statement(dialect: str) -> Any:
    stmt = _INSERTS.get(dialect)
    if stmt is None:
        stmt = _INSERTS[dialect] = (
            _insert(dialect)(WebhookEvent)
            .on_conflict_do_nothing(index_elements=["channel_account_id", "provider_message_id"])
            .returning(WebhookEvent.id)
        )
    return stmt


async def _insert_events(
    session: AsyncSession | AsyncConnection, rows: list[dict[str, Any]]
) -> set[uuid.UUID]:
    """Insert raw events; a (account, provider message id) seen before is skipped (replays).
    Returns the ids actually inserted (RETURNING leaves out the skipped ones, on both databases)."""
    if not rows:
        return set()
    dialect = session.dialect if isinstance(session, AsyncConnection) else session.get_bind().dialect
    now = datetime.now(UTC)
    values = [{"id": uuid.uuid4(), "received_at": now, "status": "received", **r} for r in rows]
    result = await session.execute(_insert_statement(dialect.name), values)
    return set(result.scalars().all())


async def store_events(session: AsyncSession, rows: list[dict[str, Any]]) -> int:
    return len(await _insert_events(session, rows))


class _GroupCommit:
    """Concurrent ingests share one INSERT and one COMMIT (group commit): each request still
    answers only after its row is committed, but a burst costs one transaction, not one each."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.pending: list[tuple[dict[str, Any], asyncio.Future[bool]]] = []
        self.running = False

    async def submit(self, row: dict[str, Any]) -> bool:
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.pending.append((row, future))
        if not self.running:
            self.running = True
            asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self.pending:
                batch, self.pending = self.pending, []
                rows = [{**row, "id": uuid.uuid4()} for row, _ in batch]
                try:
                    # Core on a plain connection: the hot path needs no ORM unit of work.
                    async with self.rt.engine.begin() as conn:
                        inserted = await _insert_events(conn, rows)
                except Exception as exc:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for row, (_, future) in zip(rows, batch, strict=True):
                    if not future.done():
                        future.set_result(row["id"] in inserted)
        finally:
            self.running = False


class WebhookService:
    def __init__(self) -> None:
        self._verifiers: dict[uuid.UUID, _Verifier] = {}
        # One group-commit queue per event loop (tests run several loops in one process).
        self._commits: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _GroupCommit] = (
            weakref.WeakKeyDictionary()
        )

    async def _load(self, rt: Runtime, account_id: uuid.UUID) -> _Verifier | None:
        async with rt.sessionmaker() as s:  # read-only: nothing to commit
            account = await s.get(ChannelAccount, account_id)
            adapter = get_adapter(account.type, rt.settings) if account is not None else None
            if account is None or adapter is None:
                self._verifiers.pop(account_id, None)
                return None
            ctx = AccountContext(
                account_id=account.id,
                organization_id=account.organization_id,
                settings=dict(account.settings),
                secrets=await rt.vault.read_all(s, OWNER, account.id),
            )
        verifier = _Verifier(account.type, account.organization_id, ctx, adapter, time.monotonic())
        self._verifiers[account_id] = verifier
        return verifier

    async def _cached(self, rt: Runtime, account_id: uuid.UUID) -> _Verifier | None:
        verifier = self._verifiers.get(account_id)
        ttl = rt.settings.webhook_verify_cache_seconds
        if verifier is None or time.monotonic() - verifier.loaded_at > ttl:
            verifier = await self._load(rt, account_id)
        return verifier

    async def handshake_account(
        self, rt: Runtime, account_id: uuid.UUID, headers: dict[str, str], body: bytes
    ) -> str | None:
        """A provider checking the webhook URL (RBM posts its clientToken and a secret to echo):
        the plain-text answer, or None when this is not such a check (or not for this account)."""
        verifier = await self._cached(rt, account_id)
        answer = getattr(verifier.adapter, "webhook_handshake", None) if verifier else None
        if verifier is None or answer is None:
            return None
        reply: str | None = answer(verifier.ctx, headers, body)
        return reply

    async def ingest_account(
        self, rt: Runtime, account_id: uuid.UUID, headers: dict[str, str], body: bytes, url: str
    ) -> bool:
        """Verify with the account's adapter and store. Returns True if new, False for a replay."""
        # Secrets are cached briefly so the hot path is verify + one insert; a failed check reloads
        # once, so a rotated secret is picked up at once.
        verifier = await self._cached(rt, account_id)
        if verifier is None:
            raise WebhookRejected(404, "unknown webhook")
        if not verifier.adapter.verify_webhook(verifier.ctx, headers, body, url):
            if time.monotonic() - verifier.loaded_at > 0.5:
                verifier = await self._load(rt, account_id)
            if verifier is None or not verifier.adapter.verify_webhook(verifier.ctx, headers, body, url):
                raise WebhookRejected(401, "signature missing or invalid")
        payload = _json_object(body)
        event_id_of = getattr(verifier.adapter, "webhook_event_id", None)
        event_id = event_id_of(headers, payload) if event_id_of else None
        loop = asyncio.get_running_loop()
        committer = self._commits.get(loop)
        if committer is None or committer.rt is not rt:
            committer = self._commits[loop] = _GroupCommit(rt)
        return await committer.submit(
            {
                "organization_id": verifier.organization_id,
                "channel_account_id": account_id,
                "provider": verifier.account_type.lower(),
                "provider_message_id": (event_id or _body_id(body))[:200],
                "body": body,
                "headers": _kept(headers),
            }
        )

    async def ingest_meta(self, rt: Runtime, headers: dict[str, str], body: bytes) -> int:
        """The platform-level Meta app webhook: one signature for the app, items routed by id."""
        app_secret = meta_app(rt.settings).app_secret  # settings/env, or the sandbox app's in sandbox mode
        if not meta_signature_ok(app_secret, body, headers.get("x-hub-signature-256")):
            raise WebhookRejected(401, "signature missing or invalid")
        payload = _json_object(body)
        try:
            items = list(split_meta(payload))
        except (AttributeError, TypeError, KeyError) as exc:  # signed, but not Meta's shape
            raise WebhookRejected(400, "not a Meta webhook payload") from exc
        rows: list[dict[str, Any]] = []
        async for s in session_scope(rt.sessionmaker):
            for channel_type, setting, key, event_id, item in items:
                account = await _account_by_setting(s, channel_type, setting, key) if key else None
                if account is None:
                    log.warning(
                        "meta webhook for an unknown account", extra={"object": payload.get("object")}
                    )
                    continue
                rows.append(
                    {
                        "organization_id": account.organization_id,
                        "channel_account_id": account.id,
                        "provider": "meta",
                        "provider_message_id": event_id,
                        "body": json.dumps(item).encode(),
                        "headers": _kept(headers),
                    }
                )
            stored = await store_events(s, rows)
        return stored

    async def ingest_app(self, rt: Runtime, provider: str, headers: dict[str, str], body: bytes) -> int:
        """A provider that sends all of one app's webhooks to one URL and names the account in the
        payload (TikTok Business Messaging: `user_openid`; LinkedIn: each notification's
        `organizationalEntity`). Verified with the app's secret, each part stored on the account
        connected with that id. Returns how many new events were stored."""
        channel_type, setting, routes_of = APP_WEBHOOKS[provider]
        adapter = get_adapter(channel_type, rt.settings)
        if adapter is None or not adapter.verify_webhook(_app_context(), headers, body, ""):
            raise WebhookRejected(401, "signature missing or invalid")
        payload = _json_object(body)
        event_id_of = getattr(adapter, "webhook_event_id", None)
        rows: list[dict[str, Any]] = []
        async for s in session_scope(rt.sessionmaker):
            for key, part in routes_of(payload) or [("", payload)]:
                account = await _account_by_setting(s, channel_type, setting, key) if key else None
                if account is None:
                    # Signed by our app but for nobody connected here (yet): acknowledged, not stored.
                    log.warning("app webhook for an unknown account", extra={"provider": provider})
                    continue
                raw = body if part is payload else json.dumps(part).encode()
                event_id = (event_id_of(headers, part) if event_id_of else None) or _body_id(raw)
                rows.append(
                    {
                        "organization_id": account.organization_id,
                        "channel_account_id": account.id,
                        "provider": provider,
                        "provider_message_id": event_id[:200],
                        "body": raw,
                        "headers": _kept(headers),
                    }
                )
            stored = await store_events(s, rows)
        return stored

    def validate_app(self, rt: Runtime, provider: str, params: dict[str, str]) -> dict[str, str]:
        """A provider checking its app-level webhook URL with a GET (LinkedIn's challengeCode)."""
        channel_type = APP_WEBHOOKS[provider][0]
        adapter = get_adapter(channel_type, rt.settings)
        answer_of = getattr(adapter, "webhook_validation", None)
        if answer_of is None:
            raise WebhookRejected(404, "this webhook takes no validation request")
        answer: dict[str, str] | None = answer_of(_app_context(), params)
        if answer is None:
            raise WebhookRejected(400, "challengeCode is required")
        return answer

    async def validate_account(
        self, rt: Runtime, account_id: uuid.UUID, params: dict[str, str]
    ) -> dict[str, str]:
        """The same check on one account's URL, for types whose provider validates with a GET."""
        verifier = await self._cached(rt, account_id)
        answer_of = getattr(verifier.adapter, "webhook_validation", None) if verifier else None
        if verifier is None or answer_of is None:
            raise WebhookRejected(404, "unknown webhook")
        answer: dict[str, str] | None = answer_of(verifier.ctx, params)
        if answer is None:
            raise WebhookRejected(400, "challengeCode is required")
        return answer

    async def ingest_twilio(self, rt: Runtime, headers: dict[str, str], body: bytes, urls: list[str]) -> bool:
        """Twilio SMS webhooks: verified with the auth token of the account owning the number,
        or, for a Messaging Service pool (numbers are not the account's own), its service SID."""
        params = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)

        def one(name: str) -> str:
            return (params.get(name) or [""])[0]

        outbound_status = one("MessageStatus") not in ("", "received")
        number = one("From") if outbound_status else one("To")
        async for s in session_scope(rt.sessionmaker):
            account = None
            if number:
                account = await _account_by_setting(s, ChannelType.SMS, "phone_number", number)
            if account is None and one("MessagingServiceSid"):
                account = await _account_by_setting(
                    s, ChannelType.SMS, "messaging_service_sid", one("MessagingServiceSid")
                )
            token = (
                (await rt.vault.read_all(s, OWNER, account.id)).get("auth_token", "")
                if account is not None
                else ""
            )
            signature = headers.get("x-twilio-signature")
            if account is None or not any(
                twilio_signature_ok(token, u, params, signature, body) for u in urls
            ):
                raise WebhookRejected(401, "signature missing or invalid")
            sid = one("MessageSid") or one("SmsSid")
            state = one("MessageStatus") or one("SmsStatus") or "received"
            new = await store_events(
                s,
                [
                    {
                        "organization_id": account.organization_id,
                        "channel_account_id": account.id,
                        "provider": "twilio",
                        "provider_message_id": f"{sid}:{state}"[:200],
                        "body": body,
                        "headers": _kept(headers),
                    }
                ],
            )
        return new > 0

    def verify_meta_handshake(self, rt: Runtime, mode: str | None, token: str | None) -> bool:
        expected = rt.settings.meta_verify_token
        return mode == "subscribe" and bool(expected) and constant_time_equals(token or "", expected)


def _digest(event: InboundEvent) -> str:
    # Receipts without an id of their own (a Messenger read watermark) are keyed by their content.
    raw = json.dumps([event.kind, event.sender, event.raw], sort_keys=True, default=str)
    return "sha256:" + hashlib.sha256(raw.encode()).hexdigest()[:40]


def _body_id(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()[:40]


async def _account_by_setting(
    session: AsyncSession, channel_type: ChannelType, setting: str, value: str
) -> ChannelAccount | None:
    return await session.scalar(
        select(ChannelAccount)
        .where(
            ChannelAccount.type == channel_type.value, ChannelAccount.settings[setting].as_string() == value
        )
        .order_by(ChannelAccount.created_at)
        .limit(1)
    )


async def _events_for(
    session: AsyncSession, rt: Runtime, event: WebhookEvent, account: ChannelAccount
) -> list[InboundEvent]:
    if event.provider == "twilio":
        return twilio_events(parse_qs(event.body.decode("utf-8", "replace"), keep_blank_values=True))
    payload = json.loads(event.body)
    adapter = get_adapter(account.type, rt.settings)
    if adapter is None:
        return []
    ctx = AccountContext(account.id, account.organization_id, dict(account.settings), {})
    return adapter.parse_webhook(ctx, payload)


async def store_inbound(
    session: AsyncSession,
    account: ChannelAccount,
    events: list[InboundEvent],
    webhook_event_id: uuid.UUID | None = None,
    thread_keys: dict[str, str] | None = None,
) -> int:
    rows = [
        {
            "id": uuid.uuid4(),
            "organization_id": account.organization_id,
            "channel_account_id": account.id,
            "webhook_event_id": webhook_event_id,
            "kind": e.kind,
            "provider_message_id": (e.provider_message_id or _digest(e))[:300],
            "sender": (e.sender or None) and e.sender[:320],
            "text": e.text,
            "thread_key": (e.raw.get("thread_key") or (thread_keys or {}).get(e.provider_message_id or "")),
            "occurred_at": e.occurred_at,
            "details": {k: v for k, v in e.raw.items() if k != "thread_key"},
            "created_at": datetime.now(UTC),
            "updated_at": datetime.now(UTC),
        }
        for e in events
        if e.kind != "other"
    ]
    if not rows:
        return 0
    insert = _insert(session.get_bind().dialect.name)
    stmt = insert(InboundMessage).on_conflict_do_nothing(
        index_elements=["channel_account_id", "kind", "provider_message_id"]
    )
    result = await session.execute(stmt.values(rows).returning(InboundMessage.id))
    stored = len(result.all())
    # Delivery/read receipts move the outbound messages they name forward (sent -> delivered -> read).
    await outbound.apply_receipts(session, account, events)
    return stored


async def process_pending(rt: Runtime, limit: int = 500) -> int:
    """Parse received events into inbound messages and receipts; inactive or deleted accounts' events
    are dropped. Idempotent: a row is parsed once and inbound rows are unique per provider id."""
    done = 0
    async for s in session_scope(rt.sessionmaker):
        events = list(
            await s.scalars(
                select(WebhookEvent)
                .where(WebhookEvent.status == "received")
                .order_by(WebhookEvent.received_at, WebhookEvent.id)
                .limit(limit)
            )
        )
        accounts: dict[uuid.UUID, ChannelAccount | None] = {}
        for event in events:
            if event.channel_account_id not in accounts:
                accounts[event.channel_account_id] = await s.get(ChannelAccount, event.channel_account_id)
            account = accounts[event.channel_account_id]
            event.processed_at = datetime.now(UTC)
            if account is None or not account.is_active:
                event.status, event.error = (
                    "dropped",
                    "account deleted" if account is None else "account inactive",
                )
                continue
            try:
                parsed = await _events_for(s, rt, event, account)
                await store_inbound(s, account, parsed, event.id)
                event.status = "processed"
            except Exception as exc:  # one bad payload must not block the others
                log.exception("webhook parse failed", extra={"webhook_event_id": str(event.id)})
                event.status, event.error = "failed", f"{type(exc).__name__}: {exc}"[:2000]
            done += 1
    return done


webhooks = WebhookService()


async def poll_mailboxes(rt: Runtime) -> int:
    """IMAP polling for active Email accounts: new mail becomes inbound messages (thread key from
    Message-ID / In-Reply-To / References). A failed poll counts toward the account's health."""
    from switchboard.connectors.adapter import ProviderError
    from switchboard.health.service import account_context, health

    async with rt.sessionmaker() as s:
        ids = list(
            await s.scalars(
                select(ChannelAccount.id).where(
                    ChannelAccount.type == ChannelType.EMAIL.value, ChannelAccount.is_active.is_(True)
                )
            )
        )
    stored = 0
    for account_id in ids:
        async for s in session_scope(rt.sessionmaker):
            account = await s.get(ChannelAccount, account_id)
            adapter = get_adapter(ChannelType.EMAIL.value, rt.settings)
            poll = getattr(adapter, "poll", None)
            if account is None or poll is None or not account.settings.get("imap_host"):
                continue
            try:
                found = await poll(await account_context(s, rt.vault, account))
            except ProviderError as exc:
                await health.record_result(s, account, "health", error=exc)
                continue
            stored += await store_inbound(s, account, found)
    return stored
