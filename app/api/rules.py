"""Scoring rules as data: HR creates them, edits them into new versions, retires them,
previews a change on last week's events, and sets the referral bonus per stage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.api.support import api_blueprint, caller, paginate_select
from app.auth import requires_role
from app.db import get_or_404
from app.errors import InvalidInput, NotFound
from app.models import Role, RuleVersion, ScoringRule, utcnow
from app.schemas.points import (
    RULE_TERMS,
    PreviewSchema,
    ReferralBonusEditSchema,
    ReferralBonusSchema,
    RuleChangeSchema,
    RuleCreateSchema,
    RuleEditSchema,
    RulePreviewQuerySchema,
    RuleRetireSchema,
    RuleSchema,
)
from app.services import ledger
from app.services import rules as rules_service
from app.services.content import normalize_tags
from scoring.vocabulary import Channel, ReferralStage

bp = api_blueprint(
    "rules",
    "/rules",
    "Scoring rules: what earns points, with caps and conditions; edits are new versions.",
)
bonuses_bp = api_blueprint(
    "referral_bonuses", "/referral-bonuses", "The points HR gives per referral stage."
)

PREVIEW_DAYS = 7


def _rule(rule_id: int) -> ScoringRule:
    return get_or_404(ScoringRule, rule_id)


def _at(moment: datetime | None, now: datetime) -> datetime:
    return moment.astimezone(UTC) if moment is not None else now


def _terms(data: dict) -> dict[str, Any]:
    """The versioned fields sent, as the rule rows keep them."""
    terms = {name: data[name] for name in RULE_TERMS if name in data}
    if terms.get("channels") is not None:
        terms["channels"] = sorted({channel.value for channel in terms["channels"]})
    if terms.get("tags") is not None:
        terms["tags"] = normalize_tags(terms["tags"]) or None
    if terms.get("team_ids") is not None:
        terms["team_ids"] = sorted(set(terms["team_ids"]))
    if terms.get("campaign") is not None:
        # Content keeps its campaign as a hashtag; a rule matches it exactly.
        terms["campaign"] = "#" + terms["campaign"].strip().lstrip("#")
    return terms


def _change(
    rule: ScoringRule, version: RuleVersion | None, effective_at: datetime, now: datetime
) -> dict:
    needed = version is not None and effective_at < now
    return {
        "rule": rule,
        "version": version,
        "recalculation_needed": needed,
        "recalculate_since": effective_at if needed else None,
    }


@bp.route("")
class Rules(MethodView):
    @requires_role(Role.HR)
    @bp.response(200, RuleSchema(many=True))
    @bp.paginate()
    def get(self, pagination_parameters: PaginationParameters) -> list[ScoringRule]:
        """All rules with their versions, oldest rule first"""
        rules = (
            select(ScoringRule).options(selectinload(ScoringRule.versions)).order_by(ScoringRule.id)
        )
        return paginate_select(rules, pagination_parameters)

    @requires_role(Role.HR)
    @bp.arguments(RuleCreateSchema)
    @bp.response(201, RuleSchema)
    @bp.alt_response(409, response="CONFLICT", description="The name is taken")
    def post(self, data: dict) -> ScoringRule:
        """Create a rule

        Conditions left out (or null) match every event of the kind. Each matching rule
        writes its own ledger line; a ``cap`` limits what one person earns from the rule
        per ``cap_window``. An ``effective_at`` in the past reaches events scored before
        only through a recalculation.
        """
        rule = rules_service.create_rule(
            caller(),
            name=data["name"],
            description=data["description"],
            effective_at=_at(data["effective_at"], utcnow()),
            event_kind=data["event_kind"],
            **_terms(data),
        )
        return rule


@bp.route("/<int:rule_id>")
class RuleById(MethodView):
    @requires_role(Role.HR)
    @bp.response(200, RuleSchema)
    @bp.alt_response(404, response="NOT_FOUND")
    def get(self, rule_id: int) -> ScoringRule:
        """One rule with its versions"""
        return _rule(rule_id)


@bp.route("/<int:rule_id>/versions")
class RuleVersions(MethodView):
    @requires_role(Role.HR)
    @bp.arguments(RuleEditSchema)
    @bp.response(201, RuleChangeSchema)
    @bp.alt_response(404, response="NOT_FOUND")
    @bp.alt_response(409, response="CONFLICT", description="The rule is retired")
    def post(self, data: dict, rule_id: int) -> dict:
        """Edit a rule into a new version

        The current version ends at ``effective_at`` (default now, and after the current
        version started) and the new one, with the fields sent changed, starts there.
        ``recalculation_needed`` says that events already scored since then keep their
        points until ``POST /api/v1/points/recalculate`` replays them.
        """
        rule = _rule(rule_id)
        now = utcnow()
        effective_at = _at(data["effective_at"], now)
        version = rules_service.edit_rule(caller(), rule, _terms(data), effective_at)
        return _change(rule, version, effective_at, now)


@bp.route("/<int:rule_id>/retire")
class RuleRetirement(MethodView):
    @requires_role(Role.HR)
    @bp.arguments(RuleRetireSchema)
    @bp.response(200, RuleChangeSchema)
    @bp.alt_response(404, response="NOT_FOUND")
    def post(self, data: dict, rule_id: int) -> dict:
        """Retire a rule: it awards nothing from ``effective_at`` (default now) on

        Retiring a retired rule changes nothing (``version`` is null).
        """
        rule = _rule(rule_id)
        now = utcnow()
        effective_at = _at(data["effective_at"], now)
        closing = rules_service.open_version(rule)
        rules_service.retire_rule(caller(), rule, effective_at)
        return _change(rule, closing, effective_at, now)


@bp.route("/<int:rule_id>/preview")
class RulePreview(MethodView):
    @requires_role(Role.HR)
    @bp.arguments(RulePreviewQuerySchema)
    @bp.response(200, PreviewSchema)
    @bp.alt_response(404, response="NOT_FOUND")
    def post(self, data: dict, rule_id: int) -> dict:
        """What the rule would have given with these changes (default: the last 7 days)

        Compares the points the rule gave the period's events with what it would have
        given them with the fields sent changed; nothing is written.
        """
        rule = _rule(rule_id)
        until = _at(data["until"], utcnow())
        since = _at(data["since"], until - timedelta(days=PREVIEW_DAYS))
        if since >= until:
            raise InvalidInput("since must be before until.", field="since")
        preview = ledger.preview_rule_change(rule.id, _domain_changes(_terms(data)), since, until)
        return {"since": since, "until": until, **vars(preview)}


def _domain_changes(terms: dict[str, Any]) -> dict[str, Any]:
    """Rule fields as the pure engine's ``Rule`` holds them."""
    changes = dict(terms)
    if changes.get("channels") is not None:
        changes["channels"] = frozenset(Channel(value) for value in changes["channels"])
    for name in ("tags", "team_ids"):
        if changes.get(name) is not None:
            changes[name] = frozenset(changes[name])
    return changes


# Referral bonuses -------------------------------------------------------------------


def _bonus(stage: ReferralStage, now: datetime) -> dict:
    rule, current = rules_service.referral_bonus(stage)
    return {
        "stage": stage,
        "rule": rule,
        "points": current.points if current else None,
        "vesting_days": current.vesting_days if current else None,
    }


def _stage(stage: str) -> ReferralStage:
    try:
        return ReferralStage(stage)
    except ValueError:
        raise NotFound(
            f"No referral stage {stage!r}; there are applied, interviewed and hired.",
            field="stage",
        ) from None


@bonuses_bp.route("")
class ReferralBonuses(MethodView):
    @requires_role(Role.HR)
    @bonuses_bp.response(200, ReferralBonusSchema(many=True))
    def get(self) -> list[dict]:
        """The bonus per referral stage, as the rule in force pays it now"""
        now = utcnow()
        return [_bonus(stage, now) for stage in ReferralStage]


@bonuses_bp.route("/<stage>")
class ReferralBonusByStage(MethodView):
    @requires_role(Role.HR)
    @bonuses_bp.arguments(ReferralBonusEditSchema)
    @bonuses_bp.response(200, RuleChangeSchema)
    @bonuses_bp.alt_response(404, response="NOT_FOUND", description="No such stage")
    def put(self, data: dict, stage: str) -> dict:
        """Set a stage's bonus: its rule gets a new version from ``effective_at``

        Without a rule for the stage (or only a retired one), a rule is created. Setting
        what the rule pays already changes nothing (``version`` is null).
        """
        referral_stage = _stage(stage)
        now = utcnow()
        effective_at = _at(data["effective_at"], now)
        version = rules_service.set_referral_bonus(
            caller(),
            referral_stage,
            points=data["points"],
            vesting_days=data["vesting_days"],
            effective_at=effective_at,
        )
        rule = version.rule if version else rules_service.referral_bonus(referral_stage)[0]
        return _change(rule, version, effective_at, now)
