"""WhatsApp Cloud by manual entry: a system-user token, WABA id and phone number id, verified against
the Graph API before anything is saved (the spec's partner / system-user case)."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.channels.schemas import ChannelAccountCreate
from switchboard.channels.service import ChannelAccountService
from switchboard.connectors.adapter import ErrorKind, ProviderError
from switchboard.connectors.base import ChannelType
from switchboard.connectors.meta_graph import GraphClient
from switchboard.core.config import Settings
from switchboard.core.errors import ProviderFailed, ProviderUnavailable, field_error
from switchboard.core.permissions import Permission, Principal
from switchboard.health.service import health
from switchboard.models import ChannelAccount
from switchboard.oauth import providers

GraphId = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{1,32}$")]


class ManualEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organization_id: uuid.UUID | None = None
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    waba_id: GraphId = Field(description="WhatsApp Business Account ID")
    phone_number_id: GraphId = Field(description="Phone number ID (not the phone number)")
    # Tokens travel in an HTTP header, which carries printable ASCII only.
    access_token: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=10, max_length=1000, pattern=r"^[\x21-\x7e]+$"),
    ] = Field(description="A system-user access token with whatsapp_business_management and _messaging")
    app_secret: str | None = Field(
        default=None, max_length=200, description="Your Meta app's secret, if webhooks come from your own app"
    )
    is_active: bool = False


def _unavailable(exc: ProviderError) -> ProviderUnavailable:
    return ProviderUnavailable(f"The Graph API did not answer: {exc.message}. Try again in a minute.")


class WhatsAppCloudManual:
    def __init__(self, accounts: ChannelAccountService) -> None:
        self.accounts = accounts

    async def verify(self, settings: Settings, entry: ManualEntry) -> str:
        """Returns the display phone number; errors name the field that is wrong."""
        graph = GraphClient(providers.meta(settings))
        try:
            node = await graph.get(
                entry.phone_number_id, entry.access_token, fields="display_phone_number,verified_name"
            )
        except ProviderError as exc:
            if exc.kind is ErrorKind.TRANSIENT:
                raise _unavailable(exc) from exc
            if exc.code in ("token_expired", "190", "2500") or exc.status == 401:
                raise field_error(
                    "settings.access_token",
                    "rejected_by_provider",
                    f"Meta did not accept this token: {exc.message}",
                ) from exc
            if exc.kind is ErrorKind.NEEDS_ACTION:
                raise field_error(
                    "settings.access_token",
                    "missing_permission",
                    f"The token lacks a WhatsApp permission: {exc.message}",
                ) from exc
            raise field_error(
                "settings.phone_number_id", "not_found", f"No such phone number id: {exc.message}"
            ) from exc
        try:
            numbers = await graph.get(f"{entry.waba_id}/phone_numbers", entry.access_token)
        except ProviderError as exc:
            if exc.kind is ErrorKind.TRANSIENT:
                raise _unavailable(exc) from exc
            raise field_error(
                "settings.waba_id", "not_found", f"No such WhatsApp Business Account: {exc.message}"
            ) from exc
        if not any(str(n.get("id")) == entry.phone_number_id for n in numbers.get("data") or []):
            raise field_error(
                "settings.phone_number_id",
                "not_in_waba",
                f"This phone number is not in WhatsApp Business Account {entry.waba_id}.",
            )
        return "+" + "".join(c for c in str(node.get("display_phone_number", "")) if c.isdigit())

    async def connect(
        self, session: AsyncSession, principal: Principal, settings: Settings, entry: ManualEntry
    ) -> ChannelAccount:
        principal.require(Permission.CHANNELS_CONNECT)
        principal.owning_org(entry.organization_id)  # 404 for another tenant before any provider call
        display = await self.verify(settings, entry)
        credentials = {
            "access_token": entry.access_token,
            **({"app_secret": entry.app_secret} if entry.app_secret else {}),
        }
        data = ChannelAccountCreate(
            organization_id=entry.organization_id,
            name=entry.name,
            type=ChannelType.WHATSAPP_CLOUD,
            settings={
                "waba_id": entry.waba_id,
                "phone_number_id": entry.phone_number_id,
                "display_phone_number": display if len(display) > 1 else None,
            },
            credentials=credentials,
            is_active=entry.is_active,
        )
        account = await self.accounts.create(session, principal, data)
        attempt = await health.run(
            session, self.accounts.vault, settings, account, "connect", actor=principal
        )
        if not attempt.ok:
            raise ProviderFailed(f"The number was found but connecting it failed: {attempt.message}")
        return account
