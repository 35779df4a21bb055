"""Experiments and model versions."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.experiments import ExperimentStore
from api.model_holder import ModelHolder
from tables.experiments import VariantTally
from tests.unit.api.conftest import World, serve

EXPERIMENT = {
    "id": "ranker-test",
    "variants": [
        {"name": "control"},
        {"name": "more-explore", "weight": 1, "config": {"exploration_slots": 4}},
    ],
}


async def test_experiments_are_created_listed_and_persisted(world: World, tmp_path: Path) -> None:
    store = ExperimentStore(tmp_path / "experiments.json")
    async with serve(world.deps(experiments=store)) as client:
        created = await client.post("/v1/experiments", json=EXPERIMENT)
        duplicate = await client.post("/v1/experiments", json=EXPERIMENT)
        listed = await client.get("/v1/experiments")
    assert created.status_code == 201
    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["code"] == "conflict"
    assert [e["id"] for e in listed.json()["experiments"]] == ["ranker-test"]
    reloaded = ExperimentStore(tmp_path / "experiments.json")
    assert [v.name for v in reloaded.get("ranker-test").variants] == ["control", "more-explore"]


async def test_invalid_experiment_names_the_field(world: World) -> None:
    async with serve(world.deps()) as client:
        answer = await client.post("/v1/experiments", json={"id": "x", "variants": [{"name": "a"}]})
    assert answer.status_code == 422
    assert answer.json()["error"]["details"]["field"] == "variants"


async def test_variant_config_changes_the_served_page(world: World) -> None:
    async with serve(world.deps()) as client:
        await client.post("/v1/experiments", json=EXPERIMENT)
        pages = [
            (await client.get("/v1/recommendations", params={"user_id": f"u{n}"})).json()
            for n in range(12)
        ]
    explore_counts = {
        p["experiment"]["variant"]: sum(i["reason"]["type"] == "explore" for i in p["items"])
        for p in pages
    }
    assert explore_counts == {"control": 2, "more-explore": 4}


async def test_experiment_metrics_compare_variants_with_the_control(world: World) -> None:
    world.tallies["ranker-test"] = {
        "control": VariantTally(impressions=1000, requests=100, clicks=50, conversions=5),
        "more-explore": VariantTally(impressions=1000, requests=100, clicks=80, conversions=9),
    }
    async with serve(world.deps()) as client:
        await client.post("/v1/experiments", json=EXPERIMENT)
        answer = await client.get("/v1/experiments/ranker-test/metrics")
        unknown = await client.get("/v1/experiments/nope/metrics")
    variants = {v["variant"]: v for v in answer.json()["variants"]}
    assert variants["control"]["ctr"] == 0.05
    assert variants["more-explore"]["ctr_lift"] == pytest.approx(0.6)
    assert variants["more-explore"]["ctr_p_value"] < 0.01
    assert unknown.status_code == 404


async def test_models_are_listed_and_activation_is_published(world: World) -> None:
    async with serve(world.deps()) as client:
        listed = await client.get("/v1/models")
        activated = await client.post("/v1/models/v2/activate")
        missing = await client.post("/v1/models/v9/activate")
    listing = listed.json()
    assert (listing["active"], listing["previous"], listing["versions"]) == (
        "v1",
        None,
        ["v1", "v2"],
    )
    assert [detail["version"] for detail in listing["details"]] == ["v1", "v2"]
    assert activated.status_code == 202
    assert activated.json() == {"version": "v2", "previous": "v1"}
    [(key, record)] = world.published.on("model-updates")
    assert record is not None
    assert (key, record["version"], record["previous"]) == ("active", "v2", "v1")
    assert missing.status_code == 404


async def test_a_swap_remembers_the_version_a_rollback_restores(world: World) -> None:
    world.holder.swap(None, "v2")
    async with serve(world.deps()) as client:
        listed = (await client.get("/v1/models")).json()
    assert (listed["active"], listed["previous"]) == ("v2", "v1")


async def test_a_restarted_worker_learns_the_previous_version_from_the_activation(
    world: World,
) -> None:
    holder = ModelHolder(lambda version: None)  # type: ignore[arg-type, return-value]
    await holder.load_version("v2", previous="v1")
    assert (holder.current().version, holder.previous) == ("v2", "v1")
