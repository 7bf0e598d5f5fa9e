"""The framework-agnostic request helpers: Go's integer parsing, Go's URL query parsing."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connlog_query import parse
from connlog_query.query import Query
from connlog_query.server import RequestError, parse_query_string, parse_request
from connlog_query.server.request import parse_go_query, parse_positive_int32

PREFIX = 'Query param "limit" must be a valid 32-bit positive integer: '


@pytest.mark.parametrize(
    ("text", "value", "why"),
    [
        ("0", 0, None),
        ("7", 7, None),
        ("+7", 7, None),
        ("-0", 0, None),
        ("0000000000000000000000042", 42, None),
        ("2147483647", 2147483647, None),
        ("2147483648", None, 'strconv.ParseInt: parsing "2147483648": value out of range'),
        ("4294967296", None, 'strconv.ParseInt: parsing "4294967296": value out of range'),
        ("-1", None, "value is negative"),
        ("-2147483648", None, "value is negative"),
        ("-2147483649", None, 'strconv.ParseInt: parsing "-2147483649": value out of range'),
        ("abc", None, 'strconv.ParseInt: parsing "abc": invalid syntax'),
        ("-", None, 'strconv.ParseInt: parsing "-": invalid syntax'),
        ("+-1", None, 'strconv.ParseInt: parsing "+-1": invalid syntax'),
        ("1e3", None, 'strconv.ParseInt: parsing "1e3": invalid syntax'),
        ("0x10", None, 'strconv.ParseInt: parsing "0x10": invalid syntax'),
        ("1_000", None, 'strconv.ParseInt: parsing "1_000": invalid syntax'),
        (" 1", None, 'strconv.ParseInt: parsing " 1": invalid syntax'),
        ("\u0663", None, 'strconv.ParseInt: parsing "\u0663": invalid syntax'),
        ("1\n", None, 'strconv.ParseInt: parsing "1\\n": invalid syntax'),
        # Go stops at whichever comes first: a bad byte, or the overflow.
        ("9x99999999999", None, 'strconv.ParseInt: parsing "9x99999999999": invalid syntax'),
        ("99999999999x", None, 'strconv.ParseInt: parsing "99999999999x": value out of range'),
        ("-99999999999x", None, 'strconv.ParseInt: parsing "-99999999999x": value out of range'),
        ("\udcff", None, 'strconv.ParseInt: parsing "\\xff": invalid syntax'),
    ],
)
def test_positive_int32_like_go(text: str, value: int | None, why: str | None) -> None:
    parsed, error = parse_positive_int32("limit", text)
    if why is None:
        assert (parsed, error) == (value, None)
    else:
        assert parsed == 0
        assert error is not None
        assert (error.field, error.detail) == ("limit", PREFIX + why)


@given(st.integers(-(2**70), 2**70), st.sampled_from(["", "+", "0"]))
def test_positive_int32_on_every_integer(number: int, prefix: str) -> None:
    text = str(number) if number < 0 else prefix + str(number)
    parsed, error = parse_positive_int32("limit", text)
    if 0 <= number <= 2**31 - 1:
        assert (parsed, error) == (number, None)
    elif -(2**31) <= number < 0:
        assert error is not None
        assert error.detail.endswith("value is negative")
    else:
        assert error is not None
        assert error.detail == PREFIX + f'strconv.ParseInt: parsing "{text}": value out of range'


@given(st.text() | st.from_regex(r"\A[+-]?[0-9]{1,12}\Z"))
def test_positive_int32_accepts_exactly_signed_decimal_int32(text: str) -> None:
    parsed, error = parse_positive_int32("offset", text)
    decimal = re.fullmatch(r"[+-]?[0-9]+", text) is not None
    valid = text == "" or (decimal and 0 <= int(text) <= 2**31 - 1)
    assert (error is None) == valid
    assert parsed == (int(text or "0") if valid else 0)


@pytest.mark.parametrize(
    ("values", "value", "error"),
    [
        (None, 0, None),
        ([], 0, None),
        ([""], 0, None),
        (["", "abc"], 0, None),
        (["5", ""], 0, "provided more than once, found 2 times"),
        (["1", "2", "3"], 0, "provided more than once, found 3 times"),
    ],
)
def test_positive_int32_multiple_values(
    values: list[str] | None, value: int, error: str | None
) -> None:
    parsed, err = parse_positive_int32("limit", values)
    assert parsed == value
    assert (err is None) if error is None else (err is not None and error in err.detail)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", {}),
        ("a=1&a=2&b=", {"a": ["1", "2"], "b": [""]}),
        ("a", {"a": [""]}),
        ("=x", {"": ["x"]}),
        ("&&a=1&", {"a": ["1"]}),
        ("a+b=c+d%20e", {"a b": ["c d e"]}),
        ("a=1;b=2&c=3", {"c": ["3"]}),
        ("a=%zz&b=%4&c=%41", {"c": ["A"]}),
        ("q=%C3%A9%3A%22", {"q": ['é:"']}),
        ("q=%FF", {"q": ["\udcff"]}),
        (b"q=\xc3\xa9", {"q": ["é"]}),
        ("k=a=b", {"k": ["a=b"]}),
    ],
)
def test_go_query_parsing(raw: str | bytes, expected: dict[str, list[str]]) -> None:
    assert parse_go_query(raw) == expected


def test_parse_request_values() -> None:
    request = parse_request("TYPE:ssh", "10", ["3"])
    assert (request.query, request.q, request.limit, request.offset) == (
        parse("type:ssh"),
        "TYPE:ssh",
        10,
        3,
    )
    assert parse_request().query == Query()
    assert parse_request(["type:ssh", "bogus"]).query == parse("type:ssh")


def test_pagination_is_checked_before_the_query() -> None:
    with pytest.raises(RequestError) as info:
        parse_request("status:bogus", "x", after_id="no")
    assert info.value.status == 400
    assert info.value.to_response()["message"] == "Query parameters have invalid values."
    assert [v.field for v in info.value.validations] == ["after_id", "limit"]


def test_query_errors_keep_coders_body_and_the_cause() -> None:
    with pytest.raises(RequestError) as info:
        parse_request("status:bogus foo")
    assert info.value.to_response() == {
        "message": "Invalid connection search query.",
        "validations": [
            {
                "field": "status",
                "detail": 'Query param "status" has invalid value: "bogus" is not a valid value',
            },
            {"field": "search", "detail": '"search" is not a valid query param'},
        ],
    }
    assert str(info.value).startswith("400 Invalid connection search query.\n  status: ")
    assert info.value.__cause__ is not None


def test_invalid_utf8_in_q_becomes_the_replacement_character() -> None:
    with pytest.raises(RequestError) as info:
        parse_query_string(b"q=%FF:x")
    assert [v.to_dict() for v in info.value.validations] == [
        {"field": "\ufffd", "detail": '"\ufffd" is not a valid query param'}
    ]


def test_parse_query_string_accepts_a_multimap() -> None:
    request = parse_query_string({"q": ["type:ssh"], "limit": ["4"]})
    assert (request.query, request.limit) == (parse("type:ssh"), 4)
