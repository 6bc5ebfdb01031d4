"""API for connections that are not a plain create: WhatsApp Cloud manual entry, verified first."""

from __future__ import annotations

from fastapi import APIRouter, Request

from switchboard.channels.schemas import ChannelAccountRead
from switchboard.channels.service import ChannelAccountService
from switchboard.core.deps import DB, CurrentPrincipal
from switchboard.oauth.manual import ManualEntry, WhatsAppCloudManual

router = APIRouter(prefix="/rest/v1", tags=["channel connections"])


@router.post("/whatsapp_cloud/connections", response_model=ChannelAccountRead, status_code=201)
async def connect_whatsapp_cloud(
    body: ManualEntry, request: Request, session: DB, principal: CurrentPrincipal
) -> ChannelAccountRead:
    """Connect WhatsApp Cloud with a system-user token; token, WABA and number are checked with Meta first."""
    accounts: ChannelAccountService = request.app.state.channel_accounts
    account = await WhatsAppCloudManual(accounts).connect(
        session, principal, request.app.state.runtime.settings, body
    )
    return await accounts.read(session, account)
