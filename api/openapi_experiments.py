"""The experiments part of the OpenAPI document: bodies, the metrics report and the paths."""

from __future__ import annotations

from typing import Any

from api.experiment_parse import CONFIG_KEYS, MAX_CONFIG_VALUE
from api.experiment_report import METRICS
from api.experiments import STATUSES
from api.openapi_builders import operation, path_param
from api.openapi_schemas import FREE_TEXT_PATTERN, Schema, listing, ref

NAME: Schema = {"type": "string", "pattern": "^[A-Za-z0-9_.-]{1,64}$"}
NUMBER_OR_NULL: Schema = {"type": ["number", "null"]}
INTERVAL: Schema = {
    "description": "95% interval [low, high], null while undefined",
    "anyOf": [
        {"type": "null"},
        {"type": "array", "minItems": 2, "maxItems": 2, "items": {"type": "number"}},
    ],
}
VARIANT: Schema = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": NAME,
        "weight": {"type": "number", "exclusiveMinimum": 0, "maximum": 1e6},
        "model_version": {"anyOf": [{"type": "null"}, NAME]},
        "shadow": {"type": "boolean", "description": "computed and logged, never shown"},
        "config": {
            "type": ["object", "null"],
            "description": "ranking overrides of this variant",
            "additionalProperties": False,
            "properties": {
                key: {"type": ["number", "boolean"], "minimum": 0, "maximum": MAX_CONFIG_VALUE}
                for key in sorted(CONFIG_KEYS)
            },
        },
    },
    "additionalProperties": False,
}
EXPERIMENT_BODY: Schema = {
    "type": "object",
    "required": ["id", "variants"],
    "properties": {
        "id": NAME,
        "description": {"type": "string", "maxLength": 1024, "pattern": FREE_TEXT_PATTERN},
        "status": {"enum": ["draft", "running"], "default": "running"},
        "layer": {**NAME, "default": "default"},
        "variants": {"type": "array", "minItems": 2, "maxItems": 10, "items": ref("Variant")},
    },
    "additionalProperties": False,
}
EXPERIMENT: Schema = {
    "type": "object",
    "required": ["id", "variants", "description", "status", "layer", "created_at", "run_id"],
    "properties": {
        **EXPERIMENT_BODY["properties"],
        "status": {"enum": list(STATUSES)},
        "variants": {"type": "array", "items": {"type": "object"}},
        "created_at": {"type": "number"},
        "updated_at": {"type": "number"},
        "run_id": {"type": "string"},
        "revision": {"type": "string"},
        "promoted": {"type": ["string", "null"]},
    },
}
COUNTS = ("users", "requests", "impressions", "clicks", "conversions", "converted_users")
VARIANT_METRICS: Schema = {
    "type": "object",
    "required": ["variant", *COUNTS, *METRICS],
    "properties": {
        "variant": {"type": "string"},
        "weight": {"type": "number"},
        **{k: {"type": "integer"} for k in COUNTS},
        **{
            f"{metric}{suffix}": INTERVAL if suffix.endswith("_ci") else NUMBER_OR_NULL
            for metric in METRICS
            for suffix in (
                "",
                "_ci",
                "_difference",
                "_difference_ci",
                "_lift",
                "_lift_ci",
                "_p_value",
            )
        },
    },
}
METRICS_REPORT: Schema = {
    "type": "object",
    "required": ["experiment_id", "control", "variants", "sample_ratio", "notices"],
    "properties": {
        "experiment_id": {"type": "string"},
        "run_id": {"type": "string"},
        "status": {"type": "string"},
        "layer": {"type": "string"},
        "control": {"type": "string"},
        "confidence": {"type": "number"},
        "method": {"type": "string"},
        "variants": {"type": "array", "items": ref("VariantMetrics")},
        "shadow_variants": {"type": "array", "items": {"type": "string"}},
        "sample_ratio": {"type": ["object", "null"]},
        "notices": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            },
        },
        "timeline": {
            "type": "object",
            "description": "running totals of each variant at the end of each time bucket",
            "required": ["bucket_seconds", "starts", "cumulative"],
            "properties": {
                "bucket_seconds": {"type": "integer"},
                "starts": {
                    "type": "array",
                    "items": {"type": "integer", "description": "bucket start, epoch seconds"},
                },
                "cumulative": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "object"}},
                },
            },
        },
    },
}
TALLIES: Schema = {
    "type": "object",
    "required": ["partitions", "variants"],
    "properties": {
        "partitions": {"type": "array", "items": {"type": "integer"}},
        "variants": {"type": "object"},
        "timelines": {"type": "object"},
    },
}
EMPTY: Schema = {"type": "object", "maxProperties": 0}
COMPONENTS: dict[str, Schema] = {
    "Variant": VARIANT,
    "ExperimentBody": EXPERIMENT_BODY,
    "Experiment": EXPERIMENT,
    "VariantMetrics": VARIANT_METRICS,
}


def experiment_paths() -> dict[str, Any]:
    """The experiments routes."""
    one = [path_param("experiment_id", "experiment id")]
    return {
        "/v1/experiments": {
            "get": operation(
                "Every experiment", "reader", (200, listing("experiments", ref("Experiment")))
            ),
            "post": operation(
                "Define an experiment (422 names a variant whose model version is unknown; "
                "409 when it would overlap a running one)",
                "admin",
                (201, ref("Experiment")),
                (409, 503),
                body=ref("ExperimentBody"),
            ),
        },
        "/v1/experiments/{experiment_id}": {
            "get": operation("One experiment", "reader", (200, ref("Experiment")), (404, 422), one),
            "delete": operation(
                "Delete an experiment",
                "admin",
                (200, {"type": "object"}),
                (400, 404, 409, 422, 503),
                one,
            ),
        },
        **{
            f"/v1/experiments/{{experiment_id}}/{step}": {
                "post": operation(
                    summary, "admin", (200, ref("Experiment")), (400, 404, 409, 422, 503), one
                )
            }
            for step, summary in (
                ("start", "Run a draft or stopped experiment"),
                ("stop", "Stop assigning users"),
            )
        },
        "/v1/experiments/{experiment_id}/promote": {
            "post": operation(
                "Make a variant's model and overrides the default (as an activation) and end "
                "the experiment",
                "admin",
                (200, ref("Experiment")),
                (404, 409, 503),
                one,
                body={
                    "type": "object",
                    "required": ["variant"],
                    "properties": {"variant": NAME},
                    "additionalProperties": False,
                },
            )
        },
        "/v1/experiments/{experiment_id}/metrics": {
            "get": operation(
                "User-level metrics per variant with 95% intervals, SRM check and notices",
                "reader",
                (200, METRICS_REPORT),
                (404, 422, 503),
                one,
            )
        },
        "/v1/experiments/{experiment_id}/tallies": {
            "get": operation(
                "This worker's share of the tallies (the partitions it owns)",
                "reader",
                (200, TALLIES),
                (404, 422, 503),
                one,
            )
        },
    }
