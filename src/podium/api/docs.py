"""Interactive API documentation served from files shipped inside Podium.

Swagger UI's script and stylesheet come from `static/swagger-ui` (the
unmodified swagger-ui-dist npm package, Apache-2.0), so `/docs` works on a
machine without internet access.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.staticfiles import StaticFiles

SWAGGER_UI_DIR = Path(__file__).parent / "static" / "swagger-ui"
SWAGGER_UI_URL = "/static/swagger-ui"
DOCS_URL = "/docs"
OPENAPI_URL = "/openapi.json"


def install_docs(app: FastAPI, api_prefix: str) -> None:
    """Serve Swagger UI at `/docs` and its files, with aliases under the API prefix."""
    app.mount(SWAGGER_UI_URL, StaticFiles(directory=SWAGGER_UI_DIR), name="swagger-ui")

    async def docs_page() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=OPENAPI_URL,
            title=f"{app.title} API",
            swagger_js_url=f"{SWAGGER_UI_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER_UI_URL}/swagger-ui.css",
            swagger_favicon_url=f"{SWAGGER_UI_URL}/favicon-32x32.png",
            # No validator badge: it would send the schema to a public service.
            swagger_ui_parameters={"validatorUrl": None},
        )

    async def redirect_to_docs() -> RedirectResponse:
        return RedirectResponse(DOCS_URL)

    async def openapi_document() -> JSONResponse:
        return JSONResponse(app.openapi())

    app.add_api_route(DOCS_URL, docs_page, include_in_schema=False)
    app.add_api_route(
        f"{api_prefix}{DOCS_URL}", redirect_to_docs, include_in_schema=False
    )
    app.add_api_route(
        f"{api_prefix}{OPENAPI_URL}", openapi_document, include_in_schema=False
    )
