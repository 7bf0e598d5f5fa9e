"""Run every benchmark script and write ``docs/benchmarks.md``: machine, versions, figures.

Each ``benchmarks/*.py`` script (not ``_*.py``, not this file) runs in its own subprocess, one
after the other so they do not disturb each other's timings. With ``--quick``, scripts whose
source mentions ``--quick`` get that flag. A script that exits with 77 is skipped with the reason
it printed (a ``skipped: ...`` line); one that fails or times out is reported as skipped with its
last line of stderr. Neither stops the run.

Output convention (see ``benchmarks/README.md``): an output containing a line that starts with
``|`` (a Markdown table row) or ``#`` (a heading) is Markdown and is copied as is, headings
nested under the script's section; any other output is copied verbatim into a fenced block.

Run: ``python benchmarks/run_all.py [--quick] [--only NAME ...] [--output docs/benchmarks.md]``.
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import importlib.metadata
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SKIP_EXIT = 77
"""Exit status a script uses to say "cannot run here" (automake's convention)."""

DISTRIBUTIONS = (
    "connlog-query",
    "lark",
    "pydantic",
    "pydantic-core",
    "psycopg",
    "sqlalchemy",
    "httpx",
    "starlette",
    "uvicorn",
    "luqum",
    "parsimonious",
    "pyparsing",
)
"""Distributions whose versions head the report (missing ones say so)."""

_HEADING = re.compile(r"^(#{1,6}) ")


@dataclass(frozen=True)
class Outcome:
    """What one script did: its output when it ran, else why it was skipped."""

    script: Path
    seconds: float
    output: str | None
    skipped: str | None = None
    summary: str = ""


def discover(directory: Path, only: Sequence[str] = ()) -> list[Path]:
    """The benchmark scripts in ``directory``, by name; ``only`` keeps the named ones."""
    wanted = {name.removesuffix(".py") for name in only}
    return [
        path
        for path in sorted(directory.glob("*.py"))
        if not path.name.startswith("_")
        and path.resolve() != Path(__file__).resolve()
        and (not wanted or path.stem in wanted)
    ]


def supports_quick(script: Path) -> bool:
    """True if the script's source mentions a ``--quick`` option."""
    try:
        return "--quick" in script.read_text(encoding="utf-8")
    except OSError:
        return False


def describe(script: Path) -> str:
    """The first line of the script's module docstring, read without importing it."""
    try:
        doc = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8")))
    except (OSError, SyntaxError, ValueError):
        return ""
    return doc.strip().splitlines()[0] if doc else ""


def _last_line(*texts: str) -> str:
    for text in texts:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if lines:
            return lines[-1]
    return "no output"


def run_script(script: Path, *, quick: bool, timeout: float) -> Outcome:
    """Run one script with this interpreter from the repository root and classify the result."""
    command = [sys.executable, str(script)]
    if quick and supports_quick(script):
        command.append("--quick")
    summary = describe(script)
    start = time.perf_counter()
    try:
        done = subprocess.run(
            command, cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return Outcome(script, timeout, None, f"timed out after {timeout:.0f} s", summary)
    seconds = time.perf_counter() - start
    if done.returncode == SKIP_EXIT:
        said = [
            line.strip()
            for line in (done.stdout + "\n" + done.stderr).splitlines()
            if line.strip().lower().startswith("skipped:")
        ]
        reason = said[-1].split(":", 1)[1].strip() if said else _last_line(done.stderr)
        return Outcome(script, seconds, None, reason, summary)
    if done.returncode != 0:
        reason = f"failed (exit {done.returncode}): {_last_line(done.stderr, done.stdout)}"
        return Outcome(script, seconds, None, reason, summary)
    return Outcome(script, seconds, done.stdout, None, summary)


def is_markdown(output: str) -> bool:
    """True if the output follows the convention: some line is a table row or a heading."""
    return any(line.startswith("|") or _HEADING.match(line) for line in output.splitlines())


def render_output(output: str, *, nest: int = 2) -> str:
    """Script output as Markdown: convention outputs with headings nested, else fenced."""
    if not is_markdown(output):
        body = output.rstrip("\n")
        longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
        fence = "`" * max(3, longest + 1)
        return f"{fence}text\n{body}\n{fence}\n"
    lines: list[str] = []
    for line in output.rstrip("\n").splitlines():
        heading = _HEADING.match(line)
        if heading:
            level = min(6, len(heading.group(1)) + nest)
            line = "#" * level + line[heading.end() - 1 :]
        # A table or heading right after prose needs a blank line to render as one.
        starts_block = line.startswith("|") or heading is not None
        if starts_block and lines and lines[-1].strip() and not lines[-1].startswith("|"):
            lines.append("")
        if lines and lines[-1].startswith("|") and not line.startswith("|") and line.strip():
            lines.append("")
        lines.append(line)
    return "\n".join(lines) + "\n"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _ram() -> str:
    try:
        with open("/proc/meminfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _load() -> str:
    try:
        return " / ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def _commit() -> str:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return done.stdout.strip() or "unknown"


def machine_rows() -> list[tuple[str, str]]:
    """CPU model, cores, RAM, OS and load average of this machine."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    return [
        ("CPU", _cpu_model()),
        ("cores", f"{os.cpu_count()} logical, {usable} usable by this process"),
        ("RAM", _ram()),
        ("OS", platform.platform()),
        ("load average (1 / 5 / 15 min) at start", _load()),
    ]


def version_rows(distributions: Iterable[str] = DISTRIBUTIONS) -> list[tuple[str, str]]:
    """Python and each distribution's installed version (or "not installed")."""
    rows = [("Python", f"{platform.python_implementation()} {platform.python_version()}")]
    for name in distributions:
        try:
            version = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            version = "not installed"
        if name == "connlog-query":
            version += f" (commit {_commit()}, working tree as it was)"
        rows.append((name, version))
    return rows


def _table(header: tuple[str, str], rows: Iterable[tuple[str, str]]) -> list[str]:
    out = [f"| {header[0]} | {header[1]} |", "|---|---|"]
    out += [f"| {key} | {value} |" for key, value in rows]
    return out


def render_report(
    outcomes: Sequence[Outcome],
    machine: Sequence[tuple[str, str]],
    versions: Sequence[tuple[str, str]],
    *,
    quick: bool,
    when: dt.datetime,
) -> str:
    """The whole ``docs/benchmarks.md`` page."""
    command = "python benchmarks/run_all.py" + (" --quick" if quick else "")
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `{command}` on {when:%Y-%m-%d %H:%M} UTC; do not edit by hand, rerun the "
        "command. Every figure is a ratio against a baseline measured in the same run, with "
        "medians over repeats and their spread; each section says what it measures. Absolute "
        "times depend on the machine and its load, the ratios much less.",
        "",
        "## Machine",
        "",
        *_table(("what", "value"), machine),
        "",
        "## Versions",
        "",
        *_table(("package", "version"), versions),
        "",
        "## Scripts",
        "",
        "| script | result | seconds |",
        "|---|---|---:|",
    ]
    for outcome in outcomes:
        result = "ran" if outcome.skipped is None else f"skipped: {outcome.skipped}"
        lines.append(f"| `{outcome.script.name}` | {result} | {outcome.seconds:.1f} |")
    for outcome in outcomes:
        lines += ["", f"## {outcome.script.name}", ""]
        if outcome.summary:
            lines += [f"*{outcome.summary}*", ""]
        if outcome.output is None:
            lines.append(f"Skipped: {outcome.skipped}")
        else:
            lines.append(render_output(outcome.output).rstrip("\n"))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the scripts, write the page, print one status line per script to stderr."""
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    cli.add_argument("--quick", action="store_true", help="pass --quick where supported")
    cli.add_argument("--only", nargs="+", default=(), metavar="NAME", help="run these scripts")
    cli.add_argument("--dir", type=Path, default=HERE, help="where the scripts are")
    cli.add_argument("--output", type=Path, default=REPO / "docs" / "benchmarks.md")
    cli.add_argument("--timeout", type=float, default=1800, help="seconds per script")
    args = cli.parse_args(argv)

    scripts = discover(args.dir, args.only)
    if not scripts:
        print("no benchmark scripts found", file=sys.stderr)
        return 2
    machine = machine_rows()
    outcomes = []
    for script in scripts:
        print(f"running {script.name} ...", file=sys.stderr, flush=True)
        outcome = run_script(script, quick=args.quick, timeout=args.timeout)
        status = "ok" if outcome.skipped is None else f"skipped: {outcome.skipped}"
        print(f"  {status} ({outcome.seconds:.1f} s)", file=sys.stderr, flush=True)
        outcomes.append(outcome)
    page = render_report(
        outcomes,
        machine,
        version_rows(),
        quick=args.quick,
        when=dt.datetime.now(dt.timezone.utc),
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(page, encoding="utf-8")
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
