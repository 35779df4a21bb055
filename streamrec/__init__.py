"""streamrec: real-time recommendations from an event log."""

__version__ = "0.1.0"
