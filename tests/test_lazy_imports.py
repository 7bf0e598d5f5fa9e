"""``import connlog_query`` plus a Coder-mode parse leaves the extended AST and hint helpers
unloaded, and ``Query.where`` still resolves on every first use of the model.

Each case runs in a fresh interpreter: what matters is what the first use in a process does.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from connlog_query.values import FILTER_KEYS


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_coder_parse_loads_neither_the_extended_ast_nor_difflib() -> None:
    code = (
        "import sys, connlog_query\n"
        "q = connlog_query.parse('type:ssh username:me connected_after:\"2025-07-01T00:00:00Z\"')\n"
        "assert str(q) == 'type:ssh username:me connected_after:\"2025-07-01T00:00:00Z\"', str(q)\n"
        "print(sorted(m for m in ('connlog_query.expr', 'difflib') if m in sys.modules))"
    )
    assert _run(code) == "[]"


FIRST_USES = {
    "validate": (
        "q = Query.model_validate({'where': {'kind': 'or', 'items': ["
        "{'kind': 'text', 'text': 'A'}, {'kind': 'text', 'text': 'b'}]}})\n"
        "print(q.to_string())"
    ),
    "construct": (
        "from connlog_query.expr import Text\n"
        "print(Query(type='ssh', where=Text(text='Hi')).to_string())"
    ),
    "json_schema": "print(sorted(Query.model_json_schema()['properties']))",
    "nested_model": (
        "from pydantic import BaseModel\n"
        "class Outer(BaseModel):\n"
        "    q: Query\n"
        "print(Outer(q={'where': {'kind': 'text', 'text': 'Hi'}}).q.to_string())"
    ),
    "type_hints": "import typing\nprint(typing.get_type_hints(Query)['where'] is not None)",
    "rejects": (
        "import pydantic\n"
        "try:\n"
        "    Query.model_validate({'where': {'kind': 'and', 'items': []}})\n"
        "except pydantic.ValidationError as exc:\n"
        "    print(exc.errors()[0]['type'])"
    ),
}
EXPECTED = {
    "validate": "a OR b",
    "construct": "type:ssh hi",
    "json_schema": json.dumps(sorted([*FILTER_KEYS, "where"])).replace('"', "'"),
    "nested_model": "hi",
    "type_hints": "True",
    "rejects": "too_short",
}


@pytest.mark.parametrize("use", sorted(FIRST_USES))
def test_where_resolves_on_first_use(use: str) -> None:
    code = "from connlog_query import Query\n" + FIRST_USES[use]
    assert _run(code) == EXPECTED[use]
