"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from switchboard.core.config import normalize_database_url
from switchboard.models import Base


def test_migrations_match_the_models() -> None:
    tmp = Path(tempfile.mkdtemp())
    url = f"sqlite:///{tmp / 'fresh.db'}"
    test_url = os.environ.get("SWITCHBOARD_TEST_DATABASE_URL", "")
    if test_url.startswith("postgres"):
        # A database of its own, so the suite's tables are not in the way.
        import psycopg

        base = normalize_database_url(test_url).replace("postgresql+asyncpg", "postgresql")
        admin = base.rsplit("/", 1)[0] + "/postgres"
        name = f"switchboard_migrations_{os.getpid()}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name}")
            conn.execute(f"CREATE DATABASE {name}")
        url = base.rsplit("/", 1)[0] + f"/{name}"
    env = {**os.environ, "SWITCHBOARD_DATABASE_URL": url, "SWITCHBOARD_VAR_DIR": str(tmp)}
    subprocess.run(
        [sys.executable, "-m", "switchboard.cli", "migrate"],
        env=env,
        check=True,
        timeout=120,
        capture_output=True,
    )
    sync_url = normalize_database_url(url).replace("+aiosqlite", "").replace("+asyncpg", "+psycopg")
    engine = create_engine(sync_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    engine.dispose()
    if test_url.startswith("postgres"):
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    assert diff == [], f"models and migrations differ; write a migration: {diff}"
