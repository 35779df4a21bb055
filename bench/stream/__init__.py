"""Benchmarks of the event path: publishing, folding and applying events, freshness, idle cost."""
