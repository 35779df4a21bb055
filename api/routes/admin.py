"""Model versions: the registry and activation."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api.activation import publish_activation
from api.params import path_id
from api.state import state_of


async def list_models(request: Request) -> Response:
    """Versions in the registry with what their manifests say, the active and previous one,
    and the default ranking overrides activated with the active one."""
    models = state_of(request).deps.models
    versions = models.versions()
    active = models.current()
    return JSONResponse(
        {
            "active": active.version,
            "previous": models.previous,
            "config": dict(active.config),
            "versions": versions,
            "details": [models.describe(version) for version in versions],
        }
    )


async def activate_model(request: Request) -> Response:
    """Publish ModelActivated (keeping the default overrides); every worker loads the version
    and swaps to it."""
    api = state_of(request)
    activation = await publish_activation(api, path_id(request, "version"))
    return JSONResponse(
        {key: activation[key] for key in ("version", "previous", "history")}, status_code=202
    )
