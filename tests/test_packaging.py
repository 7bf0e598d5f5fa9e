"""The wheel carries the grammar and parses from any directory without the repository."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_ships_grammar_and_parses_outside_the_repo(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "connlog_query/grammar/connlog.lark" in names
    assert "connlog_query/py.typed" in names
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import connlog_query, importlib.resources as r;"
        "assert connlog_query.__file__.startswith(sys.argv[1]), connlog_query.__file__;"
        "assert r.files('connlog_query').joinpath('grammar').joinpath('connlog.lark').is_file();"
        "print(connlog_query.parse('TYPE:ssh  status:ongoing'))"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", probe, str(target)],
        cwd=elsewhere,
        check=True,
        capture_output=True,
        text=True,
    )
    assert result.stdout.strip() == "type:ssh status:ongoing"
