"""The job queue: Huey on its SQLite storage by default, Redis when SWITCHBOARD_QUEUE_URL=redis://...

Jobs are sync functions (Huey's model); `run_async` gives each worker thread its own event loop
and database engine so async services can be reused unchanged inside jobs.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

from huey import Huey, RedisHuey, SqliteHuey

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
