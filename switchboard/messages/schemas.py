from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from switchboard.connectors.base import ChannelType


class MessageStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


class AttachmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(
        default="application/octet-stream",
        max_length=100,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$",
        description="MIME type, e.g. application/pdf",
    )
    content_base64: str = Field(min_length=1, description="The file, base64-encoded")


class MessageBodyIn(BaseModel):
    """The union of what channel types take; each type accepts only its own fields (see docs/api.md)."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(default=None, description="The message text (every type but Email may need it)")
    subject: str | None = Field(default=None, description="Email only")
    html: str | None = Field(default=None, description="Email only: an HTML part")
    attachments: list[AttachmentIn] | None = Field(default=None, description="Email only")
    title: str | None = Field(default=None, description="Web Push (required) and ShrinkIt Push")
    url: str | None = Field(
        default=None, description="Web Push only: opened when the notification is clicked"
    )


class MessageCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "to": "+14155550100",
                "body": {"text": "Hello from Switchboard"},
                "client_reference": "order-1042-confirmation",
            }
        },
    )

    to: str | None = Field(
        default=None,
        max_length=320,
        description=(
            "The recipient, in the type's own terms: an E.164 number (SMS, WhatsApp, RCS), a chat id "
            "(Telegram), a page-scoped id (Messenger, Instagram), an email address (Email), a push "
            "subscription id (Web Push), a device id (ShrinkIt Push). LinkedIn publishes to the "
            "organization's feed and needs none."
        ),
    )
    body: MessageBodyIn
    client_reference: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        pattern=r"^[\x21-\x7e]+$",
        description="Your idempotency key: the same reference on the same channel returns the first message.",
    )


class MessageRead(BaseModel):
    id: uuid.UUID
    organization_id: uuid.UUID
    channel_account_id: uuid.UUID
    channel_type: ChannelType
    to: str
    body: dict[str, Any] = Field(description="What the provider was given; attachments without their content")
    status: MessageStatus
    provider_message_id: str | None
    error_kind: str | None = Field(description="transient, needs_action or permanent")
    error_code: str | None
    error_message: str | None
    attempts: int
    next_attempt_at: datetime | None = Field(description="When a queued message is tried (again)")
    client_reference: str | None
    routed_via: str | None
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    read_at: datetime | None
    failed_at: datetime | None
    updated_at: datetime
