"""ShrinkIt Push: mobile app push through the ShrinkIt service."""

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


class ShrinkItPushSettings(ChannelSettings):
    app_id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._-]+$", title="App ID")
    api_key: SecretStr | None = Field(default=None, title="API key")
    webhook_secret: SecretStr | None = Field(
        default=None,
        title="Webhook secret",
        description="Generated on connect; signs delivery receipts.",
        json_schema_extra=SET_BY_SYSTEM,
    )


DESCRIPTOR = register(
    ChannelTypeDescriptor(
        type=ChannelType.SHRINKIT_PUSH,
        label="ShrinkIt Push",
        description="Mobile app push notifications.",
        connection_method=ConnectionMethod.API_KEY,
        settings_model=ShrinkItPushSettings,
    )
)
