"""TikTok Business: OAuth 2.0 with refreshable tokens."""

from datetime import datetime

from switchboard.connectors.base import (
    SET_BY_SYSTEM,
    ChannelSettings,
    ChannelType,
    ChannelTypeDescriptor,
    ConnectionMethod,
    Field,
    SecretStr,
    register,
)


class TikTokSettings(ChannelSettings):
    business_id: str | None = Field(default=None, max_length=64, title="Business account ID")
    display_name: str | None = Field(default=None, max_length=100, title="Display name")
    access_token: SecretStr | None = Field(default=None, title="Access token")
    refresh_token: SecretStr | None = Field(default=None, title="Refresh token")
    access_token_expires_at: datetime | None = Field(
        default=None,
        title="Access token expires",
        description="Set when connecting; renewed automatically.",
        json_schema_extra=SET_BY_SYSTEM,
    )


DESCRIPTOR = register(
    ChannelTypeDescriptor(
        type=ChannelType.TIKTOK,
        label="TikTok",
        description="Connect a TikTok business account through OAuth.",
        connection_method=ConnectionMethod.OAUTH,
        settings_model=TikTokSettings,
    )
)
