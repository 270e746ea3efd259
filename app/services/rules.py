"""Scoring rules as data: HR creates rules and edits them into new versions.

A version is never changed once written: an edit closes the open version at its
effective time and opens the next one there, so every ledger line keeps pointing at
exactly the rule that produced it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, selectinload

from app.errors import Conflict, InvalidInput
from app.extensions import db
from app.models import Employee, RuleVersion, ScoringRule, Team, utcnow
from app.services import audit
from app.services.names import flush_unique, same_name_as
from scoring.engine import Rule
from scoring.vocabulary import Channel, EventKind, ReferralStage
from scoring.windows import Window

VERSION_FIELDS = (
    "event_kind",
    "points",
    "channels",
    "tags",
    "team_ids",
    "campaign",
    "own_words",
    "cap",
    "cap_window",
    "vesting_days",  # else an edit would silently drop a referral's holding period
)

# A new company starts here: gentle points for sharing, more for what sharing achieves.
DEFAULT_RULES: tuple[dict[str, Any], ...] = (
    {
        "name": "Sharing",
        "event_kind": EventKind.SHARE,
        "points": 5,
        "cap": 15,
        "cap_window": Window.DAY,
        "description": "Points for sharing company content.",
    },
    {
        "name": "Unique clicks",
        "event_kind": EventKind.CLICK,
        "points": 1,
        "cap": 20,
        "cap_window": Window.DAY,
        "description": "One point per person who opened your link.",
    },
    {
        "name": "Referral: applied",
        "event_kind": EventKind.REFERRAL_APPLIED,
        "points": 25,
        "description": "Someone applied through a job ad you shared.",
    },
    {
        "name": "Referral: interviewed",
        "event_kind": EventKind.REFERRAL_INTERVIEWED,
        "points": 50,
        "description": "Your referral was invited to an interview.",
    },
    {
        "name": "Referral: hired",
        "event_kind": EventKind.REFERRAL_HIRED,
        "points": 200,
        "vesting_days": 90,
        "description": "Your referral was hired; spendable after 90 days.",
    },
)


def _check_version(fields: dict[str, Any]) -> None:
    if "own_words" in fields:  # only true is a condition; false would match any share too
        fields["own_words"] = True if fields["own_words"] else None
    if fields["points"] < 0:
        raise InvalidInput("Rules award points; they never take them away.", field="points")
    if fields.get("cap") is not None and fields["cap"] < 0:
        raise InvalidInput("A cap cannot be negative.", field="cap")
    if fields.get("vesting_days", 0) < 0:
        raise InvalidInput("Vesting cannot be negative.", field="vesting_days")
    if fields.get("team_ids"):
        known = set(db.session.scalars(select(Team.id).where(Team.id.in_(fields["team_ids"]))))
        unknown = sorted(set(fields["team_ids"]) - known)
        if unknown:
            raise InvalidInput(f"No team with id {unknown[0]}.", field="team_ids")


def create_rule(
    actor: Employee | None,
    *,
    name: str,
    description: str = "",
    effective_at: datetime | None = None,
    **version_fields: Any,
) -> ScoringRule:
    name = (name or "").strip()
    if not name:
        raise InvalidInput("A rule needs a name.", field="name")
    if same_name_as(ScoringRule.name, name) is not None:
        raise Conflict(f"A rule called {name!r} exists already.", field="name")
    fields = {"cap_window": Window.ALL_TIME, "vesting_days": 0, **version_fields}
    _check_version(fields)
    rule = ScoringRule(name=name, description=description.strip())
    rule.versions.append(
        RuleVersion(
            version=1,
            valid_from=effective_at or utcnow(),
            created_by_id=actor.id if actor else None,
            **fields,
        )
    )
    db.session.add(rule)
    flush_unique(ScoringRule.name, f"A rule called {name!r} exists already.")
    audit.record(actor, "rule.create", rule, name=name)
    return rule


def open_version(rule: ScoringRule) -> RuleVersion | None:
    open_versions = [v for v in rule.versions if v.valid_until is None]
    return open_versions[-1] if open_versions else None


def edit_rule(
    actor: Employee | None, rule: ScoringRule, changes: dict[str, Any], effective_at: datetime
) -> RuleVersion:
    """Close the open version at ``effective_at`` and open the next with ``changes``.
    An effective time in the past needs a recalculation to reach scored events."""
    current = open_version(rule)
    if current is None:
        raise Conflict("This rule is retired; create a new rule instead.")
    if effective_at <= current.valid_from:
        raise InvalidInput(
            "The change must take effect after the current version started "
            f"({current.valid_from.isoformat()}).",
            field="effective_at",
        )
    fields = {name: getattr(current, name) for name in VERSION_FIELDS}
    fields.update({k: v for k, v in changes.items() if k in VERSION_FIELDS})
    _check_version(fields)
    current.valid_until = effective_at
    version = RuleVersion(
        rule=rule,
        version=current.version + 1,
        valid_from=effective_at,
        created_by_id=actor.id if actor else None,
        **fields,
    )
    db.session.add(version)
    db.session.flush()
    audit.record(
        actor,
        "rule.edit",
        rule,
        version=version.version,
        effective_at=effective_at.isoformat(),
        changes={k: _plain(v) for k, v in changes.items()},
    )
    return version


def retire_rule(actor: Employee | None, rule: ScoringRule, effective_at: datetime) -> None:
    current = open_version(rule)
    if current is None:
        return
    if effective_at <= current.valid_from:
        raise InvalidInput(
            "A rule can only be retired after its current version started.", field="effective_at"
        )
    current.valid_until = effective_at
    audit.record(actor, "rule.retire", rule, effective_at=effective_at.isoformat())


def install_default_rules(actor: Employee | None = None, effective_at: datetime | None = None):
    """The default rule set, unless the company has rules already."""
    if db.session.scalar(select(func.count()).select_from(ScoringRule)):
        return []
    return [create_rule(actor, effective_at=effective_at, **rule) for rule in DEFAULT_RULES]


def _plain(value: Any) -> Any:
    return value.value if hasattr(value, "value") else value


def to_domain(version: RuleVersion) -> Rule:
    return Rule(
        rule_id=version.rule_id,
        version=version.version,
        name=version.rule.name,
        event_kind=version.event_kind,
        points=version.points,
        valid_from=version.valid_from,
        valid_until=version.valid_until,
        channels=frozenset(Channel(c) for c in version.channels) if version.channels else None,
        tags=frozenset(version.tags) if version.tags else None,
        team_ids=frozenset(version.team_ids) if version.team_ids else None,
        campaign=version.campaign,
        own_words=version.own_words or None,
        cap=version.cap,
        cap_window=version.cap_window,
        vesting_days=version.vesting_days,
    )


def all_versions() -> list[RuleVersion]:
    # Each version's rule comes with it from the join: scoring reads every rule's name
    # once per batch, which would otherwise load them one by one.
    return list(
        db.session.scalars(
            select(RuleVersion)
            .join(ScoringRule)
            .options(contains_eager(RuleVersion.rule))
            .order_by(RuleVersion.rule_id, RuleVersion.version)
        )
    )


# Referral bonuses ------------------------------------------------------------------


def _has_conditions(version: RuleVersion) -> bool:
    return any(
        getattr(version, name) for name in ("channels", "tags", "team_ids", "campaign", "own_words")
    )


def stage_rules(stage: ReferralStage) -> list[tuple[ScoringRule, RuleVersion]]:
    """Open rules awarding ``stage``, with their open version, oldest rule first."""
    found = []
    for rule in db.session.scalars(
        select(ScoringRule).options(selectinload(ScoringRule.versions)).order_by(ScoringRule.id)
    ):
        current = open_version(rule)
        if current is not None and current.event_kind is stage.event_kind:
            found.append((rule, current))
    return found


def referral_bonus(stage: ReferralStage) -> tuple[ScoringRule | None, RuleVersion | None]:
    """The rule that pays a stage's bonus: the oldest open one without conditions (rules
    with conditions are bonuses on top, for a campaign or a team)."""
    plain = [(r, v) for r, v in stage_rules(stage) if not _has_conditions(v)]
    return plain[0] if plain else (None, None)


def set_referral_bonus(
    actor: Employee | None,
    stage: ReferralStage,
    *,
    points: int,
    vesting_days: int,
    effective_at: datetime,
) -> RuleVersion | None:
    """Make the stage pay ``points`` from ``effective_at``: a new version of its rule, or
    a new rule when it has none. None when nothing changes."""
    rule, current = referral_bonus(stage)
    if current is not None and (current.points, current.vesting_days) == (points, vesting_days):
        return None
    if rule is not None:
        return edit_rule(
            actor, rule, {"points": points, "vesting_days": vesting_days}, effective_at
        )
    name = f"Referral: {stage.value}"
    if db.session.scalar(select(ScoringRule.id).where(ScoringRule.name == name)):
        name = f"{name} (from {effective_at:%Y-%m-%d %H:%M})"  # a retired rule has the name
    rule = create_rule(
        actor,
        name=name,
        description=f"The bonus when a referred candidate is {stage.value}.",
        effective_at=effective_at,
        event_kind=stage.event_kind,
        points=points,
        vesting_days=vesting_days,
    )
    return rule.versions[-1]
