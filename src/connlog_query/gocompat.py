"""Small re-implementations of Go standard-library behaviour that Coder's texts depend on.

Coder's error texts quote values with Go's ``%q`` (``strconv.Quote``) and the search string is
lower-cased with ``strings.ToLower``, which maps rune by rune (simple case mapping). Python's
``str.lower`` uses full case mapping, which can change the length of the text; positions into
the original text must survive lower-casing, so we map one character to one character.
"""

from __future__ import annotations

__all__ = ["go_lower", "go_quote", "go_upper", "parse_go_uuid"]

import uuid

# Characters whose Python full-case mapping has more than one character. Go's simple mapping
# keeps them unchanged, except U+0130 (capital I with dot above), whose simple lowercase is "i".
_SIMPLE_LOWER_EXCEPTIONS = {"\u0130": "i"}
# Characters whose full upper-case mapping has several characters but whose simple mapping
# (Go's unicode.ToUpper) is another single character: Greek letters with iota subscript.
_SIMPLE_UPPER_EXCEPTIONS = {
    **{chr(c): chr(c + 8) for start in (0x1F80, 0x1F90, 0x1FA0) for c in range(start, start + 8)},
    "\u1fb3": "\u1fbc",
    "\u1fc3": "\u1fcc",
    "\u1ff3": "\u1ffc",
}

_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    '"': '\\"',
    "\\": "\\\\",
}


def go_lower(text: str) -> str:
    """Go's ``strings.ToLower``: rune-by-rune simple lower-case mapping (length-preserving)."""
    if text.isascii():
        return text.lower()
    # Per character: str.lower() on the whole text applies Final_Sigma (Σ -> ς), Go never does.
    return "".join(_lower_char(ch) for ch in text)


def _lower_char(ch: str) -> str:
    low = ch.lower()
    if len(low) == 1:
        return low
    return _SIMPLE_LOWER_EXCEPTIONS.get(ch, ch)


def go_upper(text: str) -> str:
    """Go's ``strings.ToUpper``: rune-by-rune simple upper-case mapping (length-preserving)."""
    if text.isascii():
        return text.upper()
    return "".join(_upper_char(ch) for ch in text)


def _upper_char(ch: str) -> str:
    up = ch.upper()
    if len(up) == 1:
        return up
    return _SIMPLE_UPPER_EXCEPTIONS.get(ch, ch)


def go_quote(text: str) -> str:
    """Go's ``strconv.Quote`` (the ``%q`` verb) for a Python string.

    Printable characters stay as they are (non-ASCII included); ``"`` and ``\\`` get a
    backslash; control and other non-printable characters are escaped as ``\\n``, ``\\x00``,
    ``\\u00a0``, ``\\U000e0001``. A lone surrogate (which cannot occur in Go's UTF-8 strings)
    is written as the replacement character's escape ``\\ufffd``.
    """
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'
    out = ['"']
    for ch in text:
        esc = _ESCAPES.get(ch)
        if esc is not None:
            out.append(esc)
            continue
        code = ord(ch)
        if 0xD800 <= code <= 0xDFFF:
            out.append("\\ufffd")
        elif ch == " " or ch.isprintable():
            out.append(ch)
        elif code < 0x80:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


_HEX = frozenset("0123456789abcdefABCDEF")
_HYPHENS = (8, 13, 18, 23)


def parse_go_uuid(text: str) -> uuid.UUID | None:
    """Parse ``text`` as ``github.com/google/uuid.Parse`` does, or return ``None``.

    Accepts the 36-character hyphenated form, 32 hex digits, any 38-byte string whose inner 36
    bytes are the hyphenated form (Go checks neither brace), and ``urn:uuid:`` (any case) plus
    the hyphenated form. Lengths are in UTF-8 bytes, as in Go.
    """
    raw = text.encode("utf-8", "surrogatepass")
    size = len(raw)
    if size == 36:
        body = raw
    elif size == 45:
        if raw[:9].lower() != b"urn:uuid:":
            return None
        body = raw[9:]
    elif size == 38:
        body = raw[1:37]
    elif size == 32:
        try:
            digits = raw.decode("ascii")
        except UnicodeDecodeError:
            return None
        return uuid.UUID(hex=digits) if _HEX.issuperset(digits) else None
    else:
        return None
    if any(body[i] != 0x2D for i in _HYPHENS):
        return None
    try:
        digits = body.decode("ascii").replace("-", "")
    except UnicodeDecodeError:
        return None
    if len(digits) != 32 or not _HEX.issuperset(digits):
        return None
    return uuid.UUID(hex=digits)
