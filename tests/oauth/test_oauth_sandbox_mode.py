"""`SWITCHBOARD_PROVIDER_MODE=sandbox` (the default of `make run`): the emulators are mounted in the
service itself under /sandbox/<provider> and the flows reach them over real HTTP, so a newcomer can
connect Messenger and pair WhatsApp Lite offline."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx2 as httpx
import pytest
import uvicorn

from switchboard.app import create_app
from switchboard.core.config import Settings
from tests.support.oauth_env import consent
from tests.support.tenants import Tenant
from tests.support.web import allow_byom, csrf_from


@pytest.fixture(scope="module")
def sandbox_server(db: Any, settings: Settings) -> Iterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = create_app(settings.model_copy(update={"provider_mode": "sandbox", "public_base_url": url}))
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive(), "server stopped"
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


def _login(base: str, who: Tenant) -> httpx.Client:
    c = httpx.Client(base_url=base, timeout=15)
    token = csrf_from(c.get("/login").text)
    r = c.post(
        "/login", data={"email": who.email, "password": who.password, "csrf_token": token, "next": "/"}
    )
    assert r.status_code == 303
    return c


def test_messenger_and_whatsapp_lite_connect_offline_in_sandbox_mode(
    sandbox_server: str, tenant: Tenant, db: Any
) -> None:
    allow_byom(db, tenant.organization_id)
    browser = _login(sandbox_server, tenant)
    csrf = csrf_from(browser.get("/settings/channels/new/messenger").text)
    r = browser.post("/oauth/messenger/start", data={"csrf_token": csrf, "name": "Sandbox FB"})
    assert r.status_code == 303
    assert r.headers["location"].startswith(f"{sandbox_server}/sandbox/meta/v21.0/dialog/oauth?")
    r = browser.get(consent(r.headers["location"]))
    assert r.status_code == 303, r.text
    select_url = r.headers["location"]
    choice = re.findall(r'name="choice" value="([^"]+)"', browser.get(select_url).text)[0]
    assert browser.post(select_url, data={"csrf_token": csrf, "choice": choice}).status_code == 303

    r = browser.post(
        "/settings/channels/new/whatsapp_lite",
        data={
            "csrf_token": csrf,
            "name": "Sandbox Lite",
            "settings.sender_id": "S",
            "settings.phone_number": "+14155550140",
        },
    )
    assert r.status_code == 303
    page = browser.get(r.headers["location"]).text
    assert "Sandbox" in page
    phone = re.search(r'href="([^"]+/phone)"', page).group(1)  # type: ignore[union-attr]
    assert "Simulate scan" in httpx.get(phone).text
    assert "Paired" in httpx.post(phone).text  # the sandbox phone's "Simulate scan" button
    status = browser.get(r.headers["location"] + "/status").json()
    assert status["status"] == "paired"

    api = httpx.get(f"{sandbox_server}/rest/v1/channel_accounts", headers=tenant.headers).json()["items"]
    assert {a["name"]: a["connection_status"] for a in api} == {
        "Sandbox FB": "connected",
        "Sandbox Lite": "connected",
    }
