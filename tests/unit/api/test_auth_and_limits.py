"""JWT roles and per-client rate limits."""

from __future__ import annotations

import time

from api.auth import issue_token
from api.deps import RateLimitPolicy
from tests.unit.api.conftest import SECRET, World, auth_settings, serve

EVENT = {"user_id": "u", "item_id": "crime-1", "type": "view", "timestamp": 1}


def _bearer(role: str, secret: str = SECRET) -> dict[str, str]:
    return {"authorization": f"Bearer {issue_token(secret, 'client-1', role)}"}


async def test_without_a_token_protected_routes_are_401(world: World) -> None:
    async with serve(world.deps(settings=auth_settings())) as client:
        missing = await client.get("/v1/recommendations", params={"user_id": "u"})
        forged = await client.get(
            "/v1/recommendations",
            params={"user_id": "u"},
            headers=_bearer("admin", "another-secret-of-at-least-32-bytes"),
        )
        expired = await client.get(
            "/v1/recommendations",
            params={"user_id": "u"},
            headers={
                "authorization": "Bearer "
                + issue_token(SECRET, "c", "admin", 60, now=time.time() - 65)
            },
        )
    assert [a.status_code for a in (missing, forged, expired)] == [401, 401, 401]
    assert missing.json()["error"]["code"] == "unauthorized"


async def test_roles_are_ordered_reader_writer_admin(world: World) -> None:
    async with serve(world.deps(settings=auth_settings())) as client:
        reader_reads = await client.get("/v1/experiments", headers=_bearer("reader"))
        reader_writes = await client.post("/v1/events", json=EVENT, headers=_bearer("reader"))
        writer_writes = await client.post("/v1/events", json=EVENT, headers=_bearer("writer"))
        writer_reads = await client.get("/v1/items/crime-1/similar", headers=_bearer("writer"))
        writer_admin = await client.delete("/v1/users/u", headers=_bearer("writer"))
        admin_admin = await client.delete("/v1/users/u", headers=_bearer("admin"))
        admin_reads = await client.get("/v1/users/x/history", headers=_bearer("admin"))
    assert reader_reads.status_code == 200
    assert reader_writes.status_code == 403
    assert reader_writes.json()["error"]["code"] == "forbidden"
    assert writer_writes.status_code == 202
    assert writer_reads.status_code == 200
    assert writer_admin.status_code == 403
    assert admin_admin.status_code == 202
    assert admin_reads.status_code == 404


async def test_operational_routes_need_no_token(world: World) -> None:
    async with serve(world.deps(settings=auth_settings())) as client:
        statuses = [(await client.get(p)).status_code for p in ("/health", "/metrics", "/docs")]
    assert statuses == [200, 200, 200]


async def test_auth_off_lets_anyone_call_admin_routes(world: World) -> None:
    async with serve(world.deps()) as client:
        answer = await client.get("/v1/models")
    assert answer.status_code == 200


async def test_a_client_over_its_budget_gets_429_with_retry_after(world: World) -> None:
    deps = world.deps(rate_limit=RateLimitPolicy(burst=3, per_second=0.5))
    async with serve(deps) as client:
        statuses = [(await client.get("/v1/experiments")).status_code for _ in range(4)]
        refused = await client.get("/v1/experiments")
        health = await client.get("/health")
    assert statuses == [200, 200, 200, 429]
    assert refused.json()["error"]["code"] == "rate_limited"
    assert refused.headers["retry-after"] == "2"
    assert health.status_code == 200


async def test_token_subjects_have_separate_budgets(world: World) -> None:
    deps = world.deps(settings=auth_settings(), rate_limit=RateLimitPolicy(burst=1, per_second=0.1))
    one = {"authorization": f"Bearer {issue_token(SECRET, 'one', 'reader')}"}
    two = {"authorization": f"Bearer {issue_token(SECRET, 'two', 'reader')}"}
    async with serve(deps) as client:
        first = await client.get("/v1/experiments", headers=one)
        second = await client.get("/v1/experiments", headers=one)
        other = await client.get("/v1/experiments", headers=two)
    assert (first.status_code, second.status_code, other.status_code) == (200, 429, 200)
