"""`build_worker(settings)`: the broker fixes, the app, and every actor installed on it."""

from __future__ import annotations

import faust

from agents import experiments, items, serving, sizes, users, workarounds
from agents.app import new_worker
from api.experiments import ExperimentStore
from streamrec.settings import Settings


def build_worker(settings: Settings) -> faust.App:
    """Apply the fixes STREAMREC_BROKER_FIXES names, build the app, install every actor, load
    the registry's active model; `app.main()` then runs the worker."""
    workarounds.apply(settings)
    worker = new_worker(settings)
    # The API assigns and lists experiments; the user actor tallies their clicks.
    store = ExperimentStore(settings.data_dir / "experiments.json")
    experiments.install(worker)
    items.install(worker)
    serving.install(worker, store)
    sizes.install(worker)
    users.install(worker, store)
    return worker.app
