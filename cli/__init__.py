"""The `streamrec` command line."""
