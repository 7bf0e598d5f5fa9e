"""Go standard-library look-alikes: ``%q`` quoting, simple case mapping, ``google/uuid.Parse``."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connlog_query.gocompat import go_lower, go_quote, go_upper, parse_go_uuid

# Expected texts are Go's strconv.Quote output (appendEscapedRune): printable runes (Unicode
# L, M, N, P, S and ASCII space) stay, \a \b \f \n \r \t \v have short escapes, other runes
# below 0x20 and DEL are \xNN, the rest \uNNNN or \UNNNNNNNN; invalid runes become \ufffd.
QUOTE: list[tuple[str, str]] = [
    ("", '""'),
    ("abc", '"abc"'),
    ("hello world", '"hello world"'),
    ('say "hi"', '"say \\"hi\\""'),
    ("a\\b", '"a\\\\b"'),
    ("'", '"\'"'),
    ("line\nnext", '"line\\nnext"'),
    ("\t", '"\\t"'),
    ("\r", '"\\r"'),
    ("\a\b\f\v", '"\\a\\b\\f\\v"'),
    ("\x00", '"\\x00"'),
    ("\x1b[0m", '"\\x1b[0m"'),
    ("\x7f", '"\\x7f"'),
    ("\u0085", '"\\u0085"'),
    ("\u00a0", '"\\u00a0"'),
    ("\u00ad", '"\\u00ad"'),
    ("\u2028", '"\\u2028"'),
    ("\ufeff", '"\\ufeff"'),
    ("é", '"é"'),
    ("日本語", '"日本語"'),
    ("ß İ", '"ß İ"'),
    ("😀", '"😀"'),
    ("\U0010ffff", '"\\U0010ffff"'),
    ("\U000e0001", '"\\U000e0001"'),
    ("\ud800", '"\\ufffd"'),
    ("a\udcffb", '"a\\ufffdb"'),
    ('mixed "é"\n', '"mixed \\"é\\"\\n"'),
]


@pytest.mark.parametrize(("text", "expected"), QUOTE)
def test_go_quote(text: str, expected: str) -> None:
    assert go_quote(text) == expected


# Go's strings.ToLower / ToUpper map rune by rune with Unicode's simple mappings.
LOWER: list[tuple[str, str]] = [
    ("ABC xyz 123", "abc xyz 123"),
    ("", ""),
    ("ÀÉÎ", "àéî"),
    ("\u0130", "i"),  # capital I with dot: full mapping is "i̇" (2 chars), simple is "i"
    ("İSTANBUL", "istanbul"),
    ("\u212a", "k"),  # Kelvin sign
    ("ǅ", "ǆ"),
    ("ẞ", "ß"),
    ("ᾼ", "ᾳ"),
]

UPPER: list[tuple[str, str]] = [
    ("abc XYZ 123", "ABC XYZ 123"),
    ("", ""),
    ("àéî", "ÀÉÎ"),
    ("ß", "ß"),  # full mapping "SS"; Go has no simple upper case for it
    ("straße", "STRAßE"),
    ("ﬁ", "ﬁ"),
    ("ŉ", "ŉ"),
    ("ı", "I"),  # dotless i
    ("ſ", "S"),  # long s
    ("ǆ", "Ǆ"),
    ("ᾼ", "ᾼ"),  # full mapping "ΑΙ"; Go keeps the titlecase letter
    ("2023-01-01t00:00:00z", "2023-01-01T00:00:00Z"),
]


@pytest.mark.parametrize(("text", "expected"), LOWER)
def test_go_lower(text: str, expected: str) -> None:
    assert go_lower(text) == expected


@pytest.mark.parametrize(("text", "expected"), UPPER)
def test_go_upper(text: str, expected: str) -> None:
    assert go_upper(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ΟΔΟΣ", "οδοσ"),  # Python's lower() applies Final_Sigma (-> ς); Go maps Σ to σ always
        ("ΣΑΣ Σ", "σασ σ"),
    ],
)
def test_go_lower_has_no_final_sigma(text: str, expected: str) -> None:
    assert go_lower(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ᾳ", "ᾼ"),  # U+1FB3 -> U+1FBC: simple upper case exists, full mapping is "ΑΙ"
        ("ᾀ", "ᾈ"),  # U+1F80 -> U+1F88
        ("ῃ", "ῌ"),  # U+1FC3 -> U+1FCC
        ("ῳ", "ῼ"),  # U+1FF3 -> U+1FFC
    ],
)
def test_go_upper_uses_simple_mapping_for_iota_subscript(text: str, expected: str) -> None:
    assert go_upper(text) == expected


@settings(max_examples=300)
@given(st.text())
def test_case_mapping_preserves_length(text: str) -> None:
    assert len(go_lower(text)) == len(text)
    assert len(go_upper(text)) == len(text)


@settings(max_examples=200)
@given(st.text(alphabet=st.characters(max_codepoint=0x7F)))
def test_case_mapping_of_ascii_is_plain(text: str) -> None:
    assert go_lower(text) == text.lower()
    assert go_upper(text) == text.upper()


U = uuid.UUID("123e4567-e89b-12d3-a456-426614174000")
S = str(U)

UUIDS: list[tuple[str, uuid.UUID | None]] = [
    (S, U),
    (S.upper(), U),
    (S.replace("-", ""), U),
    (S.replace("-", "").upper(), U),
    ("{" + S + "}", U),
    # Go checks neither brace: any first and last byte will do
    ("x" + S + "y", U),
    (" " + S + " ", U),
    ("}" + S + "{", U),
    ("urn:uuid:" + S, U),
    ("URN:UUID:" + S, U),
    ("UrN:uUiD:" + S.upper(), U),
    ("urn:uuix:" + S, None),
    ("urn-uuid:" + S, None),
    # invalid lengths
    ("", None),
    (S[:-1], None),
    (S + "0", None),
    (S.replace("-", "")[:-1], None),
    (S.replace("-", "") + "0", None),
    ("{" + S.replace("-", "") + "}", None),  # Python's uuid.UUID accepts this
    ("urn:uuid:" + S + "0", None),
    ("urn:uuid:" + S.replace("-", ""), None),
    # hyphens in the wrong place, or replaced
    ("123e4567e-89b-12d3-a456-426614174000", None),
    ("123e456-7e89b-12d3-a456-426614174000", None),
    ("123e4567-e89b-12d3-a456_426614174000", None),
    ("123e4567-e89b-12d3-a4564-26614174000", None),
    ("123e4567-e89b-12d3-a456-42661417400-", None),
    ("-23e4567-e89b-12d3-a456-426614174000", None),
    ("123e4567-e89b12d3a456426614174000", None),
    # non-hex
    ("g23e4567-e89b-12d3-a456-426614174000", None),
    ("123e4567-e89b-12d3-a456-42661417400z", None),
    ("+23e4567-e89b-12d3-a456-426614174000", None),
    (" 23e4567e89b12d3a456426614174000", None),
    ("123e4567e89b12d3a45642661417400g", None),
    # non-ASCII: Go counts UTF-8 bytes
    ("123e4567-e89b-12d3-a456-42661417400٠", None),  # 36 chars, 37 bytes; int() takes "٠"
    ("123e4567e89b12d3a45642661417400é", None),  # 32 chars, 33 bytes
    ("123e4567e89b12d3a4564266141740é", None),  # 31 chars, 32 bytes
    ("é" + S[1:], None),
    ("{" + S + "é", None),  # 39 bytes
    ("é" + S[:-1] + "}", None),  # 38 bytes, but the inner 36 are shifted
]


@pytest.mark.parametrize(("text", "expected"), UUIDS)
def test_parse_go_uuid(text: str, expected: uuid.UUID | None) -> None:
    assert parse_go_uuid(text) == expected


@settings(max_examples=200)
@given(st.uuids())
def test_parse_go_uuid_accepts_every_documented_form(value: uuid.UUID) -> None:
    text = str(value)
    for form in (text, text.upper(), value.hex, "{" + text + "}", "urn:uuid:" + text):
        assert parse_go_uuid(form) == value


@settings(max_examples=300)
@given(st.text(alphabet=st.sampled_from("0123456789abcdefABCDEF-{}:nrudi é") | st.characters()))
def test_parse_go_uuid_only_accepts_go_lengths(text: str) -> None:
    got = parse_go_uuid(text)
    if got is not None:
        assert len(text.encode("utf-8", "surrogatepass")) in (32, 36, 38, 45)
        assert text.isascii()
