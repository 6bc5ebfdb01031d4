"""Organizations, workspaces and API keys."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, status

from switchboard.core.deps import DB, CurrentPrincipal, require
from switchboard.core.errors import ErrorBody
from switchboard.core.permissions import Permission, Principal
from switchboard.tenancy.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyRead,
    OrganizationCreate,
    OrganizationCreated,
    OrganizationRead,
    WorkspaceRead,
)
from switchboard.tenancy.service import key_prefix, tenancy

router = APIRouter(
    prefix="/rest/v1",
    tags=["tenancy"],
    responses={
        401: {"model": ErrorBody},
        403: {"model": ErrorBody},
        404: {"model": ErrorBody},
        422: {"model": ErrorBody},
    },
)


@router.get("/organizations", response_model=list[OrganizationRead])
async def list_organizations(session: DB, principal: CurrentPrincipal) -> list[OrganizationRead]:
    """Organizations visible to the caller (a tenant sees its own)."""
    return [OrganizationRead.model_validate(o) for o in await tenancy.list_organizations(session, principal)]


@router.post("/organizations", response_model=OrganizationCreated, status_code=status.HTTP_201_CREATED)
async def create_organization(
    body: OrganizationCreate,
    session: DB,
    principal: Principal = Depends(require(Permission.ONBOARDING_REVIEW)),
) -> OrganizationCreated:
    """Create an organization with its first admin (platform admins only)."""
    created = await tenancy.create_organization(
        session, body.name, str(body.admin_email), body.admin_password, actor=principal
    )
    assert created.organization_id is not None
    return OrganizationCreated(
        organization_id=created.organization_id, user_id=created.user_id, api_key=created.api_key
    )


@router.get("/organizations/{organization_id}", response_model=OrganizationRead)
async def get_organization(
    organization_id: uuid.UUID, session: DB, principal: CurrentPrincipal
) -> OrganizationRead:
    """Get one organization."""
    return OrganizationRead.model_validate(
        await tenancy.get_organization(session, principal, organization_id)
    )


@router.get("/workspaces", response_model=list[WorkspaceRead])
async def list_workspaces(session: DB, principal: CurrentPrincipal) -> list[WorkspaceRead]:
    """Workspaces of the caller's organization."""
    return [WorkspaceRead.model_validate(w) for w in await tenancy.workspaces(session, principal)]


def _key_read(key: object) -> dict[str, object]:
    data = {
        k: getattr(key, k)
        for k in ("id", "name", "organization_id", "created_at", "last_used_at", "revoked_at")
    }
    data["prefix"] = key_prefix(key)  # type: ignore[arg-type]
    return data


@router.get("/api_keys", response_model=list[ApiKeyRead])
async def list_api_keys(session: DB, principal: CurrentPrincipal) -> list[ApiKeyRead]:
    """The caller's API keys (never the keys themselves)."""
    return [ApiKeyRead.model_validate(_key_read(k)) for k in await tenancy.list_keys(session, principal)]


@router.post("/api_keys", response_model=ApiKeyCreated, status_code=status.HTTP_201_CREATED)
async def create_api_key(body: ApiKeyCreate, session: DB, principal: CurrentPrincipal) -> ApiKeyCreated:
    """Issue a new API key for the caller; it is shown only in this response."""
    key, raw = await tenancy.create_key(session, principal, body.name)
    return ApiKeyCreated.model_validate({**_key_read(key), "api_key": raw})


@router.delete("/api_keys/{key_id}", response_model=ApiKeyRead)
async def revoke_api_key(key_id: uuid.UUID, session: DB, principal: CurrentPrincipal) -> ApiKeyRead:
    """Revoke one of the caller's API keys."""
    return ApiKeyRead.model_validate(_key_read(await tenancy.revoke_key(session, principal, key_id)))
