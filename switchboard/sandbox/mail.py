"""Sandbox mail: an SMTP server (aiosmtpd, AUTH LOGIN/PLAIN) and a minimal IMAP4rev1 server
sharing mailboxes, on 127.0.0.1 in a background thread.

IMAP covers what the Email adapter uses: CAPABILITY, LOGIN, SELECT, SEARCH (UNSEEN/ALL),
FETCH <n> (RFC822), STORE <n> +FLAGS (\\Seen), NOOP, LOGOUT. Mail sent over SMTP to a user
known here lands in that user's inbox; `deliver` puts a message there directly (a customer's
reply).
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Mail:
    raw: bytes
    seen: bool = False


@dataclass
class Mailbox:
    password: str
    inbox: list[Mail] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_ARG = re.compile(r'"((?:[^"\\]|\\.)*)"|(\S+)')


def _args(text: str) -> list[str]:
    return [m.group(1).replace('\\"', '"').replace("\\\\", "\\") if m.group(1) is not None else m.group(2)
            for m in _ARG.finditer(text)]  # fmt: skip


class MailSandbox:
    def __init__(self) -> None:
        self.users: dict[str, Mailbox] = {}
        self.sent: list[tuple[str, list[str], bytes]] = []  # (mail from, rcpt tos, data) over SMTP
        self.imap_port = _free_port()
        self.smtp_port = _free_port()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._smtp: Any = None
        self._imap: asyncio.base_events.Server | None = None

    # -- state ------------------------------------------------------------------------------
    def add_user(self, login: str, password: str) -> Mailbox:
        self.users[login] = Mailbox(password)
        return self.users[login]

    def deliver(self, login: str, raw: bytes) -> None:
        self.users[login].inbox.append(Mail(raw))

    def _authenticate(self, login: str, password: str) -> bool:
        box = self.users.get(login)
        return box is not None and box.password == password

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> MailSandbox:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        sandbox = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                sandbox.sent.append((envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content)))
                for rcpt in envelope.rcpt_tos:
                    if rcpt in sandbox.users:
                        sandbox.deliver(rcpt, bytes(envelope.content))
                return "250 OK"

        def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
            if isinstance(auth_data, LoginPassword) and self._authenticate(
                auth_data.login.decode(), auth_data.password.decode()
            ):
                return AuthResult(success=True)
            return AuthResult(success=False, handled=False)

        # AUTH over plain TCP on loopback; a client that logs in is checked (AUTH is not forced,
        # which would only make aiosmtpd warn on every connection).
        self._smtp = Controller(
            Handler(),
            hostname="127.0.0.1",
            port=self.smtp_port,
            authenticator=authenticator,
            auth_require_tls=False,
        )
        self._smtp.start()
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._imap = self._loop.run_until_complete(
                asyncio.start_server(self._imap_session, "127.0.0.1", self.imap_port)
            )
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._smtp is not None:
            self._smtp.stop()
        if self._loop is not None and self._imap is not None:
            self._loop.call_soon_threadsafe(self._imap.close)
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> MailSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- IMAP ------------------------------------------------------------------------------------
    async def _imap_session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        box: Mailbox | None = None
        selected = False

        def out(line: str | bytes) -> None:
            writer.write(line if isinstance(line, bytes) else line.encode() + b"\r\n")

        out("* OK IMAP4rev1 Sandbox ready")
        try:
            while line := await reader.readline():
                text = line.decode(errors="replace").rstrip("\r\n")
                tag, _, rest = text.partition(" ")
                command, _, arg = rest.partition(" ")
                command = command.upper()
                if command == "CAPABILITY":
                    out("* CAPABILITY IMAP4rev1 AUTH=PLAIN")
                    out(f"{tag} OK CAPABILITY completed")
                elif command == "NOOP":
                    out(f"{tag} OK NOOP completed")
                elif command == "LOGOUT":
                    out("* BYE Sandbox IMAP logging out")
                    out(f"{tag} OK LOGOUT completed")
                    break
                elif command == "LOGIN":
                    login, password = [*_args(arg), "", ""][:2]
                    if self._authenticate(login, password):
                        box = self.users[login]
                        out(f"{tag} OK LOGIN completed")
                    else:
                        out(f"{tag} NO [AUTHENTICATIONFAILED] Invalid credentials")
                elif box is None:
                    out(f"{tag} BAD Not authenticated")
                elif command in ("SELECT", "EXAMINE"):
                    selected = True
                    unseen = sum(1 for m in box.inbox if not m.seen)
                    out(f"* {len(box.inbox)} EXISTS")
                    out("* 0 RECENT")
                    out(f"* OK [UNSEEN {unseen}] Message count")
                    out("* FLAGS (\\Seen)")
                    out(f"{tag} OK [READ-WRITE] SELECT completed")
                elif not selected:
                    out(f"{tag} BAD No mailbox selected")
                elif command == "SEARCH":
                    only_unseen = "UNSEEN" in arg.upper()
                    hits = [str(i + 1) for i, m in enumerate(box.inbox) if not (only_unseen and m.seen)]
                    out("* SEARCH" + "".join(f" {h}" for h in hits))
                    out(f"{tag} OK SEARCH completed")
                elif command == "FETCH":
                    number = int(arg.split(" ", 1)[0]) if arg.split(" ", 1)[0].isdigit() else 0
                    if not 1 <= number <= len(box.inbox):
                        out(f"{tag} BAD No such message")
                        continue
                    raw = box.inbox[number - 1].raw
                    out(f"* {number} FETCH (RFC822 {{{len(raw)}}}".encode() + b"\r\n" + raw + b")\r\n")
                    out(f"{tag} OK FETCH completed")
                elif command == "STORE":
                    number = int(arg.split(" ", 1)[0]) if arg.split(" ", 1)[0].isdigit() else 0
                    if 1 <= number <= len(box.inbox) and "\\SEEN" in arg.upper():
                        box.inbox[number - 1].seen = "+FLAGS" in arg.upper()
                        out(f"* {number} FETCH (FLAGS (\\Seen))")
                    out(f"{tag} OK STORE completed")
                else:
                    out(f"{tag} BAD Unknown command")
                await writer.drain()
            await writer.drain()
        finally:
            writer.close()
