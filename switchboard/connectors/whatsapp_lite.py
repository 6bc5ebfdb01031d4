"""WhatsApp Lite: a number paired by QR code, with sender id and warming campaign settings."""

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


class WhatsAppLiteSettings(ChannelSettings):
    sender_id: str = Field(min_length=1, max_length=64, title="Sender ID", description="Provider sender id.")
    phone_number: E164 = Field(title="Phone number", description="E.164, e.g. +14155550100")
    warming_enabled: bool = Field(default=False, title="Warming campaign", description="Ramp volume slowly.")
    warming_daily_limit: int = Field(default=50, ge=1, le=100000, title="Warming daily limit")
    session_token: SecretStr | None = Field(
        default=None, title="Session token", description="Set by pairing.", json_schema_extra=SET_BY_SYSTEM
    )


DESCRIPTOR = register(
    ChannelTypeDescriptor(
        type=ChannelType.WHATSAPP_LITE,
        label="WhatsApp Lite",
        description="Pair a WhatsApp number by scanning a QR code.",
        connection_method=ConnectionMethod.QR,
        settings_model=WhatsAppLiteSettings,
        byom_family="whatsapp",
    )
)
