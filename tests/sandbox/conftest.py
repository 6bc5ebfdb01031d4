from tests.support.sandbox_server import sandbox_server  # noqa: F401
