"""The worker knows every job the code defines."""

from __future__ import annotations

import importlib
import pkgutil

import switchboard


def test_every_tasks_module_is_registered_with_the_worker() -> None:
    from switchboard import jobs
    from switchboard.core.queue import huey

    registered = set(huey._registry._registry)
    modules = [
        f"switchboard.{m.name}.tasks"
        for m in pkgutil.iter_modules(switchboard.__path__)
        if m.ispkg and importlib.util.find_spec(f"switchboard.{m.name}.tasks")
    ]
    assert "switchboard.webhooks.tasks" in modules
    assert "switchboard.health.tasks" in modules
    for module in modules:
        assert any(name.startswith(module + ".") for name in registered), module
    assert jobs.huey is huey
