"""The landing page sends each person to where they should start."""

from __future__ import annotations

from flask import Blueprint, redirect, url_for
from flask_login import current_user

from app.auth import public

bp = Blueprint("home", __name__)


@bp.get("/")
@public
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.sign_in"))
    if not current_user.participating:
        return redirect(url_for("participation.guidelines"))
    return redirect(url_for("feed_pages.show"))
