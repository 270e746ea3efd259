"""HR's scoring rules: the list with every version, new rules, edits that become new
versions from an effective time (with a preview over the last week), retiring, and the
referral bonus per stage on a page of its own."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.auth import requires_role
from app.db import get_or_404
from app.errors import ChorusError, InvalidInput
from app.extensions import db
from app.models import Role, RuleVersion, ScoringRule, Team, utcnow
from app.schemas.fields import load
from app.schemas.points import NewRuleFormSchema, ReferralBonusFormSchema, RuleFormSchema
from app.services import ledger
from app.services import rules as service
from app.web.feed import CHANNEL_LABELS
from app.web.pages import localtime, me, optional_int
from app.web.points import WINDOW_WORDS, local_datetime, new_form_key
from scoring.vocabulary import EventKind, ReferralStage
from scoring.windows import Window

bp = Blueprint("rule_pages", __name__)

EVENT_LABELS = {
    EventKind.SHARE: "Share",
    EventKind.CLICK: "Counted click",
    EventKind.REFERRAL_APPLIED: "Referral: applied",
    EventKind.REFERRAL_INTERVIEWED: "Referral: interviewed",
    EventKind.REFERRAL_HIRED: "Referral: hired",
}
CAP_WINDOW_LABELS = {
    Window.DAY: "per day",
    Window.WEEK: "per week",
    Window.MONTH: "per month",
    Window.ALL_TIME: "all time",
}
PREVIEW_DAYS = 7
# A version saved more than this after its effective time reached scored events late.
LATE_AFTER = timedelta(minutes=1)
INPUT_FORMAT = "%Y-%m-%dT%H:%M"


def _teams() -> list[Team]:
    return list(db.session.scalars(select(Team).order_by(Team.name)))


def _rules() -> list[ScoringRule]:
    return list(
        db.session.scalars(
            select(ScoringRule)
            .options(selectinload(ScoringRule.versions))
            .order_by(ScoringRule.name)
        )
    )


def needs_recalculation(version: RuleVersion) -> bool:
    """Saved after it took effect: events in between were scored under the old version."""
    return version.created_at - version.valid_from > LATE_AFTER


def _context(**extra: Any) -> dict[str, Any]:
    teams = _teams()
    return {
        "teams": teams,
        "teams_by_id": {team.id: team.name for team in teams},
        "event_labels": EVENT_LABELS,
        "cap_window_labels": CAP_WINDOW_LABELS,
        "channel_labels": CHANNEL_LABELS,
        "window_words": WINDOW_WORDS,
        "needs_recalculation": needs_recalculation,
        "open_version": service.open_version,
        "input_format": INPUT_FORMAT,
        "form_key": new_form_key(),
        **extra,
    }


def _version_values(version: RuleVersion) -> dict[str, Any]:
    """A version in the shape the form posts it."""
    return {
        "event_kind": version.event_kind.value,
        "points": version.points,
        "channels": list(version.channels or []),
        "tags": ", ".join(version.tags or []),
        "team_ids": [str(t) for t in version.team_ids or []],
        "campaign": version.campaign or "",
        "own_words": bool(version.own_words),
        "cap": "" if version.cap is None else version.cap,
        "cap_window": version.cap_window.value,
        "vesting_days": version.vesting_days,
        "effective_at": "",
    }


def _entered(with_name: bool) -> dict[str, Any]:
    form = request.form
    entered: dict[str, Any] = {
        "event_kind": form.get("event_kind", ""),
        "points": form.get("points", "").strip(),
        "channels": form.getlist("channels"),
        "tags": form.get("tags", ""),
        "team_ids": form.getlist("team_ids"),
        "campaign": form.get("campaign", "").strip(),
        "own_words": form.get("own_words", ""),
        "cap": form.get("cap", "").strip(),
        "cap_window": form.get("cap_window", ""),
        "vesting_days": form.get("vesting_days", "").strip(),
        "effective_at": form.get("effective_at", "").strip(),
    }
    if with_name:
        entered["name"] = form.get("name", "")
        entered["description"] = form.get("description", "")
    return entered


def _load_rule_form(entered: dict[str, Any]) -> tuple[dict[str, Any], datetime | None]:
    """The version fields (and name and description of a new rule) and the effective
    time (None: now), checked."""
    tags = [t.strip() for t in entered["tags"].split(",") if t.strip()]
    data = {
        **entered,
        "points": optional_int(entered["points"]),
        "cap": optional_int(entered["cap"]),
        "vesting_days": optional_int(entered["vesting_days"]),
        "campaign": entered["campaign"] or None,
        # A ticked box: only shares in own words; unticked: any share (stored as NULL).
        "own_words": True if entered["own_words"] else None,
        "effective_at": entered["effective_at"] or None,
        # Nothing chosen: the rule applies to all, which the rule stores as NULL.
        "channels": entered["channels"] or None,
        "team_ids": entered["team_ids"] or None,
        "tags": tags or None,
    }
    for name in ("points", "vesting_days", "event_kind", "cap_window"):
        if data[name] in (None, ""):
            data.pop(name)  # the schema names it as missing, or takes its default
    schema = NewRuleFormSchema() if "name" in entered else RuleFormSchema()
    fields = load(schema, data)
    if fields.get("channels"):
        fields["channels"] = sorted({c.value for c in fields["channels"]})
    if fields.get("team_ids"):
        fields["team_ids"] = sorted(set(fields["team_ids"]))
    if fields.get("tags"):
        fields["tags"] = sorted(set(fields["tags"]))
    effective = fields.pop("effective_at", None)
    return fields, local_datetime(effective) if effective else None


# The list and new rules ------------------------------------------------------------


@bp.get("/rules")
@requires_role(Role.HR)
def rule_list():
    return render_template("rules/list.html", rules=_rules(), **_context())


@bp.route("/rules/new", methods=["GET", "POST"])
@requires_role(Role.HR)
def new_rule():
    if request.method == "GET":
        values = {"event_kind": EventKind.SHARE.value, "cap_window": Window.DAY.value}
        return render_template("rules/new.html", values=values, errors={}, **_context())
    entered = _entered(with_name=True)
    try:
        fields, effective = _load_rule_form(entered)
        rule = service.create_rule(
            me(),
            name=fields.pop("name"),
            description=fields.pop("description", ""),
            effective_at=effective,
            **fields,
        )
    except ChorusError as exc:
        db.session.rollback()
        page = render_template(
            "rules/new.html",
            values=entered,
            errors=exc.errors,
            error_message=exc.message,
            **_context(),
        )
        return page, exc.status
    flash(f"The rule {rule.name} is in force from {_when(rule.versions[0].valid_from)}.", "success")
    return redirect(url_for("rule_pages.edit_rule", rule_id=rule.id))


def _when(moment: datetime) -> str:
    return localtime(moment)


# Editing: a new version ------------------------------------------------------------


def _preview(rule: ScoringRule, fields: dict[str, Any]) -> tuple[ledger.Preview, datetime]:
    until = utcnow()
    since = until - timedelta(days=PREVIEW_DAYS)
    return ledger.preview_rule_change(rule.id, fields, since, until), since


def _render_edit(rule: ScoringRule, status: int = 200, **context: Any):
    current = service.open_version(rule)
    context.setdefault("values", _version_values(current or rule.versions[-1]))
    context.setdefault("errors", {})
    page = render_template(
        "rules/edit.html",
        rule=rule,
        current=current,
        now=utcnow(),
        **_context(**context),
    )
    return page, status


@bp.route("/rules/<int:rule_id>", methods=["GET", "POST"])
@requires_role(Role.HR)
def edit_rule(rule_id: int):
    rule = get_or_404(ScoringRule, rule_id)
    if request.method == "GET":
        return _render_edit(rule)
    entered = _entered(with_name=False)
    previewing = request.form.get("action") == "preview"
    try:
        fields, effective = _load_rule_form(entered)
        if previewing:
            preview, since = _preview(rule, fields)
            return _render_edit(
                rule,
                values=entered,
                preview=preview,
                preview_since=since,
                effective=effective,
            )
        now = utcnow()
        version = service.edit_rule(me(), rule, fields, effective or now)
    except ChorusError as exc:
        db.session.rollback()
        return _render_edit(
            rule, exc.status, values=entered, errors=exc.errors, error_message=exc.message
        )
    if effective is not None and effective < now - LATE_AFTER:
        flash(
            f"Version {version.version} is saved, effective {_when(version.valid_from)}. "
            "Events since then were scored under the previous version: a recalculation "
            "from that time brings them in line.",
            "warning",
        )
    else:
        flash(f"Version {version.version} is in force from {_when(version.valid_from)}.", "success")
    return redirect(url_for("rule_pages.edit_rule", rule_id=rule.id))


@bp.post("/rules/<int:rule_id>/retire")
@requires_role(Role.HR)
def retire_rule(rule_id: int):
    rule = get_or_404(ScoringRule, rule_id)
    try:
        if service.open_version(rule) is None:
            raise InvalidInput("This rule is retired already.")
        service.retire_rule(me(), rule, utcnow())
    except ChorusError as exc:
        db.session.rollback()
        return _render_edit(rule, exc.status, error_message=exc.message)
    flash(f"The rule {rule.name} is retired: it awards nothing from now on.", "success")
    return redirect(url_for("rule_pages.rule_list"))


# Referral bonuses ------------------------------------------------------------------


def _stage_rules() -> dict[ReferralStage, tuple[ScoringRule | None, RuleVersion | None, int]]:
    """Per stage: the rule that carries its bonus, its current version, and how many
    other rules award the stage (bonuses with conditions)."""
    found = {}
    for stage in ReferralStage:
        rule, current = service.referral_bonus(stage)
        others = len(service.stage_rules(stage)) - (1 if rule else 0)
        found[stage] = (rule, current, others)
    return found


def _bonus_values(stages) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for stage, (_rule, current, _others) in stages.items():
        values[f"points_{stage.value}"] = current.points if current else 0
        values[f"vesting_days_{stage.value}"] = current.vesting_days if current else 0
    return values


def _render_bonuses(status: int = 200, **context: Any):
    stages = _stage_rules()
    context.setdefault("values", _bonus_values(stages))
    context.setdefault("errors", {})
    page = render_template("rules/referral_bonuses.html", stages=stages, **context)
    return page, status


@bp.route("/referral-bonuses", methods=["GET", "POST"])
@requires_role(Role.HR)
def referral_bonuses():
    if request.method == "GET":
        return _render_bonuses()
    entered = {
        f"{field}_{stage.value}": request.form.get(f"{field}_{stage.value}", "").strip()
        for stage in ReferralStage
        for field in ("points", "vesting_days")
    }
    changed = []
    try:
        data = load(
            ReferralBonusFormSchema(),
            {k: optional_int(v) for k, v in entered.items() if optional_int(v) is not None},
        )
        now = utcnow()
        for stage in ReferralStage:
            version = service.set_referral_bonus(
                me(),
                stage,
                points=data[f"points_{stage.value}"],
                vesting_days=data[f"vesting_days_{stage.value}"],
                effective_at=now,
            )
            if version is not None:
                changed.append(stage.value)
    except ChorusError as exc:
        db.session.rollback()
        return _render_bonuses(
            exc.status, values=entered, errors=exc.errors, error_message=exc.message
        )
    if changed:
        flash(f"New referral bonuses for {', '.join(changed)}, in force from now.", "success")
    else:
        flash("Nothing changed.", "success")
    return redirect(url_for("rule_pages.referral_bonuses"))
