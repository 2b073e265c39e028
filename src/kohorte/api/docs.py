"""The interactive /docs page, served with its scripts and styles from the package.

Swagger UI normally loads from a CDN; kohorte is often run where there is no internet, so
the page names only assets that kohorte itself serves under ASSETS_PATH.
"""

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

ASSETS_PATH = "/docs-assets"

router = APIRouter()


def assets() -> StaticFiles:
    """Swagger UI's dist folder, as shipped inside the swagger-ui-bundle wheel."""
    return StaticFiles(directory=Path(str(swagger_ui_path)))


@router.get("/docs", include_in_schema=False)
def docs(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=str(request.app.openapi_url),
        title=f"{request.app.title} - API documentation",
        swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_PATH}/favicon-32x32.png",
    )
