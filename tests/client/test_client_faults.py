"""Fault injection and wire shape: the client against a scripted loopback server.

Every case runs through ``Client`` and ``AsyncClient`` (the ``api`` fixture); retry waits are
recorded, not slept, so the expected waits are asserted exactly.
"""

from __future__ import annotations

import logging
import socket
import traceback
import urllib.parse
from typing import Any

import pytest
from clientkit import TOKEN, Api, Drop, FaultServer, Respond

from connlog_query import parse
from connlog_query.client import (
    APIError,
    ClientError,
    InvalidPaginationError,
    MalformedResponseError,
    RateLimitedError,
    RequestTimeoutError,
    RetryPolicy,
    ServerError,
    TransportError,
)
from connlog_query.demo import generate
from connlog_query.models import ConnectionLogResponse
from connlog_query.query import Query
from connlog_query.server._json import dump_model

LOGS = generate(seed=3, n_logs=12).connection_logs


def page(rows: range, count: int, cap: int | None = 2000) -> Respond:
    body = ConnectionLogResponse(
        connection_logs=[LOGS[i] for i in rows], count=count, count_cap=cap
    )
    return Respond(body=dump_model(body))


OK = page(range(2), 2)
SERVICE_UNAVAILABLE = Respond(503, b'{"message":"busy"}')

# (id, script, expected outcome: None = success or an error type, requests, sleeps)
RETRY_CASES: list[Any] = [
    ("drop-then-ok", [Drop(), OK], None, 2, [0.01]),
    ("503-503-ok", [SERVICE_UNAVAILABLE, SERVICE_UNAVAILABLE, OK], None, 3, [0.01, 0.02]),
    ("502-504-ok", [Respond(502, b"<html>"), Respond(504, b""), OK], None, 3, [0.01, 0.02]),
    ("429-retry-after", [Respond(429, b"{}", {"Retry-After": "2"}), OK], None, 2, [2.0]),
    (
        "429-retry-after-date-in-past",
        [Respond(429, b"{}", {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}), OK],
        None,
        2,
        [0.0],
    ),
    ("503-retry-after", [Respond(503, b"{}", {"Retry-After": "1"}), OK], None, 2, [1.0]),
    (
        "429-retry-after-too-long",
        [Respond(429, b'{"message":"slow down"}', {"Retry-After": "3600"})],
        RateLimitedError,
        1,
        [],
    ),
    ("503-always", [SERVICE_UNAVAILABLE] * 4, ServerError, 4, [0.01, 0.02, 0.04]),
    ("drop-always", [Drop()] * 4, TransportError, 4, [0.01, 0.02, 0.04]),
    ("500-not-retried", [Respond(500, b'{"message":"boom"}')], ServerError, 1, []),
    ("400-not-retried", [Respond(400, b'{"message":"bad"}')], APIError, 1, []),
]


@pytest.mark.parametrize(
    ("script", "error", "requests", "sleeps"),
    [pytest.param(*case[1:], id=case[0]) for case in RETRY_CASES],
)
def test_retries(
    api: Api,
    faults: FaultServer,
    script: list[Respond | Drop],
    error: type[Exception] | None,
    requests: int,
    sleeps: list[float],
) -> None:
    faults.script(*script)
    if error is None:
        result = api.page(faults.url, TOKEN, "type:ssh")
        assert [log.id for log in result.connection_logs] == [LOGS[0].id, LOGS[1].id]
    else:
        with pytest.raises(error) as info:
            api.page(faults.url, TOKEN, "type:ssh")
        if isinstance(info.value, TransportError):
            assert info.value.attempts == requests
    assert len(faults.requests) == requests
    assert api.sleeps == sleeps


def test_rate_limited_error_carries_retry_after(api: Api, faults: FaultServer) -> None:
    faults.script(Respond(429, b'{"message":"slow down"}', {"Retry-After": "3600"}))
    with pytest.raises(RateLimitedError) as info:
        api.page(faults.url, TOKEN, "")
    assert (info.value.status, info.value.message, info.value.retry_after) == (
        429,
        "slow down",
        3600.0,
    )


def test_retries_disabled(api: Api, faults: FaultServer) -> None:
    faults.script(SERVICE_UNAVAILABLE, OK)
    with pytest.raises(ServerError):
        api.page(faults.url, TOKEN, "", retries=0)
    assert len(faults.requests) == 1
    assert api.sleeps == []


def test_proxy_error_page_after_retries(api: Api, faults: FaultServer) -> None:
    html = b"<html><body>502 Bad Gateway</body></html>"
    faults.script(*[Respond(502, html, content_type="text/html")] * 4)
    with pytest.raises(ServerError) as info:
        api.page(faults.url, TOKEN, "")
    assert (info.value.status, info.value.message) == (502, "Bad Gateway")
    assert "502 Bad Gateway</body>" in info.value.detail


def test_connection_refused(api: Api) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # The port is closed again: nothing listens there.
    with pytest.raises(TransportError) as info:
        api.page(f"http://127.0.0.1:{port}", TOKEN, "")
    assert not isinstance(info.value, RequestTimeoutError)
    assert info.value.attempts == 4
    assert api.sleeps == [0.01, 0.02, 0.04]


def test_slow_response_hits_the_timeout_and_is_not_retried(api: Api, faults: FaultServer) -> None:
    faults.script(Respond(delay=2.0))
    with pytest.raises(RequestTimeoutError) as info:
        api.page(faults.url, TOKEN, "", timeout=0.1)
    assert "no answer within the timeout" in str(info.value)
    assert len(faults.requests) == 1
    assert api.sleeps == []


def test_slow_responses_retried_when_asked(api: Api, faults: FaultServer) -> None:
    faults.script(Respond(delay=2.0), OK)
    policy = RetryPolicy(retries=2, backoff=0.01, jitter=0.0, retry_timeouts=True)
    result = api.page(faults.url, TOKEN, "", timeout=0.1, retries=policy)
    assert len(result.connection_logs) == 2
    assert len(faults.requests) == 2


@pytest.mark.parametrize(
    ("body", "content_type", "needle"),
    [
        (b"{not json", "application/json", "not valid JSON"),
        (b"", "application/json", "not valid JSON"),
        (b"<html>login</html>", "text/html", "'text/html'"),
        (b'{"connection_logs":[{"id":"x"}],"count":1}', "application/json", "connection_logs.0"),
        (b'{"connection_logs":null,"count":"many"}', "application/json", "count"),
        (b"[]", "application/json", "not a ConnectionLogResponse"),
    ],
    ids=["truncated", "empty", "html", "bad-row", "bad-types", "array"],
)
def test_malformed_json_is_a_clear_error(
    api: Api, faults: FaultServer, body: bytes, content_type: str, needle: str
) -> None:
    faults.script(Respond(200, body, content_type=content_type))
    with pytest.raises(MalformedResponseError) as info:
        api.page(faults.url, TOKEN, "")
    err = info.value
    assert needle in str(err)
    assert err.status == 200
    assert err.content_type == content_type
    assert err.snippet == body.decode()
    assert len(faults.requests) == 1


def test_pagination_error_body_is_typed(api: Api, faults: FaultServer) -> None:
    body = (
        b'{"message":"Query parameters have invalid values.","validations":[{"field":"limit",'
        b'"detail":"Query param \\"limit\\" must be a valid 32-bit positive integer: '
        b'value is negative"}]}\n'
    )
    faults.script(Respond(400, body))
    with pytest.raises(InvalidPaginationError) as info:
        api.page(faults.url, TOKEN, "")
    assert [(v.field, v.detail) for v in info.value.validations] == [
        ("limit", 'Query param "limit" must be a valid 32-bit positive integer: value is negative')
    ]
    assert info.value.to_response()["validations"][0]["field"] == "limit"


def test_redirect_is_not_followed(api: Api, faults: FaultServer) -> None:
    faults.script(Respond(302, b"", {"Location": "https://elsewhere.example/api"}), OK)
    with pytest.raises(APIError) as info:
        api.page(faults.url, TOKEN, "")
    assert info.value.status == 302
    assert "https://elsewhere.example/api" in info.value.detail
    assert len(faults.requests) == 1


# -- what goes on the wire ------------------------------------------------------------------


def sent(faults: FaultServer, index: int = -1) -> list[tuple[str, str]]:
    target = faults.requests[index].target
    path, _, query = target.partition("?")
    assert path == "/api/v2/connectionlog"
    return urllib.parse.parse_qsl(query, keep_blank_values=True)


@pytest.mark.parametrize(
    ("limit", "offset", "params"),
    [
        (0, 0, [("q", "type:ssh")]),
        (5, 0, [("q", "type:ssh"), ("limit", "5")]),
        (0, 7, [("q", "type:ssh"), ("offset", "7")]),
        (2**31 - 1, 3, [("q", "type:ssh"), ("limit", "2147483647"), ("offset", "3")]),
    ],
)
def test_limit_and_offset_only_when_positive(
    api: Api, faults: FaultServer, limit: int, offset: int, params: list[tuple[str, str]]
) -> None:
    faults.script(OK)
    api.page(faults.url, TOKEN, "TYPE:SSH", limit=limit, offset=offset)
    assert sent(faults) == params


def test_q_is_always_sent_even_when_empty(api: Api, faults: FaultServer) -> None:
    faults.script(OK)
    api.page(faults.url, TOKEN, "   ")
    assert faults.requests[0].target == "/api/v2/connectionlog?q="


def test_token_header(api: Api, faults: FaultServer) -> None:
    faults.script(OK, OK)
    api.page(faults.url, TOKEN, "")
    api.page(faults.url, None, "")
    assert faults.requests[0].headers["coder-session-token"] == TOKEN
    assert "coder-session-token" not in faults.requests[1].headers
    assert TOKEN not in faults.requests[0].target


@pytest.mark.parametrize(
    ("text", "q"),
    [
        (
            "Connected_After:2023-01-01T00:00:00Z",
            None,  # invalid in Coder: two colons unquoted -> raised locally
        ),
        (
            'connected_after:"2023-01-01T02:00:00+02:00"  TYPE:ssh',
            'type:ssh connected_after:"2023-01-01T00:00:00Z"',
        ),
        ('workspace_owner:"John Doe"', 'workspace_owner:"john doe"'),
        ("username:ME", "username:me"),
    ],
)
def test_q_is_the_canonical_form(api: Api, faults: FaultServer, text: str, q: str | None) -> None:
    faults.script(OK)
    if q is None:
        with pytest.raises(Exception, match="can only contain 1 ':'"):
            api.page(faults.url, TOKEN, text)
        assert faults.requests == []
        return
    api.page(faults.url, TOKEN, text)
    assert sent(faults) == [("q", q)]
    assert str(parse(text)) == q


def test_query_object_goes_out_canonical(api: Api, faults: FaultServer) -> None:
    faults.script(OK)
    query = Query(type="vscode", workspace_owner="Alice Smith")
    api.page(faults.url, TOKEN, query)
    assert sent(faults) == [("q", 'workspace_owner:"alice smith" type:vscode')]


@pytest.mark.parametrize(
    "call",
    [
        {"limit": -1},
        {"offset": 2**31},
        {"limit": True},
    ],
)
def test_bad_pagination_is_rejected_locally(
    api: Api, faults: FaultServer, call: dict[str, Any]
) -> None:
    with pytest.raises((ValueError, TypeError)):
        api.page(faults.url, TOKEN, "", **call)
    assert faults.requests == []


# -- paging ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "offsets", "expected"),
    [
        pytest.param(
            [page(range(0, 2), 5), page(range(2, 4), 5), page(range(4, 5), 5)],
            [0, 2, 4],
            list(range(5)),
            id="short-last-page",
        ),
        pytest.param(
            [page(range(0, 2), 4), page(range(2, 4), 4)],
            [0, 2],
            list(range(4)),
            id="stops-at-exact-count",
        ),
        pytest.param(
            [page(range(0, 2), 3, cap=None), page(range(2, 3), 3, cap=None)],
            [0, 2],
            list(range(3)),
            id="no-count-cap",
        ),
        pytest.param(
            [page(range(0, 2), 2001), page(range(2, 4), 2001), page(range(0), 2001)],
            [0, 2, 4],
            list(range(4)),
            id="capped-count-until-empty-page",
        ),
        pytest.param(
            # A row was inserted at the top between the first two pages: count grows by one.
            [
                page(range(0, 2), 6),
                page(range(1, 3), 7),
                page(range(3, 5), 7),
                page(range(5, 6), 7),
            ],
            [0, 2, 4, 6],
            list(range(6)),
            id="repeated-row-dropped",
        ),
        pytest.param([page(range(0), 0)], [0], [], id="empty"),
    ],
)
def test_iteration(
    api: Api,
    faults: FaultServer,
    script: list[Respond],
    offsets: list[int],
    expected: list[int],
) -> None:
    faults.script(*script)
    logs = api.logs(faults.url, TOKEN, "type:ssh", page_size=2)
    assert [log.id for log in logs] == [LOGS[i].id for i in expected]
    assert [dict(sent(faults, i)).get("offset", "0") for i in range(len(offsets))] == [
        str(o) for o in offsets
    ]
    assert len(faults.requests) == len(offsets)
    assert all(dict(sent(faults, i))["limit"] == "2" for i in range(len(offsets)))


def test_iteration_validates_before_the_first_request(api: Api, faults: FaultServer) -> None:
    with pytest.raises(Exception, match="not a valid query param"):
        api.logs(faults.url, TOKEN, "nonsense")
    with pytest.raises(ValueError, match="page_size"):
        api.logs(faults.url, TOKEN, "", page_size=0)
    assert faults.requests == []


# -- the token stays secret -----------------------------------------------------------------


def test_token_never_in_errors_reprs_or_logs(
    api: Api, faults: FaultServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    faults.script(
        Drop(),
        SERVICE_UNAVAILABLE,
        Respond(401, b'{"message":"signed out"}'),
        Respond(200, b"{oops"),
        *[Drop()] * 4,
    )
    texts: list[str] = []
    for _ in range(3):
        with pytest.raises(ClientError) as info:
            api.page(faults.url, TOKEN, "type:ssh")
        err = info.value
        texts += [str(err), repr(err), "".join(traceback.format_exception(err))]
    texts.append(caplog.text)
    assert "retry" in caplog.text
    for text in texts:
        assert TOKEN not in text
    assert len(faults.requests) == 8
