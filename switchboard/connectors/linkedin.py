"""LinkedIn: OAuth, then the organization page to act as."""

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


class LinkedInSettings(ChannelSettings):
    organization_urn: str | None = Field(
        default=None, pattern=r"^urn:li:organization:\d+$", title="Organization URN"
    )
    access_token: SecretStr | None = Field(default=None, title="Access token")
    refresh_token: SecretStr | None = Field(default=None, title="Refresh token")
    access_token_expires_at: datetime | None = Field(
        default=None,
        title="Access token expires",
        description="Set when connecting; renewed automatically.",
        json_schema_extra=SET_BY_SYSTEM,
    )
    # The member whose authorization holds the organization's webhook subscription (LinkedIn keys
    # subscriptions by application, member and organization); learnt from userinfo on connect.
    person_urn: str | None = Field(
        default=None,
        pattern=r"^urn:li:person:[^\s,():]+$",
        title="Subscribing member",
        description="The LinkedIn member whose authorization subscribes the organization to "
        "webhook notifications; set when connecting.",
        json_schema_extra=SET_BY_SYSTEM,
    )


DESCRIPTOR = register(
    ChannelTypeDescriptor(
        type=ChannelType.LINKEDIN,
        label="LinkedIn",
        description="Connect a LinkedIn organization through OAuth.",
        connection_method=ConnectionMethod.OAUTH,
        settings_model=LinkedInSettings,
    )
)
