"""The API described by OpenAPI at /docs, behind the same token as the API itself; the Swagger UI's
files are served by the station (fastapi-offline), not fetched from a CDN."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from station.web.deps import authorised

router = APIRouter()
guarded = [Depends(authorised)]


@router.get("/openapi.json", include_in_schema=False, dependencies=guarded)
def openapi(request: Request) -> JSONResponse:
    return JSONResponse(request.app.openapi())


@router.get("/docs", include_in_schema=False, dependencies=guarded)
def docs(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{request.app.title} — API",
                               swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                               swagger_css_url="/docs-assets/swagger-ui.css",
                               swagger_favicon_url="/docs-assets/favicon.png")
