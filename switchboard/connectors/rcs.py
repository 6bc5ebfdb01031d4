"""RCS Business Messaging: an agent verified by Google."""

from switchboard.connectors.base import (
    ChannelSettings,
    ChannelType,
    ChannelTypeDescriptor,
    ConnectionMethod,
    Field,
    SecretStr,
    register,
)


class RcsSettings(ChannelSettings):
    brand_name: str = Field(min_length=1, max_length=100, title="Brand name")
    agent_id: str | None = Field(default=None, max_length=100, title="RBM agent ID")
    service_account_key: SecretStr | None = Field(default=None, title="Service account key (JSON)")
    webhook_client_token: SecretStr | None = Field(
        default=None,
        title="Webhook client token",
        description="From the RBM partner webhook settings; verifies X-Goog-Signature.",
    )


DESCRIPTOR = register(
    ChannelTypeDescriptor(
        type=ChannelType.RCS,
        label="RCS",
        description="Rich Communication Services through Google's RBM.",
        connection_method=ConnectionMethod.CREDENTIALS,
        settings_model=RcsSettings,
        byom_family="rcs",
    )
)
