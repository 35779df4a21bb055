"""GET /v1/experiments/{id}/metrics: user-level report, the same from every worker."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

from api.app import create_app
from api.experiments import Experiment
from tables.experiments import TallyFold, arm_key, sums_key
from tables.variant_sums import TallyShard, VariantSums
from tests.unit.api.conftest import World, serve

EXPERIMENT = {"id": "exp", "variants": [{"name": "control"}, {"name": "treatment"}]}
OTHER = "http://other.test"
PARTITIONS = 8


def tallies(users: int, clicks_every: int, partition: int = 0) -> dict[str, VariantSums]:
    """Sums of `users` users per variant shown 10 items each; every `clicks_every`-th clicks
    twice (control) or three times (treatment), as the fold would count them."""
    store: dict[str, Any] = {}
    fold = TallyFold(partition, store.get)
    for variant, clicks in (("control", 2), ("treatment", 3)):
        for n in range(users):
            user = f"{variant}-{partition}-{n}"
            fold.impression(user, f"r-{user}", [arm_key("exp", "run", variant)], 10)
            if n % clicks_every == 0:
                for c in range(clicks):
                    fold.outcome(user, f"e-{user}-{c}", f"r-{user}", "click")
    return {
        v: VariantSums.from_json(fold.writes[sums_key(arm_key("exp", "run", v), partition)])
        for v in ("control", "treatment")
    }


async def test_metrics_give_user_level_intervals_for_each_variant_and_the_difference(
    world: World,
) -> None:
    world.tallies["exp"] = tallies(users=400, clicks_every=4)
    async with serve(world.deps()) as client:
        await client.post("/v1/experiments", json=EXPERIMENT)
        body = (await client.get("/v1/experiments/exp/metrics")).json()
    control, treatment = body["variants"]
    assert (control["users"], control["impressions"], control["clicks"]) == (400, 4000, 200)
    assert control["ctr"] == pytest.approx(0.05)
    assert treatment["ctr"] == pytest.approx(0.075)
    low, high = treatment["ctr_ci"]
    assert low < 0.075 < high
    assert treatment["ctr_difference"] == pytest.approx(0.025)
    d_low, d_high = treatment["ctr_difference_ci"]
    assert d_low < 0.025 < d_high
    assert treatment["ctr_lift"] == pytest.approx(0.5)
    assert 0 < treatment["ctr_p_value"] < 0.05
    assert control["ctr_difference"] is None and control["ctr_p_value"] is None
    assert body["sample_ratio"]["mismatch"] is False
    assert body["notices"] == []
    assert body["control"] == "control" and body["confidence"] == 0.95


async def test_small_samples_and_a_broken_split_come_with_notices(world: World) -> None:
    sums = tallies(users=30, clicks_every=2)
    sums["treatment"] = tallies(users=90, clicks_every=2)["treatment"]
    world.tallies["exp"] = sums
    async with serve(world.deps()) as client:
        await client.post("/v1/experiments", json=EXPERIMENT)
        body = (await client.get("/v1/experiments/exp/metrics")).json()
    assert [n["code"] for n in body["notices"]] == ["small_sample", "sample_ratio_mismatch"]
    assert body["sample_ratio"]["observed"] == {"control": 30, "treatment": 90}
    assert all(v["ctr_ci"][0] >= 0 for v in body["variants"])


def split(world: World, owned: range) -> World:
    """A worker's world holding only the tallies of the partitions it owns."""
    mine = World(published=world.published)
    mine.tallies = world.tallies

    def shard(experiment: Experiment) -> TallyShard:
        variants: dict[str, VariantSums] = {}
        for partition in owned:
            for name, sums in tallies(100, 3 + partition % 2, partition).items():
                variants[name] = variants.get(name, VariantSums()).merge(sums)
        return TallyShard(tuple(owned), variants)

    mine.shard = shard  # type: ignore[method-assign]
    return mine


async def test_metrics_are_the_same_whichever_worker_answers(world: World) -> None:
    log = world.deps().experiments
    lone = split(world, range(PARTITIONS))
    first, second = split(world, range(0, 4)), split(world, range(4, 8))
    members = [
        {"url": "http://first.test", "partitions": list(range(0, 4))},
        {"url": OTHER, "partitions": list(range(4, 8))},
    ]

    def app_of(own: World, url: str, peer: httpx.AsyncClient | None) -> Any:
        listed = [{**m, "self": m["url"] == url} for m in members]
        return create_app(
            own.deps(
                experiments=log,
                workers=lambda: listed,
                http=peer,
                registry=CollectorRegistry(),
            )
        )

    second_app = app_of(second, OTHER, None)
    peer = httpx.AsyncClient(transport=httpx.ASGITransport(app=second_app))
    async with serve(lone.deps(experiments=log)) as client:
        await client.post("/v1/experiments", json=EXPERIMENT)
        alone = (await client.get("/v1/experiments/exp/metrics")).json()
    front = app_of(first, "http://first.test", peer)
    transport = httpx.ASGITransport(app=front)
    async with httpx.AsyncClient(transport=transport, base_url="http://first.test") as client:
        together = (await client.get("/v1/experiments/exp/metrics")).json()
        share = (await client.get("/v1/experiments/exp/tallies")).json()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=second_app), base_url=OTHER
    ) as client:
        other_share = (await client.get("/v1/experiments/exp/tallies")).json()
    await peer.aclose()
    assert together == alone
    assert together["variants"][0]["users"] == 800
    assert (share["partitions"], other_share["partitions"]) == ([0, 1, 2, 3], [4, 5, 6, 7])


async def test_metrics_missing_a_partition_are_503_not_a_partial_answer(world: World) -> None:
    partial = split(world, range(0, 4))
    async with serve(partial.deps()) as client:
        await client.post("/v1/experiments", json=EXPERIMENT)
        answer = await client.get("/v1/experiments/exp/metrics")
    assert answer.status_code == 503
    assert answer.json()["error"]["details"]["missing"] == [4, 5, 6, 7]
