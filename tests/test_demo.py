"""The demo generator: deterministic, and covering every rule the filters have."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import pytest

from connlog_query.apps import APP_REGISTRY
from connlog_query.demo import ANCHOR, DemoData, generate
from connlog_query.store import WEB_TYPES

DATA = generate(seed=1, n_logs=3000)


def test_same_seed_same_data() -> None:
    again = generate(seed=1, n_logs=3000)
    assert again.logs == DATA.logs
    assert again.users == DATA.users
    assert again.organizations == DATA.organizations
    assert [log.model_dump_json() for log in again.connection_logs] == [
        log.model_dump_json() for log in DATA.connection_logs
    ]


def test_other_seed_other_data() -> None:
    assert generate(seed=2, n_logs=50).logs != generate(seed=1, n_logs=50).logs


def test_small_sizes() -> None:
    assert generate(seed=1, n_logs=0).logs == ()
    assert len(generate(seed=1, n_logs=1).logs) == 1
    with pytest.raises(ValueError, match="n_logs"):
        generate(n_logs=-1)


def test_people_and_organizations() -> None:
    live = [u for u in DATA.users if not u.deleted]
    deleted = [u for u in DATA.users if u.deleted]
    assert {u.username for u in deleted} & {u.username for u in live} == {"bob"}
    assert any(u.username == "mallory" for u in deleted)
    assert any(u.email != u.email.lower() for u in live)
    assert any(u.username != u.username.lower() for u in live)
    names = Counter(o.name for o in DATA.organizations)
    assert names["sandbox"] == 2
    assert {o.deleted for o in DATA.organizations if o.name == "sandbox"} == {True, False}
    assert len({u.id for u in DATA.users}) == len(DATA.users)


def test_logs_cover_every_case() -> None:
    logs = DATA.logs
    types = {log.type for log in logs}
    assert types >= {"ssh", "vscode", "jetbrains", "reconnecting_pty", *WEB_TYPES}
    assert types >= {"cursor", "windsurf", "zed", "sftp", "code_server"}
    assert any(t not in APP_REGISTRY and t not in WEB_TYPES for t in types)  # unregistered app
    sessions = [log for log in logs if log.type not in WEB_TYPES]
    web = [log for log in logs if log.type in WEB_TYPES]
    assert any(log.disconnect_time is None for log in sessions)
    assert any(log.disconnect_time is not None for log in sessions)
    assert all(log.user_id is None and log.connection_id is not None for log in sessions)
    assert all(log.connection_id is None and log.disconnect_time is None for log in web)
    assert any(log.user_id is None for log in web)
    assert any(log.user_id is not None for log in web)
    deleted_ids = {u.id for u in DATA.users if u.deleted}
    assert any(log.workspace_owner_id in deleted_ids for log in logs)
    assert any(log.user_id in deleted_ids for log in web)
    assert any(log.ip is None for log in logs)


def test_times() -> None:
    times = [log.connect_time for log in DATA.logs]
    assert max(times) <= ANCHOR
    assert max(times) - min(times) > dt.timedelta(weeks=5)
    assert len(set(times)) < len(times), "some connect times must tie"
    assert any(t.microsecond == 0 for t in times)
    assert all(t.tzinfo is dt.timezone.utc for t in times)


def test_unique_connection_key() -> None:
    # Coder's unique index (connection_id, workspace_id, agent_name); NULLs are distinct.
    keys = [
        (log.connection_id, log.workspace_id, log.agent_name)
        for log in DATA.logs
        if log.connection_id is not None
    ]
    assert len(keys) == len(set(keys))
    assert len({log.id for log in DATA.logs}) == len(DATA.logs)


def test_connection_logs_are_coders_json() -> None:
    for log, row in zip(DATA.logs[:300], DATA.connection_logs[:300], strict=True):
        body = json.loads(row.model_dump_json())
        assert body["id"] == str(log.id)
        if log.type in WEB_TYPES:
            assert "ssh_info" not in body
            assert (body["web_info"]["user"] is None) == (log.user_id is None)
        else:
            assert "web_info" not in body
            assert ("disconnect_time" in body["ssh_info"]) == (log.disconnect_time is not None)
        assert ("ip" in body) == (log.ip is not None)


def test_lookup_helpers() -> None:
    assert DATA.user("bob").deleted is False
    assert DATA.user("bob", deleted=True).deleted is True
    assert DATA.organization("Research-Lab").display_name == "Research Lab"
    with pytest.raises(KeyError):
        DATA.user("nobody")
    with pytest.raises(KeyError):
        DATA.organization("nobody")
    assert isinstance(DATA, DemoData)
