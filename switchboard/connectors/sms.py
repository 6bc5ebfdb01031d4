"""SMS: outbound broadcasts and sequences through the SMS provider."""

from switchboard.connectors.base import (
    E164,
    ChannelSettings,
    ChannelType,
    ChannelTypeDescriptor,
    ConnectionMethod,
    Field,
    SecretStr,
    register,
)


class SmsSettings(ChannelSettings):
    phone_number: E164 = Field(title="Phone number", description="E.164, e.g. +14155550100")
    sender_id: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9 ]{1,11}$", title="Alphanumeric sender ID", description="Up to 11."
    )
    provider: str = Field(default="sandbox", pattern=r"^[a-z0-9_]{1,32}$", title="Provider")
    api_key: SecretStr | None = Field(default=None, title="Provider API key")
    # Twilio-style providers: the account SID and auth token (Basic auth; signs webhooks) and, for
    # numbers in a Messaging Service pool (US 10DLC), the service that owns them.
    account_sid: str | None = Field(default=None, pattern=r"^AC[0-9a-fA-F]{32}$", title="Account SID")
    auth_token: SecretStr | None = Field(default=None, title="Auth token", description="Signs webhooks.")
    messaging_service_sid: str | None = Field(
        default=None, pattern=r"^MG[0-9a-fA-F]{32}$", title="Messaging Service SID"
    )


DESCRIPTOR = register(
    ChannelTypeDescriptor(
        type=ChannelType.SMS,
        label="SMS",
        description="Outbound SMS broadcasts and sequences.",
        connection_method=ConnectionMethod.PROVIDER,
        settings_model=SmsSettings,
        byom_family="sms",
    )
)
