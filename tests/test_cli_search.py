"""``connlog-query search`` and ``connlog-query sql`` through ``main([...])``.

Stores are temporary SQLite files; the embedded demo store is redirected to a temporary data
directory with ``CONNLOG_QUERY_DATA_DIR``, so the user's real data directory is never touched.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sys
from pathlib import Path

import pytest

from connlog_query import parse
from connlog_query.backends.context import CompileContext
from connlog_query.cli import main, output
from connlog_query.cli import search as search_cli
from connlog_query.demo import generate
from connlog_query.models import ConnectionLogResponse
from connlog_query.store import SQLiteStore
from store_helpers import oracle

DATA = generate(seed=4, n_logs=300)


@pytest.fixture(scope="module")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite file holding :data:`DATA`."""
    path = tmp_path_factory.mktemp("cli") / "logs.db"
    with SQLiteStore(path) as store:
        store.create_schema()
        store.ingest(DATA)
    return f"sqlite:///{path}"


@pytest.fixture(autouse=True)
def private_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own data directory; the real one is never used."""
    directory = tmp_path / "data"
    monkeypatch.setenv(search_cli.DATA_DIR_ENV, str(directory))
    return directory


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_is_coders_body(capsys: pytest.CaptureFixture[str], db_url: str) -> None:
    code, out, err = run(capsys, "search", "type:ssh", "--db", db_url, "--format", "json")
    assert code == 0, err
    body = ConnectionLogResponse.model_validate_json(out)
    expected = oracle(DATA, parse("type:ssh"))
    assert [log.id for log in body.connection_logs] == expected[:100]
    assert (body.count, body.count_cap) == (len(expected), 2000)


def test_jsonl_limit_offset(capsys: pytest.CaptureFixture[str], db_url: str) -> None:
    argv = ("search", "status:completed", "--db", db_url, "--format", "jsonl")
    code, out, _ = run(capsys, *argv, "--limit", "7", "--offset", "3")
    assert code == 0
    ids = [json.loads(line)["id"] for line in out.splitlines()]
    assert ids == [str(i) for i in oracle(DATA, parse("status:completed"))[3:10]]


def test_csv(capsys: pytest.CaptureFixture[str], db_url: str) -> None:
    code, out, _ = run(capsys, "search", "type:workspace_app", "--db", db_url, "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert tuple(rows[0]) == output.CSV_COLUMNS
    assert [r["id"] for r in rows] == [str(i) for i in oracle(DATA, parse("type:workspace_app"))]
    assert {r["type_display_name"] for r in rows} == {"Workspace App"}
    assert any(r["user"] == "" for r in rows)
    assert any(r["user"] != "" for r in rows)


def test_table(capsys: pytest.CaptureFixture[str], db_url: str) -> None:
    code, out, _ = run(capsys, "search", "type:vscode", "--db", db_url, "--limit", "5")
    assert code == 0
    assert "Time (UTC)" in out
    assert "Cursor" in out or "VS Code" in out
    total = len(oracle(DATA, parse("type:vscode")))
    assert f"Rows 1-5 of {total} matching connection logs." in out


def test_table_without_rich(
    capsys: pytest.CaptureFixture[str], db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "rich", None)
    monkeypatch.setitem(sys.modules, "rich.console", None)
    monkeypatch.setitem(sys.modules, "rich.table", None)
    code, out, _ = run(capsys, "search", "type:ssh", "--db", db_url, "--limit", "3")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["Time", "(UTC)", *output.TABLE_COLUMNS[1:]]
    assert set(lines[1]) <= {"-", " "}
    assert len(lines) == 2 + 3 + 1


def test_invalid_query_exit_2_with_carets(capsys: pytest.CaptureFixture[str], db_url: str) -> None:
    code, out, err = run(capsys, "search", "status:connected", "--db", db_url)
    assert code == 2
    assert out == ""
    assert 'Query param "status" has invalid value: "connected" is not a valid value' in err
    assert "^^^^^^^^^" in err


def test_unknown_organization_is_coders_error(
    capsys: pytest.CaptureFixture[str], db_url: str
) -> None:
    code, _, err = run(capsys, "search", "organization:nope", "--db", db_url)
    assert code == 2
    assert 'organization "nope" either does not exist, or you are unauthorized' in err


def test_me_defaults_to_the_demo_user(capsys: pytest.CaptureFixture[str], db_url: str) -> None:
    code, out, _ = run(capsys, "search", "workspace_owner:me", "--db", db_url, "--limit", "500")
    assert code == 0
    assert "me = alice (the default demo user; change with --as-user)" in out
    expected = len(oracle(DATA, parse("workspace_owner:me"), user_id=DATA.user("alice").id))
    assert f"of {expected} matching" in out


def test_as_user(capsys: pytest.CaptureFixture[str], db_url: str) -> None:
    argv = ("search", "username:me", "--db", db_url, "--format", "json", "--as-user", "Bob")
    code, out, err = run(capsys, *argv)
    assert code == 0
    assert "me = Bob" in err
    body = json.loads(out)
    bob = DATA.user("bob").id
    assert body["count"] == len(oracle(DATA, parse("username:me"), user_id=bob))
    assert {row["web_info"]["user"]["username"] for row in body["connection_logs"]} == {"bob"}


def test_as_unknown_user(capsys: pytest.CaptureFixture[str], db_url: str) -> None:
    code, _, err = run(capsys, "search", "type:ssh", "--db", db_url, "--as-user", "mallory")
    assert code == 2
    assert "no user named 'mallory'" in err


def test_missing_database_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    code, _, err = run(capsys, "search", "type:ssh", "--db", f"sqlite:///{missing}")
    assert code == 2
    assert "no SQLite database" in err
    assert not missing.exists()


def test_database_failure_is_exit_1(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    SQLiteStore(empty).close()
    code, _, err = run(capsys, "search", "type:ssh", "--db", str(empty))
    assert code == 1
    assert err.startswith("error: OperationalError")


def test_bad_limit_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["search", "type:ssh", "--limit", "-1"])
    assert info.value.code == 2
    assert "must be 0 or more" in capsys.readouterr().err


def test_embedded_demo_store(
    capsys: pytest.CaptureFixture[str],
    private_data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(search_cli, "DEMO_LOGS", 400)
    code, out, err = run(capsys, "search", "type:tunnel", "--format", "json")
    assert code == 0
    path = private_data_dir / search_cli.DEMO_FILE
    assert f"Created the demo database {path}" in err
    first = json.loads(out)
    demo = generate(seed=search_cli.DEMO_SEED, n_logs=400)
    assert first["count"] == len(oracle(demo, parse("type:tunnel")))
    assert list(private_data_dir.iterdir()) == [path]  # no partial file left behind

    mtime = path.stat().st_mtime_ns
    code, out, err = run(capsys, "search", "type:tunnel", "--format", "json")
    assert code == 0
    assert "Created" not in err
    assert json.loads(out) == first
    assert path.stat().st_mtime_ns == mtime


def test_data_dir_default_uses_platformdirs(monkeypatch: pytest.MonkeyPatch) -> None:
    from platformdirs import user_data_dir

    monkeypatch.delenv(search_cli.DATA_DIR_ENV)
    assert search_cli.data_dir() == Path(user_data_dir("connlog-query", appauthor=False))


def test_sql_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "sql", "type:ssh workspace_owner:bob", "--dialect", "sqlite")
    assert code == 0
    lines = out.splitlines()
    assert "?" in lines[0]
    assert "bob" not in lines[0]
    assert lines[1:] == ["-- parameters:", "--   1: 'bob'", "--   2: 'ssh'", "--   3: 'zed'"]


def test_sql_json_and_type_mode(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ("sql", "type:ssh", "--format", "json", "--type-mode", "exact", "--dialect", "mysql")
    code, out, _ = run(capsys, *argv)
    assert code == 0
    assert json.loads(out) == {
        "dialect": "mysql",
        "where": "`connection_logs`.`type` = %s",
        "params": ["ssh"],
    }


def test_sql_me(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "sql", "username:me")
    assert code == 2
    assert "username" in err
    user = "6bc15385-57e5-4acc-a2f5-680c4fdf8e1a"
    code, out, _ = run(capsys, "sql", "username:me", "--user-id", user, "--format", "json")
    assert code == 0
    assert json.loads(out)["params"] == [user]


def test_write_response_empty_and_capped() -> None:
    stream = io.StringIO()
    output.write_response(ConnectionLogResponse(count=0, count_cap=2000), stream=stream)
    assert stream.getvalue() == "No matching connection logs.\n"
    capped = ConnectionLogResponse(count=2001, count_cap=2000)
    assert output.footer(capped, offset=4000) == (
        "No rows at offset 4000; more than 2000 matching connection logs."
    )
    with pytest.raises(ValueError, match="unknown output format"):
        output.write_response(capped, "xml", stream=stream)


def test_table_matches_store(db_url: str) -> None:
    with SQLiteStore(db_url.removeprefix("sqlite:///")) as store:
        page = store.list(parse("type:jetbrains"), limit=3, context=CompileContext())
    stream = io.StringIO()
    output.write_response(page, "csv", stream=stream)
    assert [r["id"] for r in csv.DictReader(io.StringIO(stream.getvalue()))] == [
        str(log.id) for log in page.connection_logs
    ]


NOW_TEXT = "2025-07-28T18:30:00Z"


def test_extended_search(capsys: pytest.CaptureFixture[str], db_url: str) -> None:
    text = "(type:ssh,vscode OR username:b*) -status:completed connected:>=-7d"
    argv = ("search", text, "--db", db_url, "--format", "json", "--limit", "500")
    code, out, err = run(capsys, *argv, "--extended", "--now", NOW_TEXT)
    assert code == 0, err
    query = parse(text, mode="extended")
    now = dt.datetime(2025, 7, 28, 18, 30, tzinfo=dt.timezone.utc)
    expected = oracle(DATA, query, now=now)
    assert expected
    body = json.loads(out)
    assert [row["id"] for row in body["connection_logs"]] == [str(i) for i in expected]
    assert "now = 2025-07-28T18:30:00Z" in err


def test_extended_needs_the_flag(capsys: pytest.CaptureFixture[str], db_url: str) -> None:
    code, out, err = run(capsys, "search", "type:ssh OR dev", "--db", db_url)
    assert code == 2
    assert out == ""
    assert "error" in err
    code, _, err = run(capsys, "search", "type:ssh OR", "--db", db_url, "--extended")
    assert code == 2
    assert "OR" in err


def test_extended_me_inside_where(capsys: pytest.CaptureFixture[str], db_url: str) -> None:
    argv = ("search", "type:ssh OR workspace_owner:me", "--db", db_url, "--extended")
    code, out, err = run(capsys, *argv, "--limit", "1")
    assert code == 0, err
    assert "me = alice (the default demo user" in out
    expected = oracle(DATA, parse(argv[1], mode="extended"), user_id=DATA.user("alice").id)
    assert f"of {len(expected)} matching" in out


def test_relative_times_default_to_the_current_time(
    capsys: pytest.CaptureFixture[str], db_url: str
) -> None:
    """Every demo row is in the past: before now they all are, in the last hour none is."""
    argv = ("search", "connected:>=-1h", "--db", db_url, "--extended", "--format", "json")
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    assert json.loads(out)["count"] == 0
    assert "now = " in err


def test_bad_now_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["search", "type:ssh", "--now", "2025-07-28 18:00"])
    assert info.value.code == 2
    assert "time zone" in capsys.readouterr().err


def test_sql_extended(capsys: pytest.CaptureFixture[str]) -> None:
    text = 'workspace_owner:a%_* "x\' or 1=1" connected:>=-24h'
    argv = ("sql", text, "--extended", "--dialect", "postgresql", "--format", "json")
    code, out, err = run(capsys, *argv, "--now", NOW_TEXT)
    assert code == 0, err
    body = json.loads(out)
    assert body["now"] == NOW_TEXT
    assert "1=1" not in body["where"]
    assert "a%_" not in body["where"]
    assert "x' or 1=1" in body["params"]
    assert "2025-07-27 18:30:00+00:00" in body["params"]
    code, out, _ = run(capsys, "sql", text, "--extended", "--now", NOW_TEXT)
    assert code == 0
    assert (
        out.splitlines()[-1] == f"-- now = {NOW_TEXT} (relative times are resolved at this instant)"
    )
    code, _, err = run(capsys, "sql", text)
    assert code == 2


def test_footer_says_at_least_for_a_lower_bound_count() -> None:
    from connlog_query.client.scan import FilteredResponse

    partial = FilteredResponse(count=7, count_exact=False)
    exact = FilteredResponse(count=7, count_exact=True)
    assert output.footer(partial) == "No rows at offset 0; at least 7 matching connection logs."
    assert output.footer(exact) == "No rows at offset 0; 7 matching connection logs."
