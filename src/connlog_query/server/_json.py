"""JSON bytes exactly as Coder writes them (Go ``encoding/json`` with HTML escaping).

Coder's ``httpapi.Write`` uses a ``json.Encoder`` with ``SetEscapeHTML(true)``: compact output,
``<``, ``>`` and ``&`` as ``\\u003c``, ``\\u003e``, ``\\u0026``, U+2028/U+2029 escaped,
other non-ASCII text as raw UTF-8, and a trailing newline.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel

__all__ = ["dump_model", "dumps", "go_escape"]

_ESCAPES = (
    (b"<", b"\\u003c"),
    (b">", b"\\u003e"),
    (b"&", b"\\u0026"),
    ("\u2028".encode(), b"\\u2028"),
    ("\u2029".encode(), b"\\u2029"),
)

_SURROGATES = re.compile("[\ud800-\udfff]")


def go_escape(data: bytes) -> bytes:
    """Apply Go's HTML-safe escapes to compact JSON ``data`` and add the newline.

    The escaped characters can only occur inside JSON strings, so replacing bytes is safe.
    """
    for raw, escaped in _ESCAPES:
        if raw in data:
            data = data.replace(raw, escaped)
    return data + b"\n"


def dumps(obj: Any) -> bytes:
    """``obj`` (plain JSON data) as Coder's bytes."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    try:
        data = text.encode()
    except UnicodeEncodeError:
        # Lone surrogates stand for bytes that were not UTF-8; Go writes those as U+FFFD.
        data = _SURROGATES.sub("\ufffd", text).encode()
    return go_escape(data)


def dump_model(model: BaseModel) -> bytes:
    """A pydantic model (Coder's JSON models) as Coder's bytes."""
    return go_escape(model.__pydantic_serializer__.to_json(model))
