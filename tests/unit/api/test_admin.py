"""Model versions: the registry, activation, rollback."""

from __future__ import annotations

from api.model_holder import ModelHolder
from streamrec.errors import RegistryError
from tests.unit.api.conftest import World, serve


async def test_models_are_listed_and_activation_is_published(world: World) -> None:
    async with serve(world.deps()) as client:
        listed = await client.get("/v1/models")
        activated = await client.post("/v1/models/v2/activate")
        missing = await client.post("/v1/models/v9/activate")
    listing = listed.json()
    assert (listing["active"], listing["previous"], listing["versions"], listing["config"]) == (
        "v1",
        None,
        ["v1", "v2"],
        {},
    )
    assert [detail["version"] for detail in listing["details"]] == ["v1", "v2"]
    assert activated.status_code == 202
    assert activated.json() == {"version": "v2", "previous": "v1", "history": ["v1"]}
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


async def test_a_version_failing_verification_is_refused_and_not_recorded(world: World) -> None:
    def verify(version: str) -> None:
        if version == "v2":
            raise RegistryError("v2/model.npz: sha256 does not match the manifest")

    world.holder.verify = verify
    async with serve(world.deps()) as client:
        refused = await client.post("/v1/models/v2/activate")
    assert refused.status_code == 422
    assert "sha256" in refused.json()["error"]["message"]
    assert world.published.on("model-updates") == []


async def test_ready_says_when_an_older_version_is_served(world: World) -> None:
    world.holder.fallback = "model v3 cannot load; serving v1"
    async with serve(world.deps()) as client:
        ready = await client.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["status"] == "degraded"
    assert "model v3 cannot load; serving v1" in ready.json()["reasons"]
