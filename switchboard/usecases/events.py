"""SES events over SNS: verify, store once, attribute to a use case, feed the windows.

SNS posts JSON (with Content-Type text/plain) to /v1/ses-events. Subscription confirmations are
confirmed by fetching SubscribeURL (an SNS host only); notifications carry an SES event
(Send, Delivery, Bounce, Complaint, ...) whose ``mail.tags["ses:configuration-set"]`` names the
use case's configuration set. Each SNS MessageId is stored once, so redeliveries and replays
count once. Bounces and complaints re-evaluate the use case at once (they can only push it
towards suspension); promotions wait for the periodic job.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.core import audit
from switchboard.core.config import Settings
from switchboard.core.errors import AppError, Forbidden, ProviderUnavailable, Unauthorized, Unprocessable
from switchboard.models import EmailEvent, UseCase
from switchboard.models.base import utcnow
from switchboard.usecases import tiers
from switchboard.usecases.service import UseCaseService
from switchboard.usecases.sns import MESSAGE_TYPES, SnsError, SnsVerifier, tls_context

log = logging.getLogger("switchboard.ses_events")

CONFIG_SET_TAG = "ses:configuration-set"
# Where each SES event type keeps the time it happened.
_TIME_FIELD = {
    "bounce": ("bounce", "timestamp"),
    "complaint": ("complaint", "timestamp"),
    "delivery": ("delivery", "timestamp"),
    "reject": ("mail", "timestamp"),
    "send": ("mail", "timestamp"),
    "delivery_delay": ("deliveryDelay", "timestamp"),
    "open": ("open", "timestamp"),
    "click": ("click", "timestamp"),
}
# Events older than the longest window plus a margin are pruned.
RETENTION = tiers.LONGEST_WINDOW + timedelta(days=5)
# A clock ahead of ours must not keep an event inside the windows for longer.
MAX_CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class IngestResult:
    status: str  # confirmed | stored | duplicate | ignored | unsubscribed
    use_case_id: str | None = None


def _snake(event_type: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", event_type.replace(" ", "")).lower()[:32]


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


@dataclass(frozen=True)
class SesEvent:
    kind: str
    subtype: str | None
    ses_message_id: str | None
    configuration_set: str | None
    occurred_at: datetime | None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def parse_ses_event(event: dict[str, Any]) -> SesEvent | None:
    """The parts of an SES event we count; None when it is not an SES event."""
    event_type = event.get("eventType") or event.get("notificationType")
    if not isinstance(event_type, str) or not event_type:
        return None
    kind = _snake(event_type)
    mail = _dict(event.get("mail"))
    tags = _dict(mail.get("tags"))
    config = tags.get(CONFIG_SET_TAG)
    config_set = config[0] if isinstance(config, list) and config and isinstance(config[0], str) else None
    subtype = None
    if kind == "bounce":
        subtype = _dict(event.get("bounce")).get("bounceType")
    elif kind == "complaint":
        subtype = _dict(event.get("complaint")).get("complaintFeedbackType")
    section, field = _TIME_FIELD.get(kind, ("mail", "timestamp"))
    holder = _dict(event.get(section))
    occurred = parse_time(holder.get(field)) or parse_time(mail.get("timestamp"))
    message_id = mail.get("messageId")
    return SesEvent(
        kind=kind,
        subtype=str(subtype)[:32] if subtype else None,
        ses_message_id=str(message_id)[:200] if message_id else None,
        configuration_set=config_set[:64] if config_set else None,
        occurred_at=occurred,
    )


def _refusal(exc: SnsError) -> AppError:
    if exc.kind == "missing":
        return Unauthorized(str(exc), code=exc.code)
    if exc.kind == "unavailable":
        return ProviderUnavailable(str(exc), code=exc.code)
    return Forbidden(str(exc), code=exc.code)


class SesEventService:
    def __init__(
        self, settings: Settings, use_cases: UseCaseService, verifier: SnsVerifier | None = None
    ) -> None:
        self.settings = settings
        self.use_cases = use_cases
        self.verifier = verifier or SnsVerifier(settings)

    @staticmethod
    def parse_body(raw: bytes, header_type: str | None) -> dict[str, Any]:
        try:
            message = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise Unprocessable("The body is not an SNS message (JSON).", code="invalid_sns_message") from exc
        if not isinstance(message, dict) or message.get("Type") not in MESSAGE_TYPES:
            raise Unprocessable("The body is not an SNS message.", code="invalid_sns_message")
        if header_type is not None and header_type != message["Type"]:
            raise Unprocessable(
                "x-amz-sns-message-type does not match the message's Type.", code="invalid_sns_message"
            )
        for key in ("MessageId", "TopicArn", "Timestamp"):
            if not isinstance(message.get(key), str) or not message[key]:
                raise Unprocessable(f"The SNS message lacks {key}.", code="invalid_sns_message")
        return message

    async def ingest(self, session: AsyncSession, raw: bytes, header_type: str | None) -> IngestResult:
        message = self.parse_body(raw, header_type)
        try:
            await self.verifier.verify(message)
        except SnsError as exc:
            log.warning(
                "SNS message refused",
                extra={"code": exc.code, "topic_arn": str(message.get("TopicArn"))[:300]},
            )
            raise _refusal(exc) from exc
        kind = message["Type"]
        if kind == "SubscriptionConfirmation":
            return await self._confirm(session, message)
        if kind == "UnsubscribeConfirmation":
            await audit.record(
                session,
                None,
                "sns.unsubscribed",
                "sns_topic",
                message["TopicArn"][:64],
                organization_id=None,
                after={"topic_arn": message["TopicArn"]},
            )
            return IngestResult("unsubscribed")
        return await self._notification(session, message)

    async def _confirm(self, session: AsyncSession, message: dict[str, Any]) -> IngestResult:
        url = message.get("SubscribeURL")
        if not isinstance(url, str) or not self.verifier.url_allowed(url):
            raise Forbidden("SubscribeURL is not an Amazon SNS URL.", code="sns_subscribe_url_not_allowed")
        try:
            async with httpx2.AsyncClient(
                timeout=self.settings.sns_timeout, follow_redirects=False, verify=tls_context()
            ) as client:
                response = await client.get(url)
        except httpx2.HTTPError as exc:
            raise ProviderUnavailable(
                f"The subscription could not be confirmed ({type(exc).__name__}); SNS will retry.",
                code="sns_confirmation_failed",
            ) from exc
        if response.status_code != 200:
            raise ProviderUnavailable(
                f"SNS answered {response.status_code} to the confirmation; it will retry.",
                code="sns_confirmation_failed",
            )
        await audit.record(
            session,
            None,
            "sns.subscription_confirmed",
            "sns_topic",
            message["TopicArn"][:64],
            organization_id=None,
            after={"topic_arn": message["TopicArn"]},
        )
        log.info("SNS subscription confirmed", extra={"topic_arn": message["TopicArn"][:300]})
        return IngestResult("confirmed")

    async def _notification(self, session: AsyncSession, message: dict[str, Any]) -> IngestResult:
        try:
            event = json.loads(message.get("Message") or "")
        except (ValueError, TypeError):
            event = None
        parsed = parse_ses_event(event) if isinstance(event, dict) else None
        if parsed is None:
            return IngestResult("ignored")
        assert isinstance(event, dict)
        now = utcnow()
        occurred = parsed.occurred_at or parse_time(message.get("Timestamp")) or now
        if occurred > now + MAX_CLOCK_SKEW:
            occurred = now
        use_case = None
        if parsed.configuration_set:
            use_case = await session.scalar(
                select(UseCase).where(UseCase.configuration_set_name == parsed.configuration_set)
            )
        values = {
            "id": uuid.uuid4(),
            "sns_message_id": message["MessageId"][:100],
            "topic_arn": message["TopicArn"][:300],
            "organization_id": use_case.organization_id if use_case else None,
            "use_case_id": use_case.id if use_case else None,
            "configuration_set_name": parsed.configuration_set,
            "kind": parsed.kind,
            "subtype": parsed.subtype,
            "ses_message_id": parsed.ses_message_id,
            "occurred_at": occurred,
            "received_at": now,
            "payload": event,
        }
        bind = session.get_bind()
        dialect = bind.dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        stmt = insert(EmailEvent).values(**values).on_conflict_do_nothing(index_elements=["sns_message_id"])
        result = await session.execute(stmt)
        if not result.rowcount:  # type: ignore[attr-defined]
            return IngestResult("duplicate", str(use_case.id) if use_case else None)
        if use_case is not None and parsed.kind in ("bounce", "complaint"):
            await self.use_cases.evaluate_by_id(session, use_case.id, now)
        return IngestResult("stored", str(use_case.id) if use_case else None)

    async def prune(self, session: AsyncSession, now: datetime | None = None) -> int:
        cutoff = (now or utcnow()) - RETENTION
        result = await session.execute(delete(EmailEvent).where(EmailEvent.occurred_at < cutoff))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
