"""In sandbox mode the emulators are mounted in the app, labelled, and the adapters default to them."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from switchboard.connectors.http import base_url
from switchboard.core.config import Settings


@pytest.mark.parametrize("name", ["telegram", "shopify", "push", "shrinkit", "rbm"])
def test_emulator_pages_are_labelled_sandbox(client: TestClient, name: str) -> None:
    r = client.get(f"/sandbox/{name}/")
    assert r.status_code == 200
    assert 'data-testid="sandbox-banner"' in r.text


def test_base_urls_follow_the_provider_mode() -> None:
    sandbox = Settings(provider_mode="sandbox", public_base_url="http://127.0.0.1:8000")
    assert base_url(sandbox, "telegram") == "http://127.0.0.1:8000/sandbox/telegram"
    assert base_url(sandbox, "shopify") == "http://127.0.0.1:8000/sandbox/shopify/{shop}"
    live = Settings(provider_mode="live")
    assert base_url(live, "telegram") == "https://api.telegram.org"
    assert base_url(live, "shopify") == "https://{shop}"
    explicit = Settings(provider_mode="live", telegram_base_url="http://127.0.0.1:9999/")
    assert base_url(explicit, "telegram") == "http://127.0.0.1:9999"
