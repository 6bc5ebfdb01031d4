"""Benchmark: verified-webhook ingest throughput against an empty 200 on the same server.

For each database (SQLite, and PostgreSQL if reachable) a child process migrates a temporary
database, creates a tenant with a connected Telegram bot, and serves the real app under uvicorn
on 127.0.0.1 with one extra route, `POST /bench/empty`, answering an empty 200. The parent then
posts, with an httpx2 AsyncClient at a fixed concurrency, (a) requests to the empty route and
(b) Telegram updates with the right secret-token header to `/webhooks/<account id>` (each a new
update_id, so each one is verified, persisted and handed to the parse job). Rounds alternate;
the best round of each counts. ratio = webhook req/s / empty req/s (goal >= 0.5).

    .venv/bin/python bench/webhook_ingest.py [--requests 2000] [--concurrency 20] [--rounds 3]
        [--pg postgresql://root@127.0.0.1/switchboard_bench]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx2

TOKEN = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"
SECRET = "bench-secret-token_0123456789abcdef"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(db_url: str, port: int, conn: Connection) -> None:
    """Child process: its own database, queue and CPU; sends the account id, then serves."""
    tmp = Path(tempfile.mkdtemp(prefix="switchboard-bench-"))
    os.environ.update(
        SWITCHBOARD_DATABASE_URL=db_url,
        SWITCHBOARD_VAR_DIR=str(tmp / "var"),
        SWITCHBOARD_QUEUE_URL=f"sqlite:///{tmp / 'queue.db'}",
        SWITCHBOARD_LOG_LEVEL="WARNING",
        SWITCHBOARD_SANDBOX_MAIL="false",
        SWITCHBOARD_PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
    )
    import uvicorn
    from fastapi import Response
    from sqlalchemy import create_engine

    from switchboard.app import create_app
    from switchboard.channels.service import OWNER
    from switchboard.core.config import get_settings
    from switchboard.core.db import session_scope
    from switchboard.core.migrate import upgrade
    from switchboard.core.runtime import Runtime
    from switchboard.models import Base, ChannelAccount
    from switchboard.tenancy.service import tenancy

    settings = get_settings()
    upgrade()
    sync = create_engine(
        settings.async_database_url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg")
    )
    Base.metadata.create_all(sync)  # tables whose migration the lead has not generated yet
    sync.dispose()

    async def setup() -> str:
        rt = Runtime.create(settings)
        async for s in session_scope(rt.sessionmaker):
            org = await tenancy.create_organization(s, "Bench", "bench@example.com", "correct horse battery")
            account = ChannelAccount(
                organization_id=org.organization_id,
                name="Bench bot",
                type="TELEGRAM",
                settings={},
                is_active=True,
                connection_status="connected",
            )
            s.add(account)
            await s.flush()
            for field, value in (("bot_token", TOKEN), ("webhook_secret_token", SECRET)):
                await rt.vault.put(s, OWNER, account.id, field, value, org.organization_id)
        await rt.close()
        return str(account.id)

    account_id = asyncio.run(setup())
    app = create_app(settings)

    @app.post("/bench/empty")
    async def empty() -> Response:
        return Response(status_code=200)

    conn.send(account_id)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


async def _load(url: str, n: int, concurrency: int, make: Any) -> float:
    limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx2.AsyncClient(limits=limits, timeout=30) as client:
        counter = iter(range(n))
        failures = 0

        async def worker() -> None:
            nonlocal failures
            for i in counter:
                body, headers = make(i)
                r = await client.post(url, content=body, headers=headers)
                if r.status_code != 200:
                    failures += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    if failures:
        raise RuntimeError(f"{failures} of {n} requests to {url} failed")
    return n / elapsed


def run_case(label: str, db_url: str, args: argparse.Namespace) -> dict[str, Any]:
    port = _free_port()
    parent, child = multiprocessing.Pipe()
    proc = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(db_url, port, child), daemon=True
    )
    proc.start()
    try:
        account_id = parent.recv()
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                httpx2.post(f"{base}/bench/empty", timeout=1)
                break
            except httpx2.HTTPError:
                time.sleep(0.05)
        seq = iter(range(10**9))
        headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}

        def update(_: int) -> tuple[bytes, dict[str, str]]:
            uid = next(seq)
            msg = {"message_id": uid, "chat": {"id": 42, "type": "private"}, "from": {"id": 42}, "text": "hi"}
            return json.dumps({"update_id": uid, "message": msg}).encode(), headers

        def empty(_: int) -> tuple[bytes, dict[str, str]]:
            return b"{}", {"Content-Type": "application/json"}

        hook, blank = f"{base}/webhooks/{account_id}", f"{base}/bench/empty"
        asyncio.run(_load(blank, 200, args.concurrency, empty))  # warm-up
        asyncio.run(_load(hook, 200, args.concurrency, update))
        empties, hooks = [], []
        for _ in range(args.rounds):
            empties.append(asyncio.run(_load(blank, args.requests, args.concurrency, empty)))
            hooks.append(asyncio.run(_load(hook, args.requests, args.concurrency, update)))
        ours, baseline = max(hooks), max(empties)
        print(
            f"{label:<10} empty 200: {baseline:8.0f} req/s   verified webhook: {ours:8.0f} req/s   "
            f"ratio {ours / baseline:.2f}",
            flush=True,
        )
        return {"empty_rps": round(baseline), "webhook_rps": round(ours), "ratio": round(ours / baseline, 3)}
    finally:
        proc.terminate()
        proc.join(5)


def _pg_database(base_url: str) -> str | None:
    """Create a fresh database next to the given URL; None if no server answers."""
    try:
        import asyncpg
    except ImportError:  # pragma: no cover
        return None
    name = f"switchboard_bench_{os.getpid()}"
    server = base_url.rsplit("/", 1)[0]

    async def create() -> None:
        conn = await asyncpg.connect(f"{server}/postgres", timeout=3)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    try:
        asyncio.run(create())
    except (OSError, asyncpg.PostgresError):
        return None
    return f"{server}/{name}"


def _drop_pg(url: str) -> None:
    import asyncpg

    server, name = url.rsplit("/", 1)

    async def drop() -> None:
        conn = await asyncpg.connect(f"{server}/postgres")
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(drop())


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--pg", default=os.environ.get("SWITCHBOARD_BENCH_PG", "postgresql://root@127.0.0.1/x")
    )
    args = parser.parse_args()
    results: dict[str, Any] = {}
    tmp = Path(tempfile.mkdtemp(prefix="switchboard-bench-"))
    results["sqlite"] = run_case("SQLite", f"sqlite:///{tmp / 'bench.db'}", args)
    pg = _pg_database(args.pg)
    if pg is None:
        print("PostgreSQL: no server reachable, skipped", flush=True)
    else:
        try:
            results["postgresql"] = run_case("PostgreSQL", pg, args)
        finally:
            _drop_pg(pg)
    ratio = min(r["ratio"] for r in results.values())
    print(json.dumps({"name": "webhook_ingest", "ratio": ratio, "goal": 0.5, **results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
