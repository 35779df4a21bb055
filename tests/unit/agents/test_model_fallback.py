"""A worker that cannot load the newest activated version serves the newest loadable one."""

from __future__ import annotations

from typing import Any

from agents.serving import MODEL_FALLBACK, Serving
from api.model_holder import ModelHolder
from models.activation_chain import activation
from schemas.records import ModelActivated


class _Stub:
    def __init__(self, models: ModelHolder) -> None:
        self.models = models

    async def refresh_quietly(self) -> None:
        return None


def _loader(version: str) -> Any:
    if version == "v3":
        raise OSError("v3/model.npz: file is missing")
    return None


async def test_an_unloadable_version_falls_back_along_the_history() -> None:
    record: ModelActivated | None = None
    for n, version in enumerate(("v1", "v2", "v3")):
        record = activation(version, record, float(n))
    assert record is not None
    stub = _Stub(ModelHolder(_loader))
    await Serving.apply_activation(stub, record.dumps())  # type: ignore[arg-type]
    assert stub.models.current().version == "v2"
    assert stub.models.fallback == "model v3 cannot load; serving v2"
    assert MODEL_FALLBACK._value.get() == 1
    fixed = activation("v1", record, 9.0)
    await Serving.apply_activation(stub, fixed.dumps())  # type: ignore[arg-type]
    assert (stub.models.current().version, stub.models.fallback) == ("v1", None)
    assert MODEL_FALLBACK._value.get() == 0
