"""Facebook Messenger: Facebook Login, then the Page to connect."""

from switchboard.connectors.base import (
    ChannelSettings,
    ChannelType,
    ChannelTypeDescriptor,
    ConnectionMethod,
    Field,
    SecretStr,
    register,
)


class MessengerSettings(ChannelSettings):
    page_id: str | None = Field(default=None, pattern=r"^\d{1,32}$", title="Facebook Page ID")
    page_name: str | None = Field(default=None, max_length=200, title="Page name")
    page_access_token: SecretStr | None = Field(default=None, title="Page access token")


DESCRIPTOR = register(
    ChannelTypeDescriptor(
        type=ChannelType.MESSENGER,
        label="Facebook Messenger",
        description="Connect a Facebook Page through Facebook Login.",
        connection_method=ConnectionMethod.OAUTH,
        settings_model=MessengerSettings,
    )
)
