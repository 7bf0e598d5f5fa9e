"""Cold start: a fresh interpreter that imports connlog_query and parses one query.

Measures wall-clock time of fresh ``python -c`` processes (median of N, interleaved so that
machine drift hits every command alike) for:

* ``pass`` (the interpreter alone);
* ``import pydantic, lark`` (the issue's baseline; pydantic loads its model machinery lazily, so
  this does not pay for ``BaseModel``);
* ``import lark; from pydantic import BaseModel`` (the fairer baseline: what any library with a
  pydantic model and a Lark grammar must load);
* ``import connlog_query; connlog_query.parse('type:ssh')`` (ours) and ``import connlog_query``.

Then what-ifs that locate the cost (``import lark``, the Lark parser built from the grammar or
loaded from Lark's own ``cache=`` file or generated as a standalone module, our scanner table
derived with Lark at run time instead of generated, extended mode), the same phases timed
inside one process, and ``-X importtime`` offenders: the modules ours loads that the fairer baseline does
not, by self time.

Every child runs with bytecode caching on, in a private ``PYTHONPYCACHEPREFIX`` primed before
timing, as for an installed wheel (pip byte-compiles at install); one extra row shows ours in
the caller's environment as is. Run: ``python benchmarks/cold_start.py [--quick]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

GRAMMAR = Path(__file__).resolve().parents[1] / "grammar" / "connlog.lark"
LARK_OPTIONS = "parser='lalr', lexer='basic', maybe_placeholders=True"

OURS = "import connlog_query; connlog_query.parse('type:ssh')"
ISSUE_BASELINE = "import pydantic, lark"
FAIR_BASELINE = "import lark; from pydantic import BaseModel"

# The generated scanner table made stale, so the first parse derives it from the grammar with
# Lark, as it would after an edit of connlog.lark without rerunning grammar/build_scanner.py.
_DERIVED_SCANNER = """
import connlog_query._coder_scanner as generated
generated.GRAMMAR_CHECKSUM = -1
import connlog_query
assert str(connlog_query.parse('type:ssh')) == 'type:ssh'
"""

_PHASES = """
import json, time
marks = [(time.perf_counter(), time.process_time())]
import connlog_query
marks.append((time.perf_counter(), time.process_time()))
connlog_query.parse('type:ssh')
marks.append((time.perf_counter(), time.process_time()))
connlog_query.parse('username:alice')
marks.append((time.perf_counter(), time.process_time()))
import lark
marks.append((time.perf_counter(), time.process_time()))
connlog_query.parse('type:ssh', mode='extended')
marks.append((time.perf_counter(), time.process_time()))
print(json.dumps([[b[i] - a[i] for a, b in zip(marks, marks[1:])] for i in (0, 1)]))
"""
# The package __init__ is replaced by a bare namespace so that each submodule's own cost can be
# timed in dependency order; the fairer baseline is paid before the clock starts.
_PER_MODULE = """
import importlib, importlib.util, json, sys, time, types
import lark
from pydantic import BaseModel
spec = importlib.util.find_spec("connlog_query")
stub = types.ModuleType("connlog_query")
stub.__path__ = list(spec.submodule_search_locations)
sys.modules["connlog_query"] = stub
costs = []
for name in {names!r}:
    wall, cpu = time.perf_counter(), time.process_time()
    importlib.import_module(name)
    costs.append([name, time.perf_counter() - wall, time.process_time() - cpu])
print(json.dumps(costs))
"""

PHASE_NAMES = (
    "import connlog_query (pydantic BaseModel, Query class, own modules)",
    "first parse('type:ssh') (reads the grammar, checks and compiles the generated scanner)",
    "a second, different text: parse('username:alice')",
    "import lark (Coder mode never does; extended mode and complete() do)",
    "first extended-mode parse('type:ssh') (extended modules, LALR tables from Lark's cache)",
)


@dataclass(frozen=True)
class Case:
    """One command to time: a label, the ``-c`` code, and which env to run it in."""

    label: str
    code: str
    caller_env: bool = False


def child_env(pycache: Path) -> dict[str, str]:
    """The environment of a fresh interpreter with bytecode caching into ``pycache``."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


@dataclass(frozen=True)
class Run:
    """One finished child: wall-clock and CPU (user + system) seconds, and its output."""

    wall: float
    cpu: float
    stdout: str
    stderr: str


def run_once(code: str, env: Mapping[str, str], *flags: str) -> Run:
    """Run ``python [flags] -c code`` and time it.

    CPU time comes from ``RUSAGE_CHILDREN`` deltas (children run one at a time), which other
    processes on a busy machine disturb far less than the wall clock.

    Raises:
        RuntimeError: the child failed; the message is its last line of stderr.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *flags, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or [f"exit {done.returncode}"]
        raise RuntimeError(lines[-1])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(wall, cpu, done.stdout, done.stderr)


Results = dict[str, "list[Run] | str"]


def time_cases(
    cases: list[Case], runs: int, env: Mapping[str, str], *, prime: bool = True
) -> Results:
    """Runs of each case (interleaved), or the failure message of a case that broke.

    ``prime`` runs each case once untimed first: it fills the bytecode cache and Lark's cache
    files, and finds the broken cases.
    """
    results: Results = {case.label: [] for case in cases}
    for case in cases if prime else ():
        try:
            run_once(case.code, os.environ if case.caller_env else env)
        except RuntimeError as exc:
            results[case.label] = str(exc)
    for _ in range(runs):
        for case in cases:
            samples = results[case.label]
            if isinstance(samples, list):
                samples.append(run_once(case.code, os.environ if case.caller_env else env))
    return results


def parse_importtime(stderr: str) -> dict[str, tuple[int, int]]:
    """``{module: (self µs, cumulative µs)}`` from the ``-X importtime`` report."""
    out: dict[str, tuple[int, int]] = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative_us, name = line[len("import time:") :].split("|")
        out[name.strip()] = (int(self_us), int(cumulative_us))
    return out


def importtime_medians(
    code: str, runs: int, env: Mapping[str, str]
) -> dict[str, tuple[float, float]]:
    """Median self and cumulative ms per module over ``runs`` fresh interpreters."""
    samples: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for _ in range(runs):
        for name, pair in parse_importtime(run_once(code, env, "-X", "importtime").stderr).items():
            samples[name].append(pair)
    return {
        name: (
            statistics.median(s for s, _ in pairs) / 1000,
            statistics.median(c for _, c in pairs) / 1000,
        )
        for name, pairs in samples.items()
    }


def row(cells: list[str]) -> str:
    """One Markdown table row."""
    return "| " + " | ".join(cells) + " |"


def _ms(runs: list[Run], attr: str) -> tuple[float, float]:
    values = [getattr(run, attr) * 1e3 for run in runs]
    return statistics.median(values), max(values) - min(values)


BASELINE_NAMES = ("issue baseline", "fairer baseline")


def timing_table(
    cases: list[Case],
    results: Results,
    interpreter: list[Run] | str,
    baselines: list[list[Run] | str],
    out: Callable[[str], None],
) -> None:
    """Wall and CPU medians with spreads, CPU above the interpreter, ratios to ``baselines``.

    ``baselines`` are the runs of the commands named in :data:`BASELINE_NAMES`, in that order.
    """
    base_cpu = _ms(interpreter, "cpu")[0] if isinstance(interpreter, list) else 0.0
    columns = ["command", "wall ms", "wall spread", "CPU ms", "CPU spread", "CPU above interpreter"]
    columns += [f"× {name} (wall / CPU)" for name in BASELINE_NAMES[: len(baselines)]]
    out(row(columns))
    out("|---|---:|---:|---:|---:|---:|" + "---:|" * len(baselines))
    for case in cases:
        samples = results[case.label]
        if isinstance(samples, str):
            out(row([case.label, f"skipped: {samples}"] + [""] * (4 + len(baselines))))
            continue
        wall, wall_spread = _ms(samples, "wall")
        cpu, cpu_spread = _ms(samples, "cpu")
        ratios = []
        for base in baselines:
            if isinstance(base, str):
                ratios.append("-")
                continue
            ratios.append(f"{wall / _ms(base, 'wall')[0]:.2f}x / {cpu / _ms(base, 'cpu')[0]:.2f}x")
        out(
            row(
                [
                    case.label,
                    f"{wall:.1f}",
                    f"{wall_spread:.1f}",
                    f"{cpu:.1f}",
                    f"{cpu_spread:.1f}",
                    f"{cpu - base_cpu:.1f}",
                    *ratios,
                ]
            )
        )


def standalone_module(directory: Path, env: Mapping[str, str]) -> None:
    """Generate ``standalone_connlog.py`` (Lark's standalone tool, MPL-2.0 output) in ``directory``."""
    with (directory / "standalone_connlog.py").open("w", encoding="utf-8") as handle:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "lark.tools.standalone",
                "-l",
                "basic",
                "--maybe_placeholders",
                str(GRAMMAR),
            ],
            stdout=handle,
            stderr=subprocess.DEVNULL,
            check=False,
            env=env,
        )


def what_if_cases(tmpdir: Path) -> list[Case]:
    """Commands that isolate Lark's import, the parser build, its alternatives, and pydantic."""
    grammar_text = f"open({str(GRAMMAR)!r}, encoding='utf-8').read()"
    cache = str(tmpdir / "connlog.lark.cache")
    return [
        Case("`import lark`", "import lark"),
        Case(
            "`import lark` + build the parser from connlog.lark",
            f"import lark; lark.Lark({grammar_text}, {LARK_OPTIONS})",
        ),
        Case(
            "`import lark` + load the parser from a Lark `cache=` file",
            f"import lark; lark.Lark({grammar_text}, {LARK_OPTIONS}, cache={cache!r})",
        ),
        Case(
            "standalone parser module (no `import lark`): import + build",
            f"import sys; sys.path.insert(0, {str(tmpdir)!r}); import standalone_connlog; "
            "standalone_connlog.Lark_StandAlone()",
        ),
        Case("`import pydantic`", "import pydantic"),
        Case("`from pydantic import BaseModel`", "from pydantic import BaseModel"),
        Case("ours, as is (for comparison with the next row)", OURS),
        Case(
            "ours, scanner derived from the grammar with Lark (generated table stale)",
            _DERIVED_SCANNER,
        ),
        Case(
            "ours in extended mode: `parse('type:ssh', mode='extended')`",
            "import connlog_query; connlog_query.parse('type:ssh', mode='extended')",
        ),
    ]


def phases_table(runs: int, env: Mapping[str, str], out: Callable[[str], None]) -> None:
    """Median wall and CPU ms of each phase of import + first parse, inside one process."""
    phases = [json.loads(run_once(_PHASES, env).stdout) for _ in range(runs)]
    out("| phase | wall ms | CPU ms |")
    out("|---|---:|---:|")
    for index, name in enumerate(PHASE_NAMES):
        wall = statistics.median(p[0][index] for p in phases) * 1e3
        cpu = statistics.median(p[1][index] for p in phases) * 1e3
        out(row([name, f"{wall:.3f}", f"{cpu:.3f}"]))


def own_modules(env: Mapping[str, str]) -> list[str]:
    """connlog_query's submodules that ``import connlog_query`` loads, dependencies first."""
    report = run_once("import connlog_query", env, "-X", "importtime").stderr
    return [name for name in parse_importtime(report) if name.startswith("connlog_query.")]


def per_module_table(runs: int, env: Mapping[str, str], out: Callable[[str], None]) -> None:
    """Median cost of importing each own module on top of the fairer baseline and its deps."""
    names = own_modules(env)
    samples: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for _ in range(runs):
        for name, wall, cpu in json.loads(run_once(_PER_MODULE.format(names=names), env).stdout):
            samples[name].append((wall, cpu))
    out(
        f"Each connlog_query module imported in dependency order after `{FAIR_BASELINE}`, "
        "package `__init__` bypassed, so each row is that module's own cost plus whatever new "
        f"third-party or stdlib modules it pulls in (median of {runs}):"
    )
    out("")
    out("| module | wall ms | CPU ms |")
    out("|---|---:|---:|")
    total = 0.0
    for name in names:
        wall = statistics.median(w for w, _ in samples[name]) * 1e3
        cpu = statistics.median(c for _, c in samples[name]) * 1e3
        total += cpu
        out(row([f"`{name}`", f"{wall:.2f}", f"{cpu:.2f}"]))
    out(row(["**total**", "", f"{total:.2f}"]))


def importtime_tables(runs: int, env: Mapping[str, str], out: Callable[[str], None]) -> None:
    """Modules ours loads beyond the fairer baseline, and self time per top-level package."""
    ours = importtime_medians(OURS, runs, env)
    fair = importtime_medians(FAIR_BASELINE, runs, env)
    extra = {name: times for name, times in ours.items() if name not in fair}
    out(
        f"Modules ours imports that `{FAIR_BASELINE}` does not, by self time "
        f"(median of {runs}; cumulative includes children, some of them shared):"
    )
    out("")
    out("| module | self ms | cumulative ms |")
    out("|---|---:|---:|")
    for name, (self_ms, cum_ms) in sorted(extra.items(), key=lambda kv: -kv[1][0])[:15]:
        out(row([f"`{name}`", f"{self_ms:.2f}", f"{cum_ms:.2f}"]))
    out(row([f"**all {len(extra)} of them**", f"{sum(s for s, _ in extra.values()):.2f}", ""]))
    out("")
    out("Self time by top-level package, ours:")
    out("")
    by_package: dict[str, float] = defaultdict(float)
    for name, (self_ms, _) in ours.items():
        top = name.split(".")[0]
        by_package[top if top in NAMED_PACKAGES else "stdlib and others"] += self_ms
    out("| package | self ms |")
    out("|---|---:|")
    for name, total in sorted(by_package.items(), key=lambda kv: -kv[1]):
        out(row([f"`{name}`", f"{total:.2f}"]))


NAMED_PACKAGES = frozenset(
    {
        "connlog_query",
        "pydantic",
        "pydantic_core",
        "lark",
        "regex",
        "typing_extensions",
        "annotated_types",
        "typing_inspection",
    }
)


def main(argv: list[str] | None = None, out: Callable[[str], None] = print) -> int:
    """Print the cold-start figures as Markdown; ``--quick``/``--smoke`` use fewer runs."""
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    cli.add_argument("--runs", type=int, default=21, help="fresh interpreters per command")
    cli.add_argument("--quick", action="store_true", help="7 runs per command")
    cli.add_argument("--smoke", action="store_true", help="1 run, main commands only")
    args = cli.parse_args(argv)
    runs = 1 if args.smoke else 7 if args.quick else args.runs

    with tempfile.TemporaryDirectory(prefix="connlog-cold-") as tmp:
        tmpdir = Path(tmp)
        env = child_env(tmpdir / "pycache")
        interpreter = Case("`python -c pass` (interpreter alone)", "pass")
        issue = Case(f"`{ISSUE_BASELINE}` (issue's baseline)", ISSUE_BASELINE)
        fair = Case(f"`{FAIR_BASELINE}` (fairer baseline)", FAIR_BASELINE)
        ours = Case(f"`{OURS}` (ours)", OURS)
        if args.smoke:
            cases, baselines = [interpreter, issue, ours], [issue]
        else:
            cases = [
                interpreter,
                issue,
                fair,
                Case("`import connlog_query`", "import connlog_query"),
                ours,
                Case("ours, in the caller's environment as is", OURS, caller_env=True),
            ]
            baselines = [issue, fair]
        results = time_cases(cases, runs, env, prime=not args.smoke)
        regex = "installed" if importlib.util.find_spec("regex") else "not installed"
        primed = "not primed in a smoke run" if args.smoke else "primed"
        out(
            f"Median of {runs} fresh interpreters per command, interleaved; spread = max - min; "
            f"CPU = user + system time of the child. Python {sys.version.split()[0]}."
        )
        out(
            f"Bytecode cache on (private PYTHONPYCACHEPREFIX, {primed}) for every row but the "
            "caller's-environment one (PYTHONDONTWRITEBYTECODE="
            f"{os.environ.get('PYTHONDONTWRITEBYTECODE') or 'unset'}). The `regex` module is "
            f"{regex}: `import lark` loads it when present."
        )
        out("")
        timing_table(
            cases, results, results[interpreter.label], [results[b.label] for b in baselines], out
        )
        out("")
        out("# Phases inside one process")
        out("")
        phases_table(runs, env, out)
        if args.smoke:
            return 0
        out("")
        out("# Where the time goes: what-ifs")
        out("")
        standalone_module(tmpdir, env)
        what_ifs = what_if_cases(tmpdir)
        timing_table(what_ifs, time_cases(what_ifs, runs, env), results[interpreter.label], [], out)
        out("")
        out("# Own modules, one by one")
        out("")
        per_module_table(max(3, runs // 3), env, out)
        out("")
        out("# `-X importtime`: top offenders")
        out("")
        importtime_tables(max(3, runs // 3), env, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
