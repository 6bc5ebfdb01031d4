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
    cookie_secure: bool = Field(default=False, description="Set in production behind TLS.")

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
