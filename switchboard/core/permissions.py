"""Roles and the permissions they grant: one table, checked by one dependency."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from switchboard.core.errors import Forbidden, NotFound


class Permission(StrEnum):
    CHANNELS_READ = "channels.read"
    CHANNELS_CONNECT = "channels.connect"
    CHANNELS_MANAGE = "channels.manage"
    CHANNELS_SEND = "channels.send"  # send messages through a channel (test sends, the messages API)
    SMS_MANAGE = "sms.manage"
    ONBOARDING_REVIEW = "onboarding.review"
    ORG_ADMIN = "org.admin"


class Role(StrEnum):
    PLATFORM_ADMIN = "platform_admin"
    WORKSPACE_ADMIN = "workspace_admin"
    MEMBER = "member"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.PLATFORM_ADMIN: frozenset(Permission),
    Role.WORKSPACE_ADMIN: frozenset(
        {
            Permission.CHANNELS_READ,
            Permission.CHANNELS_CONNECT,
            Permission.CHANNELS_MANAGE,
            Permission.CHANNELS_SEND,
            Permission.SMS_MANAGE,
            Permission.ORG_ADMIN,
        }
    ),
    Role.MEMBER: frozenset({Permission.CHANNELS_READ}),
}


@dataclass(frozen=True)
class Principal:
    """Who is calling. Tenants are bound to one organization; platform admins to none."""

    user_id: uuid.UUID
    email: str
    role: Role
    organization_id: uuid.UUID | None
    via: str = "api_key"

    @property
    def is_platform_admin(self) -> bool:
        return self.role is Role.PLATFORM_ADMIN

    @property
    def label(self) -> str:
        return self.email

    def has(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]

    def require(self, permission: Permission) -> None:
        if not self.has(permission):
            raise Forbidden(f"This action needs the {permission.value} permission.", code="permission_denied")

    def org_scope(self, requested: uuid.UUID | None) -> uuid.UUID | None:
        """The organization a request may touch. Another tenant's id is a plain 404."""
        if self.is_platform_admin:
            return requested or self.organization_id
        if requested is not None and requested != self.organization_id:
            raise NotFound("Organization not found.")
        return self.organization_id

    def owning_org(self, requested: uuid.UUID | None) -> uuid.UUID:
        """Like org_scope, but a write must land in exactly one organization."""
        org = self.org_scope(requested)
        if org is None:
            from switchboard.core.errors import field_error

            raise field_error(
                "organization_id", "required", "organization_id is required for platform admins"
            )
        return org
