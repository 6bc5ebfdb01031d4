"""What a connector does at runtime, beside its descriptor: connect, check health, verify and parse
webhooks, send, and undo on deletion what connecting registered at the provider. Each channel type's
module provides one `ChannelAdapter` implementation.

Adapters raise `ProviderError` with `retriable` set from the provider's answer, so a transient
failure (timeout, 5xx, rate limit) never marks a channel disconnected, while one that needs the
tenant's action (revoked token, missing scope) does.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol


class ErrorKind(StrEnum):
    TRANSIENT = "transient"  # retry later; the channel stays as it is
    NEEDS_ACTION = "needs_action"  # the tenant must act (reauthorize, fix credentials)
    PERMANENT = "permanent"  # a bug or a refused request; not the tenant's and not temporary


class ProviderError(Exception):
    def __init__(self, message: str, *, kind: ErrorKind, code: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.code = code
        self.status = status

    @property
    def retriable(self) -> bool:
        return self.kind is ErrorKind.TRANSIENT


@dataclass
class AccountContext:
    """What an adapter knows about one channel account: plain settings and decrypted secrets."""

    account_id: uuid.UUID
    organization_id: uuid.UUID
    settings: dict[str, Any]
    secrets: dict[str, str]


@dataclass
class HealthResult:
    ok: bool
    reason: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    refreshed_secrets: dict[str, str] = field(default_factory=dict)
    expires_at: datetime | None = None
    settings_updates: dict[str, Any] = field(default_factory=dict)  # plain settings learnt on connect
    # When not ok: the failure to record, whose kind moves the status (None: a permanent one). Lets
    # a check that already refreshed the token fail without losing the new token.
    error: ProviderError | None = None


@dataclass
class InboundEvent:
    """One parsed webhook item: a message, a delivery receipt or a read receipt."""

    kind: str  # message | delivery | read | status | other
    provider_message_id: str | None
    sender: str | None = None
    text: str | None = None
    occurred_at: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SharedRegistration:
    """A provider-side registration that other channel accounts may rely on too: every account of one
    of `types` whose plain settings hold all of `settings` (one Facebook Page subscribed to the
    platform app serves both a Messenger and an Instagram channel). Deleting an account releases it
    only when no other such account remains."""

    types: tuple[str, ...]
    settings: dict[str, str]


@dataclass
class SendResult:
    provider_message_id: str
    details: dict[str, Any] = field(default_factory=dict)


class ChannelAdapter(Protocol):
    async def check_health(self, ctx: AccountContext) -> HealthResult: ...

    def verify_webhook(self, ctx: AccountContext, headers: dict[str, str], body: bytes, url: str) -> bool: ...

    def parse_webhook(self, ctx: AccountContext, payload: dict[str, Any]) -> list[InboundEvent]: ...

    async def send(self, ctx: AccountContext, to: str, body: dict[str, Any]) -> SendResult: ...


# Adapters by channel type. A factory takes the Settings (base URLs, timeouts) and returns an adapter.
# Optional extras an adapter may define: `connect(ctx) -> HealthResult` (set-up on connect/reconnect,
# e.g. registering a webhook), `release(ctx) -> bool` (its undo, called when the account is deleted,
# before its secrets go: remove what connect registered at the provider, so its events stop coming
# for nobody; True when something was removed, False when nothing of ours was registered; raises
# ProviderError, which never blocks the deletion), `shared_registration(ctx) -> SharedRegistration |
# None` (what else relies on that registration: `release` is skipped while such an account remains),
# `webhook_event_id(headers, payload) -> str | None` (replay dedupe),
# `webhook_handshake(ctx, headers, body) -> str | None` (a URL check POSTed to the webhook) and
# `webhook_validation(ctx, query params) -> dict | None` (a URL check the provider GETs, answered as JSON).
ADAPTERS: dict[str, Callable[[Any], ChannelAdapter]] = {}


def register_adapter(channel_type: str, factory: Callable[[Any], ChannelAdapter]) -> None:
    ADAPTERS[str(channel_type)] = factory


def get_adapter(channel_type: str, settings: Any) -> ChannelAdapter | None:
    factory = ADAPTERS.get(str(channel_type))
    return factory(settings) if factory else None
