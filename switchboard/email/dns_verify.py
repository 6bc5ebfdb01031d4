"""Live verification of an SES setup's DNS records with dnspython's async resolver.

Each distinct (name, type) is queried once and all queries run concurrently; every
record then gets ``verified`` and, when it fails, a reason a person can act on.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import dns.asyncresolver
import dns.exception
import dns.name
import dns.nameserver
import dns.rdata
import dns.rdatatype
import dns.resolver
from dns.rdtypes.ANY.CNAME import CNAME
from dns.rdtypes.ANY.MX import MX
from dns.rdtypes.ANY.TXT import TXT

from switchboard.email.dns_records import DnsRecord

NAMESERVERS_ENV = "SWITCHBOARD_DNS_NAMESERVERS"
DEFAULT_TIMEOUT = 3.0
DMARC_POLICIES = ("none", "quarantine", "reject")

_BRACKETED_RE = re.compile(r"^\[(?P<host>[^\]]+)\](?::(?P<port>[^:]*))?$")
_URI_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
_SPF_QUALIFIERS = "+-~?"

Status = Literal["ok", "nxdomain", "noanswer", "timeout", "servfail", "error"]


# --- configuration -------------------------------------------------------------------------


def parse_nameservers(value: str | None) -> list[tuple[str, int]]:
    """Parse ``host[:port]`` entries separated by commas; IPv6 as ``[addr]:port`` or bare.

    ``None`` or a blank string means "not configured" and returns ``[]``.
    """
    if value is None or not value.strip():
        return []
    servers: list[tuple[str, int]] = []
    for raw in value.split(","):
        entry = raw.strip()
        if not entry:
            raise ValueError(f"empty nameserver entry in {value!r}")
        servers.append(_parse_nameserver(entry))
    return servers


def _parse_nameserver(entry: str) -> tuple[str, int]:
    port_text: str | None = None
    bracketed = _BRACKETED_RE.match(entry)
    if bracketed:
        host, port_text = bracketed.group("host"), bracketed.group("port")
        if not _is_ip(host, version=6):
            raise ValueError(f"nameserver {entry!r}: brackets are only for IPv6 addresses")
    elif entry.count(":") > 1:
        # Several colons and no brackets: only a bare IPv6 address (no port) is unambiguous.
        host = entry
        if not _is_ip(host, version=6):
            raise ValueError(f"nameserver {entry!r}: write IPv6 with a port as [address]:port")
    else:
        host, sep, port_text = entry.partition(":")
        if not sep:
            port_text = None
        if not _is_ip(host, version=4):
            raise ValueError(f"nameserver {entry!r}: host must be an IP address")
    port = 53
    if port_text is not None:
        if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            raise ValueError(f"nameserver {entry!r}: port must be a number from 1 to 65535")
        port = int(port_text)
    return host, port


def _is_ip(host: str, version: int) -> bool:
    try:
        return ipaddress.ip_address(host).version == version
    except ValueError:
        return False


def make_resolver(nameservers: list[tuple[str, int]] | None, timeout: float) -> dns.asyncresolver.Resolver:
    """An async resolver for ``nameservers`` (with their ports), or the system one when unset."""
    if timeout <= 0:
        raise ValueError("timeout must be positive")
    if nameservers:
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = [dns.nameserver.Do53Nameserver(host, port) for host, port in nameservers]
    else:
        resolver = dns.asyncresolver.Resolver()
    resolver.timeout = timeout
    resolver.lifetime = timeout
    # A refresh must see the current zone, never a cached answer.
    resolver.cache = None
    return resolver


def resolver_from_env(
    timeout: float = DEFAULT_TIMEOUT, env: Mapping[str, str] | None = None
) -> dns.asyncresolver.Resolver:
    """``make_resolver`` configured from ``SWITCHBOARD_DNS_NAMESERVERS``."""
    source = os.environ if env is None else env
    return make_resolver(parse_nameservers(source.get(NAMESERVERS_ENV)) or None, timeout)


# --- querying --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Lookup:
    status: Status
    rdatas: tuple[dns.rdata.Rdata, ...] = ()
    detail: str = ""


async def verify_records(
    records: Sequence[DnsRecord],
    resolver: dns.asyncresolver.Resolver,
    timeout: float,
    *,
    limiter: asyncio.Semaphore | None = None,
) -> list[DnsRecord]:
    """Query every record's (name, type) concurrently and return checked copies, in order.

    ``timeout`` bounds each query. ``limiter`` lets callers refreshing many setups at
    once share one cap on in-flight queries.
    """
    keys = [(_name_key(record.address), record.type) for record in records]
    distinct = list(dict.fromkeys(keys))
    results = await asyncio.gather(
        *(_lookup(name, rdtype, resolver, timeout, limiter) for name, rdtype in distinct)
    )
    lookups = dict(zip(distinct, results, strict=True))
    checked = []
    for record, key in zip(records, keys, strict=True):
        verified, reason = _check(record, lookups[key], timeout)
        checked.append(replace(record, verified=verified, reason=reason))
    return checked


def _name_key(address: str) -> str:
    return address.strip().rstrip(".").lower()


async def _lookup(
    name: str,
    rdtype: str,
    resolver: dns.asyncresolver.Resolver,
    timeout: float,
    limiter: asyncio.Semaphore | None,
) -> _Lookup:
    if limiter is None:
        return await _query(name, rdtype, resolver, timeout)
    async with limiter:
        return await _query(name, rdtype, resolver, timeout)


async def _query(name: str, rdtype: str, resolver: dns.asyncresolver.Resolver, timeout: float) -> _Lookup:
    try:
        qname = dns.name.from_text(name)
        # dnspython enforces ``lifetime``; the outer bound only guards against backoff
        # sleeps between nameservers outliving it.
        async with asyncio.timeout(timeout + 1.0):
            answer = await resolver.resolve(qname, rdtype, raise_on_no_answer=False, lifetime=timeout)
    except (TimeoutError, dns.exception.Timeout):
        return _Lookup("timeout")
    except dns.resolver.NXDOMAIN:
        return _Lookup("nxdomain")
    except dns.resolver.NoNameservers as exc:
        return _Lookup("servfail", detail=_rcodes(exc))
    except dns.exception.DNSException as exc:
        return _Lookup("error", detail=str(exc) or type(exc).__name__)
    if answer.rrset is None or len(answer.rrset) == 0:
        return _Lookup("noanswer")
    return _Lookup("ok", tuple(answer.rrset))


def _rcodes(exc: dns.resolver.NoNameservers) -> str:
    # Each error is (server, tcp, port, exception-or-rcode-text, response).
    errors = exc.kwargs.get("errors") or []
    codes = sorted({error[3] for error in errors if isinstance(error[3], str)})
    if codes:
        return ", ".join(codes)
    # No rcode means every server failed with an exception (e.g. a refused TCP connection).
    failures = sorted({str(error[3]) for error in errors})
    return "; ".join(failures) or "no usable DNS server"


# --- matching --------------------------------------------------------------------------------

Check = tuple[bool, str | None]


def _check(record: DnsRecord, lookup: _Lookup, timeout: float) -> Check:
    if lookup.status != "ok":
        return False, _failure_reason(record, lookup, timeout)
    if record.purpose == "dkim" or record.type == "CNAME":
        return _check_cname(record, lookup.rdatas)
    if record.type == "MX":
        return _check_mx(record, lookup.rdatas, only_one=record.purpose == "mail_from_mx")
    texts = [_txt(rdata) for rdata in lookup.rdatas if isinstance(rdata, TXT)]
    if record.purpose == "spf":
        return _check_spf(record, texts)
    if record.purpose == "dmarc":
        return _check_dmarc(record, texts)
    return _check_exact_txt(record, texts)


def _label(record: DnsRecord) -> str:
    return {"spf": "SPF (TXT)", "dmarc": "DMARC (TXT)"}.get(record.purpose, record.type)


def _failure_reason(record: DnsRecord, lookup: _Lookup, timeout: float) -> str:
    add = f"Add {record.type} `{record.record}` at your DNS provider."
    if lookup.status == "nxdomain":
        return f"No {_label(record)} record found at {record.address}: the name does not exist. {add}"
    if lookup.status == "noanswer":
        return (
            f"No {_label(record)} record found at {record.address}: the name exists but has no "
            f"{record.type} record. {add}"
        )
    if lookup.status == "timeout":
        return f"DNS query for {record.type} {record.address} timed out after {timeout:g}s; try again."
    if lookup.status == "servfail":
        return (
            f"DNS server failed to answer for {record.address} ({lookup.detail}); "
            "check the zone at your DNS provider and try again."
        )
    return f"DNS lookup for {record.type} {record.address} failed ({lookup.detail}); try again."


def _host(name: dns.name.Name) -> str:
    return name.to_text(omit_final_dot=True).lower() or "."


def _norm_host(value: str) -> str:
    return value.strip().rstrip(".").lower()


def _check_cname(record: DnsRecord, rdatas: Sequence[dns.rdata.Rdata]) -> Check:
    expected = _norm_host(record.record)
    targets = [_host(rdata.target) for rdata in rdatas if isinstance(rdata, CNAME)]
    if targets == [expected]:
        return True, None
    if len(targets) > 1:
        found = ", ".join(f"`{target}`" for target in targets)
        return (
            False,
            f"Found {len(targets)} CNAME records at {record.address} ({found}); keep only `{expected}`.",
        )
    if not targets:
        return (
            False,
            f"No CNAME record found at {record.address}. Add CNAME `{expected}` at your DNS provider.",
        )
    return (
        False,
        f"Found CNAME {record.address} -> `{targets[0]}` instead of `{expected}`. Change it to `{expected}`.",
    )


def _parse_mx(value: str) -> tuple[int, str]:
    priority, _, host = value.strip().partition(" ")
    if not priority.isdigit() or not host.strip():
        raise ValueError(f"expected MX value must be 'priority host', got {value!r}")
    return int(priority), _norm_host(host)


def _check_mx(record: DnsRecord, rdatas: Sequence[dns.rdata.Rdata], only_one: bool) -> Check:
    priority, host = _parse_mx(record.record)
    found = [(rdata.preference, _host(rdata.exchange)) for rdata in rdatas if isinstance(rdata, MX)]
    expected_text = f"{priority} {host}"
    found_text = ", ".join(f"`{p} {h}`" for p, h in found)
    if (priority, host) in found:
        others = [f"`{p} {h}`" for p, h in found if (p, h) != (priority, host)]
        if only_one and others:
            return False, (
                f"Found MX `{expected_text}` at {record.address}, but also {', '.join(others)}; a MAIL FROM "
                "subdomain must have exactly one MX record. Remove the others."
            )
        return True, None
    same_host = [p for p, h in found if h == host]
    if same_host:
        return False, (
            f"MX found with priority {same_host[0]}, expected {priority}, for `{host}` at {record.address}. "
            f"Change its priority to {priority}."
        )
    return False, (
        f"No MX record for `{host}` found at {record.address}; found {found_text} instead. "
        f"Replace it with `{expected_text}`."
    )


def _txt(rdata: TXT) -> str:
    # Long TXT values arrive as several <=255-byte character-strings of one record.
    return b"".join(rdata.strings).decode("utf-8", errors="replace")


def _listing(texts: Sequence[str]) -> str:
    return ", ".join(f"`{text}`" for text in texts)


def _count(n: int) -> str:
    return {2: "Two", 3: "Three"}.get(n, str(n))


def _is_spf(text: str) -> bool:
    # RFC 7208 4.5: the version tag is case-insensitive and must be followed by a space or end.
    first = text.strip().split(" ", 1)[0]
    return first.lower() == "v=spf1"


def _split_qualifier(term: str) -> tuple[str, str]:
    if term and term[0] in _SPF_QUALIFIERS:
        return term[0], term[1:]
    return "+", term


def _check_spf(record: DnsRecord, texts: Sequence[str]) -> Check:
    spf = [text for text in texts if _is_spf(text)]
    if not spf:
        if texts:
            return False, (
                f"No SPF record found at {record.address}; found TXT {_listing(texts)} instead. "
                f"Add TXT `{record.record}` at your DNS provider."
            )
        return (
            False,
            f"No SPF (TXT) record found at {record.address}. Add TXT `{record.record}` at your DNS provider.",
        )
    if len(spf) > 1:
        return False, (
            f"{_count(len(spf))} SPF records at {record.address} ({_listing(spf)}); merge them into one "
            "(a receiver treats several as a permanent error)."
        )
    raw_terms = spf[0].split()[1:]
    terms = [_split_qualifier(term) for term in raw_terms]
    # Mechanism names and domains are case-insensitive (RFC 7208 4.6.1, 4.3).
    names = [name.lower() for _, name in terms]
    required = [_split_qualifier(term)[1].lower() for term in record.record.split()[1:]]
    all_index = names.index("all") if "all" in names else None
    for wanted in required:
        if wanted == "all":
            continue  # the customer's own `all` policy is theirs to choose
        if wanted not in names:
            return False, (
                f"SPF record at {record.address} does not include `{wanted}` (found `{spf[0]}`). "
                f"Add `{wanted}` before the `all` mechanism."
            )
        index = names.index(wanted)
        qualifier, term = terms[index][0], raw_terms[index]
        if all_index is not None and all_index < index:
            # Terms after `all` are never evaluated (RFC 7208 5.1).
            all_term = raw_terms[all_index]
            return False, (
                f"SPF record at {record.address} lists `{term}` after `{all_term}`, so it is never "
                f"evaluated; move it before `{all_term}`."
            )
        if qualifier != "+":
            return False, (
                f"SPF record at {record.address} has `{term}`; remove the `{qualifier}` "
                "qualifier so Amazon SES is authorized."
            )
    return True, None


def _dmarc_tags(text: str) -> tuple[list[tuple[str, str]], list[str]]:
    tags: list[tuple[str, str]] = []
    malformed: list[str] = []
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        name, sep, value = part.partition("=")
        if not sep:
            malformed.append(part)
            continue
        tags.append((name.strip().lower(), value.strip()))
    return tags, malformed


def _is_dmarc(text: str) -> bool:
    tags, _ = _dmarc_tags(text)
    return bool(tags) and tags[0][0] == "v" and tags[0][1].upper() == "DMARC1"


def _check_dmarc(record: DnsRecord, texts: Sequence[str]) -> Check:
    dmarc = [text for text in texts if _is_dmarc(text)]
    if not dmarc:
        if texts:
            return False, (
                f"No DMARC record found at {record.address}; found TXT {_listing(texts)} instead. "
                f"Add TXT `{record.record}` at your DNS provider."
            )
        return (
            False,
            f"No DMARC (TXT) record found at {record.address}. "
            f"Add TXT `{record.record}` at your DNS provider.",
        )
    if len(dmarc) > 1:
        return False, (
            f"{_count(len(dmarc))} DMARC records at {record.address} ({_listing(dmarc)}); receivers ignore "
            "DMARC when there is more than one. Keep only one."
        )
    problems = _dmarc_problems(dmarc[0])
    if problems:
        return False, f"DMARC record at {record.address} is invalid: {'; '.join(problems)}."
    return True, None


def _dmarc_problems(text: str) -> list[str]:
    tags, malformed = _dmarc_tags(text)
    problems = [f"`{part}` is not a tag=value pair" for part in malformed]
    values = dict(reversed(tags))  # first occurrence wins
    if tags[0][1] != "DMARC1":
        # RFC 7489 6.4: the version value must match exactly or the record is ignored.
        problems.append(f"write the version exactly as `v=DMARC1`, not `v={tags[0][1]}`")
    policy = values.get("p")
    if policy is None:
        problems.append("it has no `p=` policy; add `p=none` (or quarantine or reject)")
    elif policy.lower() not in DMARC_POLICIES:
        problems.append(f"`p={policy}` is not a valid policy; use none, quarantine or reject")
    subdomain_policy = values.get("sp")
    if subdomain_policy is not None and subdomain_policy.lower() not in DMARC_POLICIES:
        problems.append(f"`sp={subdomain_policy}` is not a valid policy; use none, quarantine or reject")
    pct = values.get("pct")
    if pct is not None and not (pct.isdigit() and 0 <= int(pct) <= 100):
        problems.append(f"`pct={pct}` must be a whole number from 0 to 100")
    for tag in ("adkim", "aspf"):
        mode = values.get(tag)
        if mode is not None and mode.lower() not in ("r", "s"):
            problems.append(f"`{tag}={mode}` must be r (relaxed) or s (strict)")
    for tag in ("rua", "ruf"):
        uris = values.get(tag)
        if uris is not None:
            bad = [uri.strip() for uri in uris.split(",") if not _URI_SCHEME_RE.match(uri.strip())]
            if bad:
                problems.append(
                    f"`{tag}` entries must be URIs like mailto:reports@example.com, not {_listing(bad)}"
                )
    return problems


def _check_exact_txt(record: DnsRecord, texts: Sequence[str]) -> Check:
    if record.record in texts:
        return True, None
    return False, f"No TXT `{record.record}` found at {record.address}; found {_listing(texts)} instead."
