from tests.support.oauth_env import oauth_client, providers, web  # noqa: F401
from tests.support.sandbox_server import sandbox_server  # noqa: F401
