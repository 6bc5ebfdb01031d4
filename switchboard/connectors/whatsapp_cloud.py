"""WhatsApp Cloud (Meta): Facebook Login, or manual entry with a system-user token."""

from datetime import datetime

from switchboard.connectors.base import (
    E164,
    SET_BY_SYSTEM,
    ChannelSettings,
    ChannelType,
    ChannelTypeDescriptor,
    ConnectionMethod,
    Field,
    SecretStr,
    register,
)


class WhatsAppCloudSettings(ChannelSettings):
    waba_id: str | None = Field(default=None, pattern=r"^\d{1,32}$", title="WhatsApp Business Account ID")
    phone_number_id: str | None = Field(default=None, pattern=r"^\d{1,32}$", title="Phone number ID")
    display_phone_number: E164 | None = Field(default=None, title="Display phone number")
    access_token: SecretStr | None = Field(
        default=None, title="Access token", description="System-user token."
    )
    app_secret: SecretStr | None = Field(default=None, title="App secret", description="Signs webhooks.")
    access_token_expires_at: datetime | None = Field(
        default=None,
        title="Access token expires",
        description="Set when connecting; renewed automatically.",
        json_schema_extra=SET_BY_SYSTEM,
    )


DESCRIPTOR = register(
    ChannelTypeDescriptor(
        type=ChannelType.WHATSAPP_CLOUD,
        label="WhatsApp Cloud",
        description="Meta's WhatsApp Business Platform via Facebook Login or a system-user token.",
        connection_method=ConnectionMethod.OAUTH,
        settings_model=WhatsAppCloudSettings,
        byom_family="whatsapp",
    )
)
