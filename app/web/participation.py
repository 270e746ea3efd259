"""The social-media guidelines, opting in by accepting them, and opting out: a page that
says what it does, one button, and the way back in."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from app.auth import requires_role
from app.errors import ChorusError, InvalidInput
from app.models import Role
from app.schemas.fields import load
from app.schemas.profile import OptInSchema
from app.services import participation as service
from app.web.pages import form_failed, me

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
    flash(
        "You take part now. Thank you! You can opt out at any time from the Opt out page.",
        "success",
    )
    return redirect(url_for("profile.show"))


@bp.get("/opt-out")
@requires_role(Role.EMPLOYEE)
def opt_out_page():
    """What opting out does, with the button that does it; once out, the way back in."""
    employee = me()
    current = service.current_guidelines()
    # Back in one click when the guidelines they accepted are still the current ones.
    rejoin = (
        current if current is not None and employee.guidelines_version_id == current.id else None
    )
    return render_template("participation/opt_out.html", rejoin_version=rejoin)


@bp.post("/opt-out")
@requires_role(Role.EMPLOYEE)
def opt_out():
    service.opt_out(me())
    flash(
        "You opted out. From now on nothing about you is tracked, scored or ranked, "
        "and you are off every board.",
        "success",
    )
    return redirect(url_for("participation.opt_out_page"))
