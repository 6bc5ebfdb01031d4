from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SubscriptionKeys(BaseModel):
    p256dh: str = Field(
        pattern=r"^[A-Za-z0-9_-]{80,100}={0,2}$", description="base64url P-256 point (65 bytes)"
    )
    auth: str = Field(pattern=r"^[A-Za-z0-9_-]{16,30}={0,2}$", description="base64url auth secret (16 bytes)")


class SubscriptionCreate(BaseModel):
    """What `PushSubscription.toJSON()` gives in the browser."""

    model_config = ConfigDict(extra="ignore")

    endpoint: str = Field(pattern=r"^https?://\S+$", max_length=2000)
    keys: SubscriptionKeys


class PushSend(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(default="", max_length=2000)
    url: str | None = Field(default=None, max_length=2000)


class PushSendResult(BaseModel):
    sent: int
    removed: int
    failed: int
