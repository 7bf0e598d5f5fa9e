"""Coder JSON models: real responses round-trip byte for byte, unknown fields are kept."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from connlog_query.models import (
    ConnectionLog,
    ConnectionLogResponse,
    ConnectionLogSSHInfo,
    ConnectionLogWebInfo,
    format_go_time,
)

# Shaped like Coder's V2 answers (reference section 8), compact as Go's encoder writes them.
SSH_LOG = (
    '{"id":"6f0f0a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b","connect_time":"2025-07-01T10:00:00.123456Z",'
    '"organization":{"id":"0bd5e7c7-6b9d-4a3b-9b44-6a7c0a1c2e3f","name":"coder","display_name":"Coder","icon":""},'
    '"workspace_owner_id":"1a2b3c4d-0000-4000-8000-000000000001","workspace_owner_username":"alice",'
    '"workspace_id":"1a2b3c4d-0000-4000-8000-000000000002","workspace_name":"dev","agent_name":"main",'
    '"ip":"10.0.0.5","type":"cursor","type_display_name":"Cursor",'
    '"ssh_info":{"connection_id":"1a2b3c4d-0000-4000-8000-000000000003",'
    '"disconnect_time":"2025-07-01T11:00:00Z","disconnect_reason":"client closed","exit_code":0}}'
)
WEB_LOG_NO_USER = (
    '{"id":"6f0f0a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5c","connect_time":"2025-07-01T10:00:00Z",'
    '"organization":{"id":"0bd5e7c7-6b9d-4a3b-9b44-6a7c0a1c2e3f","name":"coder","display_name":"Coder","icon":""},'
    '"workspace_owner_id":"1a2b3c4d-0000-4000-8000-000000000001","workspace_owner_username":"alice",'
    '"workspace_id":"1a2b3c4d-0000-4000-8000-000000000002","workspace_name":"dev","agent_name":"main",'
    '"type":"workspace_app","type_display_name":"Workspace App",'
    '"web_info":{"user_agent":"curl/8","user":null,"slug_or_port":"code-server","status_code":200}}'
)
ONGOING_SESSION = (
    '{"id":"6f0f0a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5d","connect_time":"2025-07-01T10:00:00.5Z",'
    '"organization":{"id":"0bd5e7c7-6b9d-4a3b-9b44-6a7c0a1c2e3f","name":"coder","display_name":"Coder","icon":""},'
    '"workspace_owner_id":"1a2b3c4d-0000-4000-8000-000000000001","workspace_owner_username":"alice",'
    '"workspace_id":"1a2b3c4d-0000-4000-8000-000000000002","workspace_name":"dev","agent_name":"main",'
    '"ip":"2001:db8::1","type":"ssh","type_display_name":"SSH",'
    '"ssh_info":{"connection_id":"1a2b3c4d-0000-4000-8000-000000000004"}}'
)


@pytest.mark.parametrize("raw", [SSH_LOG, WEB_LOG_NO_USER, ONGOING_SESSION])
def test_coder_json_round_trips_byte_for_byte(raw: str) -> None:
    log = ConnectionLog.model_validate_json(raw)
    assert log.model_dump_json() == raw


def test_response_round_trip_and_count_cap() -> None:
    raw = f'{{"connection_logs":[{SSH_LOG},{WEB_LOG_NO_USER}],"count":2,"count_cap":2000}}'
    response = ConnectionLogResponse.model_validate_json(raw)
    assert response.count_cap == 2000
    assert response.model_dump_json() == raw
    v1 = '{"connection_logs":[],"count":0}'  # V1 has no count_cap
    assert ConnectionLogResponse.model_validate_json(v1).model_dump_json() == v1


def test_unknown_fields_from_a_newer_coder_are_kept() -> None:
    data = json.loads(SSH_LOG)
    data["connection_method"] = "ssh"
    data["ssh_info"]["client_version"] = "9.9"
    log = ConnectionLog.model_validate(data)
    assert json.loads(log.model_dump_json()) == data


def test_typed_values() -> None:
    log = ConnectionLog.model_validate_json(SSH_LOG)
    assert log.connect_time == dt.datetime(2025, 7, 1, 10, 0, 0, 123456, tzinfo=dt.timezone.utc)
    assert isinstance(log.workspace_id, uuid.UUID)
    assert isinstance(log.ssh_info, ConnectionLogSSHInfo)
    assert log.ssh_info.exit_code == 0
    web = ConnectionLog.model_validate_json(WEB_LOG_NO_USER)
    assert isinstance(web.web_info, ConnectionLogWebInfo)
    assert web.web_info.user is None
    assert web.ip is None


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (dt.datetime(2025, 7, 1, tzinfo=dt.timezone.utc), "2025-07-01T00:00:00Z"),
        (
            dt.datetime(2025, 7, 1, 0, 0, 0, 120000, tzinfo=dt.timezone.utc),
            "2025-07-01T00:00:00.12Z",
        ),
        (
            dt.datetime(2025, 7, 1, 0, 0, 0, 1, tzinfo=dt.timezone.utc),
            "2025-07-01T00:00:00.000001Z",
        ),
        (
            dt.datetime(2025, 7, 1, 2, tzinfo=dt.timezone(dt.timedelta(hours=2))),
            "2025-07-01T02:00:00+02:00",
        ),
        (
            dt.datetime(2025, 7, 1, tzinfo=dt.timezone(-dt.timedelta(hours=3, minutes=30))),
            "2025-07-01T00:00:00-03:30",
        ),
    ],
)
def test_times_are_written_like_go(value: dt.datetime, text: str) -> None:
    assert format_go_time(value) == text
