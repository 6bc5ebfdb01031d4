"""SMS segment counting: hand-picked edge cases plus a cross-check against gsm0338."""

from __future__ import annotations

import random

import gsm0338  # noqa: F401  (importing registers the "gsm03.38" codec)
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from switchboard.sms.segments import (
    GSM7_BASIC,
    GSM7_CHARSET,
    GSM7_EXTENSION,
    MAX_CHARACTERS,
    SegmentInfo,
    analyze,
    is_gsm7,
)

EMOJI = "\U0001f600"  # 😀, one code point, a UTF-16 surrogate pair


def _case(body: str, encoding: str, segments: int, units: int) -> tuple[str, str, int, int]:
    return body, encoding, segments, units


TRICKY_BODIES = {
    "160 GSM chars fill one segment": _case("a" * 160, "GSM-7", 1, 160),
    "161 GSM chars need two": _case("a" * 161, "GSM-7", 2, 161),
    "306 GSM chars fill two": _case("a" * 306, "GSM-7", 2, 306),
    "307 GSM chars need three": _case("a" * 307, "GSM-7", 3, 307),
    "159 + euro is 161 septets": _case("a" * 159 + "€", "GSM-7", 2, 161),
    "152 + euro is 154 septets, still one segment": _case("a" * 152 + "€", "GSM-7", 1, 154),
    # ESC+€ would straddle septets 153/154: it moves whole to segment 2, which
    # then holds 154 septets and spills into a third (plain division says 2).
    "extension pair straddling 153": _case("a" * 152 + "€" + "a" * 152, "GSM-7", 3, 306),
    "extension pair just before the boundary": _case("a" * 151 + "€" + "a" * 153, "GSM-7", 2, 306),
    "all extension chars": _case("{}[]~|^\\€\f", "GSM-7", 1, 20),
    "80 braces are 160 septets": _case("{" * 80, "GSM-7", 1, 160),
    "81 braces are 162 septets": _case("{" * 81, "GSM-7", 2, 162),
    "CRLF is two GSM septets": _case("Hi\r\nthere", "GSM-7", 1, 9),
    "capital C cedilla is GSM": _case("Ça va", "GSM-7", 1, 5),
    "small c cedilla is not GSM": _case("garçon", "UCS-2", 1, 6),
    "Greek capitals that differ from Latin are GSM": _case("ΔΦΓΛΩΠΨΣΘΞ", "GSM-7", 1, 10),
    "Greek capital alpha is not GSM": _case("ΑΒΓ", "UCS-2", 1, 3),
    "tab is not GSM": _case("a\tb", "UCS-2", 1, 3),
    "curly apostrophe forces UCS-2": _case("It’s here", "UCS-2", 1, 9),
    "70 UCS-2 units fill one segment": _case("ж" * 70, "UCS-2", 1, 70),
    "71 UCS-2 units need two": _case("ж" * 71, "UCS-2", 2, 71),
    "134 UCS-2 units fill two": _case("ж" * 134, "UCS-2", 2, 134),
    "135 UCS-2 units need three": _case("ж" * 135, "UCS-2", 3, 135),
    "emoji counts two units": _case(EMOJI, "UCS-2", 1, 2),
    "35 emoji are 70 units": _case(EMOJI * 35, "UCS-2", 1, 70),
    "36 emoji are 72 units": _case(EMOJI * 36, "UCS-2", 2, 72),
    # The pair would occupy units 67/68: it moves to segment 2 (plain division says 2).
    "surrogate pair straddling 67": _case("a" * 66 + EMOJI + "a" * 66, "UCS-2", 3, 134),
    "67 emoji never split": _case(EMOJI * 67, "UCS-2", 3, 134),
    "Latin + Cyrillic": _case("Hello Привет", "UCS-2", 1, 12),
    "Latin + Arabic": _case("Order مرحبا ok", "UCS-2", 1, 14),
    "Latin + CJK": _case("Code 你好 123", "UCS-2", 1, 11),
    "70 euros are 140 septets": _case("€" * 70, "GSM-7", 1, 140),
    "euro in a UCS-2 body is one unit": _case("€ж" * 35, "UCS-2", 1, 70),
    "lone surrogate is one unit": _case("a\ud800b", "UCS-2", 1, 3),
    "literal ESC is not GSM": _case("a\x1bb", "UCS-2", 1, 3),
}


@pytest.mark.parametrize(
    ("body", "encoding", "segments", "units"),
    list(TRICKY_BODIES.values()),
    ids=list(TRICKY_BODIES),
)
def test_tricky_bodies(body: str, encoding: str, segments: int, units: int) -> None:
    info = analyze(body)
    assert (info.encoding, info.segments, info.units) == (encoding, segments, units)
    single, multi = (160, 153) if encoding == "GSM-7" else (70, 67)
    assert info.per_segment == (single if segments == 1 else multi)
    assert 0 <= info.remaining_in_segment <= info.per_segment


def test_full_segment_info_for_multi_part_gsm() -> None:
    assert analyze("a" * 161) == SegmentInfo(
        encoding="GSM-7",
        units=161,
        segments=2,
        per_segment=153,
        remaining_in_segment=145,
        ucs2_characters=(),
        too_long=False,
    )


def test_remaining_accounts_for_the_unit_lost_at_a_pair_boundary() -> None:
    # Segment 1 holds 152 septets (the pair moved on); segment 2 holds 2 + 10.
    info = analyze("a" * 152 + "€" + "a" * 10)
    assert (info.segments, info.units, info.remaining_in_segment) == (2, 164, 141)
    # Same for UCS-2: segment 1 holds 66 units, segment 2 holds 2 + 4.
    info = analyze("a" * 66 + EMOJI + "жжжж")
    assert (info.segments, info.units, info.remaining_in_segment) == (2, 72, 61)


def test_single_segment_remaining() -> None:
    assert analyze("Hello").remaining_in_segment == 155
    assert analyze("Hellø €").remaining_in_segment == 160 - 8
    assert analyze("Привет").remaining_in_segment == 64


def test_empty_body_is_one_empty_gsm_segment() -> None:
    assert analyze("") == SegmentInfo(
        encoding="GSM-7",
        units=0,
        segments=1,
        per_segment=160,
        remaining_in_segment=160,
        ucs2_characters=(),
        too_long=False,
    )


def test_ucs2_characters_lists_distinct_offenders_in_order() -> None:
    assert analyze("garçon ça").ucs2_characters == ("ç",)
    assert analyze("Hi Привет").ucs2_characters == ("П", "р", "и", "в", "е", "т")
    assert analyze(f"a{EMOJI}b’{EMOJI}c\t").ucs2_characters == (EMOJI, "’", "\t")
    # GSM characters (including extension ones) are never reported.
    assert analyze("€ {x} ж").ucs2_characters == ("ж",)
    assert analyze("plain € text").ucs2_characters == ()


def test_too_long_counts_code_points() -> None:
    assert not analyze("a" * MAX_CHARACTERS).too_long
    assert analyze("a" * (MAX_CHARACTERS + 1)).too_long
    # 1600 emoji are 3200 UTF-16 units but still 1600 characters.
    emoji_body = analyze(EMOJI * MAX_CHARACTERS)
    assert not emoji_body.too_long
    assert emoji_body.units == 2 * MAX_CHARACTERS
    assert analyze(EMOJI * (MAX_CHARACTERS + 1)).too_long


def test_max_length_bodies_segment_counts() -> None:
    assert analyze("a" * 1600).segments == 11  # ceil(1600 / 153)
    assert analyze("ж" * 1600).segments == 24  # ceil(1600 / 67)


def test_is_gsm7() -> None:
    assert is_gsm7("")
    assert is_gsm7("@£$¥ {}[]~|^\\€")
    assert not is_gsm7("ç")


# ---------------------------------------------------------------- reference packing


def _reference_segments(body: str) -> int:
    """Slow, obviously-correct greedy packing of whole characters."""
    if is_gsm7(body):
        costs = [2 if ch in GSM7_EXTENSION else 1 for ch in body]
        single, multi = 160, 153
    else:
        costs = [2 if ord(ch) > 0xFFFF else 1 for ch in body]
        single, multi = 70, 67
    if sum(costs) <= single:
        return 1
    segments, used = 1, 0
    for cost in costs:
        if used + cost > multi:
            segments, used = segments + 1, 0
        used += cost
    return segments


_PACKING_ALPHABET = st.sampled_from(["a", "€", "{", "ж", EMOJI, "\U0001f44d", "é", "\r", "\n"])


@settings(max_examples=400, deadline=None, database=None)
@given(st.lists(_PACKING_ALPHABET, max_size=700).map("".join))
def test_packing_matches_reference(body: str) -> None:
    assert analyze(body).segments == _reference_segments(body)


# ---------------------------------------------------------------- gsm0338 cross-check


def test_character_tables_agree_with_gsm0338_except_escape() -> None:
    """Every BMP code point: our GSM-7 set versus what the gsm0338 codec encodes.

    The one disagreement is U+001B. gsm0338 maps it to the byte 0x1B, but in
    the GSM 03.38 default alphabet 0x1B is "escape to extension table", not a
    character: a handset reads 0x1B 0x28 as "{", so the codec's output for
    "\\x1b(" is indistinguishable from "{". The counter is right to treat a
    literal ESC as non-GSM (UCS-2).
    """
    encodable = set()
    for code_point in range(0x10000):
        char = chr(code_point)
        try:
            encoded = char.encode("gsm03.38")
        except UnicodeEncodeError:
            continue
        encodable.add(char)
        assert len(encoded) == (2 if char in GSM7_EXTENSION else 1), repr(char)
    assert encodable - GSM7_CHARSET == {"\x1b"}
    assert GSM7_CHARSET - encodable == set()
    assert len(GSM7_BASIC) == 127
    assert len(GSM7_EXTENSION) == 10

    assert "\x1b(".encode("gsm03.38") == "{".encode("gsm03.38")
    assert analyze("\x1b").encoding == "UCS-2"


_LATIN1_EXTRAS = "".join(chr(c) for c in range(0xA0, 0x100) if chr(c) not in GSM7_CHARSET)
_TYPOGRAPHY = "‘’“”–—…•™©®°±×÷·‹›«»\t\x00\x7f"
_EMOJI = "".join(chr(c) for c in range(0x1F300, 0x1F650)) + "\u200d\ufe0f\U0001f1fa\U0001f1f8"
_SCRIPTS = (
    "".join(chr(c) for c in range(0x0410, 0x0450))  # Cyrillic
    + "".join(chr(c) for c in range(0x0621, 0x064B))  # Arabic
    + "".join(chr(c) for c in range(0x05D0, 0x05EB))  # Hebrew
    + "".join(chr(c) for c in range(0x0391, 0x03CA))  # Greek (mostly non-GSM)
    + "".join(chr(c) for c in range(0x0905, 0x0940))  # Devanagari
    + "".join(chr(c) for c in range(0x4E00, 0x4F00))  # CJK
    + "".join(chr(c) for c in range(0x3041, 0x3097))  # Hiragana
)
_BASIC = "".join(sorted(GSM7_BASIC))
_EXTENSION = "".join(sorted(GSM7_EXTENSION))
_NON_GSM = _LATIN1_EXTRAS + _TYPOGRAPHY + _EMOJI + _SCRIPTS
# Weighting by repetition keeps generation on random.choices' fast unweighted path.
_GSM_WITH_EXTENSION = _BASIC * 2 + _EXTENSION * 3
_MIXED = _BASIC * 6 + _EXTENSION * 4 + _LATIN1_EXTRAS + _TYPOGRAPHY * 2 + _EMOJI[:80] + _SCRIPTS[:200]


def _corpus(seed: int, size: int) -> list[str]:
    """Deterministic bodies of 0-700 characters from five character mixes.

    Each body is a random window of a long random stream of its mix: slicing
    is C-speed, and keeps generation to a fraction of the test's runtime.
    """
    rng = random.Random(seed)
    streams = [
        "".join(rng.choices(alphabet, k=200_000))
        for alphabet in (_BASIC, _GSM_WITH_EXTENSION, _GSM_WITH_EXTENSION, _MIXED, _NON_GSM)
    ]
    bodies = []
    for _ in range(size):
        # Mostly 0-320 (the 1-2 segment boundaries), the rest up to 700.
        length = rng.randint(0, 320) if rng.random() < 0.6 else rng.randint(0, 700)
        profile = rng.choices(range(5), cum_weights=(30, 50, 70, 85, 100))[0]
        stream = streams[profile]
        offset = rng.randrange(len(stream) - length)
        body = stream[offset : offset + length]
        if profile == 2 and body:
            # GSM text with a single intruder: the decision hinges on one char.
            at = rng.randrange(length)
            body = body[:at] + rng.choice(_NON_GSM) + body[at + 1 :]
        bodies.append(body)
    return bodies


def test_agrees_with_gsm0338_codec_on_generated_corpus() -> None:
    bodies = _corpus(seed=338, size=100_000)
    # Per-character verdicts of the codec, cached: set algebra then stays in C.
    encodable: set[str] = set()
    unencodable: set[str] = set()
    seen = {"GSM-7": 0, "UCS-2": 0}
    for body in bodies:
        info = analyze(body)
        seen[info.encoding] += 1
        try:
            encoded = body.encode("gsm03.38")
        except UnicodeEncodeError:
            encoded = None
        assert (encoded is not None) == (info.encoding == "GSM-7"), repr(body)
        if encoded is not None:
            assert info.units == len(encoded), repr(body)
            continue
        assert info.units == len(body.encode("utf-16-le", "surrogatepass")) // 2
        chars = set(body)
        for char in chars - encodable - unencodable:
            (encodable if _gsm0338_encodes(char) else unencodable).add(char)
        offenders = chars & unencodable
        assert set(info.ucs2_characters) == offenders, repr(body)
        assert len(info.ucs2_characters) == len(offenders)
    # The corpus exercises both branches substantially.
    assert seen["GSM-7"] > 40_000
    assert seen["UCS-2"] > 40_000


def _gsm0338_encodes(char: str) -> bool:
    try:
        char.encode("gsm03.38")
    except UnicodeEncodeError:
        return False
    return True
