"""Browser tests: the real app under uvicorn on loopback, driven by Debian's headless Chromium.

No browser is ever downloaded: Playwright launches /usr/bin/chromium. Screenshots of each step go to
test-artifacts/screenshots/<test>-<step>.png and are listed at the end of the run.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Playwright, sync_playwright

from switchboard.app import create_app
from switchboard.core.config import Settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
_SCREENSHOTS: list[Path] = []


@pytest.fixture(scope="session")
def live_server(db: Any, settings: Settings) -> Iterator[str]:
    """The app served by uvicorn in a thread, on the same test database as `db` (which it depends on,
    so every test's tables are emptied afterwards)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}"
    # The app builds absolute links (OAuth redirects, sandbox providers) from its public URL.
    app = create_app(settings.model_copy(update={"public_base_url": base_url}))
    # log_config=None keeps the app's own logging set-up (JSON, no query strings in access logs).
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="live-server")
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.02)
    try:
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    b = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    try:
        yield b
    finally:
        b.close()


@pytest.fixture
def context(browser: Browser, live_server: str) -> Iterator[BrowserContext]:
    ctx = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 860})
    ctx.set_default_timeout(10_000)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    """A fresh tab; any script error or console error (a CSP violation, say) fails the test."""
    p = context.new_page()
    problems: list[str] = []

    def on_console(msg: ConsoleMessage) -> None:
        # Failed requests a test provokes on purpose (page.route aborts) are not script errors.
        if msg.type == "error" and "Failed to load resource" not in msg.text:
            problems.append(msg.text)

    p.on("console", on_console)
    p.on("pageerror", lambda exc: problems.append(str(exc)))
    yield p
    p.close()
    assert not problems, f"browser errors: {problems}"


@pytest.fixture
def screenshot(page: Page, request: pytest.FixtureRequest) -> Callable[[str], Path]:
    """screenshot("step") saves test-artifacts/screenshots/<test>-<step>.png and reports its path."""
    folder = Path(request.config.rootpath) / "test-artifacts" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    test = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)

    def take(step: str) -> Path:
        path = folder / f"{test}-{step}.png"
        # Transitions (modal fade, tooltips) are finished first so the picture shows the settled page.
        page.screenshot(path=str(path), full_page=True, animations="disabled")
        request.node.user_properties.append(("screenshot", str(path)))
        _SCREENSHOTS.append(path)
        return path

    return take


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _SCREENSHOTS:
        terminalreporter.section("screenshots")
        root = Path.cwd()
        for path in _SCREENSHOTS:
            shown = path.relative_to(root) if path.is_relative_to(root) else path
            terminalreporter.write_line(str(shown))
