"""API-only users for tests that never sign in: no password, so no argon2 hashing (about half a
second per user on a small machine). Import with
``from tests.support.api_users import admin, make_org, org  # noqa: F401``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from switchboard.tenancy.service import tenancy
from tests.support.tenants import Tenant


@pytest.fixture
def make_org(db: Any) -> Callable[..., Tenant]:
    def make(name: str = "Acme") -> Tenant:
        email = f"admin-{uuid.uuid4().hex[:8]}@example.com"

        async def go(session: Any) -> Tenant:
            created = await tenancy.create_organization(session, name, email)
            assert created.organization_id
            return Tenant(created.organization_id, created.user_id, created.api_key, email, "")

        result: Tenant = db.session(go)
        return result

    return make


@pytest.fixture
def org(make_org: Callable[..., Tenant]) -> Tenant:
    """A tenant organization's admin, with an API key only."""
    return make_org()


@pytest.fixture
def admin(db: Any) -> Tenant:
    """A platform admin with an API key only."""
    email = f"root-{uuid.uuid4().hex[:8]}@example.com"

    async def go(session: Any) -> Tenant:
        created = await tenancy.create_platform_admin(session, email)
        return Tenant(uuid.UUID(int=0), created.user_id, created.api_key, email, "")

    result: Tenant = db.session(go)
    return result
