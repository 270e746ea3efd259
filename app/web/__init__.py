"""Server-rendered pages: one Flask blueprint per feature."""

from __future__ import annotations

from flask import Flask


def register_pages(app: Flask) -> None:
    from app.web import auth, home

    for bp in (home.bp, auth.bp):
        app.register_blueprint(bp)
