"""`create_app(deps)`: the Starlette application the worker serves in its event loop."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import Route

from api.console import pages
from api.deps import ServingDeps
from api.errors import handle_error
from api.experiment_metrics import experiment_metrics, experiment_tallies
from api.routes import admin, events, experiments, items, ops, recommendations, users
from api.state import ApiState, guarded
from api.timeouts import BodyDeadline
from streamrec.errors import RecsysError

WRITER, READER, ADMIN, OPEN = "writer", "reader", "admin", None
ROUTES: tuple[Route, ...] = (
    guarded("/v1/events", {"POST": (events.post_events, WRITER)}),
    guarded("/v1/items", {"POST": (items.post_items, WRITER)}),
    guarded(
        "/v1/items/{item_id}",
        {
            "GET": (items.get_item, READER),
            "PUT": (items.put_item, WRITER),
            "PATCH": (items.patch_item, WRITER),
            "DELETE": (items.delete_item, WRITER),
        },
    ),
    guarded("/v1/items/{item_id}/similar", {"GET": (items.similar, READER)}),
    guarded("/v1/recommendations", {"GET": (recommendations.recommendations, READER)}),
    guarded("/v1/users/{user_id}/history", {"GET": (users.history, READER)}),
    guarded("/v1/users/{user_id}/consent", {"PUT": (users.put_consent, ADMIN)}),
    guarded("/v1/users/{user_id}", {"DELETE": (users.erase_user, ADMIN)}),
    guarded(
        "/v1/experiments",
        {
            "GET": (experiments.list_experiments, READER),
            "POST": (experiments.create_experiment, ADMIN),
        },
    ),
    guarded(
        "/v1/experiments/{experiment_id}",
        {
            "GET": (experiments.get_experiment, READER),
            "DELETE": (experiments.delete_experiment, ADMIN),
        },
    ),
    guarded(
        "/v1/experiments/{experiment_id}/start", {"POST": (experiments.start_experiment, ADMIN)}
    ),
    guarded("/v1/experiments/{experiment_id}/stop", {"POST": (experiments.stop_experiment, ADMIN)}),
    guarded(
        "/v1/experiments/{experiment_id}/promote",
        {"POST": (experiments.promote_experiment, ADMIN)},
    ),
    guarded("/v1/experiments/{experiment_id}/metrics", {"GET": (experiment_metrics, READER)}),
    guarded("/v1/experiments/{experiment_id}/tallies", {"GET": (experiment_tallies, READER)}),
    guarded("/v1/models", {"GET": (admin.list_models, ADMIN)}),
    guarded("/v1/models/{version}/activate", {"POST": (admin.activate_model, ADMIN)}),
    guarded("/health", {"GET": (ops.health, OPEN)}),
    guarded("/ready", {"GET": (ops.ready, OPEN)}),
    guarded("/metrics", {"GET": (ops.metrics, OPEN)}),
    guarded("/stats", {"GET": (ops.stats, OPEN)}),
    guarded("/docs", {"GET": (pages.docs, OPEN)}),
    guarded("/", {"GET": (pages.console, OPEN)}),
    guarded("/openapi.json", {"GET": (ops.openapi, OPEN)}),
)


def create_app(deps: ServingDeps) -> Starlette:
    """The API over the worker's table readers, producer and models."""
    app = Starlette(
        routes=[*ROUTES, *pages.mounts()],
        middleware=[Middleware(BodyDeadline, timeout_s=deps.settings.body_timeout_s)],
        exception_handlers={
            RecsysError: handle_error,
            HTTPException: handle_error,
            Exception: handle_error,
        },
    )
    app.state.api = ApiState.build(deps)
    return app
