"""The API reference at /api/docs: Swagger UI reading the OpenAPI document
(/api/openapi.json), its files served from the installed ``flask-swagger-ui`` package
under /api/docs/assets/, so the page loads nothing from another origin.

Open to everyone, as the document it shows is. The page runs no inline script (its
initialiser is ``static/api-reference.js``), and its Content-Security-Policy allows only
this origin, so a Swagger UI that reached for a CDN or a validator would fail loudly.
"""

from __future__ import annotations

from pathlib import Path

import flask_swagger_ui
from flask import Blueprint, Response, render_template, send_from_directory

from app.auth import public

# Swagger UI's dist files as the package ships them (5.x: reads OpenAPI 3.1 documents).
ASSETS = Path(flask_swagger_ui.__file__).parent / "dist"
# Swagger UI styles its elements inline; scripts and everything else come from here.
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)

bp = Blueprint("api_reference", __name__, url_prefix="/api/docs")


@bp.get("")
@public
def show() -> Response:
    response = Response(render_template("api/reference.html"))
    response.headers["Content-Security-Policy"] = POLICY
    return response


@bp.get("/assets/<path:filename>")
@public
def asset(filename: str) -> Response:
    return send_from_directory(ASSETS, filename, max_age=86400)
