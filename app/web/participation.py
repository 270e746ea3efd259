"""The social-media guidelines, opting in by accepting them, and one-click opt-out."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from app.auth import requires_role
from app.errors import ChorusError, InvalidInput
from app.extensions import db
from app.models import Role
from app.schemas import OptInSchema, load
from app.services import participation as service
from app.web.auth import _safe_next
from app.web.forms import form_failed, me

bp = Blueprint("participation", __name__)


@bp.get("/guidelines")
@requires_role(Role.EMPLOYEE)
def guidelines():
    return render_template("participation/guidelines.html", guidelines=service.current_guidelines())


@bp.post("/guidelines/accept")
@requires_role(Role.EMPLOYEE)
def opt_in():
    try:
        if request.form.get("accept") != "yes":
            raise InvalidInput(
                "Tick the box to confirm you read and accept the guidelines.", field="accept"
            )
        version = request.form.get("guidelines_version_id")
        data = load(OptInSchema(), {} if version is None else {"guidelines_version_id": version})
        service.opt_in(me(), data["guidelines_version_id"])
    except ChorusError as exc:
        return form_failed(
            exc, "participation/guidelines.html", guidelines=service.current_guidelines()
        )
    db.session.commit()
    flash("You take part now. Thank you! You can opt out at any time with one click.", "success")
    return redirect(url_for("profile.show"))


@bp.post("/opt-out")
@requires_role(Role.EMPLOYEE)
def opt_out():
    service.opt_out(me())
    db.session.commit()
    flash(
        "You opted out. From now on nothing about you is tracked, scored or ranked, "
        "and you are off every board.",
        "success",
    )
    return redirect(_safe_next(request.form.get("next") or url_for("profile.show")))
