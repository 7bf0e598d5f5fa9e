"""Go ``time.Parse(time.RFC3339Nano, strings.ToUpper(v))`` emulation: results and exact errors.

Expected texts follow Go's ``src/time/format.go`` (see the module docstring of
``connlog_query.gotime``); rows marked "Go test" restate cases of Go's own ``format_test.go``
(``parseErrorTests``), upper-cased and with the RFC3339Nano layout.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from connlog_query.gotime import (
    LAYOUT,
    GoTimeError,
    TimeRangeError,
    _parse_fast,
    _parse_slow,
    parse_rfc3339nano,
)

UTC = dt.timezone.utc
RANGE = "outside the supported range 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999Z"


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, sec: int = 0, us: int = 0
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, sec, us, tzinfo=UTC)


def cannot(value: str, rest: str, elem: str) -> str:
    """Go's "cannot parse" text; ``value`` and ``rest`` are given already in quote() form."""
    return f'parsing time "{value}" as "{LAYOUT}": cannot parse "{rest}" as "{elem}"'


def out_of_range(value: str, what: str) -> str:
    return f'parsing time "{value}": {what} out of range'


def extra(value: str, rest: str) -> str:
    return f'parsing time "{value}": extra text: "{rest}"'


ACCEPTED: list[tuple[str, dt.datetime | None]] = [
    ("2023-01-01t00:00:00z", utc(2023, 1, 1)),
    ("2023-01-01T00:00:00Z", utc(2023, 1, 1)),
    ("2023-01-16t12:00:00+12:00", utc(2023, 1, 16)),
    ("2023-01-01t00:00:00-05:30", utc(2023, 1, 1, 5, 30)),
    ("2023-01-01t00:00:00-00:00", utc(2023, 1, 1)),
    ("2023-06-15t23:59:59+00:01", utc(2023, 6, 15, 23, 58, 59)),
    # fractions: truncated to microseconds, never rounded
    ("2023-01-01t00:00:00.5z", utc(2023, 1, 1, us=500000)),
    ("2023-01-01t00:00:00.123456789z", utc(2023, 1, 1, us=123456)),
    ("2023-01-01t00:00:00.999999999z", utc(2023, 1, 1, us=999999)),
    ("2023-01-01t00:00:00.0000009z", utc(2023, 1, 1)),
    ("2023-01-01t00:00:00.000000z", utc(2023, 1, 1)),
    # more than nine digits: Go keeps nine and drops the rest
    ("2023-01-01t00:00:00.1234567891999z", utc(2023, 1, 1, us=123456)),
    # a comma works as the separator (general path only)
    ("2023-01-01t00:00:00,25z", utc(2023, 1, 1, us=250000)),
    ("2023-01-01t00:00:00,25+01:00", utc(2022, 12, 31, 23, us=250000)),
    # one-digit hour
    ("2023-01-01t1:02:03z", utc(2023, 1, 1, 1, 2, 3)),
    ("2023-01-01t9:00:00.5-01:00", utc(2023, 1, 1, 10, us=500000)),
    # offsets the general path allows: hour up to 24, minute up to 60
    ("2023-01-02t00:00:00+24:00", utc(2023, 1, 1)),
    ("2023-01-01t01:00:00+00:60", utc(2023, 1, 1)),
    ("2023-01-02t01:00:00+24:60", utc(2023, 1, 1)),
    ("2023-01-01t00:00:00-24:60", utc(2023, 1, 2, 1)),
    # leap years, month ends
    ("2024-02-29t00:00:00z", utc(2024, 2, 29)),
    ("2000-02-29t12:00:00z", utc(2000, 2, 29, 12)),
    ("2023-04-30t00:00:00z", utc(2023, 4, 30)),
    ("2023-12-31t23:59:59z", utc(2023, 12, 31, 23, 59, 59)),
    # year 0000 is accepted by Go; here it lands just after the zero time
    ("0000-12-31t23:00:01-01:00", utc(1, 1, 1, 0, 0, 1)),
    # the zero time, written in any offset, is Go's IsZero() -> None
    ("0001-01-01t00:00:00z", None),
    ("0001-01-01t00:00:00.000000000z", None),
    ("0001-01-01t00:00:00+00:00", None),
    ("0001-01-01t01:00:00+01:00", None),
    ("0000-12-31t23:00:00-01:00", None),
    # documented deviation: only sub-microsecond digits after the zero time -> None
    ("0001-01-01t00:00:00.0000005z", None),
    ("0001-01-01t00:00:00.000001z", utc(1, 1, 1, us=1)),
    ("9999-12-31t23:59:59.999999999z", utc(9999, 12, 31, 23, 59, 59, 999999)),
    ("9999-12-31t23:59:59z", utc(9999, 12, 31, 23, 59, 59)),
]


@pytest.mark.parametrize(("value", "expected"), ACCEPTED)
def test_accepted(value: str, expected: dt.datetime | None) -> None:
    got = parse_rfc3339nano(value)
    assert got == expected
    if got is not None:
        assert got.tzinfo is UTC


V = "2023-01-01T00:00:00Z"

REJECTED: list[tuple[str, str, int]] = [
    # (value as Coder holds it, Go's err.Error(), caret position)
    ("", cannot("", "", "2006"), 0),
    ("2023-01-01", cannot("2023-01-01", "", "T"), 10),
    ("2023", cannot("2023", "", "-"), 4),
    ("202", cannot("202", "202", "2006"), 0),
    ("20x3-01-01t00:00:00z", cannot("20X3-01-01T00:00:00Z", "20X3-01-01T00:00:00Z", "2006"), 0),
    ("+2023-01-01t00:00:00z", cannot("+2023-01-01T00:00:00Z", "+2023-01-01T00:00:00Z", "2006"), 0),
    ("2023/01/01t00:00:00z", cannot("2023/01/01T00:00:00Z", "/01/01T00:00:00Z", "-"), 4),
    ("2023-1-01t00:00:00z", cannot("2023-1-01T00:00:00Z", "1-01T00:00:00Z", "01"), 5),
    ("2023-00-01t00:00:00z", out_of_range("2023-00-01T00:00:00Z", "month"), 5),
    ("2023-13-01t00:00:00z", out_of_range("2023-13-01T00:00:00Z", "month"), 5),
    # the month is checked at once; the day only after the whole value was read
    ("2023-13-45t99:99:99z", out_of_range("2023-13-45T99:99:99Z", "month"), 5),
    ("2023-01-1t00:00:00z", cannot("2023-01-1T00:00:00Z", "1T00:00:00Z", "02"), 8),
    ("2023-01-00t00:00:00z", out_of_range("2023-01-00T00:00:00Z", "day"), 8),
    ("2023-01-32t00:00:00z", out_of_range("2023-01-32T00:00:00Z", "day"), 8),
    ("2023-02-29t00:00:00z", out_of_range("2023-02-29T00:00:00Z", "day"), 8),
    ("1900-02-29t00:00:00z", out_of_range("1900-02-29T00:00:00Z", "day"), 8),
    ("2023-04-31t00:00:00z", out_of_range("2023-04-31T00:00:00Z", "day"), 8),
    ("2023-01-01 00:00:00z", cannot("2023-01-01 00:00:00Z", " 00:00:00Z", "T"), 10),
    ("2023-01-01tt00:00:00z", cannot("2023-01-01TT00:00:00Z", "T00:00:00Z", "15"), 11),
    ("2023-01-01t24:00:00z", out_of_range("2023-01-01T24:00:00Z", "hour"), 11),
    ("2023-01-01t99:00:00z", out_of_range("2023-01-01T99:00:00Z", "hour"), 11),
    ("2023-01-01t1:2:03z", cannot("2023-01-01T1:2:03Z", "2:03Z", "04"), 13),
    ("2023-01-01t00:60:00z", out_of_range("2023-01-01T00:60:00Z", "minute"), 14),
    # leap second
    ("2016-12-31t23:59:60z", out_of_range("2016-12-31T23:59:60Z", "second"), 17),
    # Go test: invalid second followed by a fraction
    (
        "2010-02-04t21:00:67.012345678-08:00",
        out_of_range("2010-02-04T21:00:67.012345678-08:00", "second"),
        17,
    ),
    ("2023-01-01t00:00z", cannot("2023-01-01T00:00Z", "Z", ":"), 16),
    ("2023-01-01t00:00:0z", cannot("2023-01-01T00:00:0Z", "0Z", "05"), 17),
    # Go tests (issue 4493)
    ("2006-01-02t15:04_abc", cannot("2006-01-02T15:04_ABC", "_ABC", ":"), 16),
    ("2006-01-02t15:04:05_abc", cannot("2006-01-02T15:04:05_ABC", "_ABC", "Z07:00"), 19),
    ("2006-01-02t15:04:05z_abc", extra("2006-01-02T15:04:05Z_ABC", "_ABC"), 20),
    ("2006-01-02t15:04:05z07:00", extra("2006-01-02T15:04:05Z07:00", "07:00"), 20),
    # the zone
    ("2023-01-01t00:00:00", cannot("2023-01-01T00:00:00", "", "Z07:00"), 19),
    ("2023-01-01t00:00:00+0100", cannot("2023-01-01T00:00:00+0100", "+0100", "Z07:00"), 19),
    ("2023-01-01t00:00:00+01000", cannot("2023-01-01T00:00:00+01000", "+01000", "Z07:00"), 19),
    ("2023-01-01t00:00:00+1:00", cannot("2023-01-01T00:00:00+1:00", "+1:00", "Z07:00"), 19),
    ("2023-01-01t00:00:00+01:00:00", extra("2023-01-01T00:00:00+01:00:00", ":00"), 25),
    ("2023-01-01t00:00:00 +01:00", cannot("2023-01-01T00:00:00 +01:00", " +01:00", "Z07:00"), 19),
    ("2023-01-01t00:00:00*01:00", cannot("2023-01-01T00:00:00*01:00", "*01:00", "Z07:00"), 19),
    ("2023-01-01t00:00:00+ab:00", cannot("2023-01-01T00:00:00+AB:00", "+AB:00", "Z07:00"), 19),
    ("2023-01-01t00:00:00+01:0x", cannot("2023-01-01T00:00:00+01:0X", "+01:0X", "Z07:00"), 19),
    (
        "2023-01-01t00:00:00+25:00",
        out_of_range("2023-01-01T00:00:00+25:00", "time zone offset hour"),
        19,
    ),
    (
        "2023-01-01t00:00:00-99:00",
        out_of_range("2023-01-01T00:00:00-99:00", "time zone offset hour"),
        19,
    ),
    (
        "2023-01-01t00:00:00+01:61",
        out_of_range("2023-01-01T00:00:00+01:61", "time zone offset minute"),
        19,
    ),
    # Go sets the range message before checking the minute digits and the sign, and reports
    # the range first; a bad minute range overrides a bad hour range
    (
        "2023-01-01t00:00:00+25:xx",
        out_of_range("2023-01-01T00:00:00+25:XX", "time zone offset hour"),
        19,
    ),
    (
        "2023-01-01t00:00:00*25:00",
        out_of_range("2023-01-01T00:00:00*25:00", "time zone offset hour"),
        19,
    ),
    (
        "2023-01-01t00:00:00+25:61",
        out_of_range("2023-01-01T00:00:00+25:61", "time zone offset minute"),
        19,
    ),
    ("2023-01-01t00:00:00+01:00x", extra("2023-01-01T00:00:00+01:00X", "X"), 25),
    ("2023-01-01t00:00:00zz", extra("2023-01-01T00:00:00ZZ", "Z"), 20),
    # the fraction
    ("2023-01-01t00:00:00.123x", cannot("2023-01-01T00:00:00.123X", "X", "Z07:00"), 23),
    ("2023-01-01t00:00:00.z", cannot("2023-01-01T00:00:00.Z", ".Z", "Z07:00"), 19),
    ("2023-01-01t00:00:00..5z", cannot("2023-01-01T00:00:00..5Z", "..5Z", "Z07:00"), 19),
    ("2023-01-01t00:00:00.5.5z", cannot("2023-01-01T00:00:00.5.5Z", ".5Z", "Z07:00"), 21),
    # extra text is reported before the day is validated; a zone range error is not
    ("2023-02-30t00:00:00zjunk", extra("2023-02-30T00:00:00ZJUNK", "JUNK"), 20),
    (
        "2023-02-30t00:00:00+25:00",
        out_of_range("2023-02-30T00:00:00+25:00", "time zone offset hour"),
        19,
    ),
    # Go's private quote: \xNN for bytes < 0x20 and every UTF-8 byte >= 0x80; DEL stays raw
    (V.lower() + "\n", extra(V + "\\x0a", "\\x0a"), 20),
    (V.lower() + "\t", extra(V + "\\x09", "\\x09"), 20),
    (V.lower() + "\x1f", extra(V + "\\x1f", "\\x1f"), 20),
    (V.lower() + " ", extra(V + " ", " "), 20),
    (V.lower() + "\x7f", extra(V + "\x7f", "\x7f"), 20),
    (V.lower() + '"', extra(V + '\\"', '\\"'), 20),
    (V.lower() + "\\", extra(V + "\\\\", "\\\\"), 20),
    (V.lower() + "é", extra(V + "\\xc3\\x89", "\\xc3\\x89"), 20),
    (V.lower() + "\ufffd", extra(V + "\\xef\\xbf\\xbd", "\\xef\\xbf\\xbd"), 20),
    (V.lower() + "ß", extra(V + "\\xc3\\x9f", "\\xc3\\x9f"), 20),
    (V.lower() + "😀", extra(V + "\\xf0\\x9f\\x98\\x80", "\\xf0\\x9f\\x98\\x80"), 20),
    # a lone surrogate stands for an invalid byte, which Go's ToLower made U+FFFD
    (V.lower() + "\udcff", extra(V + "\\xef\\xbf\\xbd", "\\xef\\xbf\\xbd"), 20),
    ("é2023", cannot("\\xc3\\x892023", "\\xc3\\x892023", "2006"), 0),
    (
        "2023-01-01t00:00:00+é:00",
        cannot("2023-01-01T00:00:00+\\xc3\\x89:00", "+\\xc3\\x89:00", "Z07:00"),
        19,
    ),
    # four characters but five bytes: too short for "+hh:mm" in bytes as in characters
    (
        "2023-01-01t00:00:00é:00",
        cannot("2023-01-01T00:00:00\\xc3\\x89:00", "\\xc3\\x89:00", "Z07:00"),
        19,
    ),
    # upper-casing is Go's: dotless i becomes I, so the "T" check sees "I"
    ("2023-01-01ı00:00:00z", cannot("2023-01-01I00:00:00Z", "I00:00:00Z", "T"), 10),
]


@pytest.mark.parametrize(("value", "message", "position"), REJECTED)
def test_rejected(value: str, message: str, position: int) -> None:
    with pytest.raises(GoTimeError) as info:
        parse_rfc3339nano(value)
    assert info.value.go_message == message
    assert str(info.value) == message
    assert info.value.position == position


OUT_OF_PYTHON_RANGE: list[tuple[str, str]] = [
    ("0001-01-01t00:30:00+01:00", 'time "0001-01-01T00:30:00+01:00" is 0000-12-31T23:30:00Z'),
    ("9999-12-31t23:30:00-01:00", 'time "9999-12-31T23:30:00-01:00" is 10000-01-01T00:30:00Z'),
    ("0000-01-01t00:00:00z", 'time "0000-01-01T00:00:00Z" is 0000-01-01T00:00:00Z'),
    ("0000-02-29t12:00:00z", 'time "0000-02-29T12:00:00Z" is 0000-02-29T12:00:00Z'),
    (
        "0000-12-31t23:59:59.9999995z",
        'time "0000-12-31T23:59:59.9999995Z" is 0000-12-31T23:59:59.9999995Z',
    ),
    (
        "0000-12-31t23:59:59.9999999999z",
        'time "0000-12-31T23:59:59.9999999999Z" is 0000-12-31T23:59:59.999999999Z',
    ),
    (
        "9999-12-31t23:59:59.5-24:60",
        'time "9999-12-31T23:59:59.5-24:60" is 10000-01-02T00:59:59.5Z',
    ),
]


@pytest.mark.parametrize(("value", "start"), OUT_OF_PYTHON_RANGE)
def test_out_of_python_range(value: str, start: str) -> None:
    with pytest.raises(TimeRangeError) as info:
        parse_rfc3339nano(value)
    assert info.value.message == f"{start} in UTC, {RANGE}"
    assert str(info.value) == info.value.message


def test_errors_are_value_errors() -> None:
    assert issubclass(GoTimeError, ValueError)
    assert issubclass(TimeRangeError, ValueError)
    assert LAYOUT == "2006-01-02T15:04:05.999999999Z07:00"


# --- properties -------------------------------------------------------------------------------


@settings(max_examples=300)
@given(st.text(alphabet=st.sampled_from('0123456789-:tz.,+ é\n"\\') | st.characters(), max_size=40))
@example("2023-01-01t00:00:00z")
def test_any_text_gives_a_result_or_a_known_error(value: str) -> None:
    try:
        got = parse_rfc3339nano(value)
    except GoTimeError as exc:
        assert exc.go_message.startswith('parsing time "')
        assert exc.position is not None
        assert 0 <= exc.position <= len(value)
        return
    except TimeRangeError as exc:
        assert exc.message.startswith('time "')
        return
    assert got is None or got.tzinfo is UTC


_MIN_INSTANT = dt.datetime(1, 1, 2)
_MAX_INSTANT = dt.datetime(9999, 12, 30, 23, 59, 59, 999999)


@settings(max_examples=300)
@given(
    instant=st.datetimes(min_value=_MIN_INSTANT, max_value=_MAX_INSTANT),
    sub_us=st.integers(0, 999),
    digits=st.integers(0, 9),
    offset_minutes=st.integers(-(23 * 60 + 59), 23 * 60 + 59),
    use_z=st.booleans(),
    lower=st.booleans(),
)
def test_rfc3339_round_trip(
    instant: dt.datetime, sub_us: int, digits: int, offset_minutes: int, use_z: bool, lower: bool
) -> None:
    offset = dt.timedelta(minutes=offset_minutes)
    local = instant + offset
    nanos = f"{instant.microsecond * 1000 + sub_us:09d}"[:digits]
    text = (
        f"{local.year:04d}-{local.month:02d}-{local.day:02d}"
        f"T{local.hour:02d}:{local.minute:02d}:{local.second:02d}"
    )
    if digits:
        text += "." + nanos
    if use_z and offset_minutes == 0:
        text += "Z"
    else:
        sign = "-" if offset_minutes < 0 else "+"
        hours, minutes = divmod(abs(offset_minutes), 60)
        text += f"{sign}{hours:02d}:{minutes:02d}"
    expected_us = int(nanos.ljust(9, "0")) // 1000
    expected = instant.replace(microsecond=expected_us, tzinfo=UTC)
    assert parse_rfc3339nano(text.lower() if lower else text) == expected


_TWO = st.integers(0, 99).map(lambda n: f"{n:02d}")


@st.composite
def _near_rfc3339(draw: st.DrawFn) -> bytes:
    """Strings shaped like RFC 3339 with any two-digit numbers, some separators replaced."""
    year = f"{draw(st.integers(0, 9999)):04d}"
    parts = [year, "-", draw(_TWO), "-", draw(_TWO), "T", draw(_TWO), ":", draw(_TWO), ":"]
    parts.append(draw(_TWO))
    if draw(st.booleans()):
        parts.append(draw(st.sampled_from(".,")) + draw(st.text("0123456789", max_size=12)))
    zone = draw(
        st.sampled_from(["Z", ""])
        | st.builds(lambda s, h, m: f"{s}{h}:{m}", st.sampled_from("+-*"), _TWO, _TWO)
    )
    parts.append(zone)
    if draw(st.integers(0, 4)) == 0:
        index = draw(st.integers(0, len(parts) - 1))
        parts[index] = draw(st.sampled_from(["", "x", "1", ":", "-", "Z"]))
    return "".join(parts).encode()


@settings(max_examples=400)
@given(_near_rfc3339())
def test_fast_path_agrees_with_general_path(raw: bytes) -> None:
    # Go's Parse returns the fast path's result whenever it succeeds; that is only correct if
    # the general parser would have produced the same fields, which this checks.
    fast = _parse_fast(raw)
    if fast is None:
        return
    assert _parse_slow(raw) == fast
