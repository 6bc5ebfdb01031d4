"""Settings, read once from the environment (prefix SWITCHBOARD_)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def normalize_database_url(url: str) -> str:
    """Accept URLs as operators write them and pick the async driver ourselves."""
    url = url.strip()
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError("database URL must look like sqlite:///path.db or postgresql://user@host/db")
    base = scheme.split("+", 1)[0]
    if base == "sqlite":
        return f"sqlite+aiosqlite://{rest}"
    if base == "postgresql":
        return f"postgresql+asyncpg://{rest}"
    raise ValueError(f"unsupported database scheme {scheme!r}: use sqlite or postgresql")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    var_dir: Path = Path("var")
    database_url: str = ""
    queue_url: str = ""
    dns_nameservers: str = ""
    dns_timeout: float = 3.0
    smtp_url: str = ""
    smtp_from: str = "Switchboard <no-reply@switchboard.local>"
    provider_mode: Literal["sandbox", "live"] = "sandbox"
    public_base_url: str = "http://127.0.0.1:8000"
    vault_key: str = ""
    log_level: str = "INFO"
    log_json: bool = True
    session_max_age_seconds: int = 8 * 3600
    login_attempts_per_window: int = 5
    login_window_seconds: int = 300
    max_body_bytes: int = 1024 * 1024
    ses_region: str = "us-east-1"
    ses_endpoint_url: str = ""
    ses_access_key_id: str = ""
    ses_secret_access_key: str = ""
    dmarc_rua: str = ""
    # Twilio: REST API (2010-04-01) base for the SMS channel, the SMS numbers and voice; empty means the
    # in-process sandbox (/sandbox/twilio) in sandbox mode and https://api.twilio.com in live mode.
    # TrustHub base and the sandbox's customer profile review delay (voice).
    twilio_base_url: str = ""
    twilio_trusthub_base_url: str = "https://trusthub.twilio.com"
    twilio_timeout: float = 10.0
    twilio_customer_profile_policy_sid: str = "RNdfbf3fae0e1107f8aded0e7cead80bf5"
    sandbox_profile_approval_seconds: int = 60
    # SMS (Twilio, the platform's own account): numbers, A2P 10DLC, pricing, hosted numbers.
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_messaging_base_url: str = "https://messaging.twilio.com"
    twilio_pricing_base_url: str = "https://pricing.twilio.com"
    twilio_numbers_base_url: str = "https://numbers.twilio.com"
    twilio_a2p_profile_policy_sid: str = "RNb0d4771c2c98518d916a3d4cd70a8f8b"
    twilio_primary_customer_profile_sid: str = ""
    sms_verification_from: str = Field(default="", description="E.164 number or MG... sid for byon codes")
    # SES events over SNS: origins allowed for SigningCertURL/SubscribeURL, and (comma-separated)
    # the topic ARNs accepted; empty accepts any topic (development only, see docs/reputation.md).
    sns_url_pattern: str = r"^https://sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$"
    sns_topic_arns: str = ""
    sns_timeout: float = 5.0
    cookie_secure: bool = Field(default=False, description="Set in production behind TLS.")
    # OAuth/QR providers (switchboard/oauth, connectors). Empty base URLs mean: the in-process
    # sandbox under {public_base_url}/sandbox/<provider> in sandbox mode, the real host in live mode.
    meta_base_url: str = ""
    meta_dialog_base_url: str = ""
    meta_graph_version: str = "v21.0"
    meta_app_id: str = ""
    tiktok_base_url: str = ""
    tiktok_auth_base_url: str = ""
    tiktok_client_key: str = ""
    tiktok_client_secret: str = ""
    linkedin_base_url: str = ""
    linkedin_auth_base_url: str = ""
    linkedin_client_id: str = ""
    linkedin_client_secret: str = ""
    # The platform LinkedIn app's numeric id (the Developer Portal's app URL): connecting subscribes
    # each organization as urn:li:developerApplication:<id>; empty = the sandbox app's in sandbox mode.
    linkedin_app_id: str = ""
    whatsapp_lite_base_url: str = ""
    oauth_state_ttl_seconds: int = 600
    token_refresh_margin_seconds: int = 7 * 24 * 3600
    # Provider base URLs; empty = the in-process sandbox in sandbox mode, the real provider in live mode.
    telegram_base_url: str = ""
    shopify_base_url: str = Field(default="", description="Template with {shop}, e.g. https://{shop}")
    shopify_api_version: str = "2025-01"
    shrinkit_base_url: str = ""
    rbm_base_url: str = ""
    meta_verify_token: str = ""
    meta_app_secret: str = ""
    webhook_verify_cache_seconds: float = 30.0
    # Managed channel onboarding (switchboard/onboarding). Empty base URLs mean the provider's real
    # host in live mode; sandbox mode uses in-process stand-ins and never calls out.
    meta_waba_id: str = ""
    meta_system_token: str = ""
    dlt_base_url: str = ""
    dlt_api_key: str = ""
    business_communications_base_url: str = ""
    business_communications_token: str = ""
    rbm_partner_name: str = "Switchboard"
    rbm_partner_email: str = "partners@switchboard.local"
    number_pool_base_url: str = ""
    number_pool_api_key: str = ""
    sender_rental_rate: str = "1.00 USD/month"
    sandbox_delay_seconds: float = 0.0
    # Sandbox mail (switchboard/sandbox/mail.py): in sandbox mode the server process also runs an SMTP
    # and an IMAP server on 127.0.0.1 for Email channels, and /sandbox/mail; a port of 0 picks a free one.
    sandbox_mail: bool = True
    sandbox_smtp_port: int = Field(default=2525, ge=0, le=65535)
    sandbox_imap_port: int = Field(default=1143, ge=0, le=65535)
    onboarding_step_lease_seconds: float = 60.0

    @field_validator("database_url")
    @classmethod
    def _check_db_url(cls, v: str) -> str:
        if v:
            normalize_database_url(v)
        return v

    @property
    def async_database_url(self) -> str:
        url = self.database_url or f"sqlite:///{self.var_dir / 'switchboard.db'}"
        return normalize_database_url(url)

    @property
    def is_sqlite(self) -> bool:
        return self.async_database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
