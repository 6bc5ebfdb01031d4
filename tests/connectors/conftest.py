from __future__ import annotations

from collections.abc import Iterator

import pytest

from switchboard.core.config import Settings
from switchboard.sandbox.rbm import RbmSandbox
from switchboard.sandbox.shopify import ShopifySandbox
from switchboard.sandbox.shrinkit import ShrinkItSandbox
from tests.support.emulator_server import serve
from tests.support.provider_fixtures import _push_server as _push_server
from tests.support.provider_fixtures import _telegram_server as _telegram_server
from tests.support.provider_fixtures import push_service as push_service
from tests.support.provider_fixtures import telegram as telegram


@pytest.fixture(scope="module")
def _shopify_server() -> Iterator[tuple[ShopifySandbox, str]]:
    sandbox = ShopifySandbox()
    with serve(sandbox.app) as url:
        yield sandbox, url


@pytest.fixture
def shopify(
    _shopify_server: tuple[ShopifySandbox, str], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> ShopifySandbox:
    sandbox, url = _shopify_server
    sandbox.shops.clear()
    monkeypatch.setattr(settings, "shopify_base_url", url + "/{shop}")
    monkeypatch.setattr(settings, "public_base_url", "http://testserver")
    return sandbox


@pytest.fixture(scope="module")
def _shrinkit_server() -> Iterator[tuple[ShrinkItSandbox, str]]:
    sandbox = ShrinkItSandbox()
    with serve(sandbox.app) as url:
        yield sandbox, url


@pytest.fixture
def shrinkit(
    _shrinkit_server: tuple[ShrinkItSandbox, str], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> ShrinkItSandbox:
    sandbox, url = _shrinkit_server
    sandbox.apps.clear()
    monkeypatch.setattr(settings, "shrinkit_base_url", url)
    monkeypatch.setattr(settings, "public_base_url", "http://testserver")
    return sandbox


@pytest.fixture(scope="module")
def _rbm_server() -> Iterator[tuple[RbmSandbox, str]]:
    sandbox = RbmSandbox(open_mode=False)
    with serve(sandbox.app) as url:
        sandbox.base_url = url
        yield sandbox, url


@pytest.fixture
def rbm(
    _rbm_server: tuple[RbmSandbox, str], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> RbmSandbox:
    sandbox, url = _rbm_server
    sandbox.keys.clear()
    sandbox.disabled.clear()
    sandbox.sent.clear()
    monkeypatch.setattr(settings, "rbm_base_url", url)
    return sandbox
