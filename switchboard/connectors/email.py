"""Email over SMTP (sending) and IMAP (receiving)."""

from typing import Literal

from pydantic import EmailStr

from switchboard.connectors.base import (
    ChannelSettings,
    ChannelType,
    ChannelTypeDescriptor,
    ConnectionMethod,
    Field,
    SecretStr,
    register,
)

_HOST = r"^[A-Za-z0-9.-]{1,253}$"


class EmailSettings(ChannelSettings):
    email_address: EmailStr = Field(title="Email address", json_schema_extra={"format": "email"})
    display_name: str | None = Field(default=None, max_length=100, title="Display name")
    smtp_host: str = Field(pattern=_HOST, title="SMTP host")
    smtp_port: int = Field(default=587, ge=1, le=65535, title="SMTP port")
    smtp_security: Literal["starttls", "ssl", "none"] = Field(default="starttls", title="SMTP security")
    smtp_username: str | None = Field(default=None, max_length=320, title="SMTP username")
    smtp_password: SecretStr | None = Field(default=None, title="SMTP password")
    imap_host: str | None = Field(default=None, pattern=_HOST, title="IMAP host")
    imap_port: int = Field(default=993, ge=1, le=65535, title="IMAP port")
    imap_security: Literal["ssl", "starttls", "none"] = Field(default="ssl", title="IMAP security")
    imap_username: str | None = Field(default=None, max_length=320, title="IMAP username")
    imap_password: SecretStr | None = Field(default=None, title="IMAP password")


DESCRIPTOR = register(
    ChannelTypeDescriptor(
        type=ChannelType.EMAIL,
        label="Email",
        description="Send over SMTP and receive by IMAP polling.",
        connection_method=ConnectionMethod.CREDENTIALS,
        settings_model=EmailSettings,
        byom_family="email",
    )
)
