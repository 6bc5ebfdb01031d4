"""Telegram: a bot token from @BotFather."""

import re

from pydantic import field_validator

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

# Telegram publishes no grammar; this is the shape every issued token has had.
_TOKEN = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{20,}$")


class TelegramSettings(ChannelSettings):
    bot_token: SecretStr = Field(title="Bot token", description="From @BotFather, e.g. 123456:ABC-DEF...")
    bot_username: str | None = Field(
        default=None, pattern=r"^[A-Za-z][A-Za-z0-9_]{3,31}$", title="Bot username"
    )
    webhook_secret_token: SecretStr | None = Field(
        default=None,
        title="Webhook secret token",
        description="Generated on connect; Telegram sends it with every webhook.",
        json_schema_extra=SET_BY_SYSTEM,
    )

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, v: SecretStr) -> SecretStr:
        if not _TOKEN.match(v.get_secret_value()):
            raise ValueError(
                "must look like <bot id>:<secret>, e.g. 123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"
            )
        return v


DESCRIPTOR = register(
    ChannelTypeDescriptor(
        type=ChannelType.TELEGRAM,
        label="Telegram",
        description="Connect a Telegram bot with its token.",
        connection_method=ConnectionMethod.TOKEN,
        settings_model=TelegramSettings,
    )
)
