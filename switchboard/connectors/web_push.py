"""Web Push: VAPID-signed pushes to browsers that subscribed on the tenant's site."""

from typing import Annotated

from pydantic import AfterValidator

from switchboard.connectors.base import (
    ChannelSettings,
    ChannelType,
    ChannelTypeDescriptor,
    ConnectionMethod,
    Field,
    HttpUrlStr,
    SecretStr,
    register,
)


def _subject(value: str) -> str:
    # RFC 8292: a contact URI, mailto: or https:
    if not (value.startswith("mailto:") and "@" in value) and not value.startswith("https://"):
        raise ValueError("must be a mailto: address or an https: URL (RFC 8292 contact)")
    return value


class WebPushSettings(ChannelSettings):
    site_url: HttpUrlStr = Field(title="Site URL", description="Where the subscribe snippet runs.")
    vapid_subject: Annotated[str, AfterValidator(_subject)] = Field(
        title="VAPID subject", description="mailto:ops@example.com or https://example.com"
    )
    vapid_public_key: str | None = Field(default=None, max_length=200, title="VAPID public key")
    vapid_private_key: SecretStr | None = Field(default=None, title="VAPID private key")


DESCRIPTOR = register(
    ChannelTypeDescriptor(
        type=ChannelType.WEB_PUSH,
        label="Web Push",
        description="Browser push notifications with VAPID.",
        connection_method=ConnectionMethod.VAPID,
        settings_model=WebPushSettings,
        byom_family="push",
    )
)
