"""Faust actors of streamrec: the app, one module per actor, and the worker entry point."""
