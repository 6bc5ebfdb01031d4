"""`emit(session, name, organization_id, **ids)`: record one analytics event in the caller's transaction.

Analytics leave the security boundary of the product (exports, dashboards, third-party tools), so
the rule is structural rather than a review checklist: a property is either an id (`<thing>_id`,
a UUID) or a type (`type` / `<thing>_type`, a short code such as "SMS"). Anything else, including
free text under an id-like name, raises `AnalyticsPropertyError`: a programming error, found in
tests, never a user-facing one.
"""

from __future__ import annotations

import re
import uuid
from enum import Enum
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.models import AnalyticsEvent

_NAME_RE: Final = re.compile(r"^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+$")
_ID_KEY_RE: Final = re.compile(r"^[a-z][a-z0-9_]*_id$")
_TYPE_KEY_RE: Final = re.compile(r"^(?:[a-z][a-z0-9_]*_)?type$")
# Type values are codes (enum members), never sentences: letters, digits, _ . - only.
_TYPE_VALUE_RE: Final = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class AnalyticsPropertyError(ValueError):
    """An event name or property that is not allowed in analytics."""


def _id_value(key: str, value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, str):
        try:
            return str(uuid.UUID(value))
        except ValueError:
            pass
    raise AnalyticsPropertyError(f"analytics property {key!r} must be a UUID")


def _type_value(key: str, value: object) -> str:
    text = value.value if isinstance(value, Enum) else value
    if isinstance(text, str) and _TYPE_VALUE_RE.match(text):
        return text
    raise AnalyticsPropertyError(f"analytics property {key!r} must be a short code such as SMS")


def properties(**values: object) -> dict[str, str | None]:
    """Validate and normalise properties (exposed for callers that batch events)."""
    out: dict[str, str | None] = {}
    for key, value in values.items():
        if _ID_KEY_RE.match(key):
            out[key] = _id_value(key, value)
        elif _TYPE_KEY_RE.match(key):
            out[key] = _type_value(key, value)
        else:
            raise AnalyticsPropertyError(
                f"analytics property {key!r} is neither an id (<name>_id) nor a type (type, <name>_type)"
            )
    return out


async def emit(
    session: AsyncSession, name: str, organization_id: uuid.UUID | None, **ids: object
) -> AnalyticsEvent:
    """Add one event to the session; it commits (or rolls back) with the change it describes."""
    if not _NAME_RE.match(name) or len(name) > 64:
        raise AnalyticsPropertyError(f"analytics event name {name!r} must look like channel.connected")
    event = AnalyticsEvent(
        id=uuid.uuid4(), organization_id=organization_id, name=name, properties=properties(**ids)
    )
    session.add(event)
    return event
