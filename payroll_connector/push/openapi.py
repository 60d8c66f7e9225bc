"""The OpenAPI document of the push API, built around the package JSON Schema."""
from __future__ import annotations

from .schema import SCHEMA_VERSION, package_json_schema


def openapi_document(server_url: str) -> dict:
    schema = package_json_schema()
    definitions = schema.pop("$defs", {})
    schema.pop("$schema", None)
    schema.pop("$id", None)
    components = {name: _rewrite_refs(value) for name, value in definitions.items()}
    components["Package"] = _rewrite_refs(schema)
    problem = {"type": "object", "properties": {"record": {"type": "string"}, "field": {"type": "string"},
                                                "problem": {"type": "string"}}}
    components["SchemaProblem"] = problem
    components["PackageAccepted"] = {"type": "object", "properties": {
        "package_id": {"type": "string"}, "status": {"type": "string"}, "duplicate": {"type": "boolean"},
        "status_url": {"type": "string"}}}
    components["PackageStatus"] = {"type": "object", "properties": {
        "package_id": {"type": "string"}, "kind": {"type": "string"}, "status": {"type": "string",
        "enum": ["received", "waiting_for_parts", "processed", "failed"]}, "received_at": {"type": "string"},
        "processed_at": {"type": "string", "nullable": True}, "results": {"type": "object"}}}
    bearer = [{"pushKey": []}]
    errors = {
        "400": {"description": "The package does not match the schema; nothing was stored",
                "content": {"application/json": {"schema": {"type": "object", "properties": {
                    "error": {"type": "string"}, "problems": {"type": "array",
                                                              "items": {"$ref": "#/components/schemas/SchemaProblem"}}}}}}},
        "401": {"description": "Missing or wrong push key"},
        "409": {"description": "This package_id was received before with other content; nothing was stored"},
        "413": {"description": "Larger than PAYROLL_MAX_PACKAGE_BYTES: send the snapshot in parts"},
        "415": {"description": "Not application/json"},
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "hrsync payroll push API", "version": SCHEMA_VERSION,
                 "description": "1C:ZUP posts its HR data to hrsync when hrsync cannot reach the infobase. "
                                "A package is processed once per package_id; processing is asynchronous."},
        "servers": [{"url": server_url}],
        "components": {"schemas": components,
                       "securitySchemes": {"pushKey": {"type": "http", "scheme": "bearer",
                                                       "description": "The connection's push key (hrs_…)"}}},
        "paths": {
            "/payroll/api/v1/packages": {"post": {
                "summary": "Send a snapshot (or a part of one) or a batch of changes",
                "security": bearer,
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Package"}}}},
                "responses": {
                    "202": {"description": "Accepted; processing is queued",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PackageAccepted"}}}},
                    "200": {"description": "This package_id was received before; nothing new was done",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PackageAccepted"}}}},
                    **errors}}},
            "/payroll/api/v1/packages/{package_id}": {"get": {
                "summary": "Status and per-record results of a package",
                "security": bearer,
                "parameters": [{"name": "package_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "The package",
                                      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PackageStatus"}}}},
                              "401": errors["401"], "404": {"description": "No such package for this key"}}}},
        },
    }


def _rewrite_refs(node):
    """Point pydantic's `#/$defs/X` ($ref and discriminator mappings alike) at OpenAPI's components."""
    if isinstance(node, str):
        return node.replace("#/$defs/", "#/components/schemas/")
    if isinstance(node, dict):
        return {k: _rewrite_refs(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_rewrite_refs(v) for v in node]
    return node
