"""Reward pages: the catalogue and my redemptions (employees), the catalogue editor and
the redemption queue (HR). Team rewards show in the catalogue with the team's progress,
who pledged and a pledge form; funded ones wait in HR's queue to be handed over."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.auth import requires_role
from app.db import get_or_404
from app.errors import ChorusError
from app.extensions import db
from app.models import Redemption, RedemptionState, Reward, Role
from app.schemas.fields import load
from app.schemas.rewards import RewardFormSchema, image_url
from app.services import content, ledger, redemptions, team_rewards
from app.web.pages import form_failed, me, optional_int, plural
from app.web.points import new_form_key
from rewards.funding import FundingState
from rewards.redemptions import KIND_LABELS, Kind

bp = Blueprint("reward_pages", __name__)

STATE_TEXT = {
    RedemptionState.PENDING: "waiting for HR",
    RedemptionState.APPROVED: "approved, to be handed over",
    RedemptionState.FULFILLED: "fulfilled",
    RedemptionState.REJECTED: "rejected: points given back",
    RedemptionState.CANCELLED: "cancelled: points given back",
}
QUEUE_STATES = (RedemptionState.PENDING, RedemptionState.APPROVED)


# Employees: the catalogue and my redemptions ---------------------------------------


def _render_catalogue(status: int = 200, **context: Any):
    employee = me()
    balance, entries = redemptions.catalogue(employee)
    # Each redeem form carries a fresh key: sending the same form twice is one redemption.
    keys = {entry.reward.id: new_form_key() for entry in entries}
    fundings = {
        entry.reward.id: team_rewards.progress(entry.reward, employee)
        for entry in entries
        if entry.reward.kind == Kind.TEAM
    }
    context.setdefault("errors", {})
    context.setdefault("refused", None)
    page = render_template(
        "rewards/catalogue.html",
        balance=balance,
        entries=entries,
        keys=keys,
        fundings=fundings,
        in_team=employee.team_id is not None,
        kind_labels=KIND_LABELS,
        image_url=image_url,
        **context,
    )
    return page, status


@bp.get("/rewards")
@requires_role(Role.EMPLOYEE)
def catalogue():
    return _render_catalogue()


@bp.post("/rewards/<int:reward_id>/redeem")
@requires_role(Role.EMPLOYEE)
def redeem(reward_id: int):
    try:
        redemption, created = redemptions.redeem(
            me(), reward_id, request.form.get("idempotency_key", "")
        )
    except ChorusError as exc:
        db.session.rollback()
        return _render_catalogue(exc.status, error_message=exc.message, refused=reward_id)
    if created and redemption.state == RedemptionState.APPROVED:
        flash(
            f"You redeemed {redemption.reward.name} for {plural(redemption.points, 'point')}. "
            "It is approved at once; the points are held until HR hands it over.",
            "success",
        )
    elif created:
        flash(
            f"You redeemed {redemption.reward.name} for {plural(redemption.points, 'point')}. "
            "They are held until HR hands it over; HR's answer comes by mail.",
            "success",
        )
    else:
        flash(f"You redeemed {redemption.reward.name} already; nothing changed.", "success")
    return redirect(url_for("reward_pages.my_redemptions"))


@bp.post("/rewards/<int:reward_id>/pledge")
@requires_role(Role.EMPLOYEE)
def pledge(reward_id: int):
    raw = (request.form.get("points") or "").strip()
    try:
        points = int(raw)
    except ValueError:
        return _render_catalogue(
            422,
            error_message="Pledge a whole number of points above 0.",
            errors={"points": ["Pledge a whole number of points above 0."]},
            refused=reward_id,
        )
    try:
        made, created = team_rewards.pledge(
            me(), reward_id, points, request.form.get("idempotency_key", "")
        )
    except ChorusError as exc:
        db.session.rollback()
        return _render_catalogue(
            exc.status, error_message=exc.message, errors=exc.errors, refused=reward_id
        )
    name = made.funding.reward.name
    if not created:
        flash(f"You pledged toward {name} already; nothing changed.", "success")
    elif made.funding.state == FundingState.FUNDED:
        flash(
            f"You pledged {plural(made.points, 'point')} and completed your team's {name}. "
            "HR will hand it over.",
            "success",
        )
    else:
        flash(
            f"You pledged {plural(made.points, 'point')} toward {name}. They are held until "
            "your team has it funded, and come back if the window closes first.",
            "success",
        )
    return redirect(url_for("reward_pages.catalogue"))


@bp.post("/me/pledges/<int:pledge_id>/withdraw")
@requires_role(Role.EMPLOYEE)
def withdraw_pledge(pledge_id: int):
    employee = me()
    made = team_rewards.get_pledge(pledge_id, owner_id=employee.id)
    try:
        team_rewards.withdraw(employee, made)
    except ChorusError as exc:
        db.session.rollback()
        return _render_catalogue(exc.status, error_message=exc.message)
    flash(
        f"Withdrawn: the {plural(made.points, 'point')} "
        f"{'is' if made.points == 1 else 'are'} yours to spend again.",
        "success",
    )
    return redirect(url_for("reward_pages.catalogue"))


@bp.get("/me/redemptions")
@requires_role(Role.EMPLOYEE)
def my_redemptions():
    employee = me()
    mine = db.session.scalars(
        select(Redemption)
        .where(Redemption.employee_id == employee.id)
        .options(selectinload(Redemption.reward))
        .order_by(Redemption.created_at.desc(), Redemption.id.desc())
    )
    return render_template(
        "rewards/mine.html",
        redemptions=list(mine),
        balance=ledger.balance(employee.id),
        state_text=STATE_TEXT,
    )


@bp.post("/me/redemptions/<int:redemption_id>/cancel")
@requires_role(Role.EMPLOYEE)
def cancel(redemption_id: int):
    employee = me()
    redemption = redemptions.get_redemption(redemption_id, owner_id=employee.id)
    redemptions.cancel(employee, redemption)
    flash(
        f"Cancelled: the {plural(redemption.points, 'point')} "
        f"{'is' if redemption.points == 1 else 'are'} yours to spend again.",
        "success",
    )
    return redirect(url_for("reward_pages.my_redemptions"))


# HR: the catalogue editor ----------------------------------------------------------


@bp.get("/rewards/manage")
@requires_role(Role.HR)
def manage():
    every = db.session.scalars(select(Reward).order_by(Reward.active.desc(), Reward.name))
    return render_template("rewards/manage.html", rewards=list(every), kind_labels=KIND_LABELS)


def _reward_form() -> dict[str, Any]:
    form = {
        "name": request.form.get("name", ""),
        "description": request.form.get("description", "").strip(),
        "cost": optional_int(request.form.get("cost")),
        "stock": optional_int(request.form.get("stock")),
        "per_person_limit": optional_int(request.form.get("per_person_limit")),
        "active": request.form.get("active") == "on",
        "kind": request.form.get("kind", ""),
        "charity_name": optional_int(request.form.get("charity_name")),
        # Empty date fields leave that side of the window open.
        "available_from": optional_int(request.form.get("available_from")),
        "available_until": optional_int(request.form.get("available_until")),
        "needs_approval": request.form.get("needs_approval") == "on",
        "tax_note": request.form.get("tax_note", "").strip(),
        "image_credit": optional_int(request.form.get("image_credit")),
        "image_rights_confirmed": request.form.get("image_rights_confirmed") == "on",
    }
    if form["cost"] is None:
        del form["cost"]  # the schema says it is required
    if not form["kind"]:
        del form["kind"]  # an experience unless chosen
    return form


def _uploaded_image() -> bytes | None:
    """The uploaded image's bytes, checked (type by its first bytes, size) before the
    reward is saved, so a bad file changes nothing."""
    upload = request.files.get("image")
    if upload is None or not upload.filename:
        return None
    image = upload.read(content.MAX_IMAGE_BYTES + 1)
    content.check_image(image)
    return image


def _editor(reward: Reward | None, values: dict, status: int = 200, **context: Any):
    page = render_template(
        "rewards/reward.html",
        reward=reward,
        values=values,
        kinds=list(Kind),
        kind_labels=KIND_LABELS,
        image_url=image_url(reward) if reward else None,
        **{"errors": {}, **context},
    )
    return page, status


def _failed(exc: ChorusError, reward: Reward | None):
    return form_failed(
        exc,
        "rewards/reward.html",
        reward=reward,
        kinds=list(Kind),
        kind_labels=KIND_LABELS,
        image_url=image_url(reward) if reward and reward.image_filename else None,
    )


@bp.route("/rewards/new", methods=["GET", "POST"])
@requires_role(Role.HR)
def new_reward():
    if request.method == "GET":
        return _editor(None, {"active": True, "needs_approval": True, "kind": Kind.EXPERIENCE})
    try:
        image = _uploaded_image()
        reward = redemptions.create_reward(me(), load(RewardFormSchema(), _reward_form()))
        if image is not None:
            redemptions.set_image(me(), reward, image)
    except ChorusError as exc:
        return _failed(exc, None)
    flash(f"{reward.name} is in the catalogue.", "success")
    return redirect(url_for("reward_pages.manage"))


@bp.route("/rewards/<int:reward_id>/edit", methods=["GET", "POST"])
@requires_role(Role.HR)
def edit_reward(reward_id: int):
    reward = get_or_404(Reward, reward_id)
    if request.method == "GET":
        values = {name: getattr(reward, name) for name in redemptions.REWARD_FIELDS}
        return _editor(reward, values)
    try:
        image = _uploaded_image()
        if image is None and request.form.get("remove_image") == "on":
            redemptions.remove_image(me(), reward)  # first: the rights may go with it
        redemptions.update_reward(me(), reward, load(RewardFormSchema(), _reward_form()))
        if image is not None:
            redemptions.set_image(me(), reward, image)
    except ChorusError as exc:
        return _failed(exc, reward)
    flash(f"Saved {reward.name}.", "success")
    return redirect(url_for("reward_pages.manage"))


@bp.post("/rewards/<int:reward_id>/retire")
@requires_role(Role.HR)
def retire_reward(reward_id: int):
    reward = redemptions.retire_reward(me(), get_or_404(Reward, reward_id))
    flash(f"{reward.name} is retired; redemptions already made go on.", "success")
    return redirect(url_for("reward_pages.manage"))


# HR: deciding redemptions ----------------------------------------------------------


def _render_queue(status: int = 200, **context: Any):
    waiting = db.session.scalars(
        select(Redemption)
        .where(Redemption.state.in_(QUEUE_STATES))
        .options(selectinload(Redemption.reward), selectinload(Redemption.employee))
        .order_by(Redemption.created_at, Redemption.id)
    )
    by_state = {state: [] for state in QUEUE_STATES}
    for redemption in waiting:
        by_state[redemption.state].append(redemption)
    context.setdefault("errors", {})
    context.setdefault("failed", None)
    page = render_template(
        "rewards/queue.html", by_state=by_state, fundings=team_rewards.to_fulfil(), **context
    )
    return page, status


@bp.get("/redemptions")
@requires_role(Role.HR)
def queue():
    return _render_queue()


def _decide(redemption_id: int, decide, done: str, *args):
    redemption = redemptions.get_redemption(redemption_id)
    try:
        decide(me(), redemption, *args)
    except ChorusError as exc:
        db.session.rollback()
        return _render_queue(
            exc.status, error_message=exc.message, errors=exc.errors, failed=redemption_id
        )
    flash(f"{redemption.reward.name} for {redemption.employee.name}: {done}.", "success")
    return redirect(url_for("reward_pages.queue"))


@bp.post("/redemptions/<int:redemption_id>/approve")
@requires_role(Role.HR)
def approve(redemption_id: int):
    return _decide(redemption_id, redemptions.approve, "approved", request.form.get("note"))


@bp.post("/redemptions/<int:redemption_id>/fulfil")
@requires_role(Role.HR)
def fulfil(redemption_id: int):
    return _decide(redemption_id, redemptions.fulfil, "fulfilled", request.form.get("note"))


@bp.post("/redemptions/<int:redemption_id>/reject")
@requires_role(Role.HR)
def reject(redemption_id: int):
    return _decide(
        redemption_id, redemptions.reject, "rejected, points given back", request.form.get("reason")
    )


@bp.post("/team-fundings/<int:funding_id>/fulfil")
@requires_role(Role.HR)
def fulfil_funding(funding_id: int):
    funding = team_rewards.get_funding(funding_id)
    try:
        team_rewards.fulfil(me(), funding)
    except ChorusError as exc:
        db.session.rollback()
        return _render_queue(exc.status, error_message=exc.message)
    flash(f"{funding.reward.name} for {funding.team.name}: handed over.", "success")
    return redirect(url_for("reward_pages.queue"))
