"""Platform-level webhooks (Meta app, Twilio) whose events span many accounts: routing and parsing.

A Meta delivery is split per routed item into a Meta-shaped payload of its own (one entry, one
change or messaging item), which the account type's adapter parses like any other.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from switchboard.connectors.adapter import InboundEvent
from switchboard.connectors.base import ChannelType

# Meta routing: which object kind is keyed by which id, and in which account setting it lives.
META_ROUTES = {
    "whatsapp_business_account": (ChannelType.WHATSAPP_CLOUD, "phone_number_id"),
    "page": (ChannelType.MESSENGER, "page_id"),
    "instagram": (ChannelType.INSTAGRAM, "instagram_business_account_id"),
}


def _digest(value: Any) -> str:
    return "sha256:" + hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:40]


def _ts(value: Any) -> datetime | None:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return datetime.fromtimestamp(seconds / 1000 if seconds > 1e11 else seconds, UTC)


def split_meta(payload: dict[str, Any]) -> Iterator[tuple[ChannelType, str, str, str, dict[str, Any]]]:
    """Yield (account type, setting name, routing id, event id, item) for each routable item."""
    route = META_ROUTES.get(str(payload.get("object")))
    if route is None:
        return
    channel_type, setting = route
    for entry in payload.get("entry") or []:
        if not isinstance(entry, dict):
            continue
        if channel_type is ChannelType.WHATSAPP_CLOUD:
            for change in entry.get("changes") or []:
                value = (change or {}).get("value") or {}
                key = str((value.get("metadata") or {}).get("phone_number_id") or "")
                ids = [str(m.get("id")) for m in value.get("messages") or []]
                ids += [f"{s.get('id')}:{s.get('status')}" for s in value.get("statuses") or []]
                item = {"object": payload["object"], "entry": [{"id": entry.get("id"), "changes": [change]}]}
                yield channel_type, setting, key, ",".join(ids)[:200] or _digest(item), item
        else:
            key = str(entry.get("id") or "")
            for messaging in entry.get("messaging") or []:
                item = {"object": payload["object"], "entry": [{"id": key, "messaging": [messaging]}]}
                mid = ((messaging or {}).get("message") or {}).get("mid")
                if mid is None and "read" in messaging:
                    mid = f"read:{messaging['read'].get('watermark') or messaging['read'].get('mid')}"
                yield channel_type, setting, key, str(mid)[:200] if mid else _digest(item), item


def twilio_events(params: Mapping[str, Sequence[str]]) -> list[InboundEvent]:
    def one(name: str) -> str | None:
        values = params.get(name)
        return values[0] if values else None

    sid = one("MessageSid") or one("SmsSid") or ""
    status = one("MessageStatus") or one("SmsStatus")
    if status and status != "received":
        kind = "read" if status == "read" else "delivery" if status == "delivered" else "status"
        return [InboundEvent(kind=kind, provider_message_id=sid, sender=one("To"), raw={"status": status})]
    return [InboundEvent(kind="message", provider_message_id=sid, sender=one("From"), text=one("Body"))]
