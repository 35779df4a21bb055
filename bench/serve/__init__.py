"""Benchmarks of the read path: recommendation requests over HTTP, a worker under steady load."""
