"""WhatsApp Lite QR pairing: start a pairing session at the gateway, show its payload as a QR code,
and when the phone has scanned it store the session token and mark the channel connected."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass

import qrcode
import qrcode.image.svg
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.channels.schemas import ChannelAccountUpdate
from switchboard.channels.service import ChannelAccountService
from switchboard.connectors.adapter import ProviderError
from switchboard.connectors.base import ChannelType
from switchboard.connectors.whatsapp_lite_api import WhatsAppLiteAdapter
from switchboard.core.config import Settings
from switchboard.core.errors import NotFound, ProviderFailed
from switchboard.core.permissions import Permission, Principal
from switchboard.health.service import health
from switchboard.models import ChannelAccount

PAIRING_OWNER = "channel_pairing"


@dataclass
class PairingView:
    status: str  # pending | paired | failed
    session_id: str | None
    message: str


def qr_svg(payload: str) -> bytes:
    """The pairing payload as an SVG QR code, drawn on the server (no third-party image service)."""
    image = qrcode.make(payload, image_factory=qrcode.image.svg.SvgPathImage, box_size=12, border=2)
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()


class PairingService:
    def __init__(self, accounts: ChannelAccountService) -> None:
        self.accounts = accounts
        self.vault = accounts.vault

    async def _account(
        self, session: AsyncSession, principal: Principal, account_id: uuid.UUID
    ) -> ChannelAccount:
        account = await self.accounts.get(session, principal, account_id)
        if account.type != ChannelType.WHATSAPP_LITE.value:
            raise NotFound("Only WhatsApp Lite channels are paired by QR code.")
        principal.require(Permission.CHANNELS_CONNECT)
        return account

    async def start(
        self, session: AsyncSession, principal: Principal, settings: Settings, account_id: uuid.UUID
    ) -> tuple[ChannelAccount, str]:
        """A fresh pairing session (each visit of the page gets a new QR code); returns its session id."""
        account = await self._account(session, principal, account_id)
        try:
            body = await WhatsAppLiteAdapter(settings).start_pairing(
                str(account.settings.get("sender_id")), str(account.settings.get("phone_number"))
            )
        except ProviderError as exc:
            raise ProviderFailed(f"The WhatsApp Lite gateway could not start pairing: {exc.message}") from exc
        org = account.organization_id
        for name in ("session_id", "session_token", "qr_payload"):
            await self.vault.put(session, PAIRING_OWNER, account.id, name, str(body[name]), org)
        return account, str(body["session_id"])

    async def qr(self, session: AsyncSession, principal: Principal, account_id: uuid.UUID) -> bytes:
        account = await self._account(session, principal, account_id)
        payload = await self.vault.get(session, PAIRING_OWNER, account.id, "qr_payload")
        if not payload:
            raise NotFound("No pairing in progress.")
        return qr_svg(payload)

    async def poll(
        self, session: AsyncSession, principal: Principal, settings: Settings, account_id: uuid.UUID
    ) -> PairingView:
        account = await self._account(session, principal, account_id)
        pairing = await self.vault.read_all(session, PAIRING_OWNER, account.id)
        if not pairing.get("session_token"):
            if account.connection_status == "connected":
                return PairingView("paired", None, "Connected.")
            raise NotFound("No pairing in progress.")
        try:
            body = await WhatsAppLiteAdapter(settings).session_status(pairing["session_token"])
        except ProviderError as exc:
            return PairingView(
                "pending", pairing.get("session_id"), f"Waiting for the gateway ({exc.message})."
            )
        if body.get("status") != "paired":
            return PairingView(
                "pending", pairing.get("session_id"), "Waiting for the phone to scan the code…"
            )
        await self.accounts.update(
            session,
            principal,
            account.id,
            ChannelAccountUpdate(credentials={"session_token": pairing["session_token"]}),
        )
        attempt = await health.run(session, self.vault, settings, account, "connect", actor=principal)
        await self.vault.remove(session, PAIRING_OWNER, account.id)
        if not attempt.ok:
            return PairingView("failed", None, attempt.message or "The pairing could not be verified.")
        return PairingView("paired", None, "Paired and connected.")
