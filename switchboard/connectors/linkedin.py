"""LinkedIn: OAuth, then the organization page to act as."""

from switchboard.connectors.base import (
    ChannelSettings,
    ChannelType,
    ChannelTypeDescriptor,
    ConnectionMethod,
    Field,
    SecretStr,
    register,
)


class LinkedInSettings(ChannelSettings):
    organization_urn: str | None = Field(
        default=None, pattern=r"^urn:li:organization:\d+$", title="Organization URN"
    )
    access_token: SecretStr | None = Field(default=None, title="Access token")
    refresh_token: SecretStr | None = Field(default=None, title="Refresh token")


DESCRIPTOR = register(
    ChannelTypeDescriptor(
        type=ChannelType.LINKEDIN,
        label="LinkedIn",
        description="Connect a LinkedIn organization through OAuth.",
        connection_method=ConnectionMethod.OAUTH,
        settings_model=LinkedInSettings,
    )
)
