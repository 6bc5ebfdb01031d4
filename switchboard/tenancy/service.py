"""Organizations, users, memberships and API keys."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.core import audit
from switchboard.core.errors import Conflict, NotFound
from switchboard.core.permissions import Permission, Principal, Role
from switchboard.core.security import API_KEY_PREFIX, hash_password, new_api_key
from switchboard.models import ApiKey, Membership, Organization, User, Workspace


@dataclass
class Created:
    organization_id: uuid.UUID | None
    user_id: uuid.UUID
    api_key: str


def key_prefix(key: ApiKey) -> str:
    return f"{API_KEY_PREFIX}{key.lookup}_…"


class TenancyService:
    async def _user(
        self, session: AsyncSession, email: str, password: str | None, *, platform_admin: bool = False
    ) -> User:
        email = email.strip().lower()
        user = await session.scalar(select(User).where(func.lower(User.email) == email))
        if user is None:
            user = User(
                id=uuid.uuid4(), email=email, password_hash=hash_password(password) if password else None
            )
            session.add(user)
        elif password:
            user.password_hash = hash_password(password)
        if platform_admin:
            user.is_platform_admin = True
        return user

    async def issue_key(
        self, session: AsyncSession, user: User, organization_id: uuid.UUID | None, name: str = "default"
    ) -> tuple[ApiKey, str]:
        raw, lookup, digest = new_api_key()
        key = ApiKey(
            id=uuid.uuid4(),
            user_id=user.id,
            organization_id=organization_id,
            name=name,
            lookup=lookup,
            key_hash=digest,
        )
        session.add(key)
        await session.flush()
        return key, raw

    async def create_organization(
        self,
        session: AsyncSession,
        name: str,
        admin_email: str,
        password: str | None = None,
        actor: Principal | None = None,
    ) -> Created:
        org = Organization(id=uuid.uuid4(), name=name.strip(), meta={})
        session.add(org)
        session.add(Workspace(id=uuid.uuid4(), organization_id=org.id, name="Default"))
        user = await self._user(session, admin_email, password)
        await session.flush()
        session.add(Membership(user_id=user.id, organization_id=org.id, role=Role.WORKSPACE_ADMIN.value))
        _, raw = await self.issue_key(session, user, org.id)
        await audit.record(
            session,
            actor,
            "organization.created",
            "organization",
            org.id,
            organization_id=org.id,
            after={"name": org.name, "admin_email": user.email},
        )
        return Created(org.id, user.id, raw)

    async def create_platform_admin(
        self, session: AsyncSession, email: str, password: str | None = None
    ) -> Created:
        user = await self._user(session, email, password, platform_admin=True)
        await session.flush()
        _, raw = await self.issue_key(session, user, None)
        await audit.record(
            session,
            None,
            "platform_admin.created",
            "user",
            user.id,
            organization_id=None,
            after={"email": user.email},
        )
        return Created(None, user.id, raw)

    async def add_member(
        self,
        session: AsyncSession,
        organization_id: uuid.UUID,
        email: str,
        role: Role,
        password: str | None = None,
    ) -> User:
        user = await self._user(session, email, password)
        await session.flush()
        existing = await session.scalar(
            select(Membership).where(
                Membership.user_id == user.id, Membership.organization_id == organization_id
            )
        )
        if existing:
            raise Conflict(f"{user.email} is already a member of this organization.")
        session.add(Membership(user_id=user.id, organization_id=organization_id, role=role.value))
        return user

    async def get_organization(
        self, session: AsyncSession, principal: Principal, organization_id: uuid.UUID
    ) -> Organization:
        org_id = principal.org_scope(organization_id)
        org = await session.get(Organization, org_id) if org_id else None
        if org is None:
            raise NotFound("Organization not found.")
        return org

    async def list_organizations(self, session: AsyncSession, principal: Principal) -> list[Organization]:
        stmt = select(Organization).order_by(Organization.name)
        if not principal.is_platform_admin:
            stmt = stmt.where(Organization.id == principal.organization_id)
        return list(await session.scalars(stmt))

    async def workspaces(self, session: AsyncSession, principal: Principal) -> list[Workspace]:
        principal.require(Permission.CHANNELS_READ)
        stmt = select(Workspace).order_by(Workspace.name)
        if not principal.is_platform_admin:
            stmt = stmt.where(Workspace.organization_id == principal.organization_id)
        return list(await session.scalars(stmt))

    async def list_keys(self, session: AsyncSession, principal: Principal) -> list[ApiKey]:
        rows = await session.scalars(
            select(ApiKey).where(ApiKey.user_id == principal.user_id).order_by(ApiKey.created_at)
        )
        return list(rows)

    async def create_key(self, session: AsyncSession, principal: Principal, name: str) -> tuple[ApiKey, str]:
        user = await session.get(User, principal.user_id)
        assert user is not None
        key, raw = await self.issue_key(session, user, principal.organization_id, name)
        await audit.record(
            session,
            principal,
            "api_key.created",
            "api_key",
            key.id,
            organization_id=principal.organization_id,
            after={"name": name, "prefix": key_prefix(key)},
        )
        return key, raw

    async def revoke_key(self, session: AsyncSession, principal: Principal, key_id: uuid.UUID) -> ApiKey:
        key = await session.get(ApiKey, key_id)
        if key is None or key.user_id != principal.user_id:
            raise NotFound("API key not found.")
        if key.revoked_at is None:
            key.revoked_at = datetime.now(UTC)
            await audit.record(
                session,
                principal,
                "api_key.revoked",
                "api_key",
                key.id,
                organization_id=principal.organization_id,
                after={"prefix": key_prefix(key)},
            )
        return key


tenancy = TenancyService()
