"""The service as `make run` starts it: `SWITCHBOARD_PROVIDER_MODE=sandbox`, no provider base URL
set, served by uvicorn on a real 127.0.0.1 port, with the sandbox mail servers on free ports.

Every provider call the service makes goes over HTTP to its own /sandbox/<provider> mounts, and the
emulators post their webhooks back to it, so a test drives exactly what a newcomer gets offline.

Make it available from a conftest with
``from tests.support.sandbox_server import sandbox_server  # noqa: F401`` (tests/oauth and tests/sandbox do).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx2 as httpx
import pytest
import uvicorn

from switchboard.app import create_app
from switchboard.core.config import Settings
from tests.support.tenants import Tenant
from tests.support.web import csrf_from


@dataclass(frozen=True)
class SandboxServer:
    url: str
    app: Any


@pytest.fixture(scope="module")
def sandbox_server(db: Any, settings: Settings) -> Iterator[SandboxServer]:
    # Bound before the app is built, so the public base URL is known and no other process can
    # take the port in between.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = create_app(
        settings.model_copy(
            update={
                "provider_mode": "sandbox",
                "public_base_url": url,
                # tests/conftest.py turns the mail servers off for every other app; port 0 = free ports
                "sandbox_mail": True,
                "sandbox_smtp_port": 0,
                "sandbox_imap_port": 0,
            }
        )
    )
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive(), "server stopped"
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    try:
        yield SandboxServer(url, app)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


def login(base: str, who: Tenant) -> httpx.Client:
    """A browser signed in to the server through the login form (cookies kept by the client)."""
    c = httpx.Client(base_url=base, timeout=15)
    token = csrf_from(c.get("/login").text)
    r = c.post(
        "/login", data={"email": who.email, "password": who.password, "csrf_token": token, "next": "/"}
    )
    assert r.status_code == 303, r.text
    return c
