"""The JSON API under /api/v1: one flask-smorest blueprint per feature.

Conventions (also in the OpenAPI document at /api/openapi.json):
- authentication: ``Authorization: Bearer <token>``, or the session cookie plus an
  ``X-CSRFToken`` header for the pages' own scripts;
- errors: ``{"code", "status", "message", "errors": {field: [problems]}}``;
- lists: ``?page=1&page_size=20``; the items are the body, and the ``X-Pagination``
  header carries ``{"total", "total_pages", "page", "page_size", ...}``.
"""

from __future__ import annotations

from flask import Flask
from flask_smorest import Blueprint

from app.auth import protect_api_from_csrf
from app.extensions import api, csrf

API_PREFIX = "/api/v1"


def api_blueprint(name: str, path: str, description: str) -> Blueprint:
    bp = Blueprint(name, __name__, url_prefix=f"{API_PREFIX}{path}", description=description)
    csrf.exempt(bp)  # checked in protect_api_from_csrf unless a bearer token is sent
    bp.before_request(protect_api_from_csrf)
    return bp


def register_api(app: Flask) -> None:
    from app.api import BLUEPRINTS

    api.spec.components.security_scheme(
        "bearer", {"type": "http", "scheme": "bearer", "description": "An API token"}
    )
    for bp in BLUEPRINTS:
        api.register_blueprint(bp)


BLUEPRINTS: list[Blueprint] = []
