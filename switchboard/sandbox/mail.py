"""Sandbox mail: an SMTP server (aiosmtpd, AUTH LOGIN/PLAIN) and a minimal IMAP4rev1 server
sharing mailboxes, on 127.0.0.1 in background threads, plus a small labelled web page (`app`) to
write in as a customer.

IMAP covers what the Email adapter uses: CAPABILITY, LOGIN, SELECT, SEARCH (UNSEEN/ALL),
FETCH <n> (RFC822), STORE <n> +FLAGS (\\Seen), NOOP, LOGOUT. Mail sent over SMTP to an address with
a mailbox here lands in that inbox; `deliver` puts a message there directly (a customer's reply).

Tests register users with `add_user`. In open mode (the service's own sandbox, started by the app's
lifespan) any address may log in: its first SMTP or IMAP login creates the mailbox and sets its
password, and later logins must use that password.
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import threading
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from switchboard.sandbox._kit import esc, form_or_json, page

HOST = "127.0.0.1"
SENT_KEPT = 200  # the long-running sandbox keeps only the latest SMTP envelopes
_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass
class Mail:
    raw: bytes
    seen: bool = False


@dataclass
class Mailbox:
    password: str | None  # None: not claimed yet (open mode: the first login sets it)
    inbox: list[Mail] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _check_free(port: int, protocol: str) -> None:
    """Raises OSError when something listens on the port (SO_REUSEADDR as the servers bind it)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError as exc:
            raise OSError(exc.errno, f"{protocol} port {port}: {exc.strerror or exc}") from exc


def _key(address: str) -> str:
    return address.strip().lower()


_ARG = re.compile(r'"((?:[^"\\]|\\.)*)"|(\S+)')


def _args(text: str) -> list[str]:
    return [m.group(1).replace('\\"', '"').replace("\\\\", "\\") if m.group(1) is not None else m.group(2)
            for m in _ARG.finditer(text)]  # fmt: skip


def customer_message(
    sender: str, to: str, subject: str, text: str, in_reply_to: str = "", references: str = ""
) -> tuple[bytes, str]:
    """A plain-text mail as a customer's mail client would write it, and its Message-ID."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "customer.sandbox"
    message_id = make_msgid(domain=domain)
    msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = " ".join(part for part in (references, in_reply_to) if part)
    msg.set_content(text)
    return msg.as_bytes(), message_id


class MailSandbox:
    def __init__(self, smtp_port: int = 0, imap_port: int = 0, *, open_mode: bool = False) -> None:
        """Ports 0 pick free ones when the servers start."""
        self.open_mode = open_mode
        self.users: dict[str, Mailbox] = {}
        self.sent: list[tuple[str, list[str], bytes]] = []  # (mail from, rcpt tos, data) over SMTP
        self.smtp_port = smtp_port
        self.imap_port = imap_port
        self.running = False
        self.error = ""  # why the servers did not start, shown on the page
        self._lock = threading.Lock()  # the SMTP thread, the IMAP thread and the web page share state
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._smtp: Any = None
        self._imap: asyncio.base_events.Server | None = None
        self.app = Starlette(
            routes=[Route("/", self.index), Route("/send", self.send_as_customer, methods=["POST"])]
        )

    # -- state ------------------------------------------------------------------------------
    def add_user(self, login: str, password: str) -> Mailbox:
        with self._lock:
            self.users[_key(login)] = Mailbox(password)
            return self.users[_key(login)]

    def mailbox(self, address: str) -> Mailbox | None:
        return self.users.get(_key(address))

    def deliver(self, login: str, raw: bytes) -> None:
        """Put a message in a mailbox (created unclaimed when it does not exist yet)."""
        with self._lock:
            self.users.setdefault(_key(login), Mailbox(None)).inbox.append(Mail(raw))

    def _authenticate(self, login: str, password: str) -> bool:
        with self._lock:
            box = self.users.get(_key(login))
            if box is not None and box.password is not None:
                return box.password == password
            if not self.open_mode or not password or not _ADDRESS.match(login.strip()):
                return False
            # Open mode: the first login claims the address (and its mailbox) with this password.
            if box is None:
                self.users[_key(login)] = Mailbox(password)
            else:
                box.password = password
            return True

    def _received(self, mail_from: str, rcpt_tos: list[str], data: bytes) -> None:
        with self._lock:
            self.sent.append((mail_from, rcpt_tos, data))
            if self.open_mode:
                del self.sent[:-SENT_KEPT]
            for rcpt in rcpt_tos:
                box = self.users.get(_key(rcpt))
                if box is not None:
                    box.inbox.append(Mail(data))

    def channel_settings(self) -> dict[str, Any]:
        """What an Email channel needs to reach these servers (the Add channel form's defaults)."""
        return {
            "smtp_host": HOST,
            "smtp_port": self.smtp_port,
            "smtp_security": "none",
            "imap_host": HOST,
            "imap_port": self.imap_port,
            "imap_security": "none",
        }

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> MailSandbox:
        """Start both servers; on failure (a port in use) nothing is left running and it raises."""
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        # aiosmtpd logs every SMTP command and connection at INFO: far too chatty for the service log.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        sandbox = self
        self.smtp_port = self.smtp_port or _free_port()
        self.imap_port = self.imap_port or _free_port()

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                sandbox._received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content))
                return "250 OK"

        def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
            if isinstance(auth_data, LoginPassword) and self._authenticate(
                auth_data.login.decode(), auth_data.password.decode()
            ):
                return AuthResult(success=True)
            return AuthResult(success=False, handled=False)

        # aiosmtpd would only report a busy port after its 5 s ready timeout, so it is checked first.
        _check_free(self.smtp_port, "SMTP")
        self._start_imap()
        # AUTH over plain TCP on loopback; a client that logs in is checked (AUTH is not forced,
        # which would only make aiosmtpd warn on every connection). A fixed server name spares a
        # reverse DNS lookup per connection.
        smtp = Controller(
            Handler(),
            hostname=HOST,
            port=self.smtp_port,
            server_hostname="sandbox-mail.local",
            authenticator=authenticator,
            auth_require_tls=False,
        )
        try:
            smtp.start()
        except BaseException:
            smtp.stop(no_assert=True)
            self._stop_imap()
            raise
        self._smtp = smtp
        self.running, self.error = True, ""
        return self

    def _start_imap(self) -> None:
        ready = threading.Event()
        failure: list[BaseException] = []
        loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                server = loop.run_until_complete(
                    asyncio.start_server(self._imap_session, HOST, self.imap_port)
                )
            except BaseException as exc:
                failure.append(exc)
                loop.close()
                return
            finally:
                ready.set()
            self._imap = server
            loop.run_forever()
            server.close()
            # Open sessions are cancelled rather than awaited: a client may keep one open forever.
            sessions = asyncio.all_tasks(loop)
            for task in sessions:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*sessions, return_exceptions=True))
            loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=run, daemon=True, name="sandbox-imap")
        self._thread.start()
        if not ready.wait(10):
            raise TimeoutError("the sandbox IMAP server did not start")
        if failure:
            self._loop = self._thread = None
            error = failure[0]
            if isinstance(error, OSError):
                raise OSError(
                    error.errno, f"IMAP port {self.imap_port}: {error.strerror or error}"
                ) from error
            raise error

    def _stop_imap(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
        self._loop = self._thread = self._imap = None

    def stop(self) -> None:
        if self._smtp is not None:
            self._smtp.stop()
            self._smtp = None
        self._stop_imap()
        self.running = False

    def __enter__(self) -> MailSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the page ----------------------------------------------------------------------------------
    async def index(self, request: Request) -> Response:
        """Where the servers are, the mailboxes, what was sent, and a form to write in as a customer."""
        if self.running:
            status = (
                f"<p>SMTP <code>{HOST}:{self.smtp_port}</code> and IMAP <code>{HOST}:{self.imap_port}</code>,"
                " security <b>none</b>. Any email address works as the login: its first SMTP or IMAP"
                " login (Test connection) creates its mailbox and sets the password; later logins must"
                " use the same password. Mail sent to an address with a mailbox here lands in its inbox.</p>"
            )
        else:
            status = f"<p><b>The sandbox mail servers are not running.</b> {esc(self.error)}</p>"
        with self._lock:
            boxes = sorted(self.users.items())
            sent = list(self.sent[-20:])
        rows = "".join(
            f"<li><code>{esc(address)}</code> — {len(box.inbox)} message(s),"
            f" {sum(1 for m in box.inbox if not m.seen)} unread</li>"
            for address, box in boxes
        )
        options = "".join(f'<option value="{esc(address)}">' for address, _ in boxes)
        form = (
            '<h2 style="font-size:1.1em">Write in as a customer</h2>'
            '<form method="post" action="send" data-testid="sandbox-mail-form">'
            '<p><label>From <input name="from" value="Customer &lt;customer@example.net&gt;" required>'
            "</label></p>"
            '<p><label>To <input name="to" list="mailboxes" placeholder="support@example.com" required>'
            f'</label><datalist id="mailboxes">{options}</datalist></p>'
            '<p><label>Subject <input name="subject" value="Hello"></label></p>'
            '<p><label>In-Reply-To <input name="in_reply_to" placeholder="&lt;message-id&gt; (optional)">'
            "</label></p>"
            '<p><textarea name="text" rows="4" cols="50" required>Hi, I have a question.</textarea></p>'
            "<button>Deliver to the mailbox</button></form>"
        )
        outgoing = "".join(
            f"<li>{esc(mail_from)} → {esc(', '.join(rcpts))}: {esc(_subject(data))}</li>"
            for mail_from, rcpts, data in reversed(sent)
        )
        body = (
            status
            + '<h2 style="font-size:1.1em">Mailboxes</h2>'
            + (f"<ul>{rows}</ul>" if rows else "<p>No mailbox yet: connect an Email channel first.</p>")
            + form
            + '<h2 style="font-size:1.1em">Sent over SMTP</h2>'
            + (f"<ul>{outgoing}</ul>" if outgoing else "<p>Nothing sent yet.</p>")
        )
        return page("Sandbox mail (SMTP + IMAP)", body)

    async def send_as_customer(self, request: Request) -> Response:
        """Deliver a customer's mail into a mailbox; IMAP polling then picks it up. Form or JSON:
        from, to, subject, text, optional in_reply_to and references."""
        as_json, data = await form_or_json(request)
        if data is None:
            return _refuse(as_json, 400, "body", "Send a JSON object or a form.")
        values = {
            k: str(data.get(k) or "").strip()
            for k in ("from", "to", "subject", "text", "in_reply_to", "references")
        }
        for name in ("from", "to"):
            if not _ADDRESS.match(parseaddr(values[name])[1]):
                return _refuse(as_json, 422, name, f"{name!r} must be an email address.")
        if not values["text"]:
            return _refuse(as_json, 422, "text", "'text' is required.")
        if any("\r" in v or "\n" in v for k, v in values.items() if k != "text"):
            return _refuse(as_json, 422, "headers", "Header values must be one line.")
        to = parseaddr(values["to"])[1]
        if self.mailbox(to) is None:
            return _refuse(
                as_json,
                404,
                "to",
                f"No sandbox mailbox for {to}: it is created by the first SMTP or IMAP login to that address"
                " (save the Email channel and use Test connection).",
            )
        raw, message_id = customer_message(
            values["from"], to, values["subject"], values["text"], values["in_reply_to"], values["references"]
        )
        self.deliver(to, raw)
        if as_json:
            return JSONResponse({"delivered": True, "mailbox": to, "message_id": message_id})
        return page(
            "Sandbox mail (SMTP + IMAP)",
            f"<p>Delivered to <code>{esc(to)}</code> as <code>{esc(message_id)}</code>; the next IMAP poll"
            ' picks it up.</p><p><a href="./">Back</a></p>',
        )

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
                        box = self.mailbox(login)
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


def _subject(raw: bytes) -> str:
    try:
        return str(BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)["Subject"] or "")
    except Exception:  # a malformed header must not break the page
        return ""


def _refuse(as_json: bool, status: int, name: str, message: str) -> Response:
    if as_json:
        return JSONResponse({"error": message, "field": name}, status_code=status)
    return page("Sandbox mail (SMTP + IMAP)", f'<p>{esc(message)}</p><p><a href="./">Back</a></p>', status)
