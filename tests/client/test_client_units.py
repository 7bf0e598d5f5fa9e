"""The client's I/O-free parts: configuration, retry policy, error objects."""

from __future__ import annotations

import datetime as dt
import pickle

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

import connlog_query.client as client_module
from connlog_query import QueryError, ValidationError
from connlog_query.client import (
    AsyncClient,
    Client,
    InvalidQueryError,
    RateLimitedError,
    RetryPolicy,
)
from connlog_query.client._base import retry_after_seconds

SECRET = "Zz9Zz9Zz9Z-secretsecretsecretsecret"


def response(status: int = 503, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers=headers, request=httpx.Request("GET", "http://x/"))


NOW = dt.datetime(2025, 7, 1, 12, 0, 0, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (None, None),
        ("0", 0.0),
        ("17", 17.0),
        (" 5 ", 5.0),
        ("Tue, 01 Jul 2025 12:00:30 GMT", 30.0),
        ("Tue, 01 Jul 2025 11:00:00 GMT", 0.0),
        ("soon", None),
        ("-3", None),
        ("1.5", None),
    ],
)
def test_retry_after(value: str | None, seconds: float | None) -> None:
    headers = {} if value is None else {"Retry-After": value}
    assert retry_after_seconds(response(**headers), now=NOW) == seconds


def test_backoff_doubles_up_to_the_cap() -> None:
    policy = RetryPolicy(backoff=0.5, max_backoff=3.0, jitter=0.0)
    assert [policy.delay(n, response()) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


@given(retry=st.integers(1, 30), jitter=st.floats(0, 1), backoff=st.floats(0, 10))
def test_jitter_stays_within_its_fraction(retry: int, jitter: float, backoff: float) -> None:
    policy = RetryPolicy(backoff=backoff, max_backoff=8.0, jitter=jitter)
    base = min(8.0, backoff * 2.0 ** (retry - 1))
    delay = policy.delay(retry, response(500))
    assert base <= delay <= base * (1 + jitter) + 1e-9


def test_retry_after_wins_over_backoff() -> None:
    policy = RetryPolicy(backoff=0.5, jitter=0.0)
    assert policy.delay(3, response(429, **{"Retry-After": "7"})) == 7.0


@pytest.mark.parametrize(
    ("outcome", "retried"),
    [
        (response(429), True),
        (response(502), True),
        (response(503), True),
        (response(504), True),
        (response(500), False),
        (response(200), False),
        (response(429, **{"Retry-After": "61"}), False),
        (httpx.ConnectError("refused"), True),
        (httpx.ReadError("reset"), True),
        (httpx.RemoteProtocolError("closed"), True),
        (httpx.ConnectTimeout("slow"), True),
        (httpx.ReadTimeout("slow"), False),
        (httpx.UnsupportedProtocol("ftp"), False),
    ],
    ids=lambda v: repr(v) if not isinstance(v, bool) else str(v),
)
def test_what_is_retried(outcome: httpx.Response | httpx.RequestError, retried: bool) -> None:
    assert RetryPolicy().should_retry(outcome) is retried


def test_policy_rejects_negative_values() -> None:
    with pytest.raises(ValueError, match="retries"):
        RetryPolicy(retries=-1)


@pytest.mark.parametrize("cls", [Client, AsyncClient])
def test_from_env(cls: type[Client] | type[AsyncClient]) -> None:
    env = {"CODER_URL": "https://coder.example.com/", "CODER_SESSION_TOKEN": SECRET}
    made = cls.from_env(environ=env, timeout=5)
    assert isinstance(made, cls)
    assert made.url == "https://coder.example.com"
    assert repr(made) == f"{cls.__name__}(url='https://coder.example.com', token='***')"
    assert SECRET not in repr(made)
    without_token = cls.from_env(environ={"CODER_URL": "http://localhost:3000"})
    assert repr(without_token).endswith("token=None)")
    with pytest.raises(ValueError, match="CODER_URL is not set"):
        cls.from_env(environ={"CODER_SESSION_TOKEN": SECRET})


@pytest.mark.parametrize(
    ("url", "base"),
    [
        ("https://coder.example.com", "https://coder.example.com"),
        ("https://coder.example.com/", "https://coder.example.com"),
        ("https://example.com/coder/", "https://example.com/coder"),
        ("http://127.0.0.1:3000/api/v2/connectionlog", "http://127.0.0.1:3000"),
        ("http://127.0.0.1:3000/?x=1#frag", "http://127.0.0.1:3000"),
    ],
)
def test_url_normalization(url: str, base: str) -> None:
    assert Client(url).url == base


@pytest.mark.parametrize("url", ["coder.example.com", "ftp://x", "https://", ""])
def test_bad_url(url: str) -> None:
    with pytest.raises(ValueError, match="http"):
        Client(url)


@pytest.mark.parametrize("token", [SECRET + "\n", SECRET + " x", "tökén" + SECRET])
def test_bad_token_is_rejected_without_echoing_it(token: str) -> None:
    with pytest.raises(ValueError, match="printable ASCII") as info:
        Client("https://coder.example.com", token)
    assert SECRET not in str(info.value)


def test_query_must_be_text_or_query() -> None:
    with Client("https://coder.example.com") as client, pytest.raises(TypeError, match="str"):
        client.connection_logs(42)  # type: ignore[arg-type]


def test_invalid_query_error_is_both_kinds_and_pickles() -> None:
    err = InvalidQueryError(
        400,
        "Invalid connection search query.",
        validations=[ValidationError("organization", "nope", (13, 16))],
        url="http://x/api/v2/connectionlog?q=organization%3Afoo",
        text="organization:foo",
    )
    assert isinstance(err, QueryError)
    assert err.errors == err.validations
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is InvalidQueryError
    assert (copy.status, copy.errors, copy.text, str(copy)) == (
        err.status,
        err.errors,
        err.text,
        str(err),
    )
    assert str(err).splitlines() == [
        "HTTP 400: Invalid connection search query.",
        "error: organization: nope",
        "  organization:foo",
        "               ^^^",
    ]


def test_api_error_pickles_and_prints() -> None:
    err = RateLimitedError(429, "slow down", "try later", retry_after=3.0, url="http://x")
    copy = pickle.loads(pickle.dumps(err))
    assert (type(copy), copy.retry_after, str(copy)) == (type(err), 3.0, str(err))
    assert str(err) == "HTTP 429: slow down (try later)"
    assert repr(err) == "RateLimitedError(status=429, message='slow down')"


def test_public_names() -> None:
    exported = set(client_module.__all__)
    assert {"Client", "AsyncClient", "RetryPolicy", "APIError", "InvalidQueryError"} <= exported
    assert all(hasattr(client_module, name) for name in exported)


def test_extended_settings_are_visible() -> None:
    user = "2c33be0a-c79d-4793-86d4-ac7a5c3902b1"
    with Client("http://127.0.0.1:1", extended=True, user_id=user) as client:
        assert (client.extended, str(client.user_id)) == (True, user)
    with Client("http://127.0.0.1:1") as client:
        assert (client.extended, client.user_id) == (False, None)
    with pytest.raises(TypeError, match="extended"):
        Client("http://127.0.0.1:1", extended="yes")  # type: ignore[arg-type]
