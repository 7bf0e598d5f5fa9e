"""The reference server with ``mode="extended"``: ``q`` in the extended language, Coder's bodies."""

from __future__ import annotations

import json
from urllib.parse import quote

import httpx
import pytest
from serverkit import TOKEN, Servers

from connlog_query import parse
from connlog_query.backends.context import CompileContext
from connlog_query.client import Client, InvalidQueryError
from connlog_query.server import RequestError, parse_query_string, parse_request
from connlog_query.server._json import dump_model
from connlog_query.server.app import create_app

PATH = "/api/v2/connectionlog"
AUTH = {"Coder-Session-Token": TOKEN}


def query_error(*validations: tuple[str, str]) -> bytes:
    body = {
        "message": "Invalid connection search query.",
        "validations": [{"field": f, "detail": d} for f, d in validations],
    }
    return json.dumps(body, separators=(",", ":")).encode() + b"\n"


def get(http: httpx.Client, base: str, q: str, **params: str) -> httpx.Response:
    query = "&".join([f"q={quote(q)}", *(f"{k}={v}" for k, v in params.items())])
    return http.get(f"{base}{PATH}?{query}", headers=AUTH)


EXTENDED_OK = [
    ("type:ssh,vscode -status:ongoing", "10", "0"),
    ("(dev OR gpu) workspace_owner:me", "5", "2"),
    ("NOT type:workspace_app username:b*", "50", "0"),
    ("user_email:*@example.com OR type:tunnel", "0", "0"),
    ("connected:<now type:ssh", "3", "0"),
    ("connected:2025-07-01..2025-07-20 -workspace_owner:alice,bob", "20", "10"),
    ("type:ssh", "4", "0"),  # Coder-mode text means the same
    ("", "2", "0"),
]


@pytest.mark.parametrize(("q", "limit", "offset"), EXTENDED_OK, ids=[c[0] for c in EXTENDED_OK])
def test_extended_queries_answer_like_the_store(
    servers: Servers, http: httpx.Client, q: str, limit: str, offset: str
) -> None:
    response = get(http, servers.extended, q, limit=limit, offset=offset)
    assert response.status_code == 200, response.text
    page = servers.store.list(
        parse(q, mode="extended"),
        limit=int(limit),
        offset=int(offset),
        context=CompileContext(user_id=servers.alice),
    )
    assert response.content == dump_model(page)
    assert response.headers["content-type"] == "application/json; charset=utf-8"


def test_extended_query_selects_rows(servers: Servers, http: httpx.Client) -> None:
    # Guard against a vacuous table: the answers above are not all empty.
    body = get(http, servers.extended, "type:ssh,vscode -status:ongoing", limit="500").json()
    assert body["count"] > 0
    assert {log["type"] for log in body["connection_logs"]} & {"ssh", "vscode"}
    assert all(log["ssh_info"].get("disconnect_time") for log in body["connection_logs"])


EXTENDED_ERRORS = [
    ("(type:ssh", [("q", "Missing ')' at the end of the query.")]),
    ("type:ssh)", [("q", "Unbalanced ')' at position 8.")]),
    ('username:"bob', [("q", "Unterminated quoted string starting at position 9.")]),
    ("OR type:ssh", [("q", "OR at position 0 needs a term on each side.")]),
    (
        "type:foo OR nosuch:x",
        [
            ("type", 'Query param "type" has invalid value: "foo" is not a valid value'),
            ("nosuch", '"nosuch" is not a valid query param'),
        ],
    ),
]


@pytest.mark.parametrize(("q", "validations"), EXTENDED_ERRORS, ids=[c[0] for c in EXTENDED_ERRORS])
def test_bad_extended_syntax_gets_coders_400_body(
    servers: Servers, http: httpx.Client, q: str, validations: list[tuple[str, str]]
) -> None:
    response = get(http, servers.extended, q)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.content == query_error(*validations)


def test_pagination_is_still_checked_first(servers: Servers, http: httpx.Client) -> None:
    response = get(http, servers.extended, "(type:ssh", limit="abc")
    assert response.status_code == 400
    assert response.json()["message"] == "Query parameters have invalid values."


def test_the_coder_mode_app_rejects_extended_syntax(servers: Servers, http: httpx.Client) -> None:
    response = get(http, servers.main, "dev type:ssh")
    assert response.status_code == 400
    assert response.content == query_error(("search", '"search" is not a valid query param'))
    assert get(http, servers.extended, "dev type:ssh").status_code == 200


def test_invalid_query_error_reaches_the_client_with_carets(servers: Servers) -> None:
    # The client's Coder-mode text goes through; the server's own checks still apply.
    with Client(servers.extended, TOKEN) as client:
        page = client.connection_logs(parse("type:ssh -status:ongoing", mode="extended"))
        assert {log.type for log in page.connection_logs} <= {"ssh", "zed"}  # SSH's family
        with pytest.raises(InvalidQueryError, match="atlantis") as info:
            client.connection_logs("organization:atlantis dev", mode="extended")
    assert str(info.value).splitlines()[-2:] == [
        "  organization:atlantis dev",
        "               ^^^^^^^^",
    ]


def test_request_helpers_take_the_mode() -> None:
    assert parse_request("dev OR gpu", mode="extended").query == parse(
        "dev OR gpu", mode="extended"
    )
    assert parse_query_string(b"q=-type%3Assh", mode="extended").query.where is not None
    with pytest.raises(RequestError) as info:
        parse_request("dev")
    assert info.value.status == 400


def test_unknown_mode_is_refused(servers: Servers) -> None:
    with pytest.raises(ValueError, match="mode"):
        create_app(servers.store, mode="lucene")  # type: ignore[arg-type]
