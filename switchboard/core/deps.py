"""Request dependencies: the database session and the authenticated principal."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.core.db import session_scope
from switchboard.core.errors import Unauthorized
from switchboard.core.permissions import Permission, Principal, Role
from switchboard.core.runtime import Runtime
from switchboard.core.security import constant_time_equals, parse_api_key, sha256_hex
from switchboard.models import ApiKey, Membership, User

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer sbk_...`")


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_db(request: Request) -> AsyncIterator[AsyncSession]:
    async for session in session_scope(get_runtime(request).sessionmaker):
        yield session


DB = Annotated[AsyncSession, Depends(get_db)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]

# last_used_at is written at most once a minute per key, to keep reads cheap.
_LAST_USED_GRANULARITY = timedelta(minutes=1)


async def principal_for_user(session: AsyncSession, user: User, org_id: Any, via: str) -> Principal:
    if user.is_platform_admin:
        return Principal(user.id, user.email, Role.PLATFORM_ADMIN, org_id, via)
    membership = await session.scalar(
        select(Membership).where(Membership.user_id == user.id, Membership.organization_id == org_id)
    )
    if membership is None:
        raise Unauthorized("This key's user no longer belongs to its organization.", code="invalid_api_key")
    return Principal(user.id, user.email, Role(membership.role), org_id, via)


async def authenticate_api_key(session: AsyncSession, raw: str) -> Principal:
    lookup = parse_api_key(raw)
    key = await session.scalar(select(ApiKey).where(ApiKey.lookup == lookup)) if lookup else None
    if key is None or key.revoked_at is not None or not constant_time_equals(key.key_hash, sha256_hex(raw)):
        raise Unauthorized("The API key is missing, malformed, revoked or unknown.", code="invalid_api_key")
    user = await session.get(User, key.user_id)
    if user is None or not user.is_active:
        raise Unauthorized("The API key's user is disabled.", code="invalid_api_key")
    now = datetime.now(UTC)
    if key.last_used_at is None or now - key.last_used_at > _LAST_USED_GRANULARITY:
        await session.execute(update(ApiKey).where(ApiKey.id == key.id).values(last_used_at=now))
    return await principal_for_user(session, user, key.organization_id, "api_key")


async def get_principal(
    session: DB,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("Send an API key as `Authorization: Bearer <key>`.", code="missing_api_key")
    return await authenticate_api_key(session, credentials.credentials)


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require(permission: Permission) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """Dependency factory: the caller must hold `permission` (the one place it is checked)."""

    async def _dep(principal: CurrentPrincipal) -> Principal:
        principal.require(permission)
        return principal

    return _dep
