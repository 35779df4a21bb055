"""Benchmarks of streamrec, grouped by subject: stream, serve and offline (see README.md)."""
