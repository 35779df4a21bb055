"""State of the actors: pure folds `apply(state, event) -> state` and the table declarations."""
