"""Instagram Direct: Facebook Login, then the Instagram business account."""

from switchboard.connectors.base import (
    ChannelSettings,
    ChannelType,
    ChannelTypeDescriptor,
    ConnectionMethod,
    Field,
    SecretStr,
    register,
)


class InstagramSettings(ChannelSettings):
    instagram_business_account_id: str | None = Field(
        default=None, pattern=r"^\d{1,32}$", title="Instagram business account ID"
    )
    username: str | None = Field(default=None, max_length=100, title="Username")
    access_token: SecretStr | None = Field(default=None, title="Access token")


DESCRIPTOR = register(
    ChannelTypeDescriptor(
        type=ChannelType.INSTAGRAM,
        label="Instagram Direct",
        description="Connect an Instagram business account through Facebook Login.",
        connection_method=ConnectionMethod.OAUTH,
        settings_model=InstagramSettings,
    )
)
