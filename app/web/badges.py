"""Badge pages: everyone's catalogue (earned, locked, progress and the streak) and "my
badges"; HR's badge editor with a preview of who would get a badge now, retiring and
reactivating. Saving a new or changed badge backfills it (the service enqueues the
job); backfilled grants dated more than two days back are announced to no one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from app.auth import requires_role
from app.db import get_or_404
from app.errors import ChorusError
from app.extensions import db
from app.models import Badge, BadgeGrant, Challenge, Role, utcnow
from app.schemas.badges import BadgeDefinitionSchema
from app.schemas.fields import SQL_INTEGER_MAX, load
from app.services import badges as service
from app.services.calendar import company_calendar
from app.web import badge_forms as forms
from app.web.pages import form_failed, me
from scoring.badges import (
    ONCE_PERIOD,
    QUIET_AFTER,
    BadgeDefinitionError,
    CriterionKind,
    Level,
    Measure,
    challenge_period,
    describe_streak,
    parse_badge,
)

bp = Blueprint("badge_pages", __name__)

PREVIEW_SAMPLE = 12  # names shown in a preview; the count covers everyone
CHALLENGE = challenge_period(0).removesuffix("0")  # "challenge-": a per-challenge period


def _page_context(**extra: Any) -> dict[str, Any]:
    return {
        "level_labels": forms.LEVEL_LABELS,
        "kind_labels": forms.KIND_LABELS,
        "zone_name": str(company_calendar()[0]),
        **extra,
    }


def _challenge_titles(periods: set[str]) -> dict[str, str]:
    """Per-challenge grants' periods ("challenge-12") with their challenges' titles."""
    ids = set()
    for period in periods:
        number = period.removeprefix(CHALLENGE)
        if period.startswith(CHALLENGE) and number.isdigit() and int(number) <= SQL_INTEGER_MAX:
            ids.add(int(number))
    if not ids:
        return {}
    rows = db.session.execute(select(Challenge.id, Challenge.title).where(Challenge.id.in_(ids)))
    return {challenge_period(number): title for number, title in rows}


def _period_words(titles: dict[str, str]) -> Callable[[str], str]:
    def words(period: str) -> str:
        if period == ONCE_PERIOD:
            return ""
        return f"in {titles[period]}" if period in titles else "in a challenge"

    return words


def highest(card: service.BadgeCard) -> Level | None:
    """The best level held: gold over silver over bronze."""
    order = [level for level, _ in card.definition.levels]
    held = [earned.level for earned in card.earned]
    return max(held, key=lambda lvl: order.index(lvl) if lvl in order else -1, default=None)


def progress_words(card: service.BadgeCard) -> str:
    """ "7 of 10 shares", and "for silver" when the badge has levels."""
    words = forms.progress_words(card.definition, card.progress)
    level = card.progress.next_level
    if level is not None and level is not Level.ONCE and len(card.definition.levels) > 1:
        words += f" for {level.value}"
    return words


# Everyone: the catalogue and my badges ---------------------------------------------


@bp.get("/badges")
@requires_role(Role.EMPLOYEE)
def catalogue():
    employee = me()
    # Everyone sees their own progress; someone not taking part simply has nothing new.
    cards = service.catalogue_for(employee)
    periods = {earned.period for card in cards for earned in card.earned}
    return render_template(
        "badges/catalogue.html",
        cards=cards,
        streak_words=describe_streak(service.streak_for(employee).current),
        participating=employee.participating,
        highest=highest,
        progress_words=progress_words,
        period_words=_period_words(_challenge_titles(periods)),
        **_page_context(),
    )


@bp.get("/badges/mine")
@requires_role(Role.EMPLOYEE)
def mine():
    grants = service.grants_of(me())
    titles = _challenge_titles({grant.period for grant in grants})
    return render_template(
        "badges/mine.html", grants=grants, period_words=_period_words(titles), **_page_context()
    )


# HR: the badge editor --------------------------------------------------------------


@bp.get("/hr/badges")
@requires_role(Role.HR)
def manage():
    every = list(db.session.scalars(select(Badge).order_by(Badge.active.desc(), Badge.name)))
    holders = dict(
        db.session.execute(
            select(BadgeGrant.badge_id, func.count(func.distinct(BadgeGrant.employee_id))).group_by(
                BadgeGrant.badge_id
            )
        ).all()
    )
    described = {}
    for badge in every:
        try:
            described[badge.id] = service.describe(badge)
        except BadgeDefinitionError:
            described[badge.id] = "Its stored definition cannot be read: edit it."
    return render_template(
        "badges/manage.html",
        badges=every,
        holders=holders,
        described=described,
        **_page_context(),
    )


def _editor_context(badge: Badge | None, **extra: Any) -> dict[str, Any]:
    return _page_context(
        badge=badge,
        kinds=list(CriterionKind),
        kind_hints=forms.KIND_HINTS,
        measures=list(Measure),
        measure_labels=forms.MEASURE_LABELS,
        grace_choices=forms.grace_choices(),
        quiet_after=QUIET_AFTER,
        **extra,
    )


def _editor(badge: Badge | None, values: dict[str, Any], **context: Any):
    context.setdefault("errors", {})
    return render_template("badges/edit.html", **_editor_context(badge, values=values, **context))


def _failed(exc: ChorusError, badge: Badge | None, values: dict[str, Any]):
    exc.errors = forms.form_errors(exc.errors)
    return form_failed(exc, "badges/edit.html", **_editor_context(badge, values=values))


def _definition(values: dict[str, Any], badge: Badge | None) -> dict[str, Any]:
    """The definition from the form, checked by the core (so a preview of a bad form
    says what is wrong, as a save would)."""
    data = forms.definition_from_form(values, badge.slug if badge else None)
    load(BadgeDefinitionSchema(), data)  # bounds and types, as the API checks them
    try:
        parse_badge(data)
    except BadgeDefinitionError as exc:
        raise forms.invalid_definition(exc) from None
    return data


def _preview_or_save(badge: Badge | None, values: dict[str, Any]):
    """The form again with a preview, or the saved badge; on bad input, the form with
    the problems and nothing saved."""
    editing = badge
    try:
        data = _definition(values, badge)
        if request.form.get("action") == "preview":
            preview = service.preview(data, limit=PREVIEW_SAMPLE)
            return _editor(badge, values, preview=preview, now=utcnow())
        if badge is None:
            badge = service.create_badge(me(), data)
            if not values["active"]:
                service.retire_badge(me(), badge)
        else:
            # Fields the chosen kind does not use are removed from the stored definition.
            gone = {name: None for name in badge.definition if name not in data}
            service.update_badge(me(), badge, {**data, **gone, "active": values["active"]})
    except ChorusError as exc:
        return _failed(exc, editing, values)
    return badge


@bp.route("/hr/badges/new", methods=["GET", "POST"])
@requires_role(Role.HR)
def new_badge():
    if request.method == "GET":
        return _editor(None, forms.blank_values())
    outcome = _preview_or_save(None, forms.entered(request.form))
    if not isinstance(outcome, Badge):
        return outcome
    if outcome.active:
        flash(
            f"{outcome.name} is saved. Everyone who already qualifies receives it in the "
            "next minutes; achievements older than two days are recorded quietly.",
            "success",
        )
    else:
        flash(f"{outcome.name} is saved, retired: nobody earns it until it is active.", "success")
    return redirect(url_for("badge_pages.manage"))


@bp.route("/hr/badges/<int:badge_id>/edit", methods=["GET", "POST"])
@requires_role(Role.HR)
def edit_badge(badge_id: int):
    badge = get_or_404(Badge, badge_id)
    if request.method == "GET":
        return _editor(badge, forms.values_of(badge.definition, badge.slug, badge.active))
    values = forms.entered(request.form)
    values["slug"] = badge.slug  # fixed at creation: renaming never awards it again
    outcome = _preview_or_save(badge, values)
    if not isinstance(outcome, Badge):
        return outcome
    if outcome.active:
        flash(
            f"Saved {outcome.name}. Everyone who qualifies now receives it in the next "
            "minutes, quietly for the past; nobody loses a badge they hold.",
            "success",
        )
    else:
        flash(f"Saved {outcome.name}: retired, those who hold it keep it.", "success")
    return redirect(url_for("badge_pages.manage"))


@bp.post("/hr/badges/<int:badge_id>/retire")
@requires_role(Role.HR)
def retire_badge(badge_id: int):
    badge = service.retire_badge(me(), get_or_404(Badge, badge_id))
    flash(
        f"{badge.name} is retired: nobody earns it from now on; those who hold it keep it.",
        "success",
    )
    return redirect(url_for("badge_pages.manage"))


@bp.post("/hr/badges/<int:badge_id>/activate")
@requires_role(Role.HR)
def activate_badge(badge_id: int):
    badge = service.activate_badge(me(), get_or_404(Badge, badge_id))
    flash(
        f"{badge.name} is active again: whoever qualifies receives it in the next minutes.",
        "success",
    )
    return redirect(url_for("badge_pages.manage"))
