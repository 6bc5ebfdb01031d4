"""Where each OAuth/QR provider lives and which app credentials we use with it.

An empty `*_base_url` setting means the in-process sandbox (mounted at
`{public_base_url}/sandbox/<provider>`) in sandbox mode and the provider's real host in live mode,
so `make run` connects every type offline while production needs only the app credentials.
"""

from __future__ import annotations

from dataclasses import dataclass

from switchboard.core.config import Settings

SANDBOX_CLIENT_ID = "sandbox-app"
SANDBOX_CLIENT_SECRET = "sandbox-app-secret"
SANDBOX_LINKEDIN_APP_ID = "77000001"  # the sandbox LinkedIn developer application's id


def _pick(settings: Settings, value: str, sandbox_name: str, live: str) -> str:
    if value:
        return value.rstrip("/")
    if settings.provider_mode == "sandbox":
        return f"{settings.public_base_url.rstrip('/')}/sandbox/{sandbox_name}"
    return live


def _cred(settings: Settings, value: str) -> str:
    return value or (SANDBOX_CLIENT_SECRET if settings.provider_mode == "sandbox" else "")


@dataclass(frozen=True)
class MetaConfig:
    graph_url: str  # https://graph.facebook.com/v21.0
    dialog_url: str  # https://www.facebook.com/v21.0/dialog/oauth
    app_id: str
    app_secret: str


def meta(settings: Settings) -> MetaConfig:
    version = settings.meta_graph_version
    base = _pick(settings, settings.meta_base_url, "meta", "https://graph.facebook.com")
    dialog = _pick(settings, settings.meta_dialog_base_url, "meta", "https://www.facebook.com")
    app_id = settings.meta_app_id or (SANDBOX_CLIENT_ID if settings.provider_mode == "sandbox" else "")
    return MetaConfig(
        f"{base}/{version}",
        f"{dialog}/{version}/dialog/oauth",
        app_id,
        _cred(settings, settings.meta_app_secret),
    )


@dataclass(frozen=True)
class OAuthEndpoints:
    authorize_url: str
    token_url: str
    api_url: str
    client_id: str
    client_secret: str


def tiktok(settings: Settings) -> OAuthEndpoints:
    """TikTok API for Business (Business Messaging): the account holder consents on www.tiktok.com,
    tokens and messaging live under business-api.tiktok.com/open_api/v1.3. The client key is the
    Business API app id."""
    auth = _pick(settings, settings.tiktok_auth_base_url, "tiktok", "https://www.tiktok.com")
    api = _pick(settings, settings.tiktok_base_url, "tiktok", "https://business-api.tiktok.com")
    key = settings.tiktok_client_key or (SANDBOX_CLIENT_ID if settings.provider_mode == "sandbox" else "")
    return OAuthEndpoints(
        f"{auth}/v2/auth/authorize/",
        f"{api}/open_api/v1.3/tt_user/oauth2/token/",
        f"{api}/open_api/v1.3",
        key,
        _cred(settings, settings.tiktok_client_secret),
    )


def linkedin(settings: Settings) -> OAuthEndpoints:
    auth = _pick(settings, settings.linkedin_auth_base_url, "linkedin", "https://www.linkedin.com")
    api = _pick(settings, settings.linkedin_base_url, "linkedin", "https://api.linkedin.com")
    cid = settings.linkedin_client_id or (SANDBOX_CLIENT_ID if settings.provider_mode == "sandbox" else "")
    return OAuthEndpoints(
        f"{auth}/oauth/v2/authorization",
        f"{auth}/oauth/v2/accessToken",
        api,
        cid,
        _cred(settings, settings.linkedin_client_secret),
    )


def linkedin_app_id(settings: Settings) -> str:
    """The developer application id event subscriptions name (urn:li:developerApplication:<id>);
    empty in live mode until the operator sets SWITCHBOARD_LINKEDIN_APP_ID."""
    if settings.linkedin_app_id:
        return settings.linkedin_app_id.strip()
    return SANDBOX_LINKEDIN_APP_ID if settings.provider_mode == "sandbox" else ""


def whatsapp_lite_url(settings: Settings) -> str:
    return _pick(settings, settings.whatsapp_lite_base_url, "whatsapp-lite", "https://wa-lite.appgain.io")
