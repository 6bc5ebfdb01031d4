"""The DNS records an SES setup asks the customer to publish, and domain validation.

Formats follow the Amazon SES developer guide: Easy DKIM CNAMEs, a custom MAIL FROM
subdomain (MX + SPF TXT), DMARC, and the inbound-receiving MX. MX values carry their
priority prefix because the API returns them that way (``"10 host"``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import idna

RecordType = Literal["CNAME", "MX", "TXT"]
RecordPurpose = Literal["dkim", "mail_from_mx", "spf", "dmarc", "inbound_mx"]

MAX_DOMAIN_LENGTH = 255
MAX_LABEL_LENGTH = 63
MX_PRIORITY = 10
SPF_VALUE = "v=spf1 include:amazonses.com ~all"

_LABEL_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
_REGION_RE = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$")
# SES DKIM tokens are 32 lowercase alphanumerics; accept any DNS-safe label so a
# change in token length on AWS's side does not break setups.
_TOKEN_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


@dataclass(frozen=True, slots=True)
class DnsRecord:
    """One record to publish; ``verified``/``reason`` are filled by a live check."""

    address: str
    record: str
    type: RecordType
    purpose: RecordPurpose
    verified: bool = False
    reason: str | None = None


def normalize_domain(value: str) -> str:
    """Validate a domain identity and return its lowercase ASCII (IDNA) form.

    Raises ``ValueError`` whose message names the rule that failed.
    """
    domain = value.strip()
    # A single trailing dot is the absolute form of the same name.
    if domain.endswith("."):
        domain = domain[:-1]
    if not domain:
        raise ValueError("domain must not be empty")
    if len(domain) > MAX_DOMAIN_LENGTH:
        raise ValueError(f"domain must be at most {MAX_DOMAIN_LENGTH} characters")
    labels = domain.split(".")
    ascii_labels = [_ascii_label(label) for label in labels]
    if len(ascii_labels) < 2:
        raise ValueError("domain must have at least two labels (e.g. example.com)")
    encoded = ".".join(ascii_labels)
    # IDNA encoding can lengthen the name, so the limit is checked on both forms.
    if len(encoded) > MAX_DOMAIN_LENGTH:
        raise ValueError(f"domain must be at most {MAX_DOMAIN_LENGTH} characters once IDNA-encoded")
    return encoded


def _ascii_label(label: str) -> str:
    if not label:
        raise ValueError("domain labels must not be empty (no leading, trailing or double dots)")
    if not label.isascii():
        try:
            # UTS #46 mapping lowercases and normalises before IDNA 2008 encoding.
            label = idna.encode(label, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            raise ValueError(f"domain label {label!r} is not a valid internationalized name: {exc}") from exc
    label = label.lower()
    if len(label) > MAX_LABEL_LENGTH:
        raise ValueError(f"domain label {label!r} must be at most {MAX_LABEL_LENGTH} characters")
    if label.startswith("-") or label.endswith("-"):
        raise ValueError(f"domain label {label!r} must not start or end with a hyphen")
    if not _LABEL_RE.match(label):
        raise ValueError(f"domain label {label!r} may contain only letters, digits and hyphens")
    return label


def expected_records(
    domain: str,
    dkim_tokens: Sequence[str],
    region: str,
    mail_from_subdomain: str = "bounce",
    dmarc_rua: str | None = None,
) -> list[DnsRecord]:
    """The seven records, in a stable order: 3 DKIM, MAIL FROM MX, SPF, DMARC, inbound MX."""
    domain = normalize_domain(domain)
    if isinstance(dkim_tokens, str):
        # A bare string is a Sequence[str] too; iterating it would yield characters.
        raise TypeError("dkim_tokens must be a sequence of tokens, not a string")
    if len(dkim_tokens) != 3:
        raise ValueError(f"Easy DKIM uses exactly 3 tokens, got {len(dkim_tokens)}")
    for token in dkim_tokens:
        if not _TOKEN_RE.match(token):
            raise ValueError(f"DKIM token {token!r} is not a valid DNS label")
    region = region.strip().lower()
    if not _REGION_RE.match(region):
        raise ValueError(f"region {region!r} is not an AWS region name like us-east-1")
    mail_from = normalize_domain(f"{mail_from_subdomain.strip().rstrip('.')}.{domain}")

    dmarc = "v=DMARC1; p=none"
    if dmarc_rua:
        rua = dmarc_rua.strip()
        if not rua.lower().startswith("mailto:"):
            rua = f"mailto:{rua}"
        dmarc = f"{dmarc}; rua={rua}"

    records = [
        DnsRecord(
            address=f"{token.lower()}._domainkey.{domain}",
            record=f"{token.lower()}.dkim.amazonses.com",
            type="CNAME",
            purpose="dkim",
        )
        for token in dkim_tokens
    ]
    records += [
        DnsRecord(
            address=mail_from,
            record=f"{MX_PRIORITY} feedback-smtp.{region}.amazonses.com",
            type="MX",
            purpose="mail_from_mx",
        ),
        DnsRecord(address=mail_from, record=SPF_VALUE, type="TXT", purpose="spf"),
        DnsRecord(address=f"_dmarc.{domain}", record=dmarc, type="TXT", purpose="dmarc"),
        DnsRecord(
            address=domain,
            record=f"{MX_PRIORITY} inbound-smtp.{region}.amazonaws.com",
            type="MX",
            purpose="inbound_mx",
        ),
    ]
    return records
