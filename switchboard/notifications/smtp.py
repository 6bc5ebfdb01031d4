"""Sending one email over SMTP (`SWITCHBOARD_SMTP_URL`), with failures sorted into retry-later and give-up.

URL forms: `smtp://[user[:password]@]host[:port]` (STARTTLS when the server offers it; add
`?starttls=require` or `?starttls=off`), `smtps://...` for TLS from the first byte (port 465).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool
    start_tls: bool | None

    def __repr__(self) -> str:  # never show the password
        return (
            f"SmtpTarget(host={self.host!r}, port={self.port}, tls={self.use_tls}, starttls={self.start_tls})"
        )


def parse_smtp_url(url: str) -> SmtpTarget:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError("SWITCHBOARD_SMTP_URL must start with smtp:// or smtps://")
    if not parts.hostname:
        raise ValueError("SWITCHBOARD_SMTP_URL needs a host, e.g. smtp://mail.example.com:587")
    use_tls = parts.scheme == "smtps"
    starttls_opt = (parse_qs(parts.query).get("starttls") or [""])[0].lower()
    start_tls: bool | None = {"require": True, "on": True, "off": False}.get(starttls_opt)
    if use_tls:
        start_tls = False
    try:
        port = parts.port or (465 if use_tls else 25)
    except ValueError as exc:
        raise ValueError("SWITCHBOARD_SMTP_URL has an invalid port") from exc
    return SmtpTarget(
        host=parts.hostname,
        port=port,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_tls=use_tls,
        start_tls=start_tls,
    )


class SendFailed(Exception):
    def __init__(self, message: str, *, retriable: bool) -> None:
        super().__init__(message)
        self.message = message
        self.retriable = retriable


def build_message(sender: str, to: str, subject: str, body: str, message_id_domain: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain=message_id_domain)
    msg.set_content(body)
    return msg


async def send(
    target: SmtpTarget, sender: str, to: str, subject: str, body: str, timeout: float = 30
) -> None:
    """Deliver one message; raises SendFailed (4xx and connection trouble are retriable, 5xx not)."""
    envelope_from = parseaddr(sender)[1] or sender
    domain = envelope_from.rpartition("@")[2] or "switchboard.local"
    message = build_message(sender, to, subject, body, domain)
    try:
        await aiosmtplib.send(
            message,
            sender=envelope_from,
            recipients=[to],
            hostname=target.host,
            port=target.port,
            username=target.username,
            password=target.password,
            use_tls=target.use_tls,
            start_tls=target.start_tls,
            timeout=timeout,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [r.code for r in exc.recipients]
        text = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
        raise SendFailed(f"recipient refused: {text}", retriable=all(400 <= c < 500 for c in codes)) from exc
    except aiosmtplib.SMTPResponseException as exc:
        raise SendFailed(f"SMTP {exc.code}: {exc.message}", retriable=400 <= exc.code < 500) from exc
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise SendFailed(f"SMTP server unreachable: {type(exc).__name__}: {exc}", retriable=True) from exc
