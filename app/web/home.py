"""The landing page: the sign-in page for visitors, the guidelines for people who do
not take part yet, and for everyone else their home: where they stand and what to do
next (``app.services.home.home_for``, which the API's ``/me/home`` shows too)."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from app.auth import public
from app.services.home import home_for
from app.services.leaderboards import Scope
from app.web.leaderboards import WINDOW_LABELS
from app.web.pages import me
from scoring.badges import describe_streak
from scoring.vocabulary import CHANNEL_LABELS
from scoring.windows import Window

bp = Blueprint("home", __name__)


@bp.get("/")
@public
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.sign_in"))
    if not current_user.participating:
        return redirect(url_for("participation.guidelines"))
    return render_template(
        "home/index.html",
        home=home_for(me()),
        Scope=Scope,
        Window=Window,
        WINDOW_LABELS=WINDOW_LABELS,
        CHANNEL_LABELS=CHANNEL_LABELS,
        describe_streak=describe_streak,
    )
