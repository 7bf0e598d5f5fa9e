"""Go's ``time.Parse(time.RFC3339Nano, value)``, reproduced byte for byte.

Coder parses ``connected_after`` / ``connected_before`` with
``time.Parse(time.RFC3339Nano, strings.ToUpper(value))`` and puts Go's ``err.Error()`` text
into its 400 response, so both the accepted set and every error text must match Go.

Source followed (read, not guessed): ``golang/go`` ``src/time/format.go`` at commit
``08d2403576737c5735d0c1d356490e03a774dff6`` (a Go 1.24+ tree: it has the ``daysBefore()``
function of the 1.24 time rewrite) and ``src/time/format_rfc3339.go`` at commit
``1e0d73188ffd96a06da0aa54707681ded46acaff``; cross-checked against ``format.go`` at
``53ce81ef642355d27223eaf77c0a8e74580632e8`` (Go 1.23 era), which behaves identically for
this layout. Functions mirrored: ``Parse``, ``parseRFC3339`` (the fast path, tried first),
``parse`` (the general path, which produces every error), ``nextStdChunk`` (its result for this
layout is unrolled in ``_Parser.run``), ``skip``, ``getnum``, ``atoi``/``leadingInt``,
``parseNanoseconds``, ``daysIn``, the private ``quote`` and ``ParseError.Error``.

Go quirks kept on purpose:

* a one-digit hour is accepted (``T1:00:00Z``); month, day, minute and second need two digits;
* the fraction may start with ``.`` or ``,`` and have any number of digits (only the first nine
  count; the rest are dropped, not rounded);
* zone offsets up to ``+24:60`` are accepted (the general path tests ``> 24`` and ``> 60``);
* year ``0000`` is accepted; a leap second (``:60``) is not;
* ``quote`` in error texts escapes every byte >= 0x80 and < 0x20 as ``\\xNN`` (not
  ``strconv.Quote``), and ``"`` / ``\\`` get a backslash;
* for "cannot parse X as Y" errors, X is the rest of the value from where the failing element
  began (Go reports its ``hold`` copy), except for literal separators, where it is the rest at the
  separator; range errors ("month out of range", ...) do not show a remainder.

Go works on UTF-8 bytes, so this module does too: the upper-cased value is encoded and all
slicing happens on bytes. Go's ``strings.ToLower`` (which Coder applies to the whole query
before this parser runs) turns invalid UTF-8 into U+FFFD, so a lone surrogate in the Python
string (for example from ``surrogateescape`` decoding) is treated as U+FFFD here.
"""

from __future__ import annotations

__all__ = ["LAYOUT", "GoTimeError", "TimeRangeError", "parse_rfc3339nano"]

import datetime as dt

from .gocompat import go_upper

LAYOUT = "2006-01-02T15:04:05.999999999Z07:00"

_UTC = dt.timezone.utc
_EPOCH = dt.datetime(1, 1, 1, tzinfo=_UTC)
_ONE_US = dt.timedelta(microseconds=1)
_MAX_US = (dt.datetime.max.replace(tzinfo=_UTC) - _EPOCH) // _ONE_US
_NS_PER_S = 1_000_000_000
# 400 Gregorian years are exactly 146097 days; shifting by them lets datetime format the
# years 0 and 10000 that it cannot hold.
_ERA_DAYS = 146_097

# nextStdChunk splits LAYOUT into the elements 2006 - 01 - 02 T 15 : 04 : 05 .999999999 Z07:00
# (the single characters are literal prefixes). Error texts name an element by these strings;
# the fraction element (stdFracSecond9) never fails for this layout, so it has no name here.
_YEAR, _MONTH, _DAY, _HOUR, _MINUTE, _SECOND = "2006", "01", "02", "15", "04", "05"
_ZONE = "Z07:00"  # stdISO8601ColonTZ

# Cumulative days before each month in a non-leap year (index = month - 1).
_DAYS_BEFORE = (0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365)

_Fields = tuple[int, int, int, int, int, int, int, int]


class GoTimeError(ValueError):
    """Go rejected the value.

    Attributes:
        go_message: exactly Go's ``err.Error()`` text, e.g. ``parsing time "2023-01-01" as
            "2006-01-02T15:04:05.999999999Z07:00": cannot parse "" as "T"``.
        position: character offset into the (upper-cased) value where parsing failed, for a
            caret; best effort (range errors point at the start of the offending element).
    """

    go_message: str
    position: int | None

    def __init__(self, go_message: str, position: int | None = None) -> None:
        super().__init__(go_message)
        self.go_message = go_message
        self.position = position


class TimeRangeError(ValueError):
    """Go accepts the value, but the instant in UTC lies outside what ``datetime`` can hold.

    Attributes:
        message: a sentence naming the value, its UTC instant and the supported range.
    """

    message: str

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def parse_rfc3339nano(value: str) -> dt.datetime | None:
    """Parse ``value`` (already lower-cased, as Coder holds it) like Coder does.

    The value is upper-cased with Go's simple case mapping, then parsed exactly like Go's
    ``time.Parse(time.RFC3339Nano, v)``.

    Returns:
        The instant as an aware UTC datetime, truncated (not rounded) to microseconds; ``None``
        when Go's ``t.IsZero()`` holds (0001-01-01T00:00:00Z exactly, written in any offset) and
        also, as a documented deviation, when only sub-microsecond digits separate the instant
        from that zero time.

    Raises:
        GoTimeError: Go rejects the value; ``go_message`` is Go's error text.
        TimeRangeError: Go accepts it but the UTC instant is before year 1 or after year 9999.
    """
    text = _replace_surrogates(go_upper(value))
    raw = text.encode("utf-8")
    fields = _parse_fast(raw)
    if fields is None:
        fields = _parse_slow(raw)
    return _to_utc(fields, raw)


def _replace_surrogates(text: str) -> str:
    # A loop rather than a regular expression, whose compilation would weigh on the import.
    if text.isascii():
        return text
    return "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in text)


def _is_digit(data: bytes, i: int) -> bool:
    return i < len(data) and 0x30 <= data[i] <= 0x39


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _days_in(month: int, year: int) -> int:
    if month == 2 and _is_leap(year):
        return 29
    return _DAYS_BEFORE[month] - _DAYS_BEFORE[month - 1]


def _nanoseconds(frac: bytes) -> int:
    """Go's parseNanoseconds for a separator plus digits: keep nine digits, scale, truncate."""
    return int(frac[1:10].ljust(9, b"0"))


def _parse_fast(s: bytes) -> _Fields | None:
    """Go's ``parseRFC3339``: strict layout, ranges checked, ``None`` where Go falls back."""
    if len(s) < 19:
        return None
    ok = True

    def parse_uint(part: bytes, low: int, high: int) -> int:
        nonlocal ok
        if not part.isdigit():  # bytes.isdigit: ASCII digits only, False when empty
            ok = False
            return low
        x = int(part)
        if x < low or x > high:
            ok = False
            return low
        return x

    year = parse_uint(s[0:4], 0, 9999)
    month = parse_uint(s[5:7], 1, 12)
    day = parse_uint(s[8:10], 1, _days_in(month, year))
    hour = parse_uint(s[11:13], 0, 23)
    minute = parse_uint(s[14:16], 0, 59)
    sec = parse_uint(s[17:19], 0, 59)
    if not ok or s[4:5] + s[7:8] + s[10:11] + s[13:14] + s[16:17] != b"--T::":
        return None
    s = s[19:]
    nsec = 0
    if len(s) >= 2 and s[0] == 0x2E and _is_digit(s, 1):
        n = 2
        while _is_digit(s, n):
            n += 1
        nsec = _nanoseconds(s[:n])
        s = s[n:]
    offset = 0
    if s != b"Z":
        if len(s) != 6:
            return None
        hr = parse_uint(s[1:3], 0, 23)
        mm = parse_uint(s[4:6], 0, 59)
        if not ok or s[0] not in b"+-" or s[3] != 0x3A:
            return None
        offset = (hr * 60 + mm) * 60
        if s[0] == 0x2D:
            offset = -offset
    return (year, month, day, hour, minute, sec, nsec, offset)


class _Parser:
    """Go's general ``parse`` loop, unrolled for LAYOUT; raises the errors Go returns."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self.value = raw

    def _position(self, rest: bytes) -> int:
        # Every element consumes ASCII bytes only, so the byte offset of a failure point is also
        # its character offset in the Python string.
        return len(self.raw) - len(rest)

    def cannot_parse(self, rest: bytes, elem: str) -> GoTimeError:
        message = (
            f"parsing time {_quote(self.raw)} as {_quote(LAYOUT.encode())}: "
            f"cannot parse {_quote(rest)} as {_quote(elem.encode())}"
        )
        return GoTimeError(message, self._position(rest))

    def out_of_range(self, what: str, at: bytes) -> GoTimeError:
        message = f"parsing time {_quote(self.raw)}: {what} out of range"
        return GoTimeError(message, self._position(at))

    def skip(self, prefix: bytes) -> None:
        # Go's skip for a one-byte, non-space prefix: the value must start with it.
        if not self.value.startswith(prefix):
            raise self.cannot_parse(self.value, prefix.decode())
        self.value = self.value[len(prefix) :]

    def getnum(self, fixed: bool, elem: str) -> int:
        """Go's getnum on the value; a failure is reported against ``elem`` from ``hold``."""
        v = self.value
        if not _is_digit(v, 0) or (fixed and not _is_digit(v, 1)):
            raise self.cannot_parse(v, elem)
        if not _is_digit(v, 1):
            self.value = v[1:]
            return v[0] - 0x30
        self.value = v[2:]
        return (v[0] - 0x30) * 10 + (v[1] - 0x30)

    def run(self) -> _Fields:
        hold = self.value
        # Go: len >= 4 and a leading digit, then atoi of the four bytes (no sign possible).
        if len(hold) < 4 or not hold[:4].isdigit():
            raise self.cannot_parse(hold, _YEAR)
        year = int(hold[:4])
        self.value = hold[4:]

        self.skip(b"-")
        hold = self.value
        month = self.getnum(True, _MONTH)
        if month <= 0 or month > 12:
            raise self.out_of_range("month", hold)

        self.skip(b"-")
        day_at = self.value
        day = self.getnum(True, _DAY)

        self.skip(b"T")
        hold = self.value
        hour = self.getnum(False, _HOUR)
        if hour >= 24:
            raise self.out_of_range("hour", hold)

        self.skip(b":")
        hold = self.value
        minute = self.getnum(True, _MINUTE)
        if minute >= 60:
            raise self.out_of_range("minute", hold)

        self.skip(b":")
        hold = self.value
        sec = self.getnum(True, _SECOND)
        if sec >= 60:
            raise self.out_of_range("second", hold)
        # The layout has a fraction element next, so Go's stdSecond look-ahead does nothing.

        nsec = self._fraction()
        offset = self._zone()

        if self.value:
            message = f"parsing time {_quote(self.raw)}: extra text: {_quote(self.value)}"
            raise GoTimeError(message, self._position(self.value))
        if day < 1 or day > _days_in(month, year):
            raise self.out_of_range("day", day_at)
        return (year, month, day, hour, minute, sec, nsec, offset)

    def _fraction(self) -> int:
        v = self.value
        if len(v) < 2 or v[0] not in b".," or not _is_digit(v, 1):
            return 0  # fraction omitted
        n = 2
        while _is_digit(v, n):
            n += 1
        self.value = v[n:]
        return _nanoseconds(v[:n])

    def _zone(self) -> int:
        hold = self.value
        if hold.startswith(b"Z"):
            self.value = hold[1:]
            return 0
        if len(hold) < 6 or hold[3] != 0x3A:
            raise self.cannot_parse(hold, _ZONE)
        sign, hour, minute = hold[0], hold[1:3], hold[4:6]
        self.value = hold[6:]
        bad = True
        hr = mm = 0
        if hour.isdigit():
            hr = int(hour)
            if minute.isdigit():
                mm = int(minute)
                bad = False
        # Go sets the range message before it looks at the sign, and reports it first; a bad
        # minute overrides a bad hour because it is assigned later.
        what = ""
        if hr > 24:
            what = "time zone offset hour"
        if mm > 60:
            what = "time zone offset minute"
        if what:
            raise self.out_of_range(what, hold)
        if bad or sign not in b"+-":
            raise self.cannot_parse(hold, _ZONE)
        offset = (hr * 60 + mm) * 60
        return -offset if sign == 0x2D else offset


def _parse_slow(raw: bytes) -> _Fields:
    return _Parser(raw).run()


def _quote(data: bytes) -> str:
    """The time package's private ``quote``: ``\\xNN`` for each byte >= 0x80 or < 0x20."""
    out = ['"']
    for b in data:
        if b >= 0x80 or b < 0x20:
            out.append(f"\\x{b:02x}")
        elif b in (0x22, 0x5C):
            out.append("\\" + chr(b))
        else:
            out.append(chr(b))
    out.append('"')
    return "".join(out)


def _days_before_year(year: int) -> int:
    y = year - 1
    return 365 * y + y // 4 - y // 100 + y // 400


def _to_utc(fields: _Fields, raw: bytes) -> dt.datetime | None:
    year, month, day, hour, minute, sec, nsec, offset = fields
    days = _days_before_year(year) + _DAYS_BEFORE[month - 1] + day - 1
    if month > 2 and _is_leap(year):
        days += 1
    seconds = days * 86_400 + hour * 3_600 + minute * 60 + sec - offset
    total_ns = seconds * _NS_PER_S + nsec
    if 0 <= total_ns < 1_000:
        # 0 is Go's IsZero(); a few nanoseconds more truncate to the same datetime, so they
        # are treated as the zero time too (documented deviation).
        return None
    micros = total_ns // 1_000
    if total_ns < 0 or micros > _MAX_US:
        raise TimeRangeError(
            f"time {_quote(raw)} is {_format_utc(seconds, nsec)} in UTC, outside the supported "
            "range 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999Z"
        )
    return _EPOCH + dt.timedelta(microseconds=micros)


def _format_utc(seconds: int, nsec: int) -> str:
    """RFC 3339 text of an instant given in seconds since 0001-01-01, for years 0 to 10000."""
    years = 0
    if seconds < 0:
        years = 400
    elif seconds > _MAX_US // 1_000_000:
        years = -400
    days = _ERA_DAYS if years > 0 else -_ERA_DAYS if years < 0 else 0
    moved = dt.datetime(1, 1, 1) + dt.timedelta(days=days, seconds=seconds)
    text = f"{moved.year - years:04d}{moved.strftime('-%m-%dT%H:%M:%S')}"
    if nsec:
        text += f".{nsec:09d}".rstrip("0")
    return text + "Z"
