"""SMS outbound through the SMS provider adapter (switchboard/sms/provider.py, Twilio Messages.json),
with the channel account's own credentials. Inbound and status webhooks go to /webhooks/twilio/sms."""

from __future__ import annotations

from typing import Any

import httpx2

from switchboard.connectors.adapter import (
    AccountContext,
    ErrorKind,
    HealthResult,
    InboundEvent,
    ProviderError,
    SendResult,
    register_adapter,
)
from switchboard.connectors.base import ChannelType
from switchboard.connectors.http import base_url, json_or_empty, kind_for_status, request


def _credentials(ctx: AccountContext) -> tuple[str, str]:
    sid, token = str(ctx.settings.get("account_sid") or ""), ctx.secrets.get("auth_token", "")
    if not sid or not token:
        raise ProviderError(
            "Account SID and auth token are required", kind=ErrorKind.NEEDS_ACTION, code="missing_credentials"
        )
    return sid, token


class SmsAdapter:
    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self.base = base_url(settings, "twilio")

    async def check_health(self, ctx: AccountContext) -> HealthResult:
        """The credentials work and the number is still on the account."""
        sid, token = _credentials(ctx)
        response = await request(
            "GET",
            f"{self.base}/2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json",
            params={"PhoneNumber": str(ctx.settings.get("phone_number") or "")},
            auth=httpx2.BasicAuth(sid, token),
        )
        if response.status_code != 200:
            body = json_or_empty(response)
            kind = kind_for_status(response.status_code)
            said = f"{body.get('message') or f'HTTP {response.status_code}'} (error {body.get('code')})"
            raise ProviderError(
                f"Twilio rejected the Account SID and auth token: {said}"
                if response.status_code == 401
                else f"Twilio: {said}",
                kind=kind,
                code="token_revoked" if kind is ErrorKind.NEEDS_ACTION else str(body.get("code") or ""),
                status=response.status_code,
            )
        number = str(ctx.settings.get("phone_number") or "")
        owned = json_or_empty(response).get("incoming_phone_numbers")
        if (
            number
            and isinstance(owned, list)
            and not any(isinstance(n, dict) and n.get("phone_number") == number for n in owned)
        ):
            # Released, ported away, or moved to another (sub)account: sends from it would fail.
            raise ProviderError(
                f"{number} is not a number of Twilio account {sid}; add it back or change the number",
                kind=ErrorKind.NEEDS_ACTION,
                code="number_not_on_account",
            )
        return HealthResult(ok=True)

    async def connect(self, ctx: AccountContext) -> HealthResult:
        return await self.check_health(ctx)

    def verify_webhook(self, ctx: AccountContext, headers: dict[str, str], body: bytes, url: str) -> bool:
        return False  # Twilio posts to the platform endpoint /webhooks/twilio/sms, verified there

    def parse_webhook(self, ctx: AccountContext, payload: dict[str, Any]) -> list[InboundEvent]:
        return []

    async def send(self, ctx: AccountContext, to: str, body: dict[str, Any]) -> SendResult:
        from switchboard.sms.provider import TwilioSmsProvider  # the SMS issue's adapter

        sid, token = _credentials(ctx)
        provider = TwilioSmsProvider(account_sid=sid, auth_token=token, api_base_url=self.base)
        sent = await provider.send_sms(
            to,
            str(body.get("text", "")),
            from_=str(ctx.settings.get("phone_number") or "") or None,
            messaging_service_sid=ctx.settings.get("messaging_service_sid") or None,
            status_callback=f"{self.settings.public_base_url.rstrip('/')}/webhooks/twilio/sms",
        )
        return SendResult(provider_message_id=sent.sid, details={"status": sent.status})


register_adapter(ChannelType.SMS, SmsAdapter)
