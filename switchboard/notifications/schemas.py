from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

NotificationStatus = Literal["queued", "sending", "sent", "failed"]


class NotificationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    organization_id: uuid.UUID | None
    kind: str
    to: str
    subject: str
    body: str
    status: NotificationStatus
    attempts: int
    last_error: str | None
    sent_at: datetime | None
    object_type: str | None
    object_id: str | None
    created_at: datetime
