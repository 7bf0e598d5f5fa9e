"""Rows/s of the in-memory predicate over 1,000,000 records, against hand-written lambdas.

For each query the compiled predicate (``connlog_query.backends.memory.compile``) and a lambda
a person would write for the same filter (ids looked up by hand beforehand) run over the same
records in the same process, interleaved, median of several runs with the spread (max - min).
The ratio is compiled rows/s divided by lambda rows/s (1.0 = as fast as hand-written code;
target >= 0.8).

Records: 50,000 distinct demo rows repeated 20 times (1,000,000 list entries), as
``ConnectionLog`` models and, for a few queries, as ``json.loads`` dicts. A third table runs
extended queries (wildcard, OR across keys, negation, free text, relative range, a mix), with
relative times resolved at a fixed clock (``CompileContext(now=...)``).

Run: ``python benchmarks/predicate.py [--rows N] [--repeat R] [--quick] [--smoke]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

from connlog_query import parse
from connlog_query.backends import memory
from connlog_query.backends.context import CompileContext
from connlog_query.demo import ANCHOR, generate

DISTINCT = 50_000


def rate(predicate: Callable[[Any], bool], records: Sequence[Any]) -> tuple[float, int]:
    """Rows per second of ``filter(predicate, records)`` and how many rows matched."""
    start = time.perf_counter()
    matched = len(list(filter(predicate, records)))
    return len(records) / (time.perf_counter() - start), matched


def compare(
    name: str,
    compiled: Callable[[Any], bool],
    hand: Callable[[Any], bool],
    records: Sequence[Any],
    repeat: int,
) -> float:
    """Print one table row: median rows/s of both with spreads, and the ratio; return it."""
    ours, theirs = [], []
    n_ours = 0
    for _ in range(repeat):
        r_hand, n_hand = rate(hand, records)
        r_ours, n_ours = rate(compiled, records)
        assert n_hand == n_ours, (name, n_hand, n_ours)
        theirs.append(r_hand)
        ours.append(r_ours)
    mine, base = statistics.median(ours), statistics.median(theirs)
    ratio = mine / base
    print(
        f"| `{name}` | {mine / 1e6:.2f} | {(max(ours) - min(ours)) / 1e6:.2f} "
        f"| {base / 1e6:.2f} | {(max(theirs) - min(theirs)) / 1e6:.2f} "
        f"| {ratio:.2f} | {n_ours:,} |"
    )
    return ratio


HEADER = (
    "| query | compiled M rows/s | spread | lambda M rows/s | spread | ratio | matches |\n"
    "|---|---|---|---|---|---|---|"
)


def main(argv: list[str] | None = None) -> int:
    """Run every comparison and print the tables."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="200,000 records, 3 repeats")
    ap.add_argument("--smoke", action="store_true", help="300 records, once")
    args = ap.parse_args(argv)
    distinct = DISTINCT
    if args.quick:
        args.rows, args.repeat = 200_000, 3
    if args.smoke:
        args.rows, args.repeat, distinct = 300, 1, 150

    data = generate(seed=1, n_logs=min(distinct, args.rows))
    base = list(data.connection_logs)
    models = (base * (args.rows // len(base) + 1))[: args.rows]
    base_dicts = [json.loads(log.model_dump_json()) for log in base]
    dicts = (base_dicts * (args.rows // len(base) + 1))[: args.rows]
    users = memory.UserTable.of(data.users)
    alice, bob = data.user("alice").id, data.user("bob").id
    coder = data.organization("coder").id
    ssh = frozenset({"ssh", "zed"})
    vscode = frozenset(
        t
        for t in {log.type for log in base}
        if t in {"vscode", "cursor", "windsurf", "code_server"}
    )
    after = parse('connected_after:"2025-07-01T00:00:00Z"').connected_after
    before = parse('connected_before:"2025-07-08T00:00:00Z"').connected_before
    alice_s = str(alice)

    def compiled(text: str) -> Callable[[Any], bool]:
        return memory.compile(
            parse(text),
            context=CompileContext(user_id=alice),
            users=users,
            organizations=data.organizations,
        )

    cases: list[tuple[str, Callable[[Any], bool], Sequence[Any]]] = [
        ("", lambda r: True, models),
        ("type:ssh", lambda r: r.type in ssh, models),
        ("workspace_owner:bob", lambda r: r.workspace_owner_id == bob, models),
        (
            "username:alice",
            lambda r: (
                r.web_info is not None
                and r.web_info.user is not None
                and r.web_info.user.id == alice
            ),
            models,
        ),
        (
            "type:ssh status:ongoing",
            lambda r: (
                r.type in ssh and r.ssh_info is not None and r.ssh_info.disconnect_time is None
            ),
            models,
        ),
        (
            'connected_after:"2025-07-01T00:00:00Z" connected_before:"2025-07-08T00:00:00Z"',
            lambda r: after <= r.connect_time <= before,
            models,
        ),
        (
            "organization:coder type:vscode status:completed",
            lambda r: (
                r.organization.id == coder
                and r.type in vscode
                and r.ssh_info is not None
                and r.ssh_info.disconnect_time is not None
            ),
            models,
        ),
        (
            "workspace_owner:me type:workspace_app username:bob",
            lambda r: (
                r.workspace_owner_id == alice
                and r.type == "workspace_app"
                and r.web_info is not None
                and r.web_info.user is not None
                and r.web_info.user.id == bob
            ),
            models,
        ),
    ]
    dict_cases: list[tuple[str, Callable[[Any], bool], Sequence[Any]]] = [
        ("type:ssh", lambda r: r["type"] in ssh, dicts),
        (
            "username:alice",
            lambda r: (
                (w := r.get("web_info")) is not None
                and w["user"] is not None
                and w["user"]["id"] == alice_s
            ),
            dicts,
        ),
    ]

    print(
        f"{len(models):,} records ({len(base):,} distinct demo rows, repeated); compiled "
        f"predicate against a hand-written lambda, median of {args.repeat} interleaved runs."
    )
    print()
    print("ConnectionLog models:")
    print()
    print(HEADER)
    ratios = []
    for text, hand, records in cases:
        ratios.append(compare(text or "(empty)", compiled(text), hand, records, args.repeat))
    print()
    print("json.loads dicts:")
    print()
    print(HEADER)
    for text, hand, records in dict_cases:
        ratios.append(compare(text, compiled(text), hand, records, args.repeat))
    print()
    print("Extended queries (--extended), ConnectionLog models unless marked dicts:")
    print()
    print(HEADER)
    for text, hand, records in extended_cases(data, models, dicts):
        predicate = memory.compile(
            parse(text, mode="extended"),
            context=CompileContext(user_id=alice, now=NOW),
            users=users,
            organizations=data.organizations,
        )
        label = f"{text} (dicts)" if records is dicts else text
        ratios.append(compare(label, predicate, hand, records, args.repeat))
    print()
    print(f"geometric mean ratio: {statistics.geometric_mean(ratios):.2f}; min {min(ratios):.2f}")
    return 0


NOW = ANCHOR + dt.timedelta(minutes=30)
"""The clock relative times resolve at (fixed, so every run selects the same rows)."""


def extended_cases(
    data: Any, models: Sequence[Any], dicts: Sequence[Any]
) -> list[tuple[str, Callable[[Any], bool], Sequence[Any]]]:
    """Extended queries with the lambda a person would write for each (look-ups done by
    hand beforehand, as for the Coder-mode table)."""
    alice, bob = data.user("alice").id, data.user("bob").id
    alice_s = str(alice)
    ssh = frozenset({"ssh", "zed"})
    vscode = frozenset({"vscode", "cursor", "windsurf", "code_server"})  # in the demo data
    a_owners = frozenset(
        u.id for u in data.users if not u.deleted and u.username.lower()[:1] == "a"
    )
    (a_owner,) = a_owners
    dev_owners = frozenset(u.id for u in data.users if "dev" in u.username.lower())
    assert not dev_owners  # the lambdas below rely on no username holding "dev"
    week_ago, day_ago = NOW - dt.timedelta(days=7), NOW - dt.timedelta(days=1)
    fortnight = NOW - dt.timedelta(days=14)

    def user_is(r: Any, uid: Any) -> bool:
        return r.web_info is not None and r.web_info.user is not None and r.web_info.user.id == uid

    return [
        ("workspace_owner:a*", lambda r: r.workspace_owner_id == a_owner, models),
        ("type:ssh OR username:alice", lambda r: r.type in ssh or user_is(r, alice), models),
        ("-type:ssh -username:bob", lambda r: r.type not in ssh and not user_is(r, bob), models),
        (
            "dev",
            lambda r: "dev" in r.workspace_name.lower() or "dev" in r.agent_name.lower(),
            models,
        ),
        ("connected:-7d..-1d", lambda r: week_ago <= r.connect_time <= day_ago, models),
        (
            "type:ssh,vscode (dev OR gpu) connected:>=-14d",
            lambda r: (
                r.type in ssh | vscode
                and r.connect_time >= fortnight
                and (
                    "dev" in r.workspace_name.lower()
                    or "dev" in r.agent_name.lower()
                    or "gpu" in r.workspace_name.lower()
                    or "gpu" in r.agent_name.lower()
                )
            ),
            models,
        ),
        (
            "dev OR username:alice",
            lambda r: (
                "dev" in r["workspace_name"].lower()
                or "dev" in r["agent_name"].lower()
                or (
                    (w := r.get("web_info")) is not None
                    and w["user"] is not None
                    and w["user"]["id"] == alice_s
                )
            ),
            dicts,
        ),
    ]


if __name__ == "__main__":
    raise SystemExit(main())
