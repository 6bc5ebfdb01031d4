"""The job queue: Huey on its SQLite storage by default, Redis when SWITCHBOARD_QUEUE_URL=redis://...

Jobs are sync functions (Huey's model); `run_async` gives each worker thread its own event loop
and database engine so async services can be reused unchanged inside jobs.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from huey import Huey, RedisHuey, SqliteHuey
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from switchboard.core.config import Settings, get_settings
from switchboard.core.runtime import Runtime

T = TypeVar("T")


def make_huey(settings: Settings) -> Huey:
    if settings.queue_url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey("switchboard", url=settings.queue_url)
    path = settings.queue_url.removeprefix("sqlite:///") if settings.queue_url else ""
    filename = path or str(settings.var_dir / "queue.db")
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("switchboard", filename=filename)


huey = make_huey(get_settings())

_local = threading.local()


def worker_runtime() -> Runtime:
    rt: Runtime | None = getattr(_local, "runtime", None)
    if rt is None:
        rt = Runtime.create(get_settings())
        _local.runtime = rt
    return rt


def run_async(fn: Callable[[Runtime], Awaitable[T]]) -> T:
    loop: asyncio.AbstractEventLoop | None = getattr(_local, "loop", None)
    if loop is None:
        loop = asyncio.new_event_loop()
        _local.loop = loop
    return loop.run_until_complete(fn(worker_runtime()))


_ON_COMMIT = "switchboard.on_commit"
_log = logging.getLogger("switchboard.queue")


def enqueue_on_commit(session: AsyncSession, enqueue: Callable[[], Any]) -> None:
    """Call `enqueue` (e.g. `lambda: some_task(x)`) once the session commits; a rollback drops it.

    A request that fails enqueues nothing, and a job never runs before the rows it reads exist.
    Jobs that must not be lost also keep their state in the database and have a sweeper.
    """
    sync = session.sync_session
    pending: list[Callable[[], Any]] | None = sync.info.get(_ON_COMMIT)
    if pending is None:
        pending = sync.info[_ON_COMMIT] = []
        event.listen(sync, "after_commit", _run_pending)
        event.listen(sync, "after_rollback", _drop_pending)
    pending.append(enqueue)


def _run_pending(sync: Session) -> None:
    pending: list[Callable[[], Any]] = sync.info.get(_ON_COMMIT) or []
    sync.info[_ON_COMMIT] = []
    for fn in pending:
        try:
            fn()
        except Exception:  # the commit stands; the job's sweeper picks the work up later
            _log.exception("could not enqueue a job after commit")


def _drop_pending(sync: Session) -> None:
    sync.info[_ON_COMMIT] = []


def task_lock(name: str, ttl: int) -> Any:
    """A lock so a periodic job never overlaps itself.

    Redis locks expire after `ttl` seconds, so a crashed worker cannot hold one forever; Huey's
    SQLite storage has no expiry, and there `switchboard worker` flushes stale locks at start.
    """
    if isinstance(huey, RedisHuey):
        return huey.lock_task(name, ttl=ttl)
    return huey.lock_task(name)
