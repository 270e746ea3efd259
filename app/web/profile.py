"""My profile: networks, interests, leaderboard presence, data export and erasure."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user, logout_user
from sqlalchemy import select

from app.auth import requires_role
from app.errors import ChorusError, InvalidInput
from app.extensions import db
from app.models import Interest, Role
from app.schemas.fields import load
from app.schemas.profile import EraseSchema, InterestIdsSchema, NetworkSchema, PresenceSchema
from app.services import participation as service
from app.web.pages import form_failed, me, optional_int
from scoring.participation import Network, Presence, board_name

bp = Blueprint("profile", __name__, url_prefix="/me")


def _saved_values() -> dict[str, Any]:
    """The form values as stored, in the shape the forms post them."""
    linked = {link.network: link for link in current_user.networks}
    return {
        "networks": {
            network: {
                "on": network in linked,
                "handle": linked[network].handle if network in linked else None,
                "audience_size": linked[network].audience_size if network in linked else None,
            }
            for network in Network
        },
        "interest_ids": {interest.id for interest in current_user.interests},
        "presence": current_user.presence.value,
        "pseudonym": current_user.pseudonym,
    }


def _render(status: int = 200, **context: Any):
    values = _saved_values()
    values.update(context.pop("entered", {}))
    interests = db.session.scalars(select(Interest).order_by(Interest.name)).all()
    page = render_template(
        "profile/show.html",
        values=values,
        interests=interests,
        presence_options=list(Presence),
        **context,
    )
    return page, status


def _failed(exc: ChorusError, form: str, entered: dict[str, Any]):
    db.session.rollback()
    return _render(
        exc.status, form=form, errors=exc.errors, error_message=exc.message, entered=entered
    )


@bp.get("")
@requires_role(Role.EMPLOYEE)
def show():
    appears_as = None
    if current_user.participating:
        appears_as = board_name(current_user.presence, current_user.name, current_user.pseudonym)
    return _render(appears_as=appears_as)


@bp.post("/networks")
@requires_role(Role.EMPLOYEE)
def update_networks():
    entered: dict[Network, dict[str, Any]] = {}
    chosen: list[dict[str, Any]] = []
    errors: dict[str, list[str]] = {}
    for network in Network:
        key = network.value
        entered[network] = {
            "on": request.form.get(f"network_{key}") == "on",
            "handle": (request.form.get(f"handle_{key}") or "").strip(),
            "audience_size": (request.form.get(f"audience_{key}") or "").strip(),
        }
        if not entered[network]["on"]:
            continue
        raw = {
            "network": key,
            "handle": entered[network]["handle"] or None,
            "audience_size": optional_int(entered[network]["audience_size"]),
        }
        try:
            chosen.append(load(NetworkSchema(), raw))
        except InvalidInput as exc:
            for field, messages in exc.errors.items():
                errors[f"{field}_{key}".replace("audience_size", "audience")] = messages
    try:
        if errors:
            raise InvalidInput("Some networks need attention.", errors=errors)
        service.set_networks(me(), chosen)
    except ChorusError as exc:
        return _failed(exc, "networks", {"networks": entered})
    flash("Your networks are saved.", "success")
    return redirect(url_for("profile.show") + "#networks")


@bp.post("/interests")
@requires_role(Role.EMPLOYEE)
def update_interests():
    raw_ids = request.form.getlist("interest_ids")
    try:
        data = load(InterestIdsSchema(), {"interest_ids": raw_ids})
        service.set_interests(me(), data["interest_ids"])
    except ChorusError as exc:
        entered = {"interest_ids": {int(i) for i in raw_ids if i.isdigit()}}
        if "interest_ids" in exc.errors:  # the schema's name for what the page calls interests
            exc.errors["interests"] = exc.errors.pop("interest_ids")
        return _failed(exc, "interests", entered)
    flash("Your interests are saved.", "success")
    return redirect(url_for("profile.show") + "#interests")


@bp.post("/presence")
@requires_role(Role.EMPLOYEE)
def update_presence():
    entered = {
        "presence": request.form.get("presence", ""),
        "pseudonym": request.form.get("pseudonym", ""),
    }
    try:
        if not entered["presence"]:
            raise InvalidInput("Choose how you appear on leaderboards.", field="presence")
        data = load(
            PresenceSchema(),
            {"presence": entered["presence"], "pseudonym": entered["pseudonym"] or None},
        )
        service.update_presence(me(), data["presence"], data["pseudonym"])
    except ChorusError as exc:
        return _failed(exc, "presence", entered)
    flash("Your leaderboard presence is saved.", "success")
    return redirect(url_for("profile.show") + "#presence")


@bp.get("/export")
@requires_role(Role.EMPLOYEE)
def export():
    data = service.export_personal_data(me())
    return Response(
        json.dumps(data, indent=2, ensure_ascii=False),
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="chorus-my-data-{current_user.id}.json"',
            "Cache-Control": "no-store",
        },
    )


@bp.route("/erase", methods=["GET", "POST"])
@requires_role(Role.EMPLOYEE)
def erase():
    if request.method == "GET":
        return render_template("profile/erase.html", values={}, errors={})
    try:
        data = load(EraseSchema(), {"confirm_email": request.form.get("confirm_email", "")})
        if data["confirm_email"].strip().lower() != current_user.email:
            raise InvalidInput(
                "This is not the e-mail address of your account.", field="confirm_email"
            )
        service.erase_employee(me(), me())
    except ChorusError as exc:
        return form_failed(exc, "profile/erase.html")
    logout_user()
    flash("Your personal data was erased and you are signed out. Goodbye!", "success")
    return redirect(url_for("auth.sign_in"))
