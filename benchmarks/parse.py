"""µs per parse() for a 1-term and the 11-term Coder query, against a naive str.split parser.

The baseline splits on spaces and colons and builds a dict: the floor for any parser of this
language (it validates nothing). Run: ``python benchmarks/parse.py``.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import connlog_query
from _timing import per_call_us
from connlog_query.gocompat import go_lower
from connlog_query.parser import _parse_uncached
from connlog_query.syntax import split_elements
from connlog_query.terms import group_terms
from connlog_query.validate import build_query

ONE = "type:ssh"
ELEVEN = (
    f"organization:{uuid.UUID(int=1)} workspace_owner:me workspace_owner_email:o@x.io type:ssh "
    'username:alice user_email:a@x.io connected_after:"2025-07-01T00:00:00Z" '
    f'connected_before:"2025-07-08T00:00:00+02:00" workspace_id:{uuid.UUID(int=2)} '
    f"connection_id:{uuid.UUID(int=3)} status:ongoing"
)


def naive(text: str) -> dict[str, str]:
    """The floor: split on spaces, then on the first colon; no quotes, no validation."""
    out = {}
    for part in text.lower().split(" "):
        key, _, value = part.partition(":")
        out[key] = value.strip('"')
    return out


def cold_start() -> tuple[float, float]:
    """Seconds for a fresh interpreter: import + first parse, against importing the deps alone."""

    def run(code: str) -> float:
        best = []
        for _ in range(5):
            out = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    f"import time; t=time.perf_counter(); {code}; print(time.perf_counter()-t)",
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            best.append(float(out.stdout))
        best.sort()
        return best[len(best) // 2]

    ours = run("import connlog_query; connlog_query.parse('type:ssh')")
    base = run("import pydantic, lark")
    return ours, base


def main() -> None:
    print(f"{'case':<34} {'median µs':>10} {'spread':>8} {'vs split':>9}")
    for name, text in (("1 term", ONE), ("11 terms", ELEVEN)):
        base, base_spread = per_call_us(lambda t=text: naive(t), number=20000)
        ours, spread = per_call_us(
            lambda t=text: _parse_uncached(t, "coder", None, None, None), number=2000
        )
        cached, cached_spread = per_call_us(lambda t=text: connlog_query.parse(t), number=20000)
        stages = {
            "  lower + grammar": lambda t=text: split_elements(go_lower(t)),
            "  + colon rules": lambda t=text: group_terms(split_elements(go_lower(t)), t),
            "  + validation (= parse)": lambda t=text: build_query(
                group_terms(split_elements(go_lower(t)), t), t
            ),
        }
        print(f"{'str.split baseline, ' + name:<34} {base:>10.2f} {base_spread:>8.2f} {1:>8.1f}x")
        print(
            f"{'parse() first time, ' + name:<34} {ours:>10.2f} {spread:>8.2f} {ours / base:>8.1f}x"
        )
        print(
            f"{'parse() repeated (cache), ' + name:<34} {cached:>10.2f} {cached_spread:>8.2f} {cached / base:>8.1f}x"
        )
        for label, func in stages.items():
            us, sp = per_call_us(func, number=2000)
            print(f"{label:<34} {us:>10.2f} {sp:>8.2f} {us / base:>8.1f}x")
    ours, base = cold_start()
    print(
        f"\ncold start: import+parse {ours * 1000:.1f} ms vs import pydantic, lark {base * 1000:.1f} ms "
        f"({ours / base:.2f}x)"
    )


if __name__ == "__main__":
    main()
