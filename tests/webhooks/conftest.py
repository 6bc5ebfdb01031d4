from tests.support.oauth_env import oauth_client, providers, web  # noqa: F401
