"""Email adapter: SMTP (aiosmtplib) to send HTML with attachments, IMAP (stdlib imaplib in a
thread) to receive by polling UNSEEN, threaded by Message-ID / In-Reply-To / References."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import imaplib
import logging
import socket
import ssl
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import formataddr, make_msgid, parsedate_to_datetime
from typing import Any

import aiosmtplib

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

TIMEOUT = 15.0
log = logging.getLogger(__name__)


def _ids(value: str | None) -> list[str]:
    return [f"<{part.strip('<>')}>" for part in (value or "").replace(",", " ").split() if part.strip("<>")]


def thread_key(message_id: str | None, in_reply_to: str | None, references: str | None) -> str:
    """The thread's root Message-ID: the first of References, else In-Reply-To, else itself."""
    for ids in (_ids(references), _ids(in_reply_to), _ids(message_id)):
        if ids:
            return ids[0]
    return ""


def parse_message(raw: bytes) -> InboundEvent:
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    message_id = str(msg.get("Message-ID") or "").strip()
    body = msg.get_body(preferencelist=("plain", "html"))
    text = body.get_content() if body is not None else None
    attachments = [part.get_filename() for part in msg.iter_attachments() if part.get_filename()]
    try:
        when = parsedate_to_datetime(str(msg["Date"])) if msg["Date"] else None
    except (TypeError, ValueError):
        when = None
    return InboundEvent(
        kind="message",
        provider_message_id=message_id,
        sender=str(msg.get("From") or ""),
        text=text,
        occurred_at=when,
        raw={
            "subject": str(msg.get("Subject") or ""),
            "in_reply_to": str(msg.get("In-Reply-To") or "") or None,
            "references": str(msg.get("References") or "") or None,
            "attachments": attachments,
            "thread_key": thread_key(message_id, msg.get("In-Reply-To"), msg.get("References")),
        },
    )


def _smtp_error(exc: Exception) -> ProviderError:
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return ProviderError(
            f"SMTP login refused: {exc.message}",
            kind=ErrorKind.NEEDS_ACTION,
            code="auth_failed",
            status=exc.code,
        )
    if isinstance(exc, aiosmtplib.SMTPResponseException) and 400 <= exc.code < 500:
        return ProviderError(
            f"SMTP: {exc.message}", kind=ErrorKind.TRANSIENT, code=str(exc.code), status=exc.code
        )
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return ProviderError(
            f"SMTP: {exc.message}", kind=ErrorKind.PERMANENT, code=str(exc.code), status=exc.code
        )
    return ProviderError(f"SMTP server unreachable: {exc}", kind=ErrorKind.TRANSIENT, code="unreachable")


class EmailAdapter:
    def __init__(self, settings: Any) -> None:
        self.settings = settings

    def _smtp(self, ctx: AccountContext) -> aiosmtplib.SMTP:
        s = ctx.settings
        security = s.get("smtp_security", "starttls")
        return aiosmtplib.SMTP(
            hostname=s.get("smtp_host"),
            port=int(s.get("smtp_port") or 587),
            use_tls=security == "ssl",
            start_tls=security == "starttls",
            timeout=TIMEOUT,
        )

    async def _smtp_session(self, ctx: AccountContext, message: EmailMessage | None = None) -> None:
        client = self._smtp(ctx)
        try:
            await client.connect()
            user = ctx.settings.get("smtp_username") or ctx.settings.get("email_address")
            if ctx.secrets.get("smtp_password"):
                await client.login(str(user), ctx.secrets["smtp_password"])
            if message is not None:
                await client.send_message(message)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise _smtp_error(exc) from exc
        finally:
            if client.is_connected:
                try:
                    await client.quit()
                except (aiosmtplib.SMTPException, OSError):
                    client.close()

    def _imap_login(self, ctx: AccountContext) -> imaplib.IMAP4:
        s = ctx.settings
        host = str(s.get("imap_host") or "")
        port = int(s.get("imap_port") or 993)
        security = s.get("imap_security", "ssl")
        try:
            if security == "ssl":
                conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(host, port, timeout=TIMEOUT)
            else:
                conn = imaplib.IMAP4(host, port, timeout=TIMEOUT)
                if security == "starttls":
                    conn.starttls(ssl.create_default_context())
        except (OSError, imaplib.IMAP4.error) as exc:
            raise ProviderError(
                f"IMAP server unreachable: {exc}", kind=ErrorKind.TRANSIENT, code="unreachable"
            ) from exc
        user = s.get("imap_username") or s.get("email_address")
        try:
            conn.login(str(user), ctx.secrets.get("imap_password", ""))
        except imaplib.IMAP4.error as exc:
            conn.shutdown()
            raise ProviderError(
                f"IMAP login refused: {exc}", kind=ErrorKind.NEEDS_ACTION, code="auth_failed"
            ) from exc
        return conn

    def _imap_check(self, ctx: AccountContext) -> None:
        conn = self._imap_login(ctx)
        try:
            conn.select("INBOX")
        finally:
            conn.logout()

    def _imap_poll(self, ctx: AccountContext, limit: int) -> list[InboundEvent]:
        conn = self._imap_login(ctx)
        events: list[InboundEvent] = []
        try:
            conn.select("INBOX")
            _, data = conn.search(None, "UNSEEN")
            for number in (data[0] or b"").split()[:limit]:
                _, parts = conn.fetch(number.decode(), "(RFC822)")
                raw = next((p[1] for p in parts if isinstance(p, tuple)), None)
                if raw is None:
                    continue
                try:
                    events.append(parse_message(raw))
                except Exception:  # one malformed mail must not block the mailbox
                    log.warning(
                        "unparseable email skipped", extra={"channel_account_id": str(ctx.account_id)}
                    )
                # Marked seen only after it was read; the inbound table dedupes a re-read message.
                conn.store(number.decode(), "+FLAGS", "(\\Seen)")
        except (OSError, imaplib.IMAP4.error) as exc:
            raise ProviderError(f"IMAP: {exc}", kind=ErrorKind.TRANSIENT, code="imap_error") from exc
        finally:
            with contextlib.suppress(OSError, imaplib.IMAP4.error):
                conn.logout()
        return events

    async def check_health(self, ctx: AccountContext) -> HealthResult:
        """Logs in to SMTP and, when configured, to IMAP."""
        await self._smtp_session(ctx)
        if ctx.settings.get("imap_host"):
            await asyncio.to_thread(self._imap_check, ctx)
        return HealthResult(ok=True)

    async def connect(self, ctx: AccountContext) -> HealthResult:
        return await self.check_health(ctx)

    async def poll(self, ctx: AccountContext, limit: int = 100) -> list[InboundEvent]:
        if not ctx.settings.get("imap_host"):
            return []
        return await asyncio.to_thread(self._imap_poll, ctx, limit)

    def verify_webhook(self, ctx: AccountContext, headers: dict[str, str], body: bytes, url: str) -> bool:
        return False  # mail arrives by IMAP polling

    def parse_webhook(self, ctx: AccountContext, payload: dict[str, Any]) -> list[InboundEvent]:
        return []

    async def send(self, ctx: AccountContext, to: str, body: dict[str, Any]) -> SendResult:
        """body: subject, html and/or text, attachments [{filename, content_type, content_base64}],
        in_reply_to and references for replies."""
        s = ctx.settings
        msg = EmailMessage()
        msg["From"] = formataddr((s.get("display_name") or "", str(s.get("email_address"))))
        msg["To"] = to
        msg["Subject"] = str(body.get("subject", ""))
        domain = str(s.get("email_address", "")).rpartition("@")[2] or socket.getfqdn()
        msg["Message-ID"] = make_msgid(domain=domain)
        if body.get("in_reply_to"):
            msg["In-Reply-To"] = body["in_reply_to"]
            msg["References"] = " ".join([*_ids(body.get("references")), *_ids(body["in_reply_to"])][-20:])
        msg.set_content(str(body.get("text") or "This message is in HTML."))
        if body.get("html"):
            msg.add_alternative(str(body["html"]), subtype="html")
        for attachment in body.get("attachments") or []:
            maintype, _, subtype = str(attachment.get("content_type", "application/octet-stream")).partition(
                "/"
            )
            msg.add_attachment(
                base64.b64decode(attachment["content_base64"]),
                maintype=maintype,
                subtype=subtype or "octet-stream",
                filename=attachment["filename"],
            )
        await self._smtp_session(ctx, msg)
        return SendResult(provider_message_id=str(msg["Message-ID"]))


register_adapter(ChannelType.EMAIL, EmailAdapter)
