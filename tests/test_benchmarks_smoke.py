"""Smoke tests of the benchmark scripts: each runs its smallest case once, so none can rot.

Every ``benchmarks/*.py`` script must be covered: scripts that accept ``--smoke`` (the
convention in ``benchmarks/README.md``) run ``main(["--smoke"])``; the others have an adapter
here that calls them with tiny sizes. Nothing here asserts a timing: the checks are that the
script runs, prints its figures in the documented shape, and that the report writer classifies
scripts the way it promises.
"""

from __future__ import annotations

import importlib.util
import inspect
import re
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
SMOKE_FLAG = "--smoke"


@pytest.fixture
def load(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], ModuleType]]:
    """Import ``benchmarks/<name>.py`` as a fresh module; undo its ``sys.path`` changes after."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setattr(sys, "argv", [sys.argv[0]])
    loaded: list[str] = []

    def _load(name: str) -> ModuleType:
        if "_timing" not in sys.modules:
            _exec("_timing", BENCH / "_timing.py")
        module_name = f"bench_{name}_{uuid.uuid4().hex[:6]}"
        loaded.append(module_name)
        return _exec(module_name, BENCH / f"{name}.py")

    yield _load
    for module_name in loaded:
        sys.modules.pop(module_name, None)


def _exec(module_name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses look their module up while the class builds
    spec.loader.exec_module(module)
    return module


def call_main(module: ModuleType, argv: list[str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """``main(argv)`` if it takes arguments, else ``main()`` with ``sys.argv`` set."""
    main = module.main
    if inspect.signature(main).parameters:
        return main(argv)
    monkeypatch.setattr(sys, "argv", [module.__file__, *argv])
    return main()


def scripts() -> list[str]:
    """Every script ``run_all.py`` would run, by name."""
    return sorted(
        p.stem for p in BENCH.glob("*.py") if not p.name.startswith("_") and p.stem != "run_all"
    )


SKIP_EXIT = 77
"""Exit code of a benchmark that cannot run here (see benchmarks/README.md)."""


def supports_smoke(name: str) -> bool:
    """True if the script follows the ``--smoke`` convention."""
    return SMOKE_FLAG in (BENCH / f"{name}.py").read_text(encoding="utf-8")


# --- adapters for scripts without --smoke --------------------------------------------------


def smoke_parse(module: ModuleType, monkeypatch: pytest.MonkeyPatch, request: Any) -> str:
    """parse.py: its baseline, both queries and one tiny timing loop (its main also spawns
    interpreters for a cold start, covered by cold_start.py)."""
    assert module.naive(module.ONE) == {"type": "ssh"}
    assert len(module.naive(module.ELEVEN)) == 11
    assert len(module.connlog_query.parse(module.ELEVEN).filters()) == 11
    median, spread = module.per_call_us(lambda: module.connlog_query.parse(module.ONE), number=1)
    assert median > 0
    assert spread >= 0
    return ""


ADAPTERS: dict[str, Callable[[ModuleType, pytest.MonkeyPatch, Any], str]] = {
    "parse": smoke_parse,
}
"""Script -> adapter returning a text its output must contain ("" for none)."""

DEDICATED = frozenset({"peers", "cold_start", "run_all"})
"""Scripts whose smoke runs are the dedicated tests further down."""


def test_every_script_is_covered() -> None:
    for name in scripts():
        covered = name in DEDICATED or name in ADAPTERS or supports_smoke(name)
        assert covered, f"benchmarks/{name}.py needs --smoke or an adapter in this file"


@pytest.mark.parametrize("name", [name for name in scripts() if name not in DEDICATED])
def test_script_runs_its_smallest_case(
    name: str,
    load: Callable[[str], ModuleType],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
    service_unavailable: Callable[[str, BaseException], None],
) -> None:
    if supports_smoke(name):
        module = load(name)
        code = call_main(module, [SMOKE_FLAG], monkeypatch)
        if code == SKIP_EXIT:
            # The script's own "cannot run here" (a database that does not answer).
            output = capsys.readouterr().out.strip()
            service_unavailable(f"benchmarks/{name}.py", RuntimeError(output))
        assert code in (0, None)
        expected = "|"
    else:
        assert name in ADAPTERS, f"benchmarks/{name}.py needs --smoke or an adapter here"
        module = load(name)
        expected = ADAPTERS[name](module, monkeypatch, request)
    out = capsys.readouterr().out
    assert expected in out


# --- peers.py ---------------------------------------------------------------------------------


def test_peers_smoke_reports_every_peer(
    load: Callable[[str], ModuleType], capsys: pytest.CaptureFixture[str]
) -> None:
    peers = load("peers")
    assert peers.main(["--smoke"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^\| 1 \| connlog_query\.parse \| [\d.]+ \|", out, re.MULTILINE)
    assert re.search(r"^\| 1 \| str\.split \(floor\) \| [\d.]+ \|", out, re.MULTILINE)
    for name in peers.PEERS:
        ran = re.search(rf"^\| 1 \| {name} [\d.]+\S* \| [\d.]+ \|", out, re.MULTILINE)
        assert ran or f"skipped: {name}" in out, name


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        ([("type", "ssh"), ("type", "ssh")], "more than once"),
        ([("typ", "ssh")], "not a valid query param"),
        ([("type", "sshh")], "is not one of"),
        ([("workspace_id", "not-a-uuid")], "badly formed"),
        ([("connected_after", "2025-07-01T00:00:00")], "has no offset"),
    ],
)
def test_peers_shared_conversions_reject_like_a_validator(
    load: Callable[[str], ModuleType], pairs: list[tuple[str, str]], message: str
) -> None:
    peers = load("peers")
    with pytest.raises(ValueError, match=message):
        peers.convert(pairs)


def test_peers_agreement_check_catches_a_wrong_contender(
    load: Callable[[str], ModuleType],
) -> None:
    peers = load("peers")
    peers.check_agreement({"convert": peers.split_convert}, [1, 5, 11])
    with pytest.raises(SystemExit, match="disagrees"):
        peers.check_agreement({"floor": peers.split_floor}, [5])


def test_peers_fresh_pool_is_distinct_spellings_of_one_query(
    load: Callable[[str], ModuleType],
) -> None:
    peers = load("peers")
    pool = peers.fresh_pool(11, 40)
    assert len(set(pool)) == 40
    assert {text.lower() for text in pool} == {peers.QUERIES[11].lower()}


# --- cold_start.py ------------------------------------------------------------------------------


def test_cold_start_parses_importtime_reports(load: Callable[[str], ModuleType]) -> None:
    cold = load("cold_start")
    report = textwrap.dedent(
        """\
        import time: self [us] | cumulative | imported package
        import time:       120 |        120 |   _io
        import time:      3000 |       4500 | lark
        not an importtime line
        """
    )
    assert cold.parse_importtime(report) == {"_io": (120, 120), "lark": (3000, 4500)}


def test_cold_start_smoke_prints_both_tables(load: Callable[[str], ModuleType]) -> None:
    cold = load("cold_start")
    lines: list[str] = []
    assert cold.main(["--smoke"], out=lines.append) == 0
    rows = [line for line in lines if line.startswith("| `")]
    assert any(cold.OURS in row for row in rows)
    assert any(cold.ISSUE_BASELINE in row for row in rows)
    phases = [line for line in lines if any(line.startswith(f"| {p} |") for p in cold.PHASE_NAMES)]
    assert len(phases) == len(cold.PHASE_NAMES)


# --- run_all.py ---------------------------------------------------------------------------------

FAKE_SCRIPTS = {
    "a_markdown.py": '''
        """Prints a Markdown table."""
        import sys
        print("# Section")
        print("Some prose.")
        print("| x | y |")
        print("|---|---|")
        print(f"| quick | {'--quick' in sys.argv} |")
    ''',
    "b_plain.py": '''
        """Prints aligned text."""
        print("name      value")
        print("a           1.0")
    ''',
    "c_skip.py": '''
        """Needs a server."""
        import sys
        print("skipped: no server on 127.0.0.1:1")
        sys.exit(77)
    ''',
    "d_broken.py": '''
        """Raises."""
        raise RuntimeError("boom at line 3")
    ''',
    "_helper.py": "raise SystemExit('helpers are not run')",
}


def test_run_all_writes_the_report(load: Callable[[str], ModuleType], tmp_path: Path) -> None:
    run_all = load("run_all")
    scripts_dir = tmp_path / "bench"
    scripts_dir.mkdir()
    for name, body in FAKE_SCRIPTS.items():
        (scripts_dir / name).write_text(textwrap.dedent(body), encoding="utf-8")
    output = tmp_path / "out" / "benchmarks.md"
    argv = ["--dir", str(scripts_dir), "--output", str(output), "--quick"]
    assert run_all.main(argv) == 0
    page = output.read_text(encoding="utf-8")

    for key in ("| CPU |", "| RAM |", "| cores |", "| Python |", "| lark |", "| pydantic |"):
        assert key in page
    assert "helpers are not run" not in page
    assert "_helper" not in page
    assert "### Section" in page
    assert "Some prose.\n\n| x | y |" in page
    assert "| quick | True |" in page
    assert "```text\nname      value\na           1.0\n```" in page
    assert "| `c_skip.py` | skipped: no server on 127.0.0.1:1 |" in page
    assert "skipped: failed (exit 1): RuntimeError: boom at line 3" in page
    assert "*Prints a Markdown table.*" in page


@pytest.mark.parametrize(
    ("output", "rendered"),
    [
        ("plain 1\n", "```text\nplain 1\n```\n"),
        ("code ``` inside\n", "````text\ncode ``` inside\n````\n"),
        ("# Top\n| a |\n", "### Top\n\n| a |\n"),
        ("###### Deep\n", "###### Deep\n"),
        ("intro\n| a |\n|---|\nafter\n", "intro\n\n| a |\n|---|\n\nafter\n"),
        ("#hashtag only\n", "```text\n#hashtag only\n```\n"),
    ],
)
def test_run_all_render_convention(
    load: Callable[[str], ModuleType], output: str, rendered: str
) -> None:
    assert load("run_all").render_output(output) == rendered


def test_run_all_discovers_real_scripts_only(load: Callable[[str], ModuleType]) -> None:
    run_all = load("run_all")
    names = [path.stem for path in run_all.discover(BENCH)]
    assert names == scripts()
    assert [p.stem for p in run_all.discover(BENCH, ["peers.py", "cold_start"])] == [
        "cold_start",
        "peers",
    ]
