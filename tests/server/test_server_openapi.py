"""The OpenAPI document matches the models, and real answers match the document."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import BaseModel
from serverkit import TOKEN, Servers

from connlog_query.models import (
    ConnectionLog,
    ConnectionLogResponse,
    ConnectionLogSSHInfo,
    ConnectionLogWebInfo,
    MinimalOrganization,
    SlimRole,
    User,
)
from connlog_query.server import openapi_document
from connlog_query.server.openapi import Response, ValidationError

jsonschema_rs = pytest.importorskip("jsonschema_rs", reason="comes with schemathesis (dev extra)")

PATH = "/api/v2/connectionlog"


@pytest.mark.parametrize(
    "model",
    [
        ConnectionLogResponse,
        ConnectionLog,
        MinimalOrganization,
        ConnectionLogWebInfo,
        ConnectionLogSSHInfo,
        User,
        SlimRole,
        Response,
        ValidationError,
    ],
)
def test_component_schemas_are_the_models(model: type[BaseModel]) -> None:
    schema = openapi_document()["components"]["schemas"][model.__name__]
    assert list(schema["properties"]) == list(model.model_fields)
    required = [name for name, f in model.model_fields.items() if f.is_required()]
    assert schema.get("required", []) == required


def test_operation_matches_coders_swagger() -> None:
    doc = openapi_document(server_url="http://127.0.0.1:3000")
    operation = doc["paths"][PATH]["get"]
    assert operation["operationId"] == "get-connection-logs"
    assert operation["tags"] == ["Enterprise"]
    assert [(p["name"], p["in"]) for p in operation["parameters"]] == [
        ("q", "query"),
        ("limit", "query"),
        ("offset", "query"),
    ]
    assert set(operation["responses"]) == {"200", "400", "401", "403", "500"}
    assert doc["components"]["securitySchemes"]["CoderSessionToken"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Coder-Session-Token",
    }
    assert doc["servers"] == [{"url": "http://127.0.0.1:3000"}]
    assert "servers" not in openapi_document()


def test_document_is_served(servers: Servers) -> None:
    assert httpx.get(f"{servers.main}/openapi.json").json() == openapi_document()


def _validator(status: str) -> Any:
    doc = openapi_document()
    schema = doc["paths"][PATH]["get"]["responses"][status]["content"]["application/json"]
    return jsonschema_rs.validator_for({**schema["schema"], "components": doc["components"]})


AUTH = {"Coder-Session-Token": TOKEN}


@pytest.mark.parametrize(
    ("server", "raw", "headers", "status"),
    [
        ("main", "q=type:workspace_app&limit=50", AUTH, 200),
        ("main", "q=type:ssh&limit=50", AUTH, 200),
        ("main", "q=type:tunnel", AUTH, 200),
        ("main", "limit=500", AUTH, 200),
        ("main", "q=workspace_owner:nobody", AUTH, 200),
        ("main", "q=status:bad", AUTH, 400),
        ("main", "limit=-1", AUTH, 400),
        ("main", "", {}, 401),
        ("unlicensed", "", AUTH, 403),
        ("forbidden", "", AUTH, 403),
        ("broken", "", AUTH, 500),
    ],
)
def test_real_answers_match_the_document(
    servers: Servers, server: str, raw: str, headers: dict[str, str], status: int
) -> None:
    response = httpx.get(f"{getattr(servers, server)}{PATH}?{raw}", headers=headers)
    assert response.status_code == status
    errors = [str(e) for e in _validator(str(status)).iter_errors(response.json())]
    assert errors == []


def test_the_schema_rejects_what_coder_would_not_send() -> None:
    validator = _validator("200")
    assert not validator.is_valid({"connection_logs": [{"id": "x"}], "count": 1})
    assert not validator.is_valid({"connection_logs": None, "count": 0})
    assert validator.is_valid({"connection_logs": [], "count": 0, "count_cap": 2000})
