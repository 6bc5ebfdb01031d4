"""What each channel type accepts as a recipient and a body, checked before anything is queued.

`prepare` turns a request into (recipient, adapter body): the body stored on the message is exactly
what the type's adapter gets. Checks are the cheap, certain ones (shape, length, size); whether the
recipient exists is the provider's to say.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from email_validator import EmailNotValidError, validate_email
from pydantic import TypeAdapter, ValidationError

from switchboard.connectors.base import E164, ChannelType, HttpUrlStr
from switchboard.core.errors import Unprocessable
from switchboard.messages.schemas import MessageBodyIn

# Email attachments travel inside the JSON request (1 MiB at most), base64-encoded.
MAX_ATTACHMENTS = 10
MAX_ATTACHMENT_BYTES = 512 * 1024  # decoded, all attachments together
MAX_EMAIL_PART = 200_000  # characters of text or of HTML
MAX_SUBJECT = 998  # RFC 5322 line length
MAX_TITLE = 200


def invalid(field: str, rule: str, message: str) -> Unprocessable:
    return Unprocessable(f"{field}: {message}", details=[{"field": field, "rule": rule, "message": message}])


_PHONE: TypeAdapter[str] = TypeAdapter(E164)
_URL: TypeAdapter[str] = TypeAdapter(HttpUrlStr)


def _checked(adapter: TypeAdapter[str], value: str) -> str:
    try:
        return adapter.validate_python(value)
    except ValidationError as exc:
        raise ValueError(str(exc.errors()[0]["msg"]).removeprefix("Value error, ")) from exc


def _phone(value: str) -> str:
    return _checked(_PHONE, value)


def _telegram_chat(value: str) -> str:
    if re.fullmatch(r"-?\d{1,20}", value) or re.fullmatch(r"@[A-Za-z][A-Za-z0-9_]{3,31}", value):
        return value
    raise ValueError("must be a Telegram chat id (e.g. 123456789 or -1001234567890) or @channelusername")


def _scoped_id(value: str) -> str:
    if re.fullmatch(r"\d{1,64}", value):
        return value
    raise ValueError("must be the page-scoped id of the person (digits), as received in their message")


def _opaque(value: str) -> str:
    if re.fullmatch(r"[\x21-\x7e]{1,320}", value):
        return value
    raise ValueError("must be an id without spaces")


def _email(value: str) -> str:
    try:
        return str(validate_email(value, check_deliverability=False).normalized)
    except EmailNotValidError as exc:
        raise ValueError(f"must be an email address: {exc}") from exc


def _subscription(value: str) -> str:
    if re.fullmatch(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", value):
        return value.lower()
    raise ValueError("must be the id of one of this channel's push subscriptions")


def _organization(value: str) -> str:
    if re.fullmatch(r"urn:li:organization:\d+", value):
        return value
    raise ValueError("must be the channel's organization URN (LinkedIn publishes to its feed)")


@dataclass(frozen=True)
class SendRule:
    recipient: Callable[[str], str]  # normalises, or raises ValueError saying what it must be
    recipient_label: str  # the "To" input's label on the page
    fields: frozenset[str]  # body fields the type takes
    text_max: int
    text_required: bool = True
    supported: bool = True
    recipient_optional: bool = False  # LinkedIn: the organization's own feed


_TEXT = frozenset({"text"})
RULES: dict[ChannelType, SendRule] = {
    ChannelType.SMS: SendRule(_phone, "Phone number (E.164)", _TEXT, 1600),
    ChannelType.WHATSAPP_CLOUD: SendRule(_phone, "Phone number (E.164)", _TEXT, 4096),
    ChannelType.WHATSAPP_LITE: SendRule(_phone, "Phone number (E.164)", _TEXT, 4096),
    ChannelType.RCS: SendRule(_phone, "Phone number (E.164)", _TEXT, 3072),
    ChannelType.TELEGRAM: SendRule(_telegram_chat, "Chat id", _TEXT, 4096),
    ChannelType.MESSENGER: SendRule(_scoped_id, "Page-scoped id (PSID)", _TEXT, 2000),
    ChannelType.INSTAGRAM: SendRule(_scoped_id, "Instagram-scoped id (IGSID)", _TEXT, 1000),
    ChannelType.TIKTOK: SendRule(_opaque, "Recipient id", _TEXT, 1000),
    ChannelType.LINKEDIN: SendRule(_organization, "Organization URN", _TEXT, 3000, recipient_optional=True),
    ChannelType.EMAIL: SendRule(
        _email,
        "Email address",
        frozenset({"subject", "text", "html", "attachments"}),
        MAX_EMAIL_PART,
        text_required=False,
    ),
    ChannelType.WEB_PUSH: SendRule(
        _subscription, "Subscription id", frozenset({"title", "text", "url"}), 2000, text_required=False
    ),
    ChannelType.SHRINKIT_PUSH: SendRule(_opaque, "Device id", frozenset({"title", "text"}), 2000),
    # Shopify documents no reply API for Inbox; the adapter refuses every send.
    ChannelType.SHOPIFY_INBOX: SendRule(_opaque, "Recipient", _TEXT, 0, supported=False),
}


def rule_for(channel_type: str) -> SendRule:
    return RULES[ChannelType(channel_type)]


def _no_line_breaks(field: str, value: str) -> None:
    if "\r" in value or "\n" in value:
        raise invalid(field, "no_line_breaks", "must be a single line")


def _text(field: str, value: str | None, limit: int, required: bool) -> str | None:
    if value is None or not value.strip():
        if required:
            raise invalid(field, "missing", "is required")
        return None
    if len(value) > limit:
        raise invalid(field, "max_length", f"is {len(value)} characters; at most {limit} allowed")
    return value


def _attachments(items: list[Any]) -> list[dict[str, str]]:
    if len(items) > MAX_ATTACHMENTS:
        raise invalid("body.attachments", "max_items", f"at most {MAX_ATTACHMENTS} attachments")
    out, total = [], 0
    for i, item in enumerate(items):
        prefix = f"body.attachments.{i}"
        if any(c in item.filename for c in '/\\\r\n"') or item.filename.strip() != item.filename:
            raise invalid(
                f"{prefix}.filename", "invalid", "must be a plain file name (no path, quotes or line breaks)"
            )
        try:
            size = len(base64.b64decode(item.content_base64, validate=True))
        except (binascii.Error, ValueError) as exc:
            raise invalid(f"{prefix}.content_base64", "base64", "is not valid base64") from exc
        total += size
        if total > MAX_ATTACHMENT_BYTES:
            raise invalid(
                "body.attachments",
                "max_size",
                f"attachments may total at most {MAX_ATTACHMENT_BYTES // 1024} KiB (decoded)",
            )
        out.append(
            {
                "filename": item.filename,
                "content_type": item.content_type,
                "content_base64": item.content_base64,
            }
        )
    return out


def prepare(
    channel_type: str, to: str | None, body: MessageBodyIn, settings: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """Validate a send for the type; returns (recipient, adapter body). Raises Unprocessable."""
    rule = rule_for(channel_type)
    label = ChannelType(channel_type).value
    if not rule.supported:
        raise Unprocessable(
            f"{label} channels cannot send messages yet.",
            code="send_not_supported",
            details=[{"field": "channel_account_id", "rule": "send_not_supported", "message": "no send API"}],
        )
    extra = sorted(set(body.model_dump(exclude_none=True)) - rule.fields)
    if extra:
        raise invalid(f"body.{extra[0]}", "not_allowed", f"is not used by {label} channels")
    recipient = (to or "").strip()
    if not recipient and rule.recipient_optional:
        recipient = str(settings.get("organization_urn") or "")
    if not recipient:
        raise invalid("to", "missing", f"is required: {rule.recipient_label.lower()}")
    try:
        recipient = rule.recipient(recipient)
    except ValueError as exc:
        raise invalid("to", "invalid", str(exc)) from exc
    if rule.recipient_optional and recipient != settings.get("organization_urn"):
        raise invalid("to", "invalid", "must be the channel's own organization URN, or left out")
    text = _text("body.text", body.text, rule.text_max, rule.text_required)
    ctype = ChannelType(channel_type)
    if ctype is ChannelType.EMAIL:
        _no_line_breaks("to", recipient)
        subject = _text("body.subject", body.subject, MAX_SUBJECT, True)
        assert subject is not None
        _no_line_breaks("body.subject", subject)
        html = _text("body.html", body.html, MAX_EMAIL_PART, False)
        if text is None and html is None:
            raise invalid("body.text", "missing", "is required (or body.html)")
        out: dict[str, Any] = {"subject": subject}
        if text is not None:
            out["text"] = text
        if html is not None:
            out["html"] = html
        if body.attachments:
            out["attachments"] = _attachments(body.attachments)
        return recipient, out
    if ctype is ChannelType.WEB_PUSH:
        title = _text("body.title", body.title, MAX_TITLE, True)
        out = {"title": title, "body": text or ""}
        if body.url is not None:
            try:
                out["url"] = _checked(_URL, body.url)
            except ValueError as exc:
                raise invalid("body.url", "url", str(exc)) from exc
        return recipient, out
    if ctype is ChannelType.SHRINKIT_PUSH:
        title = _text("body.title", body.title, MAX_TITLE, False)
        return recipient, {"title": title or "", "text": text}
    return recipient, {"text": text}


def public_body(body: dict[str, Any]) -> dict[str, Any]:
    """The body as the API shows it: attachments by name, type and size, never their content."""
    if not body.get("attachments"):
        return dict(body)
    shown = []
    for item in body["attachments"]:
        content = str(item.get("content_base64") or "")
        try:
            size = len(base64.b64decode(content))
        except (binascii.Error, ValueError):
            size = 0
        shown.append(
            {"filename": item.get("filename"), "content_type": item.get("content_type"), "size": size}
        )
    return {**body, "attachments": shown}


def preview(body: dict[str, Any], limit: int = 120) -> str:
    """A one-line summary for the channel page."""
    text = str(body.get("subject") or body.get("title") or body.get("text") or body.get("body") or "")
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
