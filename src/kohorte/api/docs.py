"""The interactive /docs page, served with its scripts and styles from the package.

Swagger UI normally loads from a CDN; kohorte is often run where there is no internet, so
the page names only assets that kohorte itself serves under ASSETS_PATH. They come from the
fastapi-offline wheel (Swagger UI 5): swagger-ui-bundle ships Swagger UI 4, which refuses to
render an OpenAPI 3.1 document ("does not specify a valid version field").
"""

from importlib.resources import files

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

ASSETS_PATH = "/docs-assets"

router = APIRouter()


def assets() -> StaticFiles:
    """Swagger UI's script, styles and favicon, as shipped inside the fastapi-offline wheel."""
    return StaticFiles(directory=str(files("fastapi_offline") / "static"))


@router.get("/docs", include_in_schema=False)
def docs(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=str(request.app.openapi_url),
        title=f"{request.app.title} - API documentation",
        swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_PATH}/favicon.png",
    )
