"""Health, readiness, metrics, request ids, settings and the error shape."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from switchboard.core.config import normalize_database_url
from tests.support.tenants import Tenant


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json()["database"] == "ok"


def test_metrics_count_requests_by_route(client: TestClient, tenant: Tenant) -> None:
    client.get("/rest/v1/channel_accounts", headers=tenant.headers)
    text = client.get("/metrics").text
    assert (
        'switchboard_http_requests_total{method="GET",route="/rest/v1/channel_accounts",status="200"}' in text
    )
    assert "switchboard_http_request_duration_seconds_bucket" in text


def test_request_id_is_echoed_and_logged(client: TestClient, log_lines: Any) -> None:
    r = client.get("/healthz", headers={"X-Request-ID": "req-123"})
    assert r.headers["x-request-id"] == "req-123"
    generated = client.get("/healthz").headers["x-request-id"]
    assert len(generated) == 32
    records = [json.loads(line) for line in log_lines.lines if line.startswith("{")]
    assert any(r.get("request_id") == "req-123" and r.get("route") == "/healthz" for r in records)


def test_unknown_route_and_method_use_the_error_shape(client: TestClient) -> None:
    r = client.get("/nope")
    assert r.status_code == 404
    assert r.json()["error"] == "not_found"
    r = client.put("/healthz")
    assert r.status_code == 405
    assert set(r.json()) == {"error", "message", "details"}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///var/x.db", "sqlite+aiosqlite:///var/x.db"),
        ("sqlite:////abs/x.db", "sqlite+aiosqlite:////abs/x.db"),
        ("postgresql://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgres://u:p@h:5433/db", "postgresql+asyncpg://u:p@h:5433/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+asyncpg://u@h/db"),
    ],
)
def test_database_urls_as_operators_write_them(given: str, expected: str) -> None:
    assert normalize_database_url(given) == expected


@pytest.mark.parametrize("bad", ["mysql://x/y", "not a url"])
def test_unsupported_database_urls_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match=r"sqlite|database"):
        normalize_database_url(bad)


def test_sqlite_runs_in_wal_mode_with_foreign_keys(db: Any) -> None:
    from sqlalchemy import text

    async def pragmas(rt: Any) -> tuple[str, int] | None:
        async with rt.engine.connect() as conn:
            if conn.dialect.name != "sqlite":
                return None
            mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar()
            fk = (await conn.execute(text("PRAGMA foreign_keys"))).scalar()
            return str(mode), int(fk or 0)

    result = db.run(pragmas)
    if result is not None:
        assert result == ("wal", 1)


def test_nul_characters_are_refused_not_crashed_on(client: TestClient, tenant: Tenant) -> None:
    # PostgreSQL refuses NUL in text; the service answers 422 before any handler sees it.
    h = {**tenant.headers, "content-type": "application/json"}
    r = client.post(
        "/rest/v1/channel_accounts", content=b'{"name": "a\\u0000b", "type": "TELEGRAM"}', headers=h
    )
    assert r.status_code == 422
    assert r.json()["details"][0] == {
        "field": "body",
        "rule": "no_nul_characters",
        "message": "Text may not contain NUL characters (\\u0000).",
    }
    assert client.get("/rest/v1/channel_accounts?type=%00", headers=tenant.headers).status_code == 422
    assert client.get("/s/ab%00cd").status_code == 422
    r = client.post(
        "/login",
        content=b"email=a%00b&password=x",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 422
    raw = client.post("/login", content=b"a\x00b", headers={"content-type": "text/plain"})
    assert raw.status_code == 422
    # Bytes are not text: an encrypted push message (octet stream) reaches its handler.
    push = client.post(
        "/sandbox/push/push/unknown",
        content=b"\x00\x01encrypted",
        headers={"content-type": "application/octet-stream", "content-encoding": "aes128gcm", "ttl": "60"},
    )
    assert push.status_code == 404
    # Ordinary bodies pass through untouched.
    r = client.post(
        "/rest/v1/channel_accounts",
        json={
            "name": "ok",
            "type": "TELEGRAM",
            "settings": {"bot_token": "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"},
        },
        headers=tenant.headers,
    )
    assert r.status_code == 201


def test_a_postgres_connection_dropped_while_idle_is_replaced_not_an_error(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pooled connections idle for a while are pinged on checkout, so a server restart or a dropped
    idle connection costs a reconnect, never a failed request."""
    import asyncpg
    from sqlalchemy import text

    from switchboard.core import db as core_db

    monkeypatch.setattr(core_db, "PING_AFTER_IDLE_SECONDS", 0.0)

    async def go(rt: Any) -> tuple[int, int] | None:
        if rt.settings.is_sqlite:
            return None
        engine = core_db.create_engine(rt.settings)  # its own pool: one connection, the one killed
        try:
            async with engine.connect() as conn:
                before = int((await conn.execute(text("select pg_backend_pid()"))).scalar_one())
            url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
            killer = await asyncpg.connect(url)
            try:
                await killer.execute(f"select pg_terminate_backend({before})")
            finally:
                await killer.close()
            async with engine.connect() as conn:
                after = int((await conn.execute(text("select pg_backend_pid()"))).scalar_one())
        finally:
            await engine.dispose()
        return before, after

    result = db.run(go)
    if result is not None:
        before, after = result
        assert after != before
