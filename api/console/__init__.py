"""The web console and the interactive API docs: static files shipped inside the package."""
