"""Running the jobs code under test enqueued, the way a worker would, without starting one.

Use the fixture from a conftest or test module with
``from tests.support.jobs import job_runner, jobs  # noqa: F401``.

`JobRunner.run()` takes every job from the test queue (Huey on SQLite, set up by tests/conftest.py)
and executes it through Huey in one long-lived thread, like a worker thread (each thread keeps its own
event loop and engine, see core/queue.py). Jobs scheduled for later (retries with back-off) are run
too when `fast_forward` is set, so retry paths take no wall-clock time.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from huey.api import Task

import switchboard.jobs  # noqa: F401  (registers every job)
from switchboard.core.queue import huey

_FAR = datetime.timedelta(days=3650)


def _timestamp(offset: datetime.timedelta) -> datetime.datetime:
    now = datetime.datetime.now(datetime.UTC)
    return (now + offset).replace(tzinfo=None) if huey.utc else datetime.datetime.now() + offset


class JobRunner:
    def __init__(self) -> None:
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-worker")
        self.ran: Counter[str] = Counter()

    def flush(self) -> None:
        huey.flush()
        self.ran.clear()

    def pending(self) -> list[str]:
        return [t.name for t in huey.pending()] + [t.name for t in huey.scheduled()]

    def run(self, *, fast_forward: bool = True, max_jobs: int = 500) -> Counter[str]:
        """Run jobs until the queue (and, with fast_forward, the schedule) is empty; returns the
        names of the jobs run in this call."""
        return self._thread.submit(self._drain, fast_forward, max_jobs).result(timeout=120)

    def _drain(self, fast_forward: bool, max_jobs: int) -> Counter[str]:
        ran: Counter[str] = Counter()
        for _ in range(max_jobs):
            task: Task | None = huey.dequeue()
            if task is None and fast_forward:
                for scheduled in huey.read_schedule(_timestamp(_FAR)):
                    huey.enqueue(scheduled)
                task = huey.dequeue()
            if task is None:
                return ran
            ran[task.name] += 1
            self.ran[task.name] += 1
            huey.execute(task, timestamp=_timestamp(_FAR))
        raise AssertionError(f"jobs kept coming after {max_jobs}: {ran.most_common(5)}")

    def close(self) -> None:
        self._thread.shutdown(wait=True)


@pytest.fixture(scope="session")
def job_runner() -> Iterator[JobRunner]:
    runner = JobRunner()
    yield runner
    runner.close()


@pytest.fixture
def jobs(job_runner: JobRunner) -> Iterator[JobRunner]:
    """Jobs the code under test enqueued; `jobs.run()` executes them like a worker thread."""
    job_runner.flush()
    yield job_runner
    job_runner.flush()
