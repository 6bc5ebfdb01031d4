"""Shopify Inbox: a custom app's credentials; inbound messages arrive by webhook."""

from switchboard.connectors.base import (
    ChannelSettings,
    ChannelType,
    ChannelTypeDescriptor,
    ConnectionMethod,
    Field,
    SecretStr,
    register,
)


class ShopifyInboxSettings(ChannelSettings):
    shop_domain: str = Field(
        pattern=r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$",
        title="Shop domain",
        description="your-store.myshopify.com",
    )
    client_id: str | None = Field(default=None, max_length=100, title="Client ID")
    client_secret: SecretStr | None = Field(
        default=None, title="Client secret", description="Signs webhooks."
    )
    admin_api_access_token: SecretStr | None = Field(default=None, title="Admin API access token")


DESCRIPTOR = register(
    ChannelTypeDescriptor(
        type=ChannelType.SHOPIFY_INBOX,
        label="Shopify Inbox",
        description="Store chat through a custom Shopify app.",
        connection_method=ConnectionMethod.CUSTOM_APP,
        settings_model=ShopifyInboxSettings,
    )
)
