"""SMS segment counting (GSM-7 / UCS-2), as carriers bill it.

A body is sent as GSM-7 when every character is in the GSM 03.38 basic set or
its extension table; a single non-GSM character switches the whole message to
UCS-2. One SMS carries 140 octets: 160 GSM-7 septets or 70 UTF-16 code units.
Concatenated messages spend 6 octets of each segment on the UDH, leaving 153
septets / 67 code units per segment.

Segments are packed greedily, character by character, because a boundary may
not split an extension escape pair (ESC + char, 2 septets) nor a UTF-16
surrogate pair (astral characters such as most emoji, 2 code units). A plain
``ceil(units / 153)`` therefore under-counts bodies with such characters.

Decisions (see PROVIDERS.md "3. SMS segmentation"):

* No national language shift tables (neither Twilio's calculator nor smsutil
  models them), so e.g. ``ç``, found only in the Spanish/Portuguese shift
  tables, forces UCS-2; ``Ç`` is in the basic set.
* U+001B (ESCAPE) is *not* a GSM character: in GSM 03.38 the code 0x1B is the
  escape to the extension table, not a printable character, so a literal ESC
  in a body cannot be sent as GSM-7. (The ``gsm0338`` codec maps it to the
  byte 0x1B, which a handset would read as the start of an escape pair.)
* Characters are split at code point boundaries only. Multi-code-point
  graphemes (ZWJ emoji, skin tones, flags) may straddle segments, which is what
  the wire format allows; Twilio's calculator keeps graphemes together and can
  therefore estimate more segments for such bodies.
* An empty body is one segment of zero units: a message that is sent is billed
  as at least one segment. Callers that must refuse empty messages check the
  body itself.
* ``MAX_CHARACTERS`` (Twilio's 1600-character body limit) is counted in
  Unicode code points (``len(body)``), so the limit does not change with the
  encoding; an emoji counts once although it takes two UCS-2 units.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

Encoding = Literal["GSM-7", "UCS-2"]

GSM7: Final = "GSM-7"
UCS2: Final = "UCS-2"

# GSM 03.38 default alphabet (basic set) in code order; 0x1B (ESC, between Ξ
# and Æ) is left out because it is the escape, not a character.
GSM7_BASIC_CHARS: Final = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Extension table: each is sent as ESC + code, so costs two septets.
GSM7_EXTENSION_CHARS: Final = "\f^{}\\[~]|€"

GSM7_BASIC: Final = frozenset(GSM7_BASIC_CHARS)
GSM7_EXTENSION: Final = frozenset(GSM7_EXTENSION_CHARS)
GSM7_CHARSET: Final = GSM7_BASIC | GSM7_EXTENSION

GSM7_SINGLE_SEGMENT: Final = 160
GSM7_MULTI_SEGMENT: Final = 153
UCS2_SINGLE_SEGMENT: Final = 70
UCS2_MULTI_SEGMENT: Final = 67

# Twilio rejects longer bodies (error 21617); counted in code points.
MAX_CHARACTERS: Final = 1600

_ESC: Final = "\x1b"
# str.translate runs in C: expanding extension chars to ESC + char yields the
# septet sequence, in which ESC marks the first half of every escape pair.
_SEPTET_TABLE: Final = {ord(ch): _ESC + ch for ch in GSM7_EXTENSION_CHARS}
# Regexes scan in C, several times faster than per-character set lookups.
_GSM7_CLASS: Final = "".join(re.escape(ch) for ch in sorted(GSM7_CHARSET))
_GSM7_RE: Final = re.compile(f"[{_GSM7_CLASS}]*")
_NON_GSM7_RE: Final = re.compile(f"[^{_GSM7_CLASS}]")
# Native byte order so the bytes can be read back as 16-bit code units.
_UTF16_NATIVE: Final = "utf-16-le" if sys.byteorder == "little" else "utf-16-be"


@dataclass(frozen=True, slots=True)
class SegmentInfo:
    """How a body will be encoded and billed."""

    encoding: Encoding
    # GSM-7: septets (extension chars count 2); UCS-2: UTF-16 code units.
    units: int
    segments: int
    # Capacity of each segment: 160/153 (GSM-7) or 70/67 (UCS-2).
    per_segment: int
    # Units still free in the last segment before another one is needed.
    remaining_in_segment: int
    # Distinct characters that forced UCS-2, in order of first appearance.
    ucs2_characters: tuple[str, ...]
    too_long: bool


def is_gsm7(body: str) -> bool:
    """True when every character of ``body`` can be sent as GSM-7."""
    return _GSM7_RE.fullmatch(body) is not None


def analyze(body: str) -> SegmentInfo:
    """Count the encoding, units and segments ``body`` needs as an SMS."""
    too_long = len(body) > MAX_CHARACTERS
    if is_gsm7(body):
        extension = sum(map(body.count, GSM7_EXTENSION_CHARS))
        septets = len(body) + extension
        gsm_pair_start = None
        if extension and septets > GSM7_SINGLE_SEGMENT:
            # Only multi-segment bodies with escape pairs need the septet string.
            expanded = body.translate(_SEPTET_TABLE)

            def gsm_pair_start(i: int) -> bool:
                return expanded[i] == _ESC

        segments, per_segment, remaining = _pack(
            septets, GSM7_SINGLE_SEGMENT, GSM7_MULTI_SEGMENT, gsm_pair_start
        )
        return SegmentInfo(GSM7, septets, segments, per_segment, remaining, (), too_long)

    # surrogatepass: a lone surrogate in a Python str still costs one unit.
    encoded = body.encode(_UTF16_NATIVE, "surrogatepass")
    units = len(encoded) // 2
    ucs2_pair_start = None
    if units > len(body) and units > UCS2_SINGLE_SEGMENT:
        code_units = memoryview(encoded).cast("H")

        def ucs2_pair_start(i: int) -> bool:
            # A high surrogate followed by a low one is a pair; a lone high
            # surrogate is a unit of its own.
            return (
                0xD800 <= code_units[i] <= 0xDBFF and i + 1 < units and 0xDC00 <= code_units[i + 1] <= 0xDFFF
            )

    segments, per_segment, remaining = _pack(units, UCS2_SINGLE_SEGMENT, UCS2_MULTI_SEGMENT, ucs2_pair_start)
    offenders = tuple(dict.fromkeys(_NON_GSM7_RE.findall(body)))
    return SegmentInfo(UCS2, units, segments, per_segment, remaining, offenders, too_long)


def _pack(
    units: int,
    single: int,
    multi: int,
    starts_pair: Callable[[int], bool] | None,
) -> tuple[int, int, int]:
    """Greedy packing of ``units`` into segments; returns (segments, capacity, remaining).

    ``starts_pair(i)`` tells whether unit ``i`` is the first half of a pair that
    must stay in one segment; such a unit at the end of a full segment moves to
    the next one, leaving one unit of the segment unused. ``None`` means the
    body has no pairs, so plain division is exact.
    """
    if units <= single:
        return 1, single, single - units
    if starts_pair is None:
        segments = -(-units // multi)
        return segments, multi, segments * multi - units
    start = 0
    segments = 1
    while units - start > multi:
        cut = start + multi
        if starts_pair(cut - 1):
            cut -= 1
        start = cut
        segments += 1
    return segments, multi, multi - (units - start)
