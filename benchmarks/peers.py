"""Parse + validate of Coder-mode queries: ``connlog_query.parse`` against a floor and three peers.

Every contender turns the same query text (1, 5 or 11 ``key:value`` terms, some values
double-quoted) into the same ``{key: value}`` result, checked at start-up against
``connlog_query.parse(text).filters()``:

* the floor: ``str.split`` on spaces and colons into a dict of strings (no conversion, no
  checks) — the cheapest possible reading of the text, same as in ``benchmarks/parse.py``;
* the floor plus the shared value conversions (below), to show what the conversions cost alone;
* luqum (its own fixed Lucene grammar, ply LALR), parsimonious (PEG) and pyparsing (combinators),
  each with a grammar written here, followed by the shared conversions.

The shared conversions are what makes the comparison like for like: text lower-cased, unknown
and repeated keys rejected, ``type``/``status`` looked up in their enums, UUIDs parsed with
``uuid.UUID``, times with ``datetime.fromisoformat`` and moved to UTC, ``me`` mapped to ``ME``.

"Fresh" figures cycle through a pool of distinct texts that differ only in letter case (same
work; more texts than ``parse``'s cache holds, so none is answered from it); "repeated" figures
parse one text again and again, as a server sees a popular query. Timed loops are interleaved
across the contenders, so load from elsewhere on the machine disturbs them alike. Peers are optional benchmark-only dependencies: a
missing one is reported as skipped. Run: ``python benchmarks/peers.py [--quick]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import itertools
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import connlog_query
from _timing import per_call_us
from connlog_query.values import ME, ConnectionStatus, ConnectionType

QUERIES: dict[int, str] = {
    1: "type:ssh",
    5: (
        'workspace_owner:me type:ssh connected_after:"2025-07-01T00:00:00Z" '
        f"workspace_id:{uuid.UUID(int=2)} status:ongoing"
    ),
    11: (
        f"organization:{uuid.UUID(int=1)} workspace_owner:me workspace_owner_email:o@x.io "
        'type:ssh username:alice user_email:a@x.io connected_after:"2025-07-01T00:00:00Z" '
        f'connected_before:"2025-07-08T00:00:00+02:00" workspace_id:{uuid.UUID(int=2)} '
        f"connection_id:{uuid.UUID(int=3)} status:ongoing"
    ),
}
"""The benchmark queries by number of terms (all valid, all keys distinct)."""

POOL_SIZE = 4096
"""Distinct texts per fresh run: more than ``parse``'s LRU cache holds (1024), so every call of a
cycle through them misses any LRU cache up to that size."""

Parser = Callable[[str], object]

# --- the shared value conversions ----------------------------------------------------------

_TYPES = {member.value: member for member in ConnectionType}
_STATUSES = {member.value: member for member in ConnectionStatus}


def _organization(value: str) -> Any:
    try:
        return uuid.UUID(value)
    except ValueError:
        return value


def _person(value: str) -> Any:
    return ME if value == "me" else value


def _time(value: str) -> dt.datetime:
    # The text was lower-cased like Coder does; fromisoformat wants upper-case T and Z.
    parsed = dt.datetime.fromisoformat(value.upper())
    if parsed.tzinfo is None:
        raise ValueError(f"time {value!r} has no offset")
    return parsed.astimezone(dt.timezone.utc)


def _enum(members: dict[str, Any]) -> Callable[[str], Any]:
    def convert(value: str) -> Any:
        member = members.get(value)
        if member is None:
            raise ValueError(f"{value!r} is not one of {sorted(members)}")
        return member

    return convert


_CONVERT: dict[str, Callable[[str], Any]] = {
    "organization": _organization,
    "workspace_owner": _person,
    "workspace_owner_email": str,
    "type": _enum(_TYPES),
    "username": _person,
    "user_email": str,
    "connected_after": _time,
    "connected_before": _time,
    "workspace_id": uuid.UUID,
    "connection_id": uuid.UUID,
    "status": _enum(_STATUSES),
}


def convert(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """The conversions every peer applies: known keys once each, values typed as in ``Query``.

    Raises:
        ValueError: an unknown or repeated key, or a value that does not convert (first one only).
    """
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"{key} given more than once")
        converter = _CONVERT.get(key)
        if converter is None:
            raise ValueError(f"{key!r} is not a valid query param")
        out[key] = converter(value)
    return out


# --- the contenders --------------------------------------------------------------------------


def split_floor(text: str) -> dict[str, Any]:
    """The floor: split on spaces, then on the first colon; no quotes honoured, no validation."""
    out = {}
    for part in text.lower().split(" "):
        key, _, value = part.partition(":")
        out[key] = value.strip('"')
    return out


def split_convert(text: str) -> dict[str, Any]:
    """The floor's split followed by the shared conversions (no syntax checks at all)."""
    return convert(
        (key, value.strip('"'))
        for key, _, value in (part.partition(":") for part in text.lower().split(" "))
    )


def ours(text: str) -> dict[str, Any]:
    """``connlog_query.parse`` and the typed filters of the resulting ``Query``."""
    return connlog_query.parse(text).filters()


def ours_extended(text: str) -> dict[str, Any]:
    """``connlog_query.parse(text, mode="extended")`` and the typed filters of its ``Query``."""
    return connlog_query.parse(text, mode="extended").filters()


def parse_extended(text: str) -> object:
    """``connlog_query.parse`` in extended mode (the superset language, Lark LALR tables)."""
    return connlog_query.parse(text, mode="extended")


def make_luqum() -> Parser:
    """luqum's Lucene parser (fixed grammar, ply LALR); the tree walk keeps ``field:term`` only."""
    from luqum.parser import parser  # type: ignore[import-untyped]
    from luqum.tree import Phrase, SearchField, UnknownOperation, Word  # type: ignore[import-untyped]

    def parse(text: str) -> dict[str, Any]:
        tree = parser.parse(text.lower())
        fields = tree.children if isinstance(tree, UnknownOperation) else (tree,)
        pairs = []
        for field in fields:
            if not isinstance(field, SearchField) or not isinstance(field.expr, (Word, Phrase)):
                raise ValueError(f"not a key:value term: {field}")
            value = field.expr.value
            pairs.append((field.name, value[1:-1] if isinstance(field.expr, Phrase) else value))
        return convert(pairs)

    return parse


PARSIMONIOUS_GRAMMAR = r"""
query  = _ term (__ term)* _
term   = key ":" value
key    = ~"[a-z_]+"
value  = quoted / bare
quoted = ~'"[^"]*"'
bare   = ~'[^ ":]+'
__     = ~" +"
_      = ~" *"
"""
"""PEG for the benchmark: space-separated ``key:value`` terms, values bare or double-quoted."""


def make_parsimonious() -> Parser:
    """parsimonious with :data:`PARSIMONIOUS_GRAMMAR` and a ``NodeVisitor`` building the pairs."""
    from parsimonious.grammar import Grammar  # type: ignore[import-untyped]
    from parsimonious.nodes import Node, NodeVisitor  # type: ignore[import-untyped]

    grammar = Grammar(PARSIMONIOUS_GRAMMAR)

    class Pairs(NodeVisitor):  # type: ignore[misc]
        def visit_query(self, node: Node, visited: list[Any]) -> list[tuple[str, str]]:
            _, first, rest, _ = visited
            return [first, *(term for _, term in rest)]

        def visit_term(self, node: Node, visited: list[Any]) -> tuple[str, str]:
            key, _, value = visited
            return key, value

        def visit_value(self, node: Node, visited: list[Any]) -> str:
            return str(visited[0])

        def visit_quoted(self, node: Node, visited: list[Any]) -> str:
            return str(node.text[1:-1])

        def visit_key(self, node: Node, visited: list[Any]) -> str:
            return str(node.text)

        visit_bare = visit_key

        def generic_visit(self, node: Node, visited: list[Any]) -> Any:
            return visited or node

    visitor = Pairs()

    def parse(text: str) -> dict[str, Any]:
        return convert(visitor.visit(grammar.parse(text.lower())))

    return parse


def make_pyparsing() -> Parser:
    """pyparsing: ``Word`` keys, ``QuotedString`` or ``Regex`` values, whole input required."""
    import pyparsing as pp

    key = pp.Word(pp.alphas + "_")
    value = pp.QuotedString('"') | pp.Regex(r'[^\s":]+')
    query = pp.ZeroOrMore(pp.Group(key + pp.Suppress(":") + value))

    def parse(text: str) -> dict[str, Any]:
        return convert(
            (group[0], group[1]) for group in query.parse_string(text.lower(), parse_all=True)
        )

    return parse


PEERS: dict[str, tuple[str, Callable[[], Parser]]] = {
    "luqum": ("luqum", make_luqum),
    "parsimonious": ("parsimonious", make_parsimonious),
    "pyparsing": ("pyparsing", make_pyparsing),
}
"""Peer name -> (distribution name, factory building its parse function)."""

WHAT_EACH_DOES = (
    (
        "str.split (floor)",
        "splits on spaces and the first colon; ignores quotes; no validation; strings only",
    ),
    (
        "str.split + conversions",
        "the floor's split, then the shared conversions; no syntax checks at all",
    ),
    (
        "connlog_query.parse",
        "Coder's full pipeline (Go lower-casing, quote and colon rules, bare-word grouping), "
        "Go-exact UUID and RFC 3339 parsing, every error collected with span and hint; returns "
        "a frozen `Query` (timed alone; agreement checked through `Query.filters()`)",
    ),
    (
        "connlog_query.parse, extended",
        "the extended language (NOT, OR, groups, lists, wildcards, dates, relative times), every "
        "key and value checked, all errors with spans; returns a frozen `Query` in normal form "
        "(timed alone; agreement checked through `filters()`). Plain `key:value` texts such as "
        "these take the Coder-mode path (`connlog_query.plain`); texts using extended syntax run "
        "the lean LALR parse (their figures: `compile.py`)",
    ),
    (
        "luqum",
        "Lucene grammar (ply LALR, not written for Coder: `-`, `+`, `(`, `*`, `AND`… are "
        "operators), tree walk, shared conversions; first error only, no spans",
    ),
    (
        "parsimonious",
        "PEG written here (space-separated key:value, bare or double-quoted values), "
        "NodeVisitor, shared conversions; first error only, no spans",
    ),
    (
        "pyparsing",
        "combinator grammar written here (same language; skips any white space), shared "
        "conversions; no packrat; first error only, no spans",
    ),
)
"""What each contender does and does not do (printed with the figures)."""


def case_variants(texts: Sequence[str], count: int, *, seed: int = 6) -> list[str]:
    """Up to ``count`` distinct spellings of the ``texts``, differing only in letter case."""
    rng = random.Random(seed)
    seen = dict.fromkeys(texts[:count])
    for _ in range(count * 20):
        if len(seen) >= count:
            break
        text = rng.choice(texts)
        seen.setdefault("".join(ch.upper() if rng.random() < 0.5 else ch for ch in text))
    return list(seen)


def fresh_pool(size: int, count: int = POOL_SIZE) -> list[str]:
    """Distinct texts of one shape: case variants of the query (1 term: of every ``type``)."""
    if size == 1:
        return case_variants([f"type:{member.value}" for member in ConnectionType], count)
    return case_variants([QUERIES[size]], count)


def cycling(func: Parser, texts: list[str]) -> Callable[[], object]:
    """A no-argument call of ``func`` on the next text of ``texts``, round and round."""
    next_text = itertools.cycle(texts).__next__
    return lambda: func(next_text())


def measure(
    calls: dict[str, Callable[[], object]], *, budget_s: float, repeat: int
) -> dict[str, tuple[float, float]]:
    """Median and spread (max - min) of µs per call for each of ``calls``.

    Each loop is sized to take about ``budget_s``; the repeats are interleaved across the
    contenders (one loop of each in turn), so a burst of load on a shared machine hits all of
    them rather than whichever happened to be running.
    """
    numbers = {}
    for name, call in calls.items():
        per_call_us(call, number=5, repeat=1)  # warm-up, and a first estimate of the cost
        start = time.perf_counter()
        for _ in range(5):
            call()
        each = max((time.perf_counter() - start) / 5, 1e-7)
        numbers[name] = max(5, min(200_000, int(budget_s / each)))
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(repeat):
        for name, call in calls.items():
            median, _ = per_call_us(call, number=numbers[name], repeat=1)
            samples[name].append(median)
    return {
        name: (statistics.median(values), max(values) - min(values))
        for name, values in samples.items()
    }


def load_peers(out: Callable[[str], None]) -> dict[str, Parser]:
    """Build every installed peer; print a ``skipped:`` line for each missing or broken one."""
    peers: dict[str, Parser] = {}
    for name, (dist, factory) in PEERS.items():
        try:
            peers[f"{name} {importlib.metadata.version(dist)}"] = factory()
        except ImportError:
            out(
                f"skipped: {name} not installed (install the benchmark extra, or pip install {dist})"
            )
        except Exception as exc:  # a peer that breaks must not stop the other figures
            out(f"skipped: {name} failed to build its parser: {exc!r}")
    return peers


def check_agreement(contenders: dict[str, Callable[[str], Any]], sizes: Iterable[int]) -> None:
    """Fail loudly if any contender's result differs from ``parse(text).filters()``."""
    for size in sizes:
        for text in fresh_pool(size, 8):
            expected = ours(text)
            for name, func in contenders.items():
                got = func(text)
                if got != expected:
                    raise SystemExit(f"{name} disagrees on {text!r}: {got!r} != {expected!r}")


def main(argv: list[str] | None = None) -> int:
    """Print the figures as Markdown tables; ``--quick`` and ``--smoke`` shrink the run."""
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    cli.add_argument("--quick", action="store_true", help="fewer, shorter repeats (~1/4 time)")
    cli.add_argument("--smoke", action="store_true", help="1-term query, one tiny repeat each")
    args = cli.parse_args(argv)
    sizes = (1,) if args.smoke else tuple(QUERIES)
    budget_s, repeat = (0.001, 1) if args.smoke else (0.03, 5) if args.quick else (0.1, 7)

    out = print
    peers = load_peers(out)
    fresh: dict[str, Parser] = {
        "str.split (floor)": split_floor,
        "str.split + conversions": split_convert,
        "connlog_query.parse": connlog_query.parse,
        "connlog_query.parse, extended": parse_extended,
        **peers,
    }
    check_agreement(
        {
            "str.split + conversions": split_convert,
            "connlog_query.parse, extended": ours_extended,
            **peers,
        },
        sizes,
    )

    out("# What each contender does")
    out("")
    out("All contenders return the same typed values for the benchmark queries (checked first).")
    out("")
    out("| contender | what it does and does not do |")
    out("|---|---|")
    for name, does in WHAT_EACH_DOES:
        out(f"| {name} | {does} |")
    out("")
    out("# Fresh queries")
    out("")
    out(f"Each call parses the next of {POOL_SIZE} distinct texts of the same shape, differing in")
    out("letter case (1 term: `type:` with each of the 7 types), so no cache can answer.")
    out("")
    out("| terms | contender | median µs | spread µs | × floor | × parse() |")
    out("|---:|---|---:|---:|---:|---:|")
    summary: list[str] = []
    for size in sizes:
        pool = fresh_pool(size)
        times = measure(
            {name: cycling(func, pool) for name, func in fresh.items()},
            budget_s=budget_s,
            repeat=repeat,
        )
        floor, parse_us = times["str.split (floor)"][0], times["connlog_query.parse"][0]
        for name, (median, spread) in times.items():
            out(
                f"| {size} | {name} | {median:.2f} | {spread:.2f} | {median / floor:.1f}x "
                f"| {median / parse_us:.2f}x |"
            )
        peer_times = {name: times[name][0] for name in peers}
        if peer_times:
            best = min(peer_times, key=peer_times.__getitem__)
            extended_us = times["connlog_query.parse, extended"][0]
            summary.append(
                f"| {size} | {best} | {peer_times[best]:.2f} | {parse_us / peer_times[best]:.2f}x "
                f"| {extended_us / peer_times[best]:.2f}x |"
            )
    if summary:
        out("")
        out("Against the fastest peer at each size (below 1.00x: ours is faster):")
        out("")
        out("| terms | fastest peer | its µs | Coder mode × peer | extended mode × peer |")
        out("|---:|---|---:|---:|---:|")
        for line in summary:
            out(line)
    out("")
    out("# Repeated query (the same text every call)")
    out("")
    out("What a server sees for a popular query. `connlog_query.parse` keeps an LRU cache of")
    out("recent texts; peers keep none, so their repeated figures equal the fresh ones (not")
    out("repeated here). A server gets a new `str` object per request, whose hash is not yet")
    out("computed: the 'new str' rows copy the text first, for ours and for the floor alike.")
    out("")
    out("| terms | contender | median µs | spread µs | × floor |")
    out("|---:|---|---:|---:|---:|")
    repeated: dict[str, Parser] = {
        "str.split (floor)": split_floor,
        "connlog_query.parse": connlog_query.parse,
        "str.split (floor), new str": lambda text: split_floor(text.encode().decode()),
        "connlog_query.parse, new str": lambda text: connlog_query.parse(text.encode().decode()),
    }
    for size in sizes:
        text = QUERIES[size]
        times = measure(
            {name: cycling(func, [text]) for name, func in repeated.items()},
            budget_s=budget_s,
            repeat=repeat,
        )
        floor = times["str.split (floor)"][0]
        for name, (median, spread) in times.items():
            out(f"| {size} | {name} | {median:.2f} | {spread:.2f} | {median / floor:.1f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
