"""Framework-agnostic request handling for ``GET /api/v2/connectionlog``, exactly as Coder does it.

:func:`parse_request` turns the raw URL parameters into a validated
:class:`ConnectionLogRequest`, or raises :class:`RequestError` carrying Coder's status and exact
JSON body. The order is Coder's: pagination (``after_id``, ``limit``, ``offset``) first, and a
pagination error ends the request before the search query is looked at; then the **first**
value of ``q`` is parsed.

:func:`parse_query_string` also does the URL decoding the way Go's ``url.ParseQuery`` does
(pairs with a ``;`` or a bad ``%`` escape are skipped, ``+`` is a space), so a raw query string
gives the same answer as Coder would. Any web framework can use these; ``app.py`` is one user.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import INVALID_QUERY_MESSAGE, QueryError, ValidationError
from ..gocompat import go_quote, parse_go_uuid
from ..parser import Mode, parse
from ..query import Query

__all__ = [
    "FORBIDDEN_DETAIL",
    "FORBIDDEN_MESSAGE",
    "INTERNAL_ERROR_MESSAGE",
    "INVALID_PAGINATION_MESSAGE",
    "INVALID_QUERY_MESSAGE",
    "INVALID_TOKEN_DETAIL",
    "MISSING_TOKEN_DETAIL",
    "PREMIUM_MESSAGE",
    "ROUTE_NOT_FOUND_MESSAGE",
    "SIGNED_OUT_MESSAGE",
    "ConnectionLogRequest",
    "RequestError",
    "error_body",
    "parse_go_query",
    "parse_positive_int32",
    "parse_query_string",
    "parse_request",
]

INVALID_PAGINATION_MESSAGE = "Query parameters have invalid values."
"""``message`` of the 400 for bad ``limit``/``offset``/``after_id``."""
SIGNED_OUT_MESSAGE = (
    "You are signed out or your session has expired. Please sign in again to continue."
)
"""``message`` of every 401."""
MISSING_TOKEN_DETAIL = 'Cookie "coder_session_token" or query parameter must be provided.'
"""``detail`` of the 401 when no token was sent."""
INVALID_TOKEN_DETAIL = "API key is invalid."
"""``detail`` of the 401 when the token is unknown."""
PREMIUM_MESSAGE = "Connection Log is a Premium feature. Contact sales!"
"""``message`` of the 403 when the deployment has no licence for the feature."""
FORBIDDEN_MESSAGE = "Forbidden."
"""``message`` of the 403 when the data layer refuses the caller."""
FORBIDDEN_DETAIL = (
    "You don't have permission to view this content. If you believe this is a mistake, "
    "please contact your administrator or try signing in with different credentials."
)
"""``detail`` of that 403 in newer Coder versions."""
INTERNAL_ERROR_MESSAGE = "An internal server error occurred."
"""``message`` of a 500; ``detail`` holds the error text."""
ROUTE_NOT_FOUND_MESSAGE = "Route not found."
"""``message`` of Coder's API 404."""

_INT32_MAX = 2**31 - 1
_UINT32_MAX = 2**32 - 1
_UINT64_CUTOFF = (2**64 - 1) // 10 + 1


def error_body(
    message: str, detail: str = "", validations: Sequence[ValidationError] = ()
) -> dict[str, Any]:
    """Coder's ``codersdk.Response``: ``message``, then ``detail`` and ``validations`` if set."""
    body: dict[str, Any] = {"message": message}
    if detail:
        body["detail"] = detail
    if validations:
        body["validations"] = [v.to_dict() for v in validations]
    return body


class RequestError(Exception):
    """A request Coder would answer with an error: ``status`` plus Coder's exact JSON body.

    Attributes:
        status: The HTTP status.
        message: Coder's ``message``.
        detail: Coder's ``detail`` (``""`` when absent).
        validations: Coder's ``validations``.
    """

    def __init__(
        self,
        status: int,
        message: str,
        detail: str = "",
        validations: Sequence[ValidationError] = (),
    ) -> None:
        self.status = status
        self.message = message
        self.detail = detail
        self.validations = tuple(validations)
        super().__init__(status, message)

    @classmethod
    def from_query_error(cls, exc: QueryError) -> RequestError:
        """The 400 for an invalid search query (``exc.message`` is Coder's)."""
        return cls(400, exc.message, "", exc.errors)

    def to_response(self) -> dict[str, Any]:
        """The JSON body Coder answers with."""
        return error_body(self.message, self.detail, self.validations)

    def __str__(self) -> str:
        lines = [f"{self.status} {self.message}" + (f" ({self.detail})" if self.detail else "")]
        lines.extend(f"  {v.field}: {v.detail}" for v in self.validations)
        return "\n".join(lines)


@dataclass(frozen=True)
class ConnectionLogRequest:
    """A validated request.

    Attributes:
        query: The parsed search query (``me`` and organization names still unresolved).
        q: The search text as received (first ``q`` value, URL-decoded).
        limit: Rows asked for; ``0`` means the server default (100).
        offset: Rows to skip.
    """

    query: Query
    q: str
    limit: int
    offset: int


def _values(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


def _quote(text: str) -> str:
    # Bytes that were not UTF-8 arrive as surrogate escapes; Go's %q prints them as \xNN.
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return go_quote(text)
    inner = "".join(
        f"\\x{ord(ch) - 0xDC00:02x}" if "\udc80" <= ch <= "\udcff" else go_quote(ch)[1:-1]
        for ch in text
    )
    return f'"{inner}"'


def _go_parse_int32(text: str) -> int | str:
    """Go's ``strconv.ParseInt(text, 10, 32)``: the value, or its error text."""

    def syntax() -> str:
        return f"strconv.ParseInt: parsing {_quote(text)}: invalid syntax"

    def out_of_range() -> str:
        return f"strconv.ParseInt: parsing {_quote(text)}: value out of range"

    if not text:
        return syntax()
    digits, negative = text, False
    if text[0] in "+-":
        digits, negative = text[1:], text[0] == "-"
    if not digits:
        return syntax()
    number = 0
    for ch in digits:
        # ParseUint stops at the first bad byte, or at the first overflow, whichever is first.
        if not "0" <= ch <= "9":
            return syntax()
        if number >= _UINT64_CUTOFF:
            return out_of_range()
        number = number * 10 + (ord(ch) - 48)
        if number > _UINT32_MAX:
            return out_of_range()
    if (not negative and number > _INT32_MAX) or (negative and number > _INT32_MAX + 1):
        return out_of_range()
    return -number if negative else number


def _more_than_once(key: str, count: int) -> ValidationError:
    return ValidationError(
        key,
        f"Query param {go_quote(key)} provided more than once, found {count} times. "
        "Only provide 1 instance of this query param.",
    )


def parse_positive_int32(
    key: str, value: str | Sequence[str] | None
) -> tuple[int, ValidationError | None]:
    """Coder's ``PositiveInt32`` parameter: ``(value, None)`` or ``(0, error)``.

    Absent or empty (first value) means ``0`` with no error; several values are the
    "provided more than once" error; otherwise Go's ``strconv.ParseInt`` error texts, or
    ``value is negative``.
    """
    values = _values(value)
    if not values or values[0] == "":
        return 0, None
    if len(values) > 1:
        return 0, _more_than_once(key, len(values))
    parsed = _go_parse_int32(values[0])
    if isinstance(parsed, int) and parsed < 0:
        parsed = "value is negative"
    if isinstance(parsed, str):
        detail = f"Query param {go_quote(key)} must be a valid 32-bit positive integer: {parsed}"
        return 0, ValidationError(key, detail)
    return parsed, None


def _check_uuid(key: str, value: str | Sequence[str] | None) -> ValidationError | None:
    values = _values(value)
    if not values or values[0] == "":
        return None
    if len(values) > 1:
        return _more_than_once(key, len(values))
    if parse_go_uuid(values[0]) is None:
        return ValidationError(key, f"Query param {go_quote(key)} must be a valid uuid")
    return None


def parse_request(
    q: str | Sequence[str] | None = None,
    limit: str | Sequence[str] | None = None,
    offset: str | Sequence[str] | None = None,
    *,
    after_id: str | Sequence[str] | None = None,
    mode: Mode = "coder",
) -> ConnectionLogRequest:
    """Validate the URL parameters of a connection-log request in Coder's order.

    Each parameter is a single decoded value, every value it had in the URL (in order), or
    ``None`` when absent.

    Args:
        q: The search query; only the first value counts, as in Coder.
        limit: Page size (positive 32-bit integer; ``0``/absent = server default).
        offset: Rows to skip (positive 32-bit integer).
        after_id: Coder's shared pagination parser validates it as a UUID; the endpoint
            then ignores it.
        mode: The language of ``q``: ``"coder"`` (Coder's) or ``"extended"`` (a superset:
            negation, OR, lists, free text, wildcards, relative times). Errors have Coder's
            400 body either way.

    Raises:
        RequestError: 400 ``Query parameters have invalid values.`` (checked first) or
            400 ``Invalid connection search query.``, with Coder's validations.
    """
    errors = []
    uuid_error = _check_uuid("after_id", after_id)
    if uuid_error is not None:
        errors.append(uuid_error)
    limit_value, limit_error = parse_positive_int32("limit", limit)
    offset_value, offset_error = parse_positive_int32("offset", offset)
    errors.extend(e for e in (limit_error, offset_error) if e is not None)
    if errors:
        raise RequestError(400, INVALID_PAGINATION_MESSAGE, "", errors)
    q_values = _values(q)
    text = q_values[0] if q_values else ""
    try:
        query = parse(text, mode=mode)
    except QueryError as exc:
        raise RequestError.from_query_error(exc) from exc
    return ConnectionLogRequest(query, text, limit_value, offset_value)


def _unescape(text: str) -> str | None:
    """Go's ``url.QueryUnescape`` (``None`` on a bad escape); undecodable bytes are kept as
    surrogate escapes."""
    if "%" not in text and "+" not in text:
        return text
    out = bytearray()
    raw = text.encode("utf-8", "surrogateescape")
    i = 0
    while i < len(raw):
        byte = raw[i]
        if byte == 0x25:  # %
            pair = raw[i + 1 : i + 3]
            if len(pair) < 2 or not all(chr(b) in "0123456789abcdefABCDEF" for b in pair):
                return None
            out.append(int(pair, 16))
            i += 3
            continue
        out.append(0x20 if byte == 0x2B else byte)  # + is a space
        i += 1
    return out.decode("utf-8", "surrogateescape")


def parse_go_query(raw: str | bytes) -> dict[str, list[str]]:
    """Parse a raw URL query string as Go's ``url.ParseQuery`` (what ``r.URL.Query()`` sees).

    Pairs containing ``;`` and pairs with an invalid ``%`` escape are dropped silently; all
    values of a key are kept in order. Bytes that are not UTF-8 survive as surrogate escapes.
    """
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "surrogateescape")
    result: dict[str, list[str]] = {}
    for pair in raw.split("&"):
        if not pair or ";" in pair:
            continue
        key, _, value = pair.partition("=")
        key_text, value_text = _unescape(key), _unescape(value)
        if key_text is None or value_text is None:
            continue
        result.setdefault(key_text, []).append(value_text)
    return result


def _go_text(text: str) -> str:
    # Go's strings.ToLower turns each invalid UTF-8 byte into U+FFFD before parsing.
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    return "".join("\ufffd" if "\udc80" <= ch <= "\udcff" else ch for ch in text)


def parse_query_string(
    raw: str | bytes | Mapping[str, Sequence[str]], *, mode: Mode = "coder"
) -> ConnectionLogRequest:
    """:func:`parse_request` on a raw URL query string (or an already split multi-map).

    ``mode`` is the language of ``q``, as for :func:`parse_request`.

    Raises:
        RequestError: as :func:`parse_request`.
    """
    params = raw if isinstance(raw, Mapping) else parse_go_query(raw)
    q = [_go_text(v) for v in params.get("q", ())]
    return parse_request(
        q, params.get("limit"), params.get("offset"), after_id=params.get("after_id"), mode=mode
    )
