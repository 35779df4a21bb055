"""`create_app(deps)`: the Starlette application the worker serves in its event loop."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import Route

from api.deps import ServingDeps
from api.errors import handle_error
from api.routes import admin, events, items, ops, recommendations, users
from api.state import ApiState, guarded
from streamrec.errors import RecsysError

ROUTES: tuple[Route, ...] = (
    guarded("/v1/events", events.post_events, ["POST"], "writer"),
    guarded("/v1/items", items.post_items, ["POST"], "writer"),
    guarded("/v1/items/{item_id}", items.put_item, ["PUT"], "writer"),
    guarded("/v1/items/{item_id}", items.delete_item, ["DELETE"], "writer"),
    guarded("/v1/items/{item_id}/similar", items.similar, ["GET"], "reader"),
    guarded("/v1/recommendations", recommendations.recommendations, ["GET"], "reader"),
    guarded("/v1/users/{user_id}/history", users.history, ["GET"], "reader"),
    guarded("/v1/users/{user_id}/consent", users.put_consent, ["PUT"], "admin"),
    guarded("/v1/users/{user_id}", users.erase_user, ["DELETE"], "admin"),
    guarded("/v1/experiments", admin.list_experiments, ["GET"], "reader"),
    guarded("/v1/experiments", admin.create_experiment, ["POST"], "admin"),
    guarded("/v1/experiments/{experiment_id}/metrics", admin.experiment_metrics, ["GET"], "reader"),
    guarded("/v1/models", admin.list_models, ["GET"], "admin"),
    guarded("/v1/models/{version}/activate", admin.activate_model, ["POST"], "admin"),
    guarded("/health", ops.health, ["GET"], None),
    guarded("/ready", ops.ready, ["GET"], None),
    guarded("/metrics", ops.metrics, ["GET"], None),
    guarded("/docs", ops.docs, ["GET"], None),
    guarded("/openapi.json", ops.openapi, ["GET"], None),
)


def create_app(deps: ServingDeps) -> Starlette:
    """The API over the worker's table readers, producer and models."""
    app = Starlette(
        routes=list(ROUTES),
        exception_handlers={
            RecsysError: handle_error,
            HTTPException: handle_error,
            Exception: handle_error,
        },
    )
    app.state.api = ApiState.build(deps)
    return app
