"""Admins connect Slack and Teams channels, test them, turn them off and on."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app.auth import requires_role
from app.errors import ChorusError
from app.extensions import db
from app.models import Role, Team
from app.schemas.chat import ChatDestinationSchema
from app.schemas.fields import load
from app.services import chat
from app.web.pages import form_failed, me, optional_int
from scoring.chat import PROVIDER_LABELS, masked

bp = Blueprint("chat_pages", __name__, url_prefix="/admin")


@bp.get("/chat")
@requires_role(Role.ADMIN)
def channels():
    return render_template("admin/chat.html", values={}, errors={}, **_context())


@bp.post("/chat")
@requires_role(Role.ADMIN)
def connect():
    entered = {
        "provider": request.form.get("provider", ""),
        "name": request.form.get("name", ""),
        "url": request.form.get("url", ""),
        "team_id": optional_int(request.form.get("team_id")),
        "post_content": "post_content" in request.form,
        "post_game": "post_game" in request.form,
        "post_mentions": "post_mentions" in request.form,
    }
    try:
        destination = chat.connect(me(), load(ChatDestinationSchema(), entered))
    except ChorusError as exc:
        return form_failed(exc, "admin/chat.html", **_context())
    flash(f"{destination.name} is connected. Send a test to see it arrive.", "success")
    return redirect(url_for("chat_pages.channels"))


def _context() -> dict:
    return {
        "channels": chat.destinations(),
        "teams": db.session.scalars(select(Team).order_by(Team.name)).all(),
        "providers": PROVIDER_LABELS,
        "masked": masked,
    }


@bp.post("/chat/<int:destination_id>/test")
@requires_role(Role.ADMIN)
def test(destination_id: int):
    destination = chat.get_destination(destination_id)
    delivered, answer = chat.send_test(destination)
    if delivered:
        flash(
            f"{destination.name} took the test ({answer}). Look for it in the channel.", "success"
        )
    else:
        flash(f"{destination.name} did not take the test: {answer}", "error")
    return redirect(url_for("chat_pages.channels"))


@bp.post("/chat/<int:destination_id>")
@requires_role(Role.ADMIN)
def change(destination_id: int):
    """A new address, turning it off or on, or its mentions."""
    destination = chat.get_destination(destination_id)
    data: dict = {}
    if request.form.get("url", "").strip():
        data["url"] = request.form["url"]
    for switch in ("enabled", "post_mentions"):
        if request.form.get(switch) in ("0", "1"):
            data[switch] = request.form[switch] == "1"
    try:
        chat.change(me(), destination, data)
    except ChorusError as exc:
        return form_failed(exc, "admin/chat.html", **_context())
    state = "off" if destination.disabled_at else "on"
    if "post_mentions" in data:
        who = "people who ask for it" if destination.post_mentions else "nobody"
        flash(f"{destination.name} mentions {who}.", "success")
    else:
        flash(f"{destination.name} is {state}.", "success")
    return redirect(url_for("chat_pages.channels"))


@bp.post("/chat/<int:destination_id>/remove")
@requires_role(Role.ADMIN)
def remove(destination_id: int):
    destination = chat.get_destination(destination_id)
    name = destination.name
    chat.remove(me(), destination)
    flash(f"{name} is disconnected.", "success")
    return redirect(url_for("chat_pages.channels"))
