"""Health, readiness, metrics, docs, the OpenAPI document and error mapping."""

from __future__ import annotations

from api.app import ROUTES
from api.model_holder import ModelHolder
from models.context import CONTEXT_STAGE
from models.pipeline import STEPS
from tests.unit.api.conftest import World, serve


async def test_health_is_always_ok(world: World) -> None:
    async with serve(world.deps()) as client:
        answer = await client.get("/health")
    assert answer.json() == {"status": "ok"}


async def test_ready_without_redis_is_200_but_degraded(world: World) -> None:
    async with serve(world.deps(redis=None)) as client:
        answer = await client.get("/ready")
    assert answer.status_code == 200
    assert answer.json()["status"] == "degraded"
    assert "redis unavailable" in answer.json()["reasons"][0]


async def test_ready_is_503_while_partitions_recover_or_no_model_is_loaded(world: World) -> None:
    recovering = world.deps(readiness=lambda: (False, ["partitions recovering: 3 of 8"]))
    no_model = world.deps(models=ModelHolder(lambda version: None))  # type: ignore[arg-type, return-value]
    async with serve(recovering) as client:
        first = await client.get("/ready")
    async with serve(no_model) as client:
        second = await client.get("/ready")
    assert first.status_code == 503
    assert first.headers["retry-after"] == "5"
    assert first.json()["error"]["details"]["reasons"] == ["partitions recovering: 3 of 8"]
    assert second.status_code == 503
    assert second.json()["error"]["details"]["reasons"] == ["no model loaded"]


async def test_metrics_expose_route_and_stage_latency_and_the_active_model(world: World) -> None:
    async with serve(world.deps()) as client:
        await client.get("/v1/recommendations", params={"user_id": "u"})
        text = (await client.get("/metrics")).text
    route = 'method="GET",route="/v1/recommendations",status="200"'
    assert f"streamrec_http_request_seconds_count{{{route}}} 1.0" in text
    for stage in [CONTEXT_STAGE, *(name for name, _ in STEPS)]:  # once per page, by name
        assert f'streamrec_stage_seconds_count{{stage="{stage}"}} 1.0' in text
    assert 'streamrec_active_model{version="v1"} 1.0' in text
    assert 'streamrec_cache_requests_total{result="disabled"} 1.0' in text


async def test_openapi_covers_every_route_and_the_error_schema(world: World) -> None:
    async with serve(world.deps()) as client:
        spec = (await client.get("/openapi.json")).json()
        docs = (await client.get("/docs")).text
    documented = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops}
    served = {(r.path, m) for r in ROUTES for m in (r.methods or ()) if m != "HEAD"}
    assert documented == served
    assert "Error" in spec["components"]["schemas"]
    assert "/openapi.json" in docs and "swagger-ui-bundle.js" in docs


async def test_unknown_routes_and_methods_use_the_error_body(world: World) -> None:
    async with serve(world.deps()) as client:
        missing = await client.get("/v2/nothing")
        wrong_method = await client.patch("/v1/events")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"
    assert "POST" in wrong_method.headers["allow"]
