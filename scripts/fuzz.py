"""Fuzz the whole API from /openapi.json with schemathesis and fail on any server error.

Starts a throw-away server on a free port with its own SQLite database, creates a tenant,
then runs `schemathesis run --checks not_a_server_error` with that tenant's key.
Usage: python scripts/fuzz.py [--max-examples N] [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-examples", type=int, default=100)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="switchboard-fuzz-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # The sandbox providers are served by the same process, at its own address.
    env = {
        **os.environ,
        "SWITCHBOARD_VAR_DIR": str(tmp),
        "SWITCHBOARD_LOG_LEVEL": "WARNING",
        "SWITCHBOARD_PUBLIC_BASE_URL": base,
    }
    env["SWITCHBOARD_DATABASE_URL"] = args.database_url or f"sqlite:///{tmp / 'fuzz.db'}"
    cli = [str(BIN / "switchboard")]
    subprocess.run([*cli, "migrate"], env=env, check=True, cwd=ROOT)
    created = json.loads(
        subprocess.run(
            [*cli, "org", "create", "--name", "Fuzz", "--admin-email", "fuzz@example.com", "--json"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        ).stdout
    )
    server = subprocess.Popen(
        [*cli, "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        result = subprocess.run(
            [
                str(BIN / "schemathesis"),
                "run",
                f"{base}/openapi.json",
                "--checks",
                "not_a_server_error",
                "-H",
                f"Authorization: Bearer {created['api_key']}",
                "--max-examples",
                str(args.max_examples),
                "--generation-deterministic",
                "--suppress-health-check",
                "all",
                "--no-color",
            ],
            cwd=ROOT,
        )
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=10)
    # The service's own log must not show an unhandled error either.
    crashes = [line for line in stderr.splitlines() if '"unhandled error"' in line]
    for line in crashes[:5]:
        print(line)
    return result.returncode or (1 if crashes else 0)


if __name__ == "__main__":
    sys.exit(main())
