"""`GET /` (the console), `GET /docs` (Swagger UI) and the static files both load."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

HERE = Path(__file__).parent
STATIC = HERE / "static"
SWAGGER = HERE / "swagger"
STATIC_PREFIX = "/console"
SWAGGER_PREFIX = "/docs/assets"
NO_STORE = {"cache-control": "no-cache"}

DOCS_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>streamrec API docs</title>
<link rel="stylesheet" href="{swagger}/swagger-ui.css">
<link rel="stylesheet" href="{static}/docs.css"></head>
<body><header class="docs-bar"><a href="/">&larr; console</a>
<span>streamrec API v1 &middot; <a href="/openapi.json">/openapi.json</a></span></header>
<div id="swagger-ui" data-spec="/openapi.json"></div>
<script src="{swagger}/swagger-ui-bundle.js"></script>
<script src="{static}/docs.js"></script></body></html>
"""


@cache
def _index() -> str:
    return (STATIC / "index.html").read_text(encoding="utf-8")


async def console(request: Request) -> Response:
    """The single page of the web console (it talks to the public API from the browser)."""
    return HTMLResponse(_index(), headers=NO_STORE)


async def docs(request: Request) -> Response:
    """Interactive docs of the OpenAPI document (Swagger UI, served from the package)."""
    return HTMLResponse(DOCS_HTML.format(swagger=SWAGGER_PREFIX, static=STATIC_PREFIX))


def mounts() -> list[Mount]:
    """The static folders: the console's scripts and styles, and the Swagger UI bundle."""
    return [
        Mount(STATIC_PREFIX, StaticFiles(directory=STATIC), name="console"),
        Mount(SWAGGER_PREFIX, StaticFiles(directory=SWAGGER), name="swagger"),
    ]
