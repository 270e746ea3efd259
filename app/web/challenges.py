"""Challenge pages: the list (running, upcoming, finished), a challenge with its rules in
words, the board (frozen: no ranks for employees), my standing, results and their
digest, declining and taking part again; the form team leads and HR start and edit
challenges with, and cancelling with a confirmation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app.auth import requires_role
from app.errors import ChorusError, Forbidden, InvalidInput
from app.extensions import db
from app.models import Badge, Challenge, ContentItem, ContentStatus, Reward, Role, Team
from app.schemas.challenges import ChallengeFormSchema
from app.schemas.fields import load
from app.services import challenge_settlement, challenges, home
from app.web.pages import company_zone, form_failed, me, optional_int
from scoring.challenges import WHILE_RUNNING, ChallengeState, Metric, Mode, PrizeKind, ScopeKind
from scoring.vocabulary import CHANNEL_LABELS, Channel

bp = Blueprint("challenge_pages", __name__)

BOARD_PAGE = 50
FINISHED_SHOWN = 30
PRIZE_ROWS = 5
WALL_CLOCK = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> reads and sends
METRIC_LABELS = {
    Metric.SHARES: "Shares",
    Metric.CLICKS: "Counted clicks",
    Metric.REFERRAL_STAGES: "Referral stages (applied, interviewed, hired)",
    Metric.POINTS: "Points",
}
SCOPE_LABELS = {
    ScopeKind.COMPANY: "The whole company",
    ScopeKind.TEAMS: "Chosen teams",
    ScopeKind.TEAM_VS_TEAM: "Team against team",
}
MODE_LABELS = {
    Mode.INDIVIDUAL: "People ranked one by one",
    Mode.TEAM: "Teams ranked by points per active member",
}
STATE_LABELS = {
    ChallengeState.OPEN: "open",
    ChallengeState.FROZEN: "frozen",
    ChallengeState.SETTLED: "results final",
    ChallengeState.CANCELLED: "cancelled",
}


def _labels() -> dict[str, Any]:
    return {
        "metric_labels": METRIC_LABELS,
        "scope_labels": SCOPE_LABELS,
        "mode_labels": MODE_LABELS,
        "state_labels": STATE_LABELS,
        "channel_labels": CHANNEL_LABELS,
    }


# Everyone: the list and a challenge ------------------------------------------------


@bp.get("/challenges")
@requires_role(Role.EMPLOYEE)
def challenge_list():
    viewer = me()
    phases = {}
    for phase in (challenges.Phase.RUNNING, challenges.Phase.UPCOMING, challenges.Phase.FINISHED):
        query = challenges.list_visible(viewer, phase)
        if phase == challenges.Phase.FINISHED:
            query = query.limit(FINISHED_SHOWN)
        phases[phase] = list(db.session.scalars(query))
    return render_template(
        "challenges/list.html",
        phases=phases,
        Phase=challenges.Phase,
        can_organise=challenges.can_organise(viewer),
        state_of=challenges.state_of,
        **_labels(),
    )


@bp.get("/challenges/<int:challenge_id>")
@requires_role(Role.EMPLOYEE)
def detail(challenge_id: int):
    viewer = me()
    challenge = challenges.get_visible(viewer, challenge_id)
    offset = max(request.args.get("offset", 0, type=int) or 0, 0)
    return _render_detail(challenge, offset)


def _render_detail(challenge: Challenge, offset: int = 0, status: int = 200, **context):
    viewer = me()
    view = challenges.standings(challenge, viewer, limit=BOARD_PAGE, offset=offset)
    schedule = challenges.schedule_of(challenge)
    content = (
        list(
            db.session.scalars(select(ContentItem).where(ContentItem.id.in_(challenge.content_ids)))
        )
        if challenge.content_ids
        else []
    )
    page = render_template(
        "challenges/detail.html",
        challenge=challenge,
        view=view,
        schedule=schedule,
        offset=offset,
        page_size=BOARD_PAGE,
        rules=challenges.rules_of(challenge),
        prizes=challenges.prize_lines(challenge),
        content=content,
        in_scope=challenges.in_scope(viewer, challenge),
        can_manage=challenges.can_manage(viewer, challenge),
        sees_live=viewer.has_role(Role.HR),
        prize_words=home.prize_words,
        digest_holds=(
            challenge_settlement.verify_digest(challenge)
            if challenge.state == ChallengeState.SETTLED
            else None
        ),
        **_labels(),
        **context,
    )
    return page, status


@bp.post("/challenges/<int:challenge_id>/decline")
@requires_role(Role.EMPLOYEE)
def decline(challenge_id: int):
    employee = me()
    challenge = challenges.get_visible(employee, challenge_id)
    try:
        challenges.decline(employee, challenge)
    except ChorusError as exc:
        db.session.rollback()
        return _render_detail(challenge, status=exc.status, error_message=exc.message)
    flash(
        f"You declined {challenge.title}: you are off its board. You can take part again "
        "while it runs.",
        "success",
    )
    return redirect(url_for("challenge_pages.detail", challenge_id=challenge.id))


@bp.post("/challenges/<int:challenge_id>/rejoin")
@requires_role(Role.EMPLOYEE)
def rejoin(challenge_id: int):
    employee = me()
    challenge = challenges.get_visible(employee, challenge_id)
    try:
        challenges.rejoin(employee, challenge)
    except ChorusError as exc:
        db.session.rollback()
        return _render_detail(challenge, status=exc.status, error_message=exc.message)
    flash(f"You take part in {challenge.title} again.", "success")
    return redirect(url_for("challenge_pages.detail", challenge_id=challenge.id))


# Team leads and HR: the form -------------------------------------------------------


def _form_values() -> dict[str, Any]:
    """What the form sent, as the template shows it again."""
    form = request.form
    values: dict[str, Any] = {
        name: form.get(name, "")
        for name in (
            "title",
            "description",
            "starts_at",
            "ends_at",
            "metric",
            "mode",
            "scope",
            "tags",
            "freeze_hours",
            "lateness_hours",
            "minimum",
            "target",
        )
    }
    values["team_ids"] = form.getlist("team_ids")
    values["content_ids"] = form.getlist("content_ids")
    values["channels"] = form.getlist("channels")
    values["prizes"] = [
        {
            "place": form.get(f"prize_{i}_place", ""),
            "kind": form.get(f"prize_{i}_kind", ""),
            "badge": form.get(f"prize_{i}_badge", ""),
            "reward": form.get(f"prize_{i}_reward", ""),
            "points": form.get(f"prize_{i}_points", ""),
        }
        for i in range(PRIZE_ROWS)
    ]
    return values


def _prize_data(rows: list[dict[str, str]]) -> list[dict[str, Any]]:
    prizes = []
    for row in rows:
        kind = row["kind"]
        if not kind:
            continue
        value = {"badge": row["badge"], "reward": row["reward"], "points": row["points"]}.get(kind)
        prize = {"kind": kind, "value": optional_int(value), "place": optional_int(row["place"])}
        prizes.append({k: v for k, v in prize.items() if v is not None})  # missing: required
    return prizes


def _as_utc(moment: datetime | None) -> datetime | None:
    """A wall-clock time of the form, in the company's zone."""
    return None if moment is None else moment.replace(tzinfo=company_zone())


def _form_data(values: dict[str, Any], team_lead_team: int | None) -> dict[str, Any]:
    """The form, checked by the schema: wall-clock times read in the company's zone.
    A team lead's form has no scope to choose: their own team."""
    raw = {
        "title": values["title"],
        "description": values["description"],
        "starts_at": optional_int(values["starts_at"]),
        "ends_at": optional_int(values["ends_at"]),
        "metric": values["metric"] or None,
        "mode": values["mode"] or Mode.INDIVIDUAL.value,
        "scope": values["scope"] or None,
        "team_ids": [t for t in values["team_ids"] if t],
        "content_ids": [c for c in values["content_ids"] if c],
        "tags": [t.strip() for t in values["tags"].split(",") if t.strip()],
        "channels": values["channels"],
        "freeze_hours": optional_int(values["freeze_hours"]) or "0",
        "lateness_hours": optional_int(values["lateness_hours"]) or "0",
        "minimum": optional_int(values["minimum"]) or "0",
        "target": optional_int(values["target"]),
        "prizes": _prize_data(values["prizes"]),
    }
    if team_lead_team is not None:
        raw["scope"] = ScopeKind.TEAMS.value
        raw["team_ids"] = [str(team_lead_team)]
        raw["mode"] = Mode.INDIVIDUAL.value
    raw = {k: v for k, v in raw.items() if v is not None}
    data = load(ChallengeFormSchema(), raw)
    data["starts_at"] = _as_utc(data["starts_at"])
    data["ends_at"] = _as_utc(data["ends_at"])
    return data


def _values_of(challenge: Challenge) -> dict[str, Any]:
    zone = company_zone()
    prizes = [
        {
            "place": "" if p.get("place") is None else str(p["place"]),
            "kind": p["kind"],
            "badge": str(p["value"]) if p["kind"] == PrizeKind.BADGE else "",
            "reward": str(p["value"]) if p["kind"] == PrizeKind.REWARD else "",
            "points": str(p["value"]) if p["kind"] == PrizeKind.POINTS else "",
        }
        for p in challenge.prizes
    ]
    prizes += [{"place": "", "kind": "", "badge": "", "reward": "", "points": ""}] * (
        PRIZE_ROWS - len(prizes)
    )
    return {
        "title": challenge.title,
        "description": challenge.description,
        "starts_at": challenge.starts_at.astimezone(zone).strftime(WALL_CLOCK),
        "ends_at": challenge.ends_at.astimezone(zone).strftime(WALL_CLOCK),
        "metric": challenge.metric.value,
        "mode": challenge.mode.value,
        "scope": challenge.scope.value,
        "team_ids": [str(t) for t in challenges.team_ids_of(challenge)],
        "content_ids": [str(c) for c in challenge.content_ids],
        "channels": list(challenge.channels),
        "tags": ", ".join(challenge.tags),
        "freeze_hours": str(challenge.freeze_hours),
        "lateness_hours": str(challenge.lateness_hours),
        "minimum": str(challenge.minimum),
        "target": "" if challenge.target is None else str(challenge.target),
        "prizes": prizes,
    }


def _blank_values() -> dict[str, Any]:
    return {
        "title": "",
        "description": "",
        "starts_at": "",
        "ends_at": "",
        "metric": Metric.SHARES.value,
        "mode": Mode.INDIVIDUAL.value,
        "scope": ScopeKind.COMPANY.value,
        "team_ids": [],
        "content_ids": [],
        "channels": [],
        "tags": "",
        "freeze_hours": "0",
        "lateness_hours": "24",
        "minimum": "0",
        "target": "",
        "prizes": [{"place": "", "kind": "", "badge": "", "reward": "", "points": ""}] * PRIZE_ROWS,
    }


def _form_context(challenge: Challenge | None) -> dict[str, Any]:
    actor = me()
    is_hr = actor.has_role(Role.HR)
    started = challenge is not None and challenges.phase_of(challenge) != challenges.Phase.UPCOMING
    return {
        "challenge": challenge,
        "is_hr": is_hr,
        "own_team": actor.team,
        "started": started,
        "editable": WHILE_RUNNING if started else None,
        "teams": list(db.session.scalars(select(Team).order_by(Team.name))) if is_hr else [],
        "content_items": list(
            db.session.scalars(
                select(ContentItem)
                .where(ContentItem.status == ContentStatus.PUBLISHED)
                .order_by(ContentItem.id.desc())
                .limit(100)
            )
        ),
        "badges": list(db.session.scalars(select(Badge).where(Badge.active).order_by(Badge.name))),
        "rewards": list(
            db.session.scalars(select(Reward).where(Reward.active).order_by(Reward.name))
        ),
        "prize_kinds": list(PrizeKind),
        "metrics": list(Metric),
        "modes": list(Mode),
        "scopes": list(ScopeKind),
        "channels": list(Channel),
        "zone_name": str(company_zone()),
        **_labels(),
    }


def _form(challenge: Challenge | None, values: dict[str, Any], status: int = 200, **context):
    page = render_template(
        "challenges/form.html",
        values=values,
        **{"errors": {}, **_form_context(challenge), **context},
    )
    return page, status


def _failed(exc: ChorusError, challenge: Challenge | None, values: dict[str, Any]):
    db.session.rollback()
    if challenge is not None:
        db.session.refresh(challenge)
    return form_failed(exc, "challenges/form.html", values=values, **_form_context(challenge))


def _refuse_unless_organiser() -> int | None:
    """The team a team lead's form is fixed to (None for HR); a team lead without a team
    may not start one."""
    actor = me()
    if actor.has_role(Role.HR):
        return None
    if actor.team_id is None:
        raise InvalidInput(
            "You lead no team, so there is no team to run a challenge for.", field="team_ids"
        )
    return actor.team_id


@bp.route("/challenges/new", methods=["GET", "POST"])
@requires_role(Role.TEAM_LEAD)
def new_challenge():
    if request.method == "GET":
        return _form(None, _blank_values())
    values = _form_values()
    try:
        data = _form_data(values, _refuse_unless_organiser())
        challenge = challenges.create_challenge(me(), data)
    except ChorusError as exc:
        return _failed(exc, None, values)
    flash(f"{challenge.title} is on. Everyone in it sees it under Challenges.", "success")
    return redirect(url_for("challenge_pages.detail", challenge_id=challenge.id))


def _managed(challenge_id: int) -> Challenge:
    actor = me()
    challenge = challenges.get_visible(actor, challenge_id)
    if not challenges.can_manage(actor, challenge):
        raise Forbidden("Only HR or the team lead of its team can change this challenge.")
    return challenge


@bp.route("/challenges/<int:challenge_id>/edit", methods=["GET", "POST"])
@requires_role(Role.TEAM_LEAD)
def edit_challenge(challenge_id: int):
    challenge = _managed(challenge_id)
    if request.method == "GET":
        return _form(challenge, _values_of(challenge))
    original = _values_of(challenge)
    values = _form_values()
    if not me().has_role(Role.HR):  # a team lead's form has no scope to choose
        values.update(scope=original["scope"], team_ids=original["team_ids"], mode=original["mode"])
    if challenges.phase_of(challenge) != challenges.Phase.UPCOMING:
        # Locked fields are shown disabled, so not sent: they stay as they are.
        values = {**original, **{k: values[k] for k in WHILE_RUNNING}}
    try:
        data = _form_data(values, None)
        # Only what the form changed: a time shown to the minute is not a change.
        changed = {name for name in values if values[name] != original.get(name)}
        challenges.update_challenge(
            me(), challenge, {k: v for k, v in data.items() if k in changed}
        )
    except ChorusError as exc:
        return _failed(exc, challenge, values)
    flash(f"Saved {challenge.title}.", "success")
    return redirect(url_for("challenge_pages.detail", challenge_id=challenge.id))


@bp.route("/challenges/<int:challenge_id>/cancel", methods=["GET", "POST"])
@requires_role(Role.TEAM_LEAD)
def cancel_challenge(challenge_id: int):
    challenge = _managed(challenge_id)
    if request.method == "GET":
        return render_template("challenges/cancel.html", challenge=challenge, **_labels())
    try:
        challenges.cancel_challenge(me(), challenge)
    except ChorusError as exc:
        db.session.rollback()
        db.session.refresh(challenge)
        page = render_template(
            "challenges/cancel.html", challenge=challenge, error_message=exc.message, **_labels()
        )
        return page, exc.status
    flash(f"{challenge.title} is cancelled: no results, no prizes.", "success")
    return redirect(url_for("challenge_pages.detail", challenge_id=challenge.id))
