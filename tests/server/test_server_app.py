"""The reference server over real HTTP: exact status and body bytes for raw query strings."""

from __future__ import annotations

import json

import httpx
import pytest
from serverkit import TOKEN, Servers

from connlog_query import parse
from connlog_query.backends.context import CompileContext
from connlog_query.demo import generate
from connlog_query.query import Query
from connlog_query.server._json import dump_model
from connlog_query.server.app import create_app
from connlog_query.server.testing import serve_in_thread
from connlog_query.store.sqlite import SQLiteStore

PATH = "/api/v2/connectionlog"
AUTH = {"Coder-Session-Token": TOKEN}
SIGNED_OUT = "You are signed out or your session has expired. Please sign in again to continue."


def pagination(*validations: tuple[str, str]) -> bytes:
    body = {
        "message": "Query parameters have invalid values.",
        "validations": [{"field": f, "detail": d} for f, d in validations],
    }
    return json.dumps(body, separators=(",", ":")).encode() + b"\n"


def limit_error(key: str, why: str) -> tuple[str, str]:
    return key, f'Query param "{key}" must be a valid 32-bit positive integer: {why}'


def query_error(*validations: tuple[str, str]) -> bytes:
    body = {
        "message": "Invalid connection search query.",
        "validations": [{"field": f, "detail": d} for f, d in validations],
    }
    return json.dumps(body, separators=(",", ":")).encode() + b"\n"


ERROR_CASES = [
    (
        "limit=abc",
        pagination(limit_error("limit", 'strconv.ParseInt: parsing "abc": invalid syntax')),
    ),
    ("limit=-1", pagination(limit_error("limit", "value is negative"))),
    (
        "limit=99999999999",
        pagination(
            limit_error("limit", 'strconv.ParseInt: parsing "99999999999": value out of range')
        ),
    ),
    (
        "offset=2147483648",
        pagination(
            limit_error("offset", 'strconv.ParseInt: parsing "2147483648": value out of range')
        ),
    ),
    (
        "offset=-2147483649",
        pagination(
            limit_error("offset", 'strconv.ParseInt: parsing "-2147483649": value out of range')
        ),
    ),
    (
        "limit=1_000",
        pagination(limit_error("limit", 'strconv.ParseInt: parsing "1_000": invalid syntax')),
    ),
    (
        "limit=%2B",
        pagination(limit_error("limit", 'strconv.ParseInt: parsing "+": invalid syntax')),
    ),
    ("limit=+", pagination(limit_error("limit", 'strconv.ParseInt: parsing " ": invalid syntax'))),
    (
        "limit=%20",
        pagination(limit_error("limit", 'strconv.ParseInt: parsing " ": invalid syntax')),
    ),
    (
        "limit=%22%5Cx",
        pagination(limit_error("limit", 'strconv.ParseInt: parsing "\\"\\\\x": invalid syntax')),
    ),
    (
        "limit=5&limit=6",
        pagination(
            (
                "limit",
                'Query param "limit" provided more than once, found 2 times. '
                "Only provide 1 instance of this query param.",
            )
        ),
    ),
    (
        "limit=abc&offset=-3&q=status:bogus",
        pagination(
            limit_error("limit", 'strconv.ParseInt: parsing "abc": invalid syntax'),
            limit_error("offset", "value is negative"),
        ),
    ),
    (
        "after_id=nope&limit=x",
        pagination(
            ("after_id", 'Query param "after_id" must be a valid uuid'),
            limit_error("limit", 'strconv.ParseInt: parsing "x": invalid syntax'),
        ),
    ),
    (
        "q=status:connected",
        b'{"message":"Invalid connection search query.","validations":[{"field":"status",'
        b'"detail":"Query param \\"status\\" has invalid value: \\"connected\\" is not a valid '
        b'value"}]}\n',
    ),
    ("q=hello+world", query_error(("search", '"search" is not a valid query param'))),
    ("q=:ssh", query_error(("q", "Query element \":ssh\" cannot start or end with ':'"))),
    (
        "q=connected_after:2023-01-01T00:00:00Z",
        query_error(
            (
                "q",
                "Query element \"connected_after:2023-01-01t00:00:00z\" can only contain 1 ':'",
            )
        ),
    ),
    (
        "q=organization:nowhere",
        query_error(
            (
                "organization",
                'Query param "organization" has invalid value: organization "nowhere" either '
                "does not exist, or you are unauthorized to view it",
            )
        ),
    ),
    (
        "q=a<b>%26c:x",
        b'{"message":"Invalid connection search query.","validations":[{"field":"a\\u003cb'
        b'\\u003e\\u0026c","detail":"\\"a\\u003cb\\u003e\\u0026c\\" is not a valid query param"}]}\n',
    ),
    (
        "q=x:%E2%80%A8",
        b'{"message":"Invalid connection search query.","validations":[{"field":"x","detail":'
        b'"\\"x\\" is not a valid query param"}]}\n',
    ),
]


@pytest.mark.parametrize(("raw", "body"), ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_bad_requests_answer_like_coder(
    servers: Servers, http: httpx.Client, raw: str, body: bytes
) -> None:
    response = http.get(f"{servers.main}{PATH}?{raw}", headers=AUTH)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.content == body


OK_CASES = [
    ("", Query(), 0, 0),
    ("q=type:ssh&limit=5", parse("type:ssh"), 5, 0),
    ("q=type%3Assh+status%3Acompleted&limit=3&offset=4", parse("type:ssh status:completed"), 3, 4),
    ("q=type:ssh&q=garbage", parse("type:ssh"), 0, 0),
    ("q=workspace_owner:me&limit=%2B7", parse("workspace_owner:me"), 7, 0),
    ("limit=&limit=abc&offset=0", Query(), 0, 0),
    ("q=&after_id=00000000-0000-0000-0000-000000000000", Query(), 0, 0),
    ("q=organization:ACME&unknown=1&limit=0002", parse("organization:acme"), 2, 0),
    ("q=type:tunnel&offset=100000", parse("type:tunnel"), 0, 100000),
    ("q=type:ssh;limit=abc", Query(), 0, 0),
    ("q=workspace_owner:%22alice%22", parse("workspace_owner:alice"), 0, 0),
]


@pytest.mark.parametrize(
    ("raw", "query", "limit", "offset"), OK_CASES, ids=[c[0] for c in OK_CASES]
)
def test_answers_are_byte_identical_to_the_store_page(
    servers: Servers, http: httpx.Client, raw: str, query: Query, limit: int, offset: int
) -> None:
    response = http.get(f"{servers.main}{PATH}?{raw}", headers=AUTH)
    assert response.status_code == 200, response.text
    page = servers.store.list(
        query, limit=limit, offset=offset, context=CompileContext(user_id=servers.alice)
    )
    assert response.content == dump_model(page)
    assert response.headers["content-type"] == "application/json; charset=utf-8"


def test_empty_result_is_an_empty_array(servers: Servers, http: httpx.Client) -> None:
    response = http.get(f"{servers.main}{PATH}?q=workspace_owner:nobody", headers=AUTH)
    assert response.content == b'{"connection_logs":[],"count":0,"count_cap":2000}\n'


def test_json_is_html_escaped_like_go() -> None:
    data = generate(seed=1, n_logs=5)
    store = SQLiteStore(":memory:")
    store.create_schema()
    log = data.logs[0]
    store.ingest(
        organizations=data.organizations,
        users=data.users,
        logs=[log.__class__(**{**_fields(log), "workspace_name": "a<b>&c\u2028é"})],
    )
    with serve_in_thread(create_app(store)) as url:
        body = httpx.get(f"{url}{PATH}").content
    store.close()
    assert b'"workspace_name":"a\\u003cb\\u003e\\u0026c\\u2028\xc3\xa9"' in body
    assert body.endswith(b"}\n")


def _fields(record: object) -> dict[str, object]:
    return {name: getattr(record, name) for name in record.__slots__}  # type: ignore[attr-defined]


# -- authentication, licence, authorization, failures -------------------------------------


MISSING = (
    b'{"message":"' + SIGNED_OUT.encode() + b'","detail":"Cookie \\"coder_session_token\\" or '
    b'query parameter must be provided."}\n'
)
INVALID = b'{"message":"' + SIGNED_OUT.encode() + b'","detail":"API key is invalid."}\n'


@pytest.mark.parametrize(
    ("raw", "headers", "cookies", "status", "body"),
    [
        ("", {}, {}, 401, MISSING),
        ("limit=abc", {}, {}, 401, MISSING),
        ("", {"Coder-Session-Token": ""}, {}, 401, MISSING),
        ("", {"Coder-Session-Token": "nope"}, {}, 401, INVALID),
        ("", {}, {"coder_session_token": TOKEN}, 200, None),
        (f"coder_session_token={TOKEN}", {}, {}, 200, None),
        (f"coder%5Fsession%5Ftoken={TOKEN}", {}, {}, 200, None),
        ("coder_session_token=", AUTH, {}, 200, None),
        ("", AUTH, {"coder_session_token": "stale"}, 401, INVALID),
        ("coder_session_token=stale", AUTH, {}, 401, INVALID),
        ("", AUTH, {"coder_session_token": ""}, 200, None),
    ],
    ids=[
        "no-token",
        "no-token-before-pagination",
        "empty-header",
        "bad-header",
        "cookie",
        "query-param",
        "escaped-query-param",
        "empty-param-then-header",
        "cookie-wins-over-header",
        "param-wins-over-header",
        "empty-cookie-then-header",
    ],
)
def test_tokens_are_found_like_coder(
    servers: Servers,
    raw: str,
    headers: dict[str, str],
    cookies: dict[str, str],
    status: int,
    body: bytes | None,
) -> None:
    with httpx.Client(cookies=cookies) as client:
        response = client.get(f"{servers.main}{PATH}?{raw}", headers=headers)
    assert response.status_code == status
    if body is not None:
        assert response.content == body


def test_premium_feature(servers: Servers, http: httpx.Client) -> None:
    response = http.get(f"{servers.unlicensed}{PATH}?limit=abc", headers=AUTH)
    assert response.status_code == 403
    assert (
        response.content == b'{"message":"Connection Log is a Premium feature. Contact sales!"}\n'
    )
    assert http.get(f"{servers.unlicensed}{PATH}").status_code == 401


def test_forbidden_comes_after_validation(servers: Servers, http: httpx.Client) -> None:
    response = http.get(f"{servers.forbidden}{PATH}?q=type:ssh", headers=AUTH)
    assert response.status_code == 403
    assert response.content == (
        b'{"message":"Forbidden.","detail":"You don\'t have permission to view this content. '
        b"If you believe this is a mistake, please contact your administrator or try signing "
        b'in with different credentials."}\n'
    )
    assert http.get(f"{servers.forbidden}{PATH}?q=type:x", headers=AUTH).status_code == 400


def test_internal_error(servers: Servers, http: httpx.Client) -> None:
    response = http.get(f"{servers.broken}{PATH}?q=type:ssh", headers=AUTH)
    assert response.status_code == 500
    assert response.content == (
        b'{"message":"An internal server error occurred.",'
        b'"detail":"Cannot operate on a closed database."}\n'
    )


def test_me_without_authentication_is_a_query_error(servers: Servers) -> None:
    with serve_in_thread(create_app(servers.store)) as url:
        response = httpx.get(f"{url}{PATH}?q=username:me")
        assert response.status_code == 400
        assert response.json()["validations"][0]["field"] == "username"
        assert httpx.get(f"{url}{PATH}?q=type:ssh").status_code == 200


def test_async_authenticate(servers: Servers, http: httpx.Client) -> None:
    async def authenticate(token: str) -> object:
        return servers.alice if token == "async-token" else None

    app = create_app(servers.store, authenticate=authenticate)  # type: ignore[arg-type]
    with serve_in_thread(app) as url:
        ok = http.get(
            f"{url}{PATH}?q=workspace_owner:me", headers={"Coder-Session-Token": "async-token"}
        )
        bad = http.get(f"{url}{PATH}", headers={"Coder-Session-Token": "x"})
    assert ok.status_code == 200
    assert {log["workspace_owner_id"] for log in ok.json()["connection_logs"]} == {
        str(servers.alice)
    }
    assert bad.content == INVALID


@pytest.mark.parametrize(
    ("method", "path", "status", "body"),
    [
        ("GET", "/healthz", 200, b"OK"),
        ("GET", "/api/v2/nothing", 404, b'{"message":"Route not found."}\n'),
        ("POST", PATH, 405, None),
    ],
)
def test_other_routes(
    servers: Servers, http: httpx.Client, method: str, path: str, status: int, body: bytes | None
) -> None:
    response = http.request(method, f"{servers.main}{path}", headers=AUTH)
    assert response.status_code == status
    if body is not None:
        assert response.content == body
