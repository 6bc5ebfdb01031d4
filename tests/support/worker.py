"""Real worker processes (`python -m switchboard.cli worker`) for tests, on the test's database, queue
and vault (tests/conftest.py puts them in os.environ). Use with
``from tests.support.worker import start_worker  # noqa: F401``; every process started is stopped at the
end of the test (by its own pid).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

StartWorker = Callable[..., subprocess.Popen[bytes]]


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[StartWorker]:
    """start_worker(**env) starts one; extra SWITCHBOARD_* settings go in as keyword arguments.
    Its output is kept in tmp_path/worker-N.log."""
    started: list[subprocess.Popen[bytes]] = []

    def start(**env: str) -> subprocess.Popen[bytes]:
        log = (tmp_path / f"worker-{len(started)}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "switchboard.cli", "worker", "--threads", "1"],
            cwd=ROOT,
            env=os.environ | {"SWITCHBOARD_LOG_JSON": "false"} | env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def worker_logs(folder: Path) -> str:
    return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(folder.glob("worker-*.log")))
