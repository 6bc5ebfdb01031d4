from __future__ import annotations

import uuid
from dataclasses import dataclass

PASSWORD = "correct horse battery"


@dataclass
class Tenant:
    """A user with an API key: a tenant's admin, a member, or a platform admin."""

    organization_id: uuid.UUID
    user_id: uuid.UUID
    api_key: str
    email: str
    password: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}
