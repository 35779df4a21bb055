"""The HTTP API served from every worker."""
