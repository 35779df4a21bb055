"""The OpenAPI 3.1 document of the v1 HTTP contract, written by hand from DESIGN.md."""

from __future__ import annotations

from typing import Any

from api.openapi_builders import (
    ACCEPTED,
    COUNT,
    EVENTS_BODY,
    event_links,
    operation,
    path_param,
    query_param,
)
from api.openapi_experiments import COMPONENTS as EXPERIMENT_COMPONENTS
from api.openapi_experiments import experiment_paths
from api.openapi_items import item_paths
from api.openapi_ops import MODEL_VERSION, STATS, ops_paths
from api.openapi_schemas import COMPONENTS, ID, interaction, listing, ref
from schemas.times import DEFAULT_LIMITS, InputLimits


def _user_paths() -> dict[str, Any]:
    user_id = path_param("user_id", "user id")
    return {
        "/v1/recommendations": {
            "get": operation(
                "A page of recommendations for a user",
                "reader",
                (200, ref("Recommendations")),
                (404, 422, 503),
                [
                    query_param(
                        "user_id", ID, "the user (unknown users get cold-start results)", True
                    ),
                    COUNT,
                    query_param(
                        "exclude", {"type": "string"}, "comma-separated item ids to leave out"
                    ),
                    query_param(
                        "category",
                        {"type": "string", "maxLength": 1024},
                        "only items of this category",
                    ),
                ],
            )
        },
        "/v1/users/{user_id}/history": {
            "get": operation(
                "The short-term history held for a user",
                "reader",
                (
                    200,
                    {
                        **listing("items", ref("HistoryItem")),
                        "properties": {
                            "user_id": {"type": "string"},
                            "opted_out": {"type": "boolean"},
                            "items": {"type": "array", "items": ref("HistoryItem")},
                        },
                    },
                ),
                (404, 422, 503),
                [user_id],
            )
        },
        "/v1/users/{user_id}/consent": {
            "put": operation(
                "Opt a user out of or back into personalisation",
                "admin",
                (
                    202,
                    {
                        "type": "object",
                        "required": ["user_id", "opted_out"],
                        "properties": {
                            "user_id": {"type": "string"},
                            "opted_out": {"type": "boolean"},
                        },
                    },
                ),
                (503,),
                [user_id],
                body={
                    "type": "object",
                    "required": ["opted_out"],
                    "properties": {"opted_out": {"type": "boolean"}},
                },
            )
        },
        "/v1/users/{user_id}": {
            "delete": operation(
                "Erase a user from every table",
                "admin",
                (
                    202,
                    {
                        "type": "object",
                        "required": ["user_id", "erased"],
                        "properties": {
                            "user_id": {"type": "string"},
                            "erased": {"type": "boolean"},
                        },
                    },
                ),
                (422, 503),
                [user_id],
            )
        },
    }


def _admin_paths() -> dict[str, Any]:
    return {
        "/v1/models": {
            "get": operation(
                "Registry versions and the active one",
                "admin",
                (
                    200,
                    {
                        "type": "object",
                        "required": ["active", "previous", "versions", "details"],
                        "properties": {
                            "active": {"type": "string"},
                            "previous": {"type": ["string", "null"]},
                            "config": {"type": "object"},
                            "versions": {"type": "array", "items": {"type": "string"}},
                            "details": {"type": "array", "items": ref("ModelVersion")},
                        },
                    },
                ),
            )
        },
        "/v1/models/{version}/activate": {
            "post": operation(
                "Activate a version on every worker (also rollback)",
                "admin",
                (
                    202,
                    {
                        "type": "object",
                        "required": ["version", "previous"],
                        "properties": {
                            "version": {"type": "string"},
                            "previous": {"type": "string"},
                        },
                    },
                ),
                (404, 422, 503),
                [path_param("version", "model version")],
            )
        },
    }


def build_spec(limits: InputLimits = DEFAULT_LIMITS) -> dict[str, Any]:
    """The complete OpenAPI document (a rating's bounds are the configured ones)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "streamrec",
            "version": "1",
            "description": "Real-time recommendations served from every worker. Errors are "
            '`{"error": {"code", "message", "details"}}`.',
        },
        "paths": {
            "/v1/events": {
                "post": operation(
                    "Record one event or a batch (all valid or none published)",
                    "writer",
                    (202, ACCEPTED),
                    (503,),
                    body=EVENTS_BODY,
                    links=event_links(),
                )
            },
            **item_paths(),
            **_user_paths(),
            **experiment_paths(),
            **_admin_paths(),
            **ops_paths(),
        },
        "components": {
            "schemas": {
                **COMPONENTS,
                **EXPERIMENT_COMPONENTS,
                "Interaction": interaction(limits),
                "ModelVersion": MODEL_VERSION,
                "Stats": STATS,
            },
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
        "security": [{"bearer": []}],
    }
