"""A local authoritative DNS server for tests and benchmarks.

An asyncio UDP+TCP server on 127.0.0.1 running in its own thread, answering from an
in-memory zone that tests change while it runs (``set``/``remove``/``clear``). dnslib
parses and builds packets; answers are memoised by query bytes (minus the ID) so a
benchmark measures the client, not this server.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import Literal, cast

from dnslib import CLASS, MX, QTYPE, RCODE, RR, TXT, DNSHeader, DNSLabel, DNSRecord

Fault = Literal["drop", "servfail", "refused"]
TxtValue = str | tuple[str, ...]

_UDP_DEFAULT_SIZE = 512
_MAX_CHAIN = 8
_CACHE_LIMIT = 200_000


def _key(name: str) -> str:
    return name.strip().rstrip(".").lower()


def _txt_chunks(value: TxtValue) -> list[bytes]:
    # A tuple is published as given (explicit chunks); a string is split like
    # DNS providers do, into 255-byte character-strings.
    if isinstance(value, tuple):
        chunks = [part.encode() for part in value]
        if any(len(chunk) > 255 for chunk in chunks):
            raise ValueError("TXT chunks are limited to 255 bytes")
        return chunks
    data = value.encode()
    return [data[i : i + 255] for i in range(0, len(data), 255)] or [b""]


class LocalDnsServer:
    """Authoritative for every name: unknown names get NXDOMAIN, known names with
    another type get NOERROR with an empty answer, CNAMEs are chased in-zone."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, ttl: int = 300) -> None:
        self.host = host
        self._requested_port = port
        self.port = 0
        self.ttl = ttl
        self._lock = threading.Lock()
        # name key -> qtype number -> RRs (owner spelled as published)
        self._zone: dict[str, dict[int, list[RR]]] = {}
        # Every existing name and all its ancestors: ancestors are empty non-terminals
        # (e.g. `_domainkey.example.com`) that must answer NOERROR, not NXDOMAIN.
        self._names: Counter[str] = Counter()
        self._faults: dict[str, Fault] = {}
        self._cache: dict[tuple[bool, bytes], bytes] = {}
        self.queries = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None
        self._tcp_writers: set[asyncio.StreamWriter] = set()

    # --- lifecycle -------------------------------------------------------------------------

    @property
    def nameserver(self) -> str:
        """``host:port`` as SWITCHBOARD_DNS_NAMESERVERS expects it."""
        return f"{self.host}:{self.port}"

    def start(self) -> LocalDnsServer:
        ready = threading.Event()
        errors: list[BaseException] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, args=(ready, errors), name="local-dns", daemon=True)
        self._thread.start()
        ready.wait()
        if errors:
            self._thread.join()
            raise errors[0]
        return self

    def _run(self, ready: threading.Event, errors: list[BaseException]) -> None:
        assert self._loop is not None
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._bind())
        except BaseException as exc:
            errors.append(exc)
            ready.set()
            self._loop.close()
            return
        ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._shutdown())
        self._loop.close()

    async def _bind(self) -> None:
        loop = asyncio.get_running_loop()
        # UDP and TCP must share one port; a free UDP port can be taken for TCP, so retry.
        for _ in range(50):
            udp, _ = await loop.create_datagram_endpoint(
                lambda: _UdpProtocol(self), local_addr=(self.host, self._requested_port)
            )
            port = udp.get_extra_info("sockname")[1]
            try:
                self._tcp = await asyncio.start_server(self._serve_tcp, self.host, port, reuse_address=True)
            except OSError:
                udp.close()
                if self._requested_port:
                    raise
                continue
            self._udp = udp
            self.port = port
            return
        raise OSError("could not bind UDP and TCP on one free port")

    async def _shutdown(self) -> None:
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
        for writer in list(self._tcp_writers):
            writer.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
        self._loop = None
        self._thread = None

    def __enter__(self) -> LocalDnsServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- zone editing (thread-safe) --------------------------------------------------------

    def set(self, name: str, rdtype: str, values: Sequence[TxtValue]) -> None:
        """Replace the RRset ``name``/``rdtype``. MX values are ``"10 host."``; a TXT
        value is a string (split in 255-byte chunks) or a tuple of explicit chunks."""
        self.set_many([(name, rdtype, values)])

    def set_many(self, rrsets: Iterable[tuple[str, str, Sequence[TxtValue]]]) -> None:
        built = [(name, rdtype, self._build(name, rdtype, values)) for name, rdtype, values in rrsets]
        with self._lock:
            for name, rdtype, rrs in built:
                key = _key(name)
                if not rrs:
                    self._remove_locked(key, rdtype)
                    continue
                node = self._zone.get(key)
                if node is None:
                    node = self._zone[key] = {}
                    self._names.update(self._ancestors(key))
                node[getattr(QTYPE, rdtype.upper())] = rrs
            self._cache.clear()

    def remove(self, name: str, rdtype: str) -> None:
        with self._lock:
            self._remove_locked(_key(name), rdtype)
            self._cache.clear()

    def clear(self) -> None:
        """Drop every record and fault."""
        with self._lock:
            self._zone.clear()
            self._names.clear()
            self._faults.clear()
            self._cache.clear()
            self.queries = 0

    def set_fault(self, name: str, fault: Fault | None) -> None:
        """Make queries for ``name`` go unanswered ("drop") or fail; ``None`` restores it."""
        with self._lock:
            if fault is None:
                self._faults.pop(_key(name), None)
            else:
                self._faults[_key(name)] = fault
            self._cache.clear()

    def _remove_locked(self, key: str, rdtype: str) -> None:
        node = self._zone.get(key)
        if node is None:
            return
        node.pop(getattr(QTYPE, rdtype.upper()), None)
        if not node:
            del self._zone[key]
            self._names.subtract(self._ancestors(key))
            self._names += Counter()  # drop zero counts so removed names become NXDOMAIN

    @staticmethod
    def _ancestors(key: str) -> list[str]:
        labels = key.split(".")
        return [".".join(labels[i:]) for i in range(len(labels))]

    def _build(self, name: str, rdtype: str, values: Sequence[TxtValue]) -> list[RR]:
        owner = DNSLabel(name if name.endswith(".") else f"{name}.")
        kind = rdtype.upper()
        rrs: list[RR] = []
        for value in values:
            if kind == "TXT":
                rrs.append(RR(owner, QTYPE.TXT, CLASS.IN, self.ttl, TXT(_txt_chunks(value))))
            elif kind == "MX":
                assert isinstance(value, str)
                priority, host = value.split(None, 1)
                rrs.append(RR(owner, QTYPE.MX, CLASS.IN, self.ttl, MX(host.strip(), int(priority))))
            else:
                assert isinstance(value, str)
                (rr,) = RR.fromZone(f"{owner} {self.ttl} IN {kind} {value}")
                rr.rname = owner
                rrs.append(rr)
        return rrs

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._tcp_writers.add(writer)
        try:
            while True:
                length = int.from_bytes(await reader.readexactly(2), "big")
                reply = self.respond(await reader.readexactly(length), tcp=True)
                if reply is None:
                    continue  # "drop": keep the connection open and never answer
                writer.write(len(reply).to_bytes(2, "big") + reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._tcp_writers.discard(writer)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    # --- answering -------------------------------------------------------------------------

    def respond(self, data: bytes, tcp: bool) -> bytes | None:
        """The wire reply to ``data``, or ``None`` to stay silent."""
        if len(data) < 12:
            return None
        cache_key = (tcp, data[2:])
        with self._lock:
            self.queries += 1
            cached = self._cache.get(cache_key)
            if cached is not None:
                return data[:2] + cached
            reply = self._reply_locked(data, tcp)
            if reply is not None:
                if len(self._cache) >= _CACHE_LIMIT:
                    self._cache.clear()
                self._cache[cache_key] = reply[2:]
            return reply

    def _reply_locked(self, data: bytes, tcp: bool) -> bytes | None:
        try:
            request = DNSRecord.parse(data)
        except Exception:
            return None
        reply = request.reply()
        if len(request.questions) != 1:
            reply.header.rcode = RCODE.FORMERR
            return bytes(reply.pack())
        question = request.q
        key = _key(str(question.qname))
        fault = self._faults.get(key)
        if fault == "drop":
            return None
        if fault is not None:
            reply.header.rcode = RCODE.SERVFAIL if fault == "servfail" else RCODE.REFUSED
            return bytes(reply.pack())
        rcode, answers = self._lookup(key, question.qtype)
        reply.header.rcode = rcode
        for rr in answers:
            reply.add_answer(rr)
        wire = bytes(reply.pack())
        if not tcp and len(wire) > self._udp_limit(request):
            # Too big for UDP: send TC so the client retries over TCP.
            truncated = DNSRecord(DNSHeader(id=request.header.id, bitmap=reply.header.bitmap), q=question)
            truncated.header.tc = 1
            return bytes(truncated.pack())
        return wire

    @staticmethod
    def _udp_limit(request: DNSRecord) -> int:
        for rr in request.ar:
            if rr.rtype == QTYPE.OPT:
                return max(int(rr.rclass), _UDP_DEFAULT_SIZE)
        return _UDP_DEFAULT_SIZE

    def _lookup(self, key: str, qtype: int) -> tuple[int, list[RR]]:
        answers: list[RR] = []
        for _ in range(_MAX_CHAIN):
            node = self._zone.get(key)
            if node is None:
                rcode = RCODE.NOERROR if self._names.get(key) else RCODE.NXDOMAIN
                return rcode, answers
            if qtype == QTYPE.ANY:
                return RCODE.NOERROR, answers + [rr for rrs in node.values() for rr in rrs]
            if qtype in node:
                return RCODE.NOERROR, answers + node[qtype]
            cname = node.get(QTYPE.CNAME)
            if not cname:
                return RCODE.NOERROR, answers
            # Like a real server: answer with the CNAME and follow it inside our zone.
            answers += cname
            key = _key(str(cname[0].rdata.label))
        return RCODE.NOERROR, answers


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, server: LocalDnsServer) -> None:
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        reply = self.server.respond(data, tcp=False)
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)
