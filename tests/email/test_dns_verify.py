"""Live DNS verification of SES setup records against a local authoritative server."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import dns.asyncresolver
import dns.resolver
import pytest

from switchboard.email.dns_records import DnsRecord, expected_records, normalize_domain
from switchboard.email.dns_verify import (
    NAMESERVERS_ENV,
    make_resolver,
    parse_nameservers,
    resolver_from_env,
    verify_records,
)
from tests.support import dns_fixtures
from tests.support.dns_server import Fault, LocalDnsServer

# A fresh local authoritative server per test; bound here so this module does not depend
# on a conftest providing it.
dns_server = dns_fixtures.dns_server

DOMAIN = "mail.customer.com"
TOKENS = (
    "k7ph4rjt6ayf3dyqgm2lmzqzonl3ybuw",
    "ydxg6crmcsmqiiqxs5hwnuxyw6d3d6su",
    "fhr6wqgq3fq4tkyqsfwnr2pt4gbekk3q",
)
REGION = "eu-west-1"
MAIL_FROM = f"bounce.{DOMAIN}"
DMARC = f"_dmarc.{DOMAIN}"
TIMEOUT = 1.0


def setup_records() -> list[DnsRecord]:
    return expected_records(DOMAIN, TOKENS, REGION, dmarc_rua="dmarc@customer.com")


def publish(server: LocalDnsServer, records: Iterable[DnsRecord], skip: Sequence[str] = ()) -> None:
    for record in records:
        if record.purpose not in skip:
            server.set(record.address, record.type, [record.record])


async def refresh(server: LocalDnsServer, timeout: float = TIMEOUT) -> list[DnsRecord]:
    resolver = make_resolver([("127.0.0.1", server.port)], timeout)
    return await verify_records(setup_records(), resolver, timeout)


def only(records: list[DnsRecord], purpose: str) -> DnsRecord:
    (record,) = [r for r in records if r.purpose == purpose]
    return record


# --- expected records ------------------------------------------------------------------------


def test_expected_records_use_provider_formats_in_stable_order() -> None:
    records = setup_records()
    assert [(r.address, r.type, r.record, r.purpose) for r in records] == [
        *[
            (f"{token}._domainkey.{DOMAIN}", "CNAME", f"{token}.dkim.amazonses.com", "dkim")
            for token in TOKENS
        ],
        (MAIL_FROM, "MX", "10 feedback-smtp.eu-west-1.amazonses.com", "mail_from_mx"),
        (MAIL_FROM, "TXT", "v=spf1 include:amazonses.com ~all", "spf"),
        (DMARC, "TXT", "v=DMARC1; p=none; rua=mailto:dmarc@customer.com", "dmarc"),
        (DOMAIN, "MX", "10 inbound-smtp.eu-west-1.amazonaws.com", "inbound_mx"),
    ]
    assert not any(r.verified for r in records)


def test_expected_records_normalize_domain_and_options() -> None:
    records = expected_records("Mail.Customer.COM.", TOKENS, "us-east-1", mail_from_subdomain="mf")
    assert records[3].address == "mf.mail.customer.com"
    assert records[5].record == "v=DMARC1; p=none"
    with pytest.raises(ValueError, match="exactly 3 tokens"):
        expected_records(DOMAIN, TOKENS[:2], REGION)
    with pytest.raises(ValueError, match="region"):
        expected_records(DOMAIN, TOKENS, "mars")


# --- live verification -----------------------------------------------------------------------


async def test_all_published_records_verify_with_one_query_per_name_and_type(
    dns_server: LocalDnsServer,
) -> None:
    publish(dns_server, setup_records())
    checked = await refresh(dns_server)
    assert [(r.verified, r.reason) for r in checked] == [(True, None)] * 7
    # SPF TXT and MAIL FROM MX share a name but not a type: 7 distinct lookups.
    assert dns_server.queries == 7


async def test_partially_published_records_report_not_found(dns_server: LocalDnsServer) -> None:
    publish(dns_server, setup_records(), skip=("mail_from_mx", "spf", "inbound_mx"))
    checked = await refresh(dns_server)
    assert [r.verified for r in checked] == [True, True, True, False, False, True, False]
    assert only(checked, "mail_from_mx").reason == (
        f"No MX record found at {MAIL_FROM}: the name does not exist. "
        "Add MX `10 feedback-smtp.eu-west-1.amazonses.com` at your DNS provider."
    )
    assert only(checked, "spf").reason == (
        f"No SPF (TXT) record found at {MAIL_FROM}: the name does not exist. "
        "Add TXT `v=spf1 include:amazonses.com ~all` at your DNS provider."
    )
    # The domain itself exists (records live below it) but has no MX.
    assert only(checked, "inbound_mx").reason == (
        f"No MX record found at {DOMAIN}: the name exists but has no MX record. "
        "Add MX `10 inbound-smtp.eu-west-1.amazonaws.com` at your DNS provider."
    )


@pytest.mark.parametrize(
    ("purpose", "name", "rdtype", "values", "reason"),
    [
        pytest.param(
            "dkim",
            f"{TOKENS[0]}._domainkey.{DOMAIN}",
            "CNAME",
            ["selector1.dkim.example.net."],
            f"Found CNAME {TOKENS[0]}._domainkey.{DOMAIN} -> `selector1.dkim.example.net` instead of "
            f"`{TOKENS[0]}.dkim.amazonses.com`. Change it to `{TOKENS[0]}.dkim.amazonses.com`.",
            id="cname-other-target",
        ),
        pytest.param(
            "mail_from_mx",
            MAIL_FROM,
            "MX",
            ["20 feedback-smtp.eu-west-1.amazonses.com."],
            f"MX found with priority 20, expected 10, for `feedback-smtp.eu-west-1.amazonses.com` at "
            f"{MAIL_FROM}. Change its priority to 10.",
            id="mx-wrong-priority",
        ),
        pytest.param(
            "inbound_mx",
            DOMAIN,
            "MX",
            ["10 aspmx.l.google.com.", "20 alt1.aspmx.l.google.com."],
            f"No MX record for `inbound-smtp.eu-west-1.amazonaws.com` found at {DOMAIN}; found "
            "`10 aspmx.l.google.com`, `20 alt1.aspmx.l.google.com` instead. "
            "Replace it with `10 inbound-smtp.eu-west-1.amazonaws.com`.",
            id="mx-wrong-host",
        ),
        pytest.param(
            "mail_from_mx",
            MAIL_FROM,
            "MX",
            ["10 feedback-smtp.eu-west-1.amazonses.com.", "20 backup.example.net."],
            f"Found MX `10 feedback-smtp.eu-west-1.amazonses.com` at {MAIL_FROM}, but also "
            "`20 backup.example.net`; a MAIL FROM subdomain must have exactly one MX record. "
            "Remove the others.",
            id="mail-from-extra-mx",
        ),
        pytest.param(
            "spf",
            MAIL_FROM,
            "TXT",
            ["v=spf1 include:_spf.google.com ~all"],
            f"SPF record at {MAIL_FROM} does not include `include:amazonses.com` (found "
            "`v=spf1 include:_spf.google.com ~all`). Add `include:amazonses.com` before the `all` mechanism.",
            id="spf-without-include",
        ),
        pytest.param(
            "spf",
            MAIL_FROM,
            "TXT",
            ["v=spf1 include:amazonses.com ~all", "v=spf1 include:_spf.google.com ~all"],
            f"Two SPF records at {MAIL_FROM} (`v=spf1 include:amazonses.com ~all`, "
            "`v=spf1 include:_spf.google.com ~all`); merge them into one "
            "(a receiver treats several as a permanent error).",
            id="two-spf-records",
        ),
        pytest.param(
            "spf",
            MAIL_FROM,
            "TXT",
            ["google-site-verification=abc"],
            f"No SPF record found at {MAIL_FROM}; found TXT `google-site-verification=abc` instead. "
            "Add TXT `v=spf1 include:amazonses.com ~all` at your DNS provider.",
            id="txt-but-no-spf",
        ),
        pytest.param(
            "spf",
            MAIL_FROM,
            "TXT",
            ["v=spf1 -all include:amazonses.com"],
            f"SPF record at {MAIL_FROM} lists `include:amazonses.com` after `-all`, so it is never "
            "evaluated; move it before `-all`.",
            id="spf-include-after-all",
        ),
        pytest.param(
            "spf",
            MAIL_FROM,
            "TXT",
            ["v=spf1 -include:amazonses.com ~all"],
            f"SPF record at {MAIL_FROM} has `-include:amazonses.com`; remove the `-` qualifier so "
            "Amazon SES is authorized.",
            id="spf-fail-qualifier",
        ),
        pytest.param(
            "dmarc",
            DMARC,
            "TXT",
            ["v=DMARC1; p=monitor"],
            f"DMARC record at {DMARC} is invalid: `p=monitor` is not a valid policy; "
            "use none, quarantine or reject.",
            id="dmarc-invalid-policy",
        ),
        pytest.param(
            "dmarc",
            DMARC,
            "TXT",
            ["v=DMARC1; rua=mailto:d@customer.com"],
            f"DMARC record at {DMARC} is invalid: it has no `p=` policy; "
            "add `p=none` (or quarantine or reject).",
            id="dmarc-missing-policy",
        ),
        pytest.param(
            "dmarc",
            DMARC,
            "TXT",
            ["v=dmarc1; p=none; pct=200"],
            f"DMARC record at {DMARC} is invalid: write the version exactly as `v=DMARC1`, not `v=dmarc1`; "
            "`pct=200` must be a whole number from 0 to 100.",
            id="dmarc-version-case-and-pct",
        ),
        pytest.param(
            "dmarc",
            DMARC,
            "TXT",
            ["v=DMARC1; p=none", "v=DMARC1; p=reject"],
            f"Two DMARC records at {DMARC} (`v=DMARC1; p=none`, `v=DMARC1; p=reject`); receivers ignore "
            "DMARC when there is more than one. Keep only one.",
            id="two-dmarc-records",
        ),
    ],
)
async def test_wrong_values_get_specific_reasons(
    dns_server: LocalDnsServer,
    purpose: str,
    name: str,
    rdtype: str,
    values: list[str],
    reason: str,
) -> None:
    records = setup_records()
    publish(dns_server, records)
    dns_server.set(name, rdtype, values)
    checked = await refresh(dns_server)
    wrong = [r for r in checked if not r.verified]
    assert [(r.purpose, r.reason) for r in wrong] == [(purpose, reason)]


async def test_uppercase_names_and_trailing_dots_still_verify(dns_server: LocalDnsServer) -> None:
    for record in setup_records():
        value = record.record.upper() + "." if record.type != "TXT" else record.record
        dns_server.set(record.address.upper() + ".", record.type, [value])
    checked = await refresh(dns_server)
    assert all(r.verified for r in checked), [r.reason for r in checked]
    # Records stored with their own spelling match too.
    shouting = [
        DnsRecord(
            address=r.address.upper() + ".",
            record=r.record.upper() if r.type != "TXT" else r.record,
            type=r.type,
            purpose=r.purpose,
        )
        for r in setup_records()
    ]
    resolver = make_resolver([("127.0.0.1", dns_server.port)], TIMEOUT)
    assert all(r.verified for r in await verify_records(shouting, resolver, TIMEOUT))


async def test_txt_values_split_into_chunks_verify(dns_server: LocalDnsServer) -> None:
    publish(dns_server, setup_records())
    dns_server.set(MAIL_FROM, "TXT", [("v=spf1 include:", "amazonses.com ~all")])
    long_rua = ",".join(f"mailto:dmarc-{i}@reports.example.net" for i in range(20))
    # > 255 bytes: split into chunks; > 512 bytes with the second record: forces TCP.
    dns_server.set(
        DMARC, "TXT", [f"v=DMARC1; p=quarantine; pct=25; rua={long_rua}", "unrelated=" + "x" * 300]
    )
    checked = await refresh(dns_server)
    assert all(r.verified for r in checked), [r.reason for r in checked]
    # The truncated DMARC answer was retried over TCP: one extra query.
    assert dns_server.queries == 8


@pytest.mark.parametrize(
    "spf",
    [
        "v=spf1 include:_spf.google.com include:amazonses.com -all",
        "v=spf1 ip4:192.0.2.0/24 +include:amazonses.com mx ?all",
        "V=SPF1 INCLUDE:AmazonSES.com ~ALL",
        "v=spf1  include:amazonses.com  redirect=_spf.example.net",
    ],
)
async def test_spf_with_other_mechanisms_verifies(dns_server: LocalDnsServer, spf: str) -> None:
    publish(dns_server, setup_records())
    dns_server.set(MAIL_FROM, "TXT", [spf, "some-other-verification=123"])
    checked = await refresh(dns_server)
    assert only(checked, "spf").verified, only(checked, "spf").reason


@pytest.mark.parametrize(
    "dmarc",
    [
        "v=DMARC1;p=reject",
        "v=DMARC1; p=quarantine; pct=25; rua=mailto:dmarcreports@example.com",
        "v=DMARC1; P=None",
    ],
)
async def test_any_valid_dmarc_policy_verifies(dns_server: LocalDnsServer, dmarc: str) -> None:
    publish(dns_server, setup_records())
    dns_server.set(DMARC, "TXT", [dmarc])
    checked = await refresh(dns_server)
    assert only(checked, "dmarc").verified, only(checked, "dmarc").reason


async def test_dmarc_published_through_a_cname_verifies(dns_server: LocalDnsServer) -> None:
    publish(dns_server, setup_records(), skip=("dmarc",))
    dns_server.set(DMARC, "CNAME", ["customer.dmarc.example.net."])
    dns_server.set("customer.dmarc.example.net", "TXT", ["v=DMARC1; p=reject"])
    checked = await refresh(dns_server)
    assert only(checked, "dmarc").verified, only(checked, "dmarc").reason


async def test_dropped_query_times_out_quickly(dns_server: LocalDnsServer) -> None:
    publish(dns_server, setup_records())
    dns_server.set_fault(DOMAIN, "drop")
    started = time.perf_counter()
    checked = await refresh(dns_server, timeout=0.3)
    assert time.perf_counter() - started < 1.5
    assert [r.purpose for r in checked if not r.verified] == ["inbound_mx"]
    assert only(checked, "inbound_mx").reason == f"DNS query for MX {DOMAIN} timed out after 0.3s; try again."


@pytest.mark.parametrize(("fault", "rcode"), [("servfail", "SERVFAIL"), ("refused", "REFUSED")])
async def test_server_failures_are_reported_with_their_rcode(
    dns_server: LocalDnsServer, fault: Fault, rcode: str
) -> None:
    publish(dns_server, setup_records())
    dns_server.set_fault(DMARC, fault)
    checked = await refresh(dns_server)
    assert [r.purpose for r in checked if not r.verified] == ["dmarc"]
    assert only(checked, "dmarc").reason == (
        f"DNS server failed to answer for {DMARC} ({rcode}); "
        "check the zone at your DNS provider and try again."
    )


async def test_removed_record_flips_to_unverified(dns_server: LocalDnsServer) -> None:
    records = setup_records()
    publish(dns_server, records)
    assert all(r.verified for r in await refresh(dns_server))
    dns_server.remove(records[1].address, "CNAME")
    dns_server.remove(DMARC, "TXT")
    checked = await refresh(dns_server)
    assert [r.verified for r in checked] == [True, False, True, True, True, False, True]
    assert checked[1].reason == (
        f"No CNAME record found at {records[1].address}: the name does not exist. "
        f"Add CNAME `{records[1].record}` at your DNS provider."
    )
    assert checked[5].reason is not None
    assert checked[5].reason.startswith(f"No DMARC (TXT) record found at {DMARC}: the name does not exist.")
    # Publishing it again heals the drift.
    publish(dns_server, records)
    assert all(r.verified for r in await refresh(dns_server))


async def test_resolver_from_env_uses_configured_nameservers(dns_server: LocalDnsServer) -> None:
    publish(dns_server, setup_records())
    resolver = resolver_from_env(TIMEOUT, env={NAMESERVERS_ENV: f" {dns_server.nameserver} "})
    checked = await verify_records(setup_records(), resolver, TIMEOUT)
    assert all(r.verified for r in checked)


def test_make_resolver_without_nameservers_uses_the_system_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The system configuration is read from resolv.conf; point it at one this test controls.
    conf = tmp_path / "resolv.conf"
    conf.write_text("nameserver 192.0.2.53\n")
    original = dns.resolver.BaseResolver.read_resolv_conf
    monkeypatch.setattr(
        dns.resolver.BaseResolver, "read_resolv_conf", lambda self, _f: original(self, str(conf))
    )
    resolver = make_resolver(None, 2.5)
    assert isinstance(resolver, dns.asyncresolver.Resolver)
    assert [str(ns) for ns in resolver.nameservers] == ["192.0.2.53"]
    assert (resolver.timeout, resolver.lifetime, resolver.cache) == (2.5, 2.5, None)
    with pytest.raises(ValueError, match="timeout"):
        make_resolver(None, 0)


# --- normalize_domain / parse_nameservers -------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Example.COM", "example.com"),
        ("mail.example.com.", "mail.example.com"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("BÜCHER.example", "xn--bcher-kva.example"),
        ("a-b.c0.example", "a-b.c0.example"),
        ("x" * 63 + ".com", "x" * 63 + ".com"),
        (".".join(["a" * 63] * 4)[:251] + ".com", ".".join(["a" * 63] * 4)[:251] + ".com"),
    ],
)
def test_normalize_domain_accepts(value: str, expected: str) -> None:
    assert normalize_domain(value) == expected


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("", "must not be empty"),
        (".", "must not be empty"),
        ("x" * 64 + ".com", "at most 63 characters"),
        (".".join(["a" * 63] * 4)[:252] + ".com", "at most 255 characters"),
        ("-bad.com", "must not start or end with a hyphen"),
        ("bad-.com", "must not start or end with a hyphen"),
        ("localhost", "at least two labels"),
        ("a..com", "labels must not be empty"),
        ("under_score.com", "only letters, digits and hyphens"),
        ("sp ace.com", "only letters, digits and hyphens"),
    ],
)
def test_normalize_domain_rejects(value: str, rule: str) -> None:
    with pytest.raises(ValueError, match=rule):
        normalize_domain(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, []),
        ("  ", []),
        ("127.0.0.1", [("127.0.0.1", 53)]),
        ("127.0.0.1:5353, 10.0.0.2", [("127.0.0.1", 5353), ("10.0.0.2", 53)]),
        ("[::1]:5300", [("::1", 5300)]),
        ("[2001:db8::1]", [("2001:db8::1", 53)]),
        ("2001:db8::53", [("2001:db8::53", 53)]),
    ],
)
def test_parse_nameservers_accepts(value: str | None, expected: list[tuple[str, int]]) -> None:
    assert parse_nameservers(value) == expected


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("127.0.0.1,", "empty nameserver entry"),
        ("127.0.0.1:0", "port must be a number from 1 to 65535"),
        ("127.0.0.1:65536", "port must be a number from 1 to 65535"),
        ("127.0.0.1:abc", "port must be a number"),
        ("127.0.0.1:", "port must be a number"),
        ("dns.example.com:53", "host must be an IP address"),
        ("[127.0.0.1]:53", "brackets are only for IPv6"),
        ("::1:53:x", "write IPv6 with a port"),
        ("[::1]:53:54", "write IPv6 with a port"),
    ],
)
def test_parse_nameservers_rejects(value: str, rule: str) -> None:
    with pytest.raises(ValueError, match=rule):
        parse_nameservers(value)
