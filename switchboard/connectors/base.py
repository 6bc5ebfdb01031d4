"""The channel type registry: each type declares its settings schema, secrets and connection method.

Adding a type is one new module in this package that calls `register(...)`.
"""

from __future__ import annotations

import builtins
import re
from dataclasses import dataclass
from enum import StrEnum
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import phonenumbers
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, ValidationError


class ChannelType(StrEnum):
    WHATSAPP_LITE = "WHATSAPP_LITE"
    WHATSAPP_CLOUD = "WHATSAPP_CLOUD"
    MESSENGER = "MESSENGER"
    INSTAGRAM = "INSTAGRAM"
    TELEGRAM = "TELEGRAM"
    TIKTOK = "TIKTOK"
    EMAIL = "EMAIL"
    LINKEDIN = "LINKEDIN"
    SHOPIFY_INBOX = "SHOPIFY_INBOX"
    SMS = "SMS"
    WEB_PUSH = "WEB_PUSH"
    SHRINKIT_PUSH = "SHRINKIT_PUSH"
    RCS = "RCS"


class ConnectionMethod(StrEnum):
    QR = "qr"
    OAUTH = "oauth"
    TOKEN = "token"
    CREDENTIALS = "credentials"
    CUSTOM_APP = "custom_app"
    VAPID = "vapid"
    API_KEY = "api_key"
    PROVIDER = "provider"


_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def _e164(value: str) -> str:
    cleaned = re.sub(r"[\s().-]", "", value)
    if not _E164.match(cleaned):
        raise ValueError("must be an E.164 phone number: + then 7 to 15 digits, e.g. +14155550100")
    try:
        parsed = phonenumbers.parse(cleaned, None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number: {exc}") from exc
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _http_url(value: str) -> str:
    if not re.match(r"^https?://[^\s/$.?#][^\s]*$", value, re.IGNORECASE):
        raise ValueError("must be an http(s) URL, e.g. https://example.com")
    return value


E164 = Annotated[str, AfterValidator(_e164), Field(json_schema_extra={"format": "phone"})]
HttpUrlStr = Annotated[
    str, AfterValidator(_http_url), Field(max_length=2000, json_schema_extra={"format": "uri"})
]


# Marks a setting the connection flow fills in (a pairing session, a generated webhook secret, a
# token expiry): part of the schema and the API, but never a field a person types into a form.
SET_BY_SYSTEM: dict[str, Any] = {"set_by": "system"}


class ChannelSettings(BaseModel):
    """Base for every type's settings; unknown keys are refused so typos surface."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


@dataclass(frozen=True)
class ChannelTypeDescriptor:
    type: ChannelType
    label: str
    description: str
    connection_method: ConnectionMethod
    settings_model: builtins.type[ChannelSettings]
    byom_family: str | None = None  # the BYOM gating flag that governs it, if any

    @property
    def secret_fields(self) -> frozenset[str]:
        return frozenset(
            name for name, f in self.settings_model.model_fields.items() if _is_secret(f.annotation)
        )

    def validate(self, values: dict[str, Any]) -> dict[str, Any]:
        """Validate settings; returns plain values (secrets unwrapped). Raises ValidationError."""
        model = self.settings_model.model_validate(values)
        out: dict[str, Any] = {}
        for name in self.settings_model.model_fields:
            value = getattr(model, name)
            out[name] = value.get_secret_value() if isinstance(value, SecretStr) else value
        return out


def _is_secret(annotation: Any) -> bool:
    if annotation is SecretStr:
        return True
    return get_origin(annotation) is not None and any(_is_secret(a) for a in get_args(annotation))


REGISTRY: dict[ChannelType, ChannelTypeDescriptor] = {}


def register(descriptor: ChannelTypeDescriptor) -> ChannelTypeDescriptor:
    REGISTRY[descriptor.type] = descriptor
    return descriptor


def get_descriptor(channel_type: ChannelType | str) -> ChannelTypeDescriptor:
    return REGISTRY[ChannelType(channel_type)]


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    help: str
    input_type: str
    required: bool
    secret: bool
    options: tuple[str, ...] = ()
    default: Any = None


def form_fields(descriptor: ChannelTypeDescriptor) -> list[FormField]:
    """The add/edit form for a type, generated from its settings schema."""
    fields = []
    for name, info in descriptor.settings_model.model_fields.items():
        ann = info.annotation
        inner = ann
        if get_origin(ann) in (Union, UnionType):
            inner = next(a for a in get_args(ann) if a is not type(None))
        secret = _is_secret(ann)
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if extra.get("set_by") == "system":
            continue
        options: tuple[str, ...] = ()
        if secret:
            input_type = "password"
        elif inner is bool:
            input_type = "checkbox"
        elif inner is int:
            input_type = "number"
        elif get_origin(inner) is Literal:
            input_type, options = "select", tuple(str(a) for a in get_args(inner))
        elif extra.get("format") == "phone":
            input_type = "tel"
        elif extra.get("format") == "uri":
            input_type = "url"
        elif extra.get("format") == "email":
            input_type = "email"
        else:
            input_type = "text"
        default = None if info.is_required() else info.default
        fields.append(
            FormField(
                name=name,
                label=info.title or name.replace("_", " ").capitalize(),
                help=info.description or "",
                input_type=input_type,
                required=info.is_required(),
                secret=secret,
                options=options,
                default=default,
            )
        )
    return fields


__all__ = [
    "E164",
    "REGISTRY",
    "SET_BY_SYSTEM",
    "ChannelSettings",
    "ChannelType",
    "ChannelTypeDescriptor",
    "ConnectionMethod",
    "Field",
    "FormField",
    "HttpUrlStr",
    "SecretStr",
    "ValidationError",
    "form_fields",
    "get_descriptor",
    "register",
]
