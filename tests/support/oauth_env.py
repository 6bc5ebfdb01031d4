"""The OAuth/QR provider emulators on 127.0.0.1 ports and an app configured to reach them.

The app runs in `live` provider mode with explicit base URLs and app credentials, so the code under
test is exactly what production runs; only the hosts differ.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient

from switchboard.app import create_app
from switchboard.core.config import Settings
from switchboard.sandbox.linkedin import LinkedInSandbox
from switchboard.sandbox.meta import MetaSandbox
from switchboard.sandbox.tiktok import TikTokSandbox
from switchboard.sandbox.whatsapp_lite import WhatsAppLiteSandbox
from tests.support.emulator_server import serve
from tests.support.web import Browser

META_APP_SECRET = "meta-test-app-secret"


@dataclass
class Providers:
    meta: MetaSandbox
    tiktok: TikTokSandbox
    linkedin: LinkedInSandbox
    lite: WhatsAppLiteSandbox
    urls: dict[str, str]


@pytest.fixture(scope="session")
def providers() -> Iterator[Providers]:
    p = Providers(
        MetaSandbox(app_id="111222333", app_secret=META_APP_SECRET),
        TikTokSandbox("tt-client-key", "tt-client-secret"),
        LinkedInSandbox("li-client-id", "li-client-secret", app_id="88000042"),
        WhatsAppLiteSandbox(),
        {},
    )
    with ExitStack() as stack:
        for name in ("meta", "tiktok", "linkedin", "lite"):
            p.urls[name] = stack.enter_context(serve(getattr(p, name).app))
        yield p


def provider_settings(base: Settings, p: Providers, public_base_url: str) -> Settings:
    return base.model_copy(
        update={
            "provider_mode": "live",
            "public_base_url": public_base_url,
            "meta_base_url": p.urls["meta"],
            "meta_dialog_base_url": p.urls["meta"],
            "meta_app_id": p.meta.app_id,
            "meta_app_secret": p.meta.app_secret,
            "meta_verify_token": "meta-verify-token",
            "tiktok_base_url": p.urls["tiktok"],
            "tiktok_auth_base_url": p.urls["tiktok"],
            "tiktok_client_key": p.tiktok.client_id,
            "tiktok_client_secret": p.tiktok.client_secret,
            "linkedin_base_url": p.urls["linkedin"],
            "linkedin_auth_base_url": p.urls["linkedin"],
            "linkedin_client_id": p.linkedin.client_id,
            "linkedin_client_secret": p.linkedin.client_secret,
            "linkedin_app_id": p.linkedin.app_id,
            "whatsapp_lite_base_url": p.urls["lite"],
        }
    )


@pytest.fixture(scope="session")
def oauth_client(settings: Settings, providers: Providers, db: Any) -> Iterator[TestClient]:
    app = create_app(provider_settings(settings, providers, "http://testserver"))
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def web(oauth_client: TestClient) -> Browser:
    return Browser(oauth_client)


_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
_GRANTED = re.compile(r'name="granted" value="([^"]+)"')


def consent(url: str, action: str = "continue", drop: tuple[str, ...] = ()) -> str:
    """Open the provider's consent page, submit its form as a user would; returns the redirect."""
    page = httpx.get(url)
    assert page.status_code == 200, page.text
    assert "Sandbox" in page.text
    data = [(k, html.unescape(v)) for k, v in _HIDDEN.findall(page.text)]
    data += [("granted", g) for g in _GRANTED.findall(page.text) if g not in drop]
    data.append(("action", action))
    answer = httpx.post(
        url, content=urlencode(data), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


_RADIO = re.compile(r'name="choice" value="([^"]+)"')


def start(web: Browser, type_key: str, name: str = "", account_id: str = "") -> str:
    """Press "Connect via ..." (or Reconnect); returns the provider URL the browser is sent to."""
    data = {"account_id": account_id} if account_id else {"name": name}
    r = web.post(f"/oauth/{type_key}/start", data)
    assert r.status_code == 303, r.text
    return str(r.headers["location"])


def callback(web: Browser, location: str) -> httpx.Response:
    assert location.startswith("http://testserver/oauth/callback/"), location
    return web.get(location, follow_redirects=False)


def choices(web: Browser, select_url: str) -> list[str]:
    page = web.get(select_url)
    assert page.status_code == 200, page.text
    return _RADIO.findall(page.text)


def connect(
    web: Browser, type_key: str, name: str = "", choice: int = 0, account_id: str = ""
) -> httpx.Response:
    """The whole flow: Connect, consent, callback, choose; returns the final answer (303 to the list)."""
    location = consent(start(web, type_key, name, account_id))
    r = callback(web, location)
    assert r.status_code == 303, r.text
    select_url = r.headers["location"]
    options = choices(web, select_url)
    return web.post(select_url, {"choice": options[choice]})


def account_by_name(client: TestClient, headers: dict[str, str], name: str) -> dict[str, Any]:
    rows = client.get("/rest/v1/channel_accounts", headers=headers).json()
    items = rows["items"] if isinstance(rows, dict) else rows
    return next(a for a in items if a["name"] == name)
