"""Experiments through the log: validation, layers, lifecycle, promotion, shadow, opt-out."""

from __future__ import annotations

from typing import Any

import pytest

from api.experiment_log import ExperimentLog, ExperimentView, decode, encode
from api.experiments import Experiment, Variant
from models.types import UserView
from streamrec.errors import NotReady
from tests.unit.api.conftest import World, serve

EXPERIMENT: dict[str, Any] = {
    "id": "ranker-test",
    "variants": [
        {"name": "control"},
        {"name": "more-explore", "weight": 1, "config": {"exploration_slots": 4}},
    ],
}


def explores(page: dict[str, Any]) -> int:
    return sum(i["reason"]["type"] == "explore" for i in page["items"])


async def test_an_experiment_is_published_to_the_log_and_listed(world: World) -> None:
    async with serve(world.deps()) as client:
        created = await client.post("/v1/experiments", json=EXPERIMENT)
        duplicate = await client.post("/v1/experiments", json=EXPERIMENT)
        listed = await client.get("/v1/experiments")
        one = await client.get("/v1/experiments/ranker-test")
    assert created.status_code == 201
    assert (created.json()["status"], created.json()["layer"]) == ("running", "default")
    assert duplicate.status_code == 409
    assert [e["id"] for e in listed.json()["experiments"]] == ["ranker-test"]
    assert one.json()["run_id"] == created.json()["run_id"]
    [(key, record)] = world.published.on("experiments")
    assert key == "ranker-test" and record is not None
    assert record["variants"][1]["config"] == {"exploration_slots": 4}


async def test_a_variant_naming_a_version_not_in_the_registry_is_422_naming_it(
    world: World,
) -> None:
    body = {"id": "x", "variants": [{"name": "control"}, {"name": "new", "model_version": "v9"}]}
    async with serve(world.deps()) as client:
        answer = await client.post("/v1/experiments", json=body)
        listed = await client.get("/v1/experiments")
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["details"]["field"] == "variants[1].model_version"
    assert "'new'" in error["message"] and "v9" in error["message"]
    assert listed.json()["experiments"] == []


async def test_invalid_experiment_bodies_name_the_field(world: World) -> None:
    cases = {
        "variants": {"id": "x", "variants": [{"name": "a"}]},
        "layer": {**EXPERIMENT, "layer": "no spaces"},
        "status": {**EXPERIMENT, "status": "stopped"},
        "variants[0].shadow": {"id": "x", "variants": [{"name": "a", "shadow": 1}, {"name": "b"}]},
        "colour": {**EXPERIMENT, "colour": "red"},
    }
    async with serve(world.deps()) as client:
        for field, body in cases.items():
            answer = await client.post("/v1/experiments", json=body)
            assert answer.status_code == 422, field
            assert answer.json()["error"]["details"]["field"] == field


async def test_overlapping_running_experiments_are_409_unless_in_other_layers(
    world: World,
) -> None:
    second = {"id": "second", "variants": [{"name": "a"}, {"name": "b"}]}
    same_knob = {
        "id": "knob",
        "layer": "other",
        "variants": [{"name": "a"}, {"name": "b", "config": {"exploration_slots": 0}}],
    }
    layout = {
        "id": "layout",
        "layer": "layout",
        "variants": [{"name": "a"}, {"name": "b", "config": {"max_category_share": 0.3}}],
    }
    async with serve(world.deps()) as client:
        await client.post("/v1/experiments", json=EXPERIMENT)
        refused = await client.post("/v1/experiments", json=second)
        clash = await client.post("/v1/experiments", json=same_knob)
        beside = await client.post("/v1/experiments", json=layout)
        draft = await client.post("/v1/experiments", json={**second, "status": "draft"})
        start = await client.post("/v1/experiments/second/start")
        page = (await client.get("/v1/recommendations", params={"user_id": "u1"})).json()
    assert refused.status_code == 409
    assert refused.json()["error"]["details"]["conflicts_with"] == "ranker-test"
    assert clash.status_code == 409
    assert clash.json()["error"]["details"]["parameters"] == ["exploration_slots"]
    assert beside.status_code == 201
    assert (draft.status_code, start.status_code) == (201, 409)
    assert {e["id"] for e in page["experiments"]} == {"ranker-test", "layout"}
    assert page["experiment"]["id"] == page["experiments"][0]["id"]


def test_users_are_hashed_independently_per_layer(world: World) -> None:
    first = Experiment("a", (Variant("x"), Variant("y")), layer="one")
    second = Experiment("b", (Variant("x"), Variant("y")), layer="two")
    log = world.deps().experiments
    book = log.book().applied("a", first).applied("b", second)
    pairs = [tuple(a.variant.name for a in book.assign(f"u{n}")) for n in range(4000)]
    share = sum(pair == ("x", "x") for pair in pairs) / len(pairs)
    assert share == pytest.approx(0.25, abs=0.03)


async def test_the_lifecycle_start_stop_delete_changes_who_is_assigned(world: World) -> None:
    async with serve(world.deps()) as client:

        async def experiment_of(user: str) -> Any:
            page = await client.get("/v1/recommendations", params={"user_id": user})
            return page.json()["experiment"]

        await client.post("/v1/experiments", json={**EXPERIMENT, "status": "draft"})
        assert await experiment_of("u1") is None
        promote_draft = await client.post(
            "/v1/experiments/ranker-test/promote", json={"variant": "control"}
        )
        started = await client.post("/v1/experiments/ranker-test/start")
        assert (await experiment_of("u1"))["id"] == "ranker-test"
        stopped = await client.post("/v1/experiments/ranker-test/stop", json={})
        assert await experiment_of("u1") is None
        restarted = await client.post("/v1/experiments/ranker-test/start")
        deleted = await client.delete("/v1/experiments/ranker-test")
        gone = await client.get("/v1/experiments/ranker-test")
        metrics = await client.get("/v1/experiments/ranker-test/metrics")
        assert await experiment_of("u1") is None
    assert promote_draft.status_code == 409
    assert [started.json()["status"], stopped.json()["status"]] == ["running", "stopped"]
    assert restarted.json()["run_id"] == started.json()["run_id"]
    assert deleted.json() == {"id": "ranker-test", "deleted": True}
    assert (gone.status_code, metrics.status_code) == (404, 404)
    assert world.published.on("experiments")[-1] == ("ranker-test", None)


async def test_promote_makes_the_variants_model_and_config_the_default(world: World) -> None:
    body = {
        "id": "ranker-test",
        "variants": [
            {"name": "control"},
            {"name": "v2-explore", "model_version": "v2", "config": {"exploration_slots": 4}},
        ],
    }
    async with serve(world.deps()) as client:
        await client.post("/v1/experiments", json=body)
        promoted = await client.post(
            "/v1/experiments/ranker-test/promote", json={"variant": "v2-explore"}
        )
        [(_, activation)] = world.published.on("model-updates")
        assert activation is not None
        # What every worker does with the record (agents.serving.apply_activation):
        await world.holder.load_version(
            activation["version"], activation["previous"], activation["config"]
        )
        pages = [
            (await client.get("/v1/recommendations", params={"user_id": f"u{n}"})).json()
            for n in range(6)
        ]
        models = (await client.get("/v1/models")).json()
        again = await client.post("/v1/experiments/ranker-test/start")
    assert promoted.status_code == 200
    assert (promoted.json()["status"], promoted.json()["promoted"]) == ("promoted", "v2-explore")
    assert activation["version"] == "v2" and activation["config"] == {"exploration_slots": 4}
    assert activation["promoted_from"] == "ranker-test/v2-explore"
    assert promoted.json()["activation"]["applied"] is False  # no worker applies it here
    assert {(p["model_version"], p["experiment"] is None, explores(p)) for p in pages} == {
        ("v2", True, 4)
    }
    assert (models["active"], models["config"]) == ("v2", {"exploration_slots": 4})
    assert again.status_code == 409


async def test_opted_out_users_are_not_put_into_experiments(world: World) -> None:
    world.users["quiet"] = UserView("quiet", opted_out=True)
    async with serve(world.deps()) as client:
        await client.post("/v1/experiments", json=EXPERIMENT)
        page = (await client.get("/v1/recommendations", params={"user_id": "quiet"})).json()
    assert (page["experiment"], page["experiments"]) == (None, [])
    [(_, impression)] = world.published.on("impressions")
    assert impression is not None and impression["experiments"] is None


async def test_a_shadow_variant_is_computed_and_logged_but_never_shown(world: World) -> None:
    body = {
        "id": "shadowed",
        "variants": [
            {"name": "control"},
            {"name": "bold", "shadow": True, "config": {"exploration_slots": 4}},
        ],
    }
    async with serve(world.deps()) as client:
        await client.post("/v1/experiments", json=body)
        pages = [
            (await client.get("/v1/recommendations", params={"user_id": f"u{n}"})).json()
            for n in range(8)
        ]
        metrics = (await client.get("/v1/experiments/shadowed/metrics")).json()
    assert {p["experiment"]["variant"] for p in pages} == {"control"}
    assert {explores(p) for p in pages} == {2}
    impressions = [i for _, i in world.published.on("impressions") if i]
    assert len(impressions) == 8
    for impression in impressions:
        [shadow] = impression["shadow"]
        assert (shadow["experiment_id"], shadow["variant"]) == ("shadowed", "bold")
        assert len(shadow["items"]) == len(impression["items"])
    assert [v["variant"] for v in metrics["variants"]] == ["control"]
    assert metrics["shadow_variants"] == ["bold"]


async def test_lifecycle_routes_take_the_consoles_bodies(world: World) -> None:
    async with serve(world.deps()) as client:
        await client.post("/v1/experiments", json=EXPERIMENT)
        stop = await client.post("/v1/experiments/ranker-test/stop", json={})
        odd = await client.post("/v1/experiments/ranker-test/stop", json={"now": True})
        promote = await client.post(
            "/v1/experiments/ranker-test/promote", json={"variant": "more-explore"}
        )
        unknown = await client.post("/v1/experiments/nope/stop", json={})
    assert (stop.status_code, odd.status_code, promote.status_code) == (200, 422, 200)
    assert unknown.status_code == 404


async def test_a_start_that_loses_a_race_in_the_log_is_409_and_stays_a_draft(
    world: World,
) -> None:
    """Two workers start overlapping experiments at once: the log's order decides."""
    view = ExperimentView()
    rival = Experiment("rival", (Variant("a"), Variant("b")), status="running", revision="r")
    offsets = [0]

    async def send(key: str, value: bytes | None) -> tuple[int, int]:
        if key == "mine" and value is not None and decode(value).status == "running":
            await view.apply(0, offsets[0], "rival", encode(rival))  # published just before
            offsets[0] += 1
        await view.apply(0, offsets[0], key, value)
        offsets[0] += 1
        return 0, offsets[0] - 1

    body = {"id": "mine", "variants": [{"name": "a"}, {"name": "b"}]}
    async with serve(world.deps(experiments=ExperimentLog(view, send))) as client:
        answer = await client.post("/v1/experiments", json=body)
        mine = (await client.get("/v1/experiments/mine")).json()
    assert answer.status_code == 409
    assert answer.json()["error"]["details"]["conflicts_with"] == "rival"
    assert mine["status"] == "draft"


async def test_a_write_this_worker_has_not_applied_in_time_is_503() -> None:
    view = ExperimentView()
    with pytest.raises(NotReady):
        await view.wait(0, 5, timeout=0.05)
    await view.apply(0, 5, "x", None)
    await view.wait(0, 5, timeout=0.05)
