"""Test set-up shared by every test: a real database (SQLite or PostgreSQL), migrated once,
emptied between tests, and small factories that go through the real services.

`SWITCHBOARD_TEST_DATABASE_URL` picks the database (default: a SQLite file in a temp dir);
`make test` runs the suite once per database.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import tempfile
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

_TMP = Path(tempfile.mkdtemp(prefix="switchboard-test-"))
_DB_URL = os.environ.get("SWITCHBOARD_TEST_DATABASE_URL") or f"sqlite:///{_TMP / 'test.db'}"
if _DB_URL.startswith("postgres"):
    # A database per run, so parallel runs on one server never share tables.
    _DB_URL = f"{_DB_URL}_{os.getpid()}"
os.environ["SWITCHBOARD_DATABASE_URL"] = _DB_URL
os.environ["SWITCHBOARD_VAR_DIR"] = str(_TMP / "var")
os.environ["SWITCHBOARD_ENVIRONMENT"] = "test"
os.environ["SWITCHBOARD_QUEUE_URL"] = f"sqlite:///{_TMP / 'queue.db'}"
os.environ.setdefault("SWITCHBOARD_LOG_JSON", "true")
# The apps tests build run no sandbox SMTP/IMAP servers (fixed ports would clash between parallel
# runs); tests/sandbox/test_mail_sandbox.py turns them on, on free ports.
os.environ["SWITCHBOARD_SANDBOX_MAIL"] = "false"
for _k in [k for k in os.environ if k.startswith("AWS_")]:
    del os.environ[_k]

from anyio.from_thread import BlockingPortal, start_blocking_portal  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import text  # noqa: E402

from switchboard.app import create_app  # noqa: E402
from switchboard.core.config import Settings, get_settings, normalize_database_url  # noqa: E402
from switchboard.core.db import session_scope  # noqa: E402
from switchboard.core.permissions import Role  # noqa: E402
from switchboard.core.runtime import Runtime  # noqa: E402
from switchboard.models import Base  # noqa: E402
from switchboard.tenancy.service import tenancy  # noqa: E402
from tests.support.tenants import PASSWORD, Tenant  # noqa: E402

T = TypeVar("T")


def _prepare_database() -> None:
    """Create the PostgreSQL database if needed, drop everything, then run the real migrations."""
    url = normalize_database_url(_DB_URL)
    if url.startswith("postgresql"):
        import asyncpg

        async def create_db() -> None:
            dsn = url.replace("postgresql+asyncpg", "postgresql")
            base, _, name = dsn.rpartition("/")
            conn = await asyncpg.connect(f"{base}/postgres")
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
                await conn.execute(f'CREATE DATABASE "{name}"')
            finally:
                await conn.close()

        asyncio.run(create_db())
        atexit.register(_drop_database, url)
    from switchboard.core.migrate import upgrade

    upgrade()
    # Tables a change adds before its migration is written still get created, so work in
    # progress can be tested; tests/core/test_migrations.py fails until the migration exists.
    from sqlalchemy import create_engine

    sync_url = url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg")
    engine = create_engine(sync_url)
    Base.metadata.create_all(engine)
    engine.dispose()


def _drop_database(url: str) -> None:
    import asyncpg

    async def drop() -> None:
        base, _, name = url.replace("postgresql+asyncpg", "postgresql").rpartition("/")
        conn = await asyncpg.connect(f"{base}/postgres")
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(drop())


_prepare_database()


class Db:
    """Runs async code against the test database from sync tests, on its own event loop."""

    def __init__(self, portal: BlockingPortal, runtime: Runtime) -> None:
        self.portal = portal
        self.runtime = runtime

    def run(self, fn: Callable[[Runtime], Awaitable[T]]) -> T:
        return self.portal.call(fn, self.runtime)

    def session(self, fn: Callable[[Any], Awaitable[T]]) -> T:
        async def go(rt: Runtime) -> T:
            async for s in session_scope(rt.sessionmaker):
                result = await fn(s)
            return result

        return self.run(go)

    def truncate(self) -> None:
        async def go(rt: Runtime) -> None:
            tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
            async with rt.engine.begin() as conn:
                # DELETE in dependency order: on small tables it is far faster than TRUNCATE,
                # which rewrites every table's files on PostgreSQL.
                for name in tables:
                    await conn.execute(text(f"DELETE FROM {name}"))

        self.run(go)


@pytest.fixture(scope="session")
def settings() -> Settings:
    return get_settings()


@pytest.fixture(scope="session")
def db(settings: Settings) -> Iterator[Db]:
    with start_blocking_portal() as portal:
        runtime = Runtime.create(settings)
        yield Db(portal, runtime)
        portal.call(runtime.close)


_DB_USERS = {"db", "client", "live_server", "make_tenant", "tenant", "platform_admin"}


@pytest.fixture(autouse=True)
def _clean_database(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tests that touch the database leave it empty for the next one."""
    db = request.getfixturevalue("db") if _DB_USERS & set(request.fixturenames) else None
    yield
    if db is not None:
        db.truncate()


@pytest.fixture(scope="session")
def app(settings: Settings) -> Any:
    return create_app(settings)


@pytest.fixture(scope="session")
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def make_tenant(db: Db) -> Callable[..., Tenant]:
    def make(name: str = "Acme", email: str | None = None) -> Tenant:
        email = email or f"admin-{uuid.uuid4().hex[:8]}@example.com"

        async def go(session: Any) -> Tenant:
            created = await tenancy.create_organization(session, name, email, PASSWORD)
            assert created.organization_id
            return Tenant(created.organization_id, created.user_id, created.api_key, email, PASSWORD)

        return db.session(go)

    return make


@pytest.fixture
def tenant(make_tenant: Callable[..., Tenant]) -> Tenant:
    return make_tenant()


@pytest.fixture
def member_of(db: Db) -> Callable[[Tenant], Tenant]:
    """A plain member (read-only role) of the tenant's organization, with its own key."""

    def make(t: Tenant) -> Tenant:
        email = f"member-{uuid.uuid4().hex[:8]}@example.com"

        async def go(session: Any) -> Tenant:
            user = await tenancy.add_member(session, t.organization_id, email, Role.MEMBER, PASSWORD)
            _, raw = await tenancy.issue_key(session, user, t.organization_id)
            return Tenant(t.organization_id, user.id, raw, email, PASSWORD)

        return db.session(go)

    return make


@pytest.fixture
def platform_admin(db: Db) -> Tenant:
    email = f"root-{uuid.uuid4().hex[:8]}@example.com"

    async def go(session: Any) -> Tenant:
        created = await tenancy.create_platform_admin(session, email, PASSWORD)
        return Tenant(uuid.UUID(int=0), created.user_id, created.api_key, email, PASSWORD)

    return db.session(go)


class LogCapture(logging.Handler):
    """Collects every formatted log line, as an operator would read them."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        from switchboard.core.observability import JsonFormatter

        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def log_lines() -> Iterator[LogCapture]:
    handler = LogCapture()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests run last: Playwright's sync API leaves an event loop on the main thread,
    which would break tests that start their own with asyncio.run()."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
