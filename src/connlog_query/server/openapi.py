"""The OpenAPI 3.1 document of ``GET /api/v2/connectionlog``, generated from the models.

The response schemas come from the pydantic models in :mod:`connlog_query.models` (their
validation-mode JSON schema: fields Coder may omit are optional, unknown fields allowed), so
the document cannot drift from what the server sends and the client accepts. Parameters,
security and operation names follow Coder's swagger (operation ``get-connection-logs``, tag
``Enterprise``, scheme ``CoderSessionToken``), except that ``limit`` is not marked required,
because Coder's server does not require it.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, Field
from pydantic.json_schema import models_json_schema

from ..models import ConnectionLogResponse
from .request import SIGNED_OUT_MESSAGE

__all__ = ["API_PATH", "Response", "ValidationError", "openapi_document"]

API_PATH = "/api/v2/connectionlog"
"""The endpoint's path."""


class ValidationError(BaseModel):
    """Coder's ``codersdk.ValidationError``: one problem with one parameter."""

    field: str
    detail: str


class Response(BaseModel):
    """Coder's ``codersdk.Response``: the body of every error answer."""

    message: str
    detail: str | None = Field(default=None, description="Omitted when empty.")
    validations: list[ValidationError] | None = Field(
        default=None, description="Omitted when empty."
    )


_INT32 = {"type": "integer", "format": "int32", "minimum": 0, "maximum": 2**31 - 1}


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Response"}}},
    }


@lru_cache(maxsize=1)
def _document() -> dict[str, Any]:
    _, defs = models_json_schema(
        [(ConnectionLogResponse, "validation"), (Response, "validation")],
        ref_template="#/components/schemas/{model}",
    )
    operation = {
        "operationId": "get-connection-logs",
        "summary": "Get connection logs",
        "tags": ["Enterprise"],
        "security": [{"CoderSessionToken": []}],
        "parameters": [
            {
                "name": "q",
                "in": "query",
                "description": "Search query (Coder's connection-log search language).",
                "schema": {"type": "string"},
            },
            {
                "name": "limit",
                "in": "query",
                "description": "Page limit; 0 or absent means 100.",
                "schema": dict(_INT32),
            },
            {
                "name": "offset",
                "in": "query",
                "description": "Page offset.",
                "schema": dict(_INT32),
            },
        ],
        "responses": {
            "200": {
                "description": "OK",
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/ConnectionLogResponse"}
                    }
                },
            },
            "400": _error("Invalid search query or pagination parameters."),
            "401": _error(SIGNED_OUT_MESSAGE),
            "403": _error("Not licensed (Premium feature), or not allowed."),
            "500": _error("Internal error."),
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Coder connection log API (connlog_query reference server)",
            "version": "2.0",
        },
        "paths": {API_PATH: {"get": operation}},
        "components": {
            "schemas": defs["$defs"],
            "securitySchemes": {
                "CoderSessionToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Coder-Session-Token",
                }
            },
        },
    }


def openapi_document(*, server_url: str | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document (a fresh copy each call; safe to modify).

    Args:
        server_url: Added as the document's only ``servers`` entry when given.
    """
    doc = copy.deepcopy(_document())
    if server_url is not None:
        doc["servers"] = [{"url": server_url}]
    return doc
