"""Instagram Direct: Facebook Login, then the Instagram business account."""

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


class InstagramSettings(ChannelSettings):
    instagram_business_account_id: str | None = Field(
        default=None, pattern=r"^\d{1,32}$", title="Instagram business account ID"
    )
    username: str | None = Field(default=None, max_length=100, title="Username")
    # Instagram messages reach us through this Page's webhook subscription (and its token).
    page_id: str | None = Field(
        default=None, pattern=r"^\d{1,32}$", title="Linked Facebook Page ID", json_schema_extra=SET_BY_SYSTEM
    )
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
