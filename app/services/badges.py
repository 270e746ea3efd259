"""Badges as data (HR defines them), their grants, and what pages show of them.

Definitions: a badge row keeps the plain dict ``scoring.badges.parse_badge`` reads; its
``slug`` is the badge's stable id in that dict and never changes, so renaming a badge or
moving its thresholds does not award it again. A refused definition is a 422 naming the
field; nothing is changed.

Grants: ``scoring.badges.evaluate`` finds every grant in a history, dated at the real
crossing; here they are written insert-if-absent under the unique (badge, employee,
level, period), so a re-run, a backfill and the nightly pass each write a grant once.
Grants are never deleted: a later reversal of points leaves them. A grant dated more
than two days before its evaluation is quiet (backfill): stored, announced to no one.
Only people taking part earn badges.

Three jobs write grants (``app.jobs``): after each scoring batch, for the people it
touched; a nightly full pass; and a backfill when a badge is created or its criteria
change. This module flushes; the jobs commit.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from hashlib import sha256
from typing import Any

from sqlalchemy import select

from app.db import among, bulk_insert, get_or_404
from app.errors import Conflict, InvalidInput
from app.extensions import after_commit, db
from app.models import Badge, BadgeGrant, Employee, utcnow
from app.queue import enqueue
from app.services import (
    audit,
    badge_history,
    ledger,
    mentions,
    notifications,
    webhook_endpoints,
)
from app.services.badge_history import (
    History,
    collection_paused,
    everyone_in_groups,
    load_histories,
)
from app.services.calendar import company_calendar
from app.services.names import flush_unique, same_name_as
from app.services.notifications import Told
from app.services.people import participants
from app.urls import path_for
from scoring import badges as core
from scoring.badges import (
    ONCE_PERIOD,
    BadgeDefinitionError,
    CriterionKind,
    Grant,
    Level,
    Progress,
    Streak,
)
from scoring.notifications import Kind as NotificationKind
from scoring.vocabulary import EventKind
from scoring.webhooks import Event

# What a settled challenge placing is to ``evaluate_employees``' ``kinds``.
PLACING_FACT = "placing"

INSERT_CHUNK = 2000
BACKFILL_TIMEOUT = 3600  # seconds: 100k people over 1M ledger lines take well under a minute


# Definitions -----------------------------------------------------------------------


def definition_of(badge: Badge) -> core.Badge:
    """The badge's criteria as the core reads them; its id is always the slug."""
    return core.parse_badge({**badge.definition, "id": badge.slug, "name": badge.name})


def parse(data: Mapping[str, Any]) -> core.Badge:
    """``parse_badge``, its refusal a 422 naming the field."""
    try:
        return core.parse_badge(data)
    except BadgeDefinitionError as exc:
        raise InvalidInput(exc.message, field=exc.field) from None


def _stored(data: Mapping[str, Any]) -> dict[str, Any]:
    """The definition as kept: the given fields, without empty ones."""
    return {key: value for key, value in data.items() if value is not None}


def _name_taken(name: str, other_than: int | None = None) -> bool:
    return same_name_as(Badge.name, name, other_than=other_than) is not None


def create_badge(actor: Employee | None, data: Mapping[str, Any]) -> Badge:
    """A new badge from its definition (``parse_badge``'s dict; ``id`` is the slug).
    Everyone who already qualifies gets it by a backfill, quietly for the past."""
    definition = _stored(data)
    parsed = parse(definition)
    if db.session.scalar(select(Badge.id).where(Badge.slug == parsed.id)) is not None:
        raise Conflict(f"There is a badge with the id {parsed.id} already.", field="id")
    if _name_taken(parsed.name):
        raise Conflict(f"There is a badge called {parsed.name} already.", field="name")
    definition.update(id=parsed.id, name=parsed.name)
    badge = Badge(slug=parsed.id, name=parsed.name, definition=definition, active=True)
    badge.created_by_id = actor.id if actor is not None else None
    db.session.add(badge)
    flush_unique(Badge.name, f"There is a badge called {parsed.name} already.")
    audit.record(actor, "badge.create", badge, name=badge.name, slug=badge.slug)
    _backfill_after_commit(badge)
    return badge


def update_badge(actor: Employee | None, badge: Badge, changes: Mapping[str, Any]) -> Badge:
    """Change a badge's definition: ``changes`` are fields of the definition (a null
    removes a field) and ``active``. The id (slug) never changes. New criteria are
    backfilled: people who qualify now get it, dated when they crossed; grants already
    made stay, whatever the new thresholds."""
    changes = dict(changes)
    active = changes.pop("active", None)
    if "id" in changes and changes["id"] != badge.slug:
        raise InvalidInput("A badge's id never changes; create a new badge instead.", field="id")
    merged = _stored({**badge.definition, **changes, "id": badge.slug})
    parsed = parse(merged)
    if parsed.name != badge.name and _name_taken(parsed.name, other_than=badge.id):
        raise Conflict(f"There is a badge called {parsed.name} already.", field="name")
    merged["name"] = parsed.name
    changed = sorted(
        k for k in set(merged) | set(badge.definition) if merged.get(k) != badge.definition.get(k)
    )
    criteria_changed = _criteria(definition_of(badge)) != _criteria(parsed)
    if changed:
        badge.definition = merged
        badge.name = parsed.name
        flush_unique(Badge.name, f"There is a badge called {parsed.name} already.")
        audit.record(actor, "badge.update", badge, changes=changed)
    if active is not None and active != badge.active:
        (activate_badge if active else retire_badge)(actor, badge)
    if criteria_changed and badge.active:
        _backfill_after_commit(badge)
    return badge


def _criteria(badge: core.Badge) -> core.Badge:
    """What decides who earns the badge: its words left out."""
    return replace(badge, name="", description="")


def retire_badge(actor: Employee | None, badge: Badge) -> Badge:
    """Out of the catalogue and no longer granted; grants made stay with their holders."""
    if badge.active:
        badge.active = False
        db.session.flush()
        audit.record(actor, "badge.retire", badge, name=badge.name)
    return badge


def activate_badge(actor: Employee | None, badge: Badge) -> Badge:
    """Back in the catalogue; whoever qualified meanwhile gets it by a backfill."""
    if not badge.active:
        badge.active = True
        db.session.flush()
        audit.record(actor, "badge.activate", badge, name=badge.name)
        _backfill_after_commit(badge, f"-{int(utcnow().timestamp())}")
    return badge


def _backfill_after_commit(badge: Badge, occasion: str = "") -> None:
    """Queue the badge's backfill once the badge is committed. One job per badge and
    definition (and occasion): saving the same criteria again queues nothing new."""
    db.session.flush()
    stamp = sha256(repr(sorted(badge.definition.items())).encode()).hexdigest()[:12]
    job_id = f"backfill-badge-{badge.id}-{stamp}{occasion}"
    after_commit(
        lambda badge_id=badge.id: enqueue(
            "app.jobs.backfill_badge", badge_id, job_id=job_id, timeout=BACKFILL_TIMEOUT
        )
    )


def active_badges() -> list[Badge]:
    return list(db.session.scalars(select(Badge).where(Badge.active).order_by(Badge.id)))


def get_badge(badge_id: int) -> Badge:
    return get_or_404(Badge, badge_id)


def find_badge(badge_id: int) -> Badge | None:
    return db.session.get(Badge, badge_id)


# Evaluation ------------------------------------------------------------------------


@dataclass(frozen=True)
class Rules:
    """Badges as rows and as the core reads them, with the company calendar."""

    rows: dict[str, Badge]  # slug -> row
    parsed: list[core.Badge]
    zone: Any
    week_start: int

    @classmethod
    def of(cls, badges: Iterable[Badge]) -> Rules:
        rows = {b.slug: b for b in badges}
        zone, week_start = company_calendar()
        return cls(rows, [definition_of(b) for b in rows.values()], zone, week_start)

    def grants(self, history: History, badges: Iterable[core.Badge] | None = None) -> list[Grant]:
        """Every grant of the badges (all of them by default) in one history. Each badge
        reads only the facts it counts (in time order, like the history)."""
        by_kind: dict[str, list[core.Fact]] = {}
        for fact in history.facts:
            by_kind.setdefault(fact.kind, []).append(fact)
        found = []
        for badge in self.parsed if badges is None else badges:
            found += core.evaluate(
                badge,
                _relevant(badge, by_kind),
                history.placings,
                self.zone,
                self.week_start,
                presorted=True,
            )
        return found


def _relevant(badge: core.Badge, by_kind: dict[str, list[core.Fact]]) -> list[core.Fact]:
    if badge.kind is CriterionKind.PLACING:
        return []
    if badge.kind is CriterionKind.STREAK:
        kinds: frozenset[str] = frozenset({EventKind.SHARE})
    elif badge.measure is core.Measure.POINTS:
        kinds = frozenset({core.POINTS_LINE})  # events carry no points of their own
    else:
        assert badge.measure is not None
        kinds = core.MEASURED_KINDS[badge.measure]
    parts = [by_kind[kind] for kind in kinds if kind in by_kind]
    if len(parts) == 1:
        return parts[0]
    return sorted((f for part in parts for f in part), key=_when)


def _when(fact: core.Fact) -> datetime:
    return fact.occurred_at


def _held(employee_ids: Sequence[int], badge_ids: Collection) -> set[tuple[int, int, str, str]]:
    """(badge id, employee, level, period) of grants already made."""
    if not employee_ids or not badge_ids:
        return set()
    grants = BadgeGrant.__table__.c  # plain columns: no ORM work per row
    query = select(grants.badge_id, grants.employee_id, grants.level, grants.period).where(
        among(grants.employee_id, list(employee_ids)), among(grants.badge_id, list(badge_ids))
    )
    return {(b, e, Level(level), period) for b, e, level, period in db.session.execute(query)}


def _write(
    rules: Rules, employee_id: int, grants: Iterable[Grant], held: set, now: datetime, rows: list
) -> None:
    for grant in grants:
        badge_id = rules.rows[grant.badge_id].id
        if (badge_id, employee_id, grant.level, grant.period) in held:
            continue
        rows.append(
            {
                "badge_id": badge_id,
                "employee_id": employee_id,
                "level": grant.level,
                "period": grant.period,
                "granted_at": grant.granted_at,
                "quiet": core.is_quiet(grant, now),
                "created_at": now,
            }
        )


def _insert_and_announce(rules: Rules, rows: list[dict]) -> int:
    """Write the grants, and tell each person of theirs that are not quiet (their key
    is the grant's: a grant written before was told before)."""
    names = {row.id: row.name for row in rules.rows.values()}
    link = path_for("badge_pages.mine")  # once: building a path costs more than the row
    told = [
        grant_told(
            g["employee_id"],
            g["badge_id"],
            names[g["badge_id"]],
            g["level"],
            g["period"],
            link=link,
        )
        for g in rows
        if not g["quiet"]
    ]
    notifications.tell(told)
    mentions.mention(told)
    webhook_endpoints.emit(
        Event.BADGE_GRANTED,
        (
            (
                f"{g['badge_id']}:{g['employee_id']}:{g['level']}:{g['period']}",
                {
                    "badge_id": g["badge_id"],
                    "badge": names[g["badge_id"]],
                    "employee_id": g["employee_id"],
                    "level": str(g["level"]),
                    "period": g["period"],
                    "granted_at": g["granted_at"].isoformat(),
                    # Granted for the past (a new badge looking back): nobody was told.
                    "quiet": g["quiet"],
                },
            )
            for g in rows
        ),
    )
    return _insert(rows)


def grant_told(
    employee_id: int,
    badge_id: int,
    name: str,
    level: str,
    period: str,
    at: datetime | None = None,
    link: str | None = None,
) -> Told:
    """The inbox's words for a grant; its key is the grant's own."""
    return Told(
        employee_id,
        NotificationKind.BADGE_EARNED,
        key=f"badge:{badge_id}:{level}:{period}",
        title=core.earned_words(name, level),
        link=link or path_for("badge_pages.mine"),
        at=at,
    )


def _insert(rows: list[dict]) -> int:
    for start in range(0, len(rows), INSERT_CHUNK):
        bulk_insert(
            BadgeGrant.__table__,
            rows[start : start + INSERT_CHUNK],
            lambda statement: statement.on_conflict_do_nothing(),
        )
    return len(rows)


def _evaluate_group(
    rules: Rules, histories: dict[int, History], now: datetime, version: int | None = None
) -> int:
    """Grants for a group of the full pass. With the ``version`` of the active badges'
    gates, the group's gates are brought up to date too (those that changed), so the
    evaluations after the next scoring batches skip whoever is short of a level."""
    held = _held(list(histories), [row.id for row in rules.rows.values()])
    rows: list[dict] = []
    for employee_id, history in histories.items():
        _write(rules, employee_id, rules.grants(history), held, now, rows)
    if version is not None:
        stored = badge_history.stored_gates(list(histories), _gated_facts(rules))
        grants = [(e, badge_id, level) for badge_id, e, level, _ in held]
        gates = _gates_after(rules, stored, grants, rows)
        badge_history.set_gates(
            {key: gate for key, gate in gates.items() if stored[key] != (gate, version)}, version
        )
    return _insert_and_announce(rules, rows)


def evaluate_employees(
    employee_ids: Iterable[int] | None,
    now: datetime | None = None,
    badges: Iterable[Badge] | None = None,
    kinds: Mapping[int, Collection[str] | None] | None = None,
) -> int:
    """Grant what these people have earned (of the active badges, or ``badges``);
    returns how many grants were new. ``kinds`` (after a scoring batch) names what
    each person just did, fact kinds and ``POINTS_LINE``: only the badges that count
    one of them are looked at for that person (None: every badge); its keys are the
    people when ``employee_ids`` is None.

    Incremental: the grants people hold are read in one statement, and a badge whose
    every level a person holds is left out for them. For the rest, what the badge
    measures is read from the people's tallies (``badge_history.badge_standings``: running
    totals the database keeps, so the cost follows the batch, not the history; a
    streak: the run at the latest grant plus the weeks shared in since); only a person
    whose value reaches the next level they don't hold (``scoring.badges.who_might_cross``)
    has their history read in full and evaluated, for the real crossing time. Counts
    only grow, so a count reaching its threshold is a crossing; points can fall, so
    the points gained, reversals left out, stand for them. The streak bound holds when
    every earlier crossing was granted, which the backfill of a new badge and the
    nightly full pass see to (they also catch an event that arrived late, dated before
    a grant)."""
    now = now or utcnow()
    rules = Rules.of(active_badges() if badges is None else badges)
    if not rules.parsed:
        return 0
    # The gates stand for every active badge: after a scoring batch, not for a backfill.
    version = core.gates_version(rules.parsed) if badges is None and kinds is not None else None
    asked = set(kinds or {}) if employee_ids is None else set(employee_ids)
    if kinds is not None and all(kinds.get(e) is not None for e in asked):
        # Only the badges counting something the batch did: nobody else's can move.
        did = set().union(*(kinds[e] for e in asked))
        moved = [b for b in rules.parsed if not _reads(b).isdisjoint(did)]
        if not moved:
            return 0
        rules = Rules({b.id: rules.rows[b.id] for b in moved}, moved, rules.zone, rules.week_start)
    with collection_paused():  # many small rows, none referring to another
        return _evaluate_batch(rules, asked, now, kinds, version)


def _evaluate_batch(
    rules: Rules,
    asked: set[int],
    now: datetime,
    kinds: Mapping[int, Collection[str] | None] | None,
    version: int | None = None,
) -> int:
    """Grants of ``rules`` for ``asked``. With the ``version`` of the active badges'
    gates, a badge measured by one tally looks only at the people whose tally reached
    its gate (most people touched by a batch are still short of their next level), and
    their gates are worked out again afterwards."""
    looked, gates = set(asked), {}
    if version is not None:
        gates = badge_history.tallies_at_their_gates(asked, _gated_facts(rules), version)
        ungated = [_reads(b) for b in rules.parsed if core.tally_fact(b) is None]
        looked = {e for e, _ in gates}.union(_who_did(asked, kinds)(set().union(*ungated)))
    standing = badge_history.badge_standings(looked, [row.id for row in rules.rows.values()])
    candidates = _candidates(rules, standing, now, kinds)
    if candidates:  # only people taking part earn badges
        taking_part = set(participants(candidates))
        candidates = {e: left for e, left in candidates.items() if e in taking_part}
    held = {
        (badge_id, employee_id, Level(level), period)
        for employee_id in candidates
        for badge_id, level, period in standing[employee_id].held
    }
    needs = {employee_id: core.needs_of(left) for employee_id, left in candidates.items()}
    rows: list[dict] = []
    for employee_id, history in badge_history.load_each(needs, until=now).items():
        grants = rules.grants(history, candidates[employee_id])
        _write(rules, employee_id, grants, held, now, rows)
    if gates:
        assert version is not None
        grants = [
            (e, badge_id, level)
            for e in {e for e, _ in gates}
            for badge_id, level, _ in standing[e].held
        ]
        badge_history.set_gates(_gates_after(rules, gates, grants, rows), version)
    return _insert_and_announce(rules, rows)


def _gated_facts(rules: Rules) -> set[str]:
    return {fact for badge in rules.parsed if (fact := core.tally_fact(badge))}


def _gates_after(
    rules: Rules,
    gates: Iterable[tuple[int, str]],
    held: Iterable[tuple[int, int, str]],
    rows: Iterable[dict],
) -> dict[tuple[int, str], int]:
    """The gate of each (person, fact) of ``gates``, from the grants the people hold,
    (person, badge row id, level), and those of ``rows`` about to be made."""
    slugs = {row.id: slug for slug, row in rules.rows.items()}
    levels: dict[int, dict[str, set[str]]] = {}
    made = ((g["employee_id"], g["badge_id"], g["level"]) for g in rows)
    for e, badge_id, level in itertools.chain(held, made):
        levels.setdefault(e, {}).setdefault(slugs[badge_id], set()).add(level)
    measured: dict[str, list[core.Badge]] = {}
    for badge in rules.parsed:
        if fact := core.tally_fact(badge):
            measured.setdefault(fact, []).append(badge)
    return {
        (e, fact): core.next_level_at(measured.get(fact, ()), levels.get(e, {}))
        for e, fact in gates
    }


def _streak_reach(badge: core.Badge, rules: Rules, held: int, moments: list[datetime]) -> int:
    """At most how many weeks running the person may have reached. Without a level
    held, ``moments`` are all their shares: the longest run, exactly. Otherwise the run
    that crossed the held level (``held`` weeks) plus every week shared in since."""
    if not held:
        facts = [core.Fact(moment, EventKind.SHARE) for moment in sorted(moments)]
        return core.streak(
            facts, max(moments, default=utcnow()), rules.zone, rules.week_start, badge.grace_weeks
        ).longest
    return held + len({core.week_of(t, rules.zone, rules.week_start) for t in moments})


def _reads(badge: core.Badge) -> frozenset[str]:
    """The fact kinds that move the badge."""
    if badge.kind is CriterionKind.STREAK:
        return frozenset({EventKind.SHARE})
    if badge.kind is CriterionKind.PLACING:
        return frozenset({PLACING_FACT})
    if badge.measure is core.Measure.POINTS:
        return frozenset({core.POINTS_LINE})
    assert badge.measure is not None
    return core.MEASURED_KINDS[badge.measure]


def _candidates(
    rules: Rules,
    standing: Mapping[int, badge_history.BadgeStanding],
    now: datetime,
    did: Mapping[int, Collection[str] | None] | None = None,
) -> dict[int, list[core.Badge]]:
    """Who of the people ``standing`` may have crossed a level they don't hold yet, and
    of which badges (of those counting what each ``did``, when given)."""
    once: dict[tuple[int, int], set[str]] = {}
    periods: dict[tuple[int, int], int] = {}
    for employee_id, person in standing.items():
        for badge_id, level, period in person.held:
            key = (badge_id, employee_id)
            if period == ONCE_PERIOD:
                once.setdefault(key, set()).add(level)
            periods[key] = periods.get(key, 0) + 1
    levels = {key: frozenset(held) for key, held in once.items()}  # as stored
    doing = _who_did(standing, did)
    found: dict[int, list[core.Badge]] = {}
    measured: list[tuple[core.Badge, int, list[int]]] = []  # count and first badges
    placings = None
    for badge in rules.parsed:
        row_id = rules.rows[badge.id].id
        people = doing(_reads(badge))
        if not people:
            continue
        if badge.kind is CriterionKind.PLACING:
            if placings is None:
                placings = badge_history.placings_of(people, now)
            for employee_id, placed in placings.items():
                good = sum(1 for p in placed if 1 <= p.place <= badge.top)
                if badge.per_challenge:
                    due = good > periods.get((row_id, employee_id), 0)
                else:
                    step = core.next_step(badge, levels.get((row_id, employee_id), _NONE))
                    due = step is not None and good >= step[1]
                if due:
                    found.setdefault(employee_id, []).append(badge)
            continue
        if badge.kind is CriterionKind.STREAK:
            steps = {
                e: step
                for e in people
                if (step := core.next_step(badge, levels.get((row_id, e), _NONE))) is not None
            }
            # A run has at most as many weeks as the person has shares: who has fewer
            # shares than the next level's weeks cannot have reached it.
            ids = sorted(
                e
                for e, step in steps.items()
                if standing[e].tallies.get(EventKind.SHARE, 0) >= step[1]
            )
            times = badge_history.share_times_since_grant(row_id, {EventKind.SHARE}, ids, now)
            for e in ids:
                if _streak_reach(badge, rules, steps[e][0], times.get(e, [])) >= steps[e][1]:
                    found.setdefault(e, []).append(badge)
        else:
            measured.append((badge, row_id, people))
    for badge, row_id, people in measured:
        facts = _reads(badge)  # what the badge measures: one tally, or a few summed
        values = (
            (e, levels.get((row_id, e), _NONE), sum(standing[e].tallies.get(f, 0) for f in facts))
            for e in people
        )
        for e in core.who_might_cross(badge, values):
            found.setdefault(e, []).append(badge)
    return found


_NONE: frozenset[str] = frozenset()  # no level held


def _who_did(people: Iterable[int], did: Mapping[int, Collection[str] | None] | None):
    """A function of the facts a badge reads: which of ``people`` did one of them (all of
    them when ``did`` is None; a person whose entry is None did anything), in id order."""
    anyone: set[int] = set()
    by_fact: dict[str, set[int]] = {}
    for employee_id in people:
        kinds = None if did is None else did.get(employee_id)
        if kinds is None:
            anyone.add(employee_id)
        else:
            for kind in kinds:
                by_fact.setdefault(kind, set()).add(employee_id)

    def doing(reads: Collection[str]) -> list[int]:
        return sorted(anyone.union(*(by_fact.get(kind, ()) for kind in reads)))

    return doing


def evaluate_later(touched: Mapping[int, Collection[str]], now: datetime | None = None) -> None:
    """Queue ``evaluate_badges`` for the people a committed scoring batch touched, with
    what each did (``score_pending_events``' ``touched``). The job id is the batch's
    (its time and people): a batch is queued once, and a later batch touching the same
    people is a job of its own."""
    if not touched:
        return
    text = format_touched(touched)
    now = now or utcnow()
    digest = sha256(f"{now.isoformat()}|{text}".encode()).hexdigest()[:20]
    enqueue("app.jobs.evaluate_badges", text, job_id=f"evaluate-badges-{digest}", timeout=600)


def format_touched(touched: Mapping[int, Collection[str]]) -> str:
    """``{12: {"share", "points"}}`` as "12:points,share" (people joined by ";"), a job
    argument of plain text."""
    return ";".join(f"{e}:{','.join(sorted(touched[e]))}" for e in sorted(touched))


def parse_touched(text: str) -> dict[int, set[str] | None]:
    """``format_touched`` read back; a bare id stands for anything (every badge)."""
    found: dict[int, set[str] | None] = {}
    for part in filter(None, text.split(";")):
        person, _, what = part.partition(":")
        found[int(person)] = set(filter(None, what.split(","))) if what else None
    return found


def evaluate_everyone(
    now: datetime | None = None, badges: Iterable[Badge] | None = None
) -> Iterator[int]:
    """The full pass: grants for everyone taking part, a group at a time; yields how
    many grants each group added (the job commits after each)."""
    now = now or utcnow()
    rules = Rules.of(active_badges() if badges is None else badges)
    if not rules.parsed:
        return
    needs = core.needs_of(rules.parsed)
    version = core.gates_version(rules.parsed) if badges is None else None
    for histories in everyone_in_groups(needs, until=now):
        yield _evaluate_group(rules, histories, now, version)


def backfill(badge: Badge, now: datetime | None = None) -> Iterator[int]:
    """Everyone who already qualifies for ``badge`` gets it, dated at the real crossing
    and quiet when that was more than two days ago."""
    if not badge.active:
        return iter(())
    return evaluate_everyone(now, [badge])


# Default badges --------------------------------------------------------------------

DEFAULT_BADGES: list[dict[str, Any]] = [
    {
        "id": "first-share",
        "name": "First share",
        "kind": "first",
        "measure": "shares",
        "description": "Your first post for the company.",
    },
    {
        "id": "sharer",
        "name": "Sharer",
        "kind": "count",
        "measure": "shares",
        "levels": {"bronze": 10, "silver": 50, "gold": 150},
    },
    {
        "id": "first-click",
        "name": "First click",
        "kind": "first",
        "measure": "clicks",
        "description": "Someone read what you shared.",
    },
    {
        "id": "crowd-puller",
        "name": "Crowd puller",
        "kind": "count",
        "measure": "clicks",
        "levels": {"bronze": 25, "silver": 250, "gold": 1000},
    },
    {
        "id": "first-referral",
        "name": "First referral",
        "kind": "first",
        "measure": "referral_stages",
        "description": "Someone applied through your link.",
    },
    {
        "id": "talent-scout",
        "name": "Talent scout",
        "kind": "count",
        "measure": "hires",
        "levels": {"bronze": 1, "silver": 3, "gold": 10},
    },
    {
        "id": "points",
        "name": "Point collector",
        "kind": "count",
        "measure": "points",
        "levels": {"bronze": 100, "silver": 1000, "gold": 5000},
    },
    {
        "id": "four-weeks-running",
        "name": "Four weeks running",
        "kind": "streak",
        "levels": {"bronze": 4, "silver": 8, "gold": 12},
        "grace_weeks": 1,
    },
    {
        "id": "podium",
        "name": "Podium",
        "kind": "placing",
        "top": 3,
        "levels": {"bronze": 1, "silver": 3, "gold": 5},
    },
    {
        "id": "first-lesson",
        "name": "First lesson",
        "kind": "first",
        "measure": "lessons",
        "description": "Good posts are learned.",
    },
]


def ensure_default_badges(actor: Employee | None = None) -> list[Badge]:
    """Create the default badges that are missing (by id, then by name); returns the
    new ones. Each is backfilled once committed. For the demo and a fresh install, not
    for requests."""
    created = []
    for data in DEFAULT_BADGES:
        exists = db.session.scalar(select(Badge.id).where(Badge.slug == data["id"]))
        if exists is None and not _name_taken(data["name"]):
            created.append(create_badge(actor, data))
    return created


# What pages and the home page show -----------------------------------------------------


@dataclass(frozen=True)
class EarnedLevel:
    level: Level
    granted_at: datetime
    period: str


@dataclass(frozen=True)
class BadgeCard:
    badge: Badge
    definition: core.Badge
    earned: list[EarnedLevel]  # oldest first
    progress: Progress
    locked: bool  # nothing of it earned yet
    description: str  # the criterion in words


def describe(badge: Badge | core.Badge) -> str:
    """What earns the badge, in words."""
    return core.describe_badge(badge if isinstance(badge, core.Badge) else definition_of(badge))


def grants_of(employee: Employee) -> list[BadgeGrant]:
    """Everything the person has earned, newest first."""
    return list(
        db.session.scalars(
            select(BadgeGrant)
            .where(BadgeGrant.employee_id == employee.id)
            .order_by(BadgeGrant.granted_at.desc(), BadgeGrant.id.desc())
        )
    )


def recent_grants(employee: Employee, since: datetime) -> list[BadgeGrant]:
    """Grants crossed since ``since`` that are news (not quiet backfill), newest first:
    the home page's "new badge"."""
    return list(
        db.session.scalars(
            select(BadgeGrant)
            .where(
                BadgeGrant.employee_id == employee.id,
                BadgeGrant.granted_at >= since,
                BadgeGrant.quiet.is_(False),
            )
            .order_by(BadgeGrant.granted_at.desc(), BadgeGrant.id.desc())
        )
    )


def _own_history(employee: Employee, badges: Sequence[core.Badge], now: datetime) -> History:
    """One person's history, whether or not they take part now: everyone sees their
    own progress (an opted-out person simply has nothing new)."""
    return load_histories([employee.id], core.needs_of(badges), until=now)[employee.id]


def _card(
    row: Badge, badge: core.Badge, grants: list[BadgeGrant], history: History, now, zone, week_start
) -> BadgeCard:
    earned = [EarnedLevel(g.level, g.granted_at, g.period) for g in grants]
    earned.sort(key=lambda e: e.granted_at)
    value = core.current_value(badge, history.facts, history.placings, now, zone, week_start)
    progress = core.progress(badge, {e.level for e in earned}, value)
    return BadgeCard(row, badge, earned, progress, not earned, core.describe_badge(badge))


def catalogue_for(employee: Employee, now: datetime | None = None) -> list[BadgeCard]:
    """Every active badge (and retired ones the person holds) with what they earned,
    their progress toward the next level and the criterion in words; by badge id."""
    now = now or utcnow()
    grants = grants_of(employee)
    held_ids = {g.badge_id for g in grants}
    rows = list(
        db.session.scalars(
            select(Badge)
            .where(Badge.active | among(Badge.id, held_ids) if held_ids else Badge.active)
            .order_by(Badge.id)
        )
    )
    parsed = [definition_of(row) for row in rows]
    zone, week_start = company_calendar()
    history = _own_history(employee, parsed, now)
    by_badge: dict[int, list[BadgeGrant]] = {}
    for grant in grants:
        by_badge.setdefault(grant.badge_id, []).append(grant)
    return [
        _card(row, badge, by_badge.get(row.id, []), history, now, zone, week_start)
        for row, badge in zip(rows, parsed, strict=True)
    ]


def card_for(employee: Employee, badge: Badge, now: datetime | None = None) -> BadgeCard:
    now = now or utcnow()
    parsed = definition_of(badge)
    zone, week_start = company_calendar()
    grants = [g for g in grants_of(employee) if g.badge_id == badge.id]
    return _card(
        badge, parsed, grants, _own_history(employee, [parsed], now), now, zone, week_start
    )


def next_badge_progress(employee: Employee, now: datetime | None = None) -> BadgeCard | None:
    """The not-yet-earned level the person is closest to, by percent (then the one
    with the least left to do); None when every level of every badge is earned."""
    open_cards = [
        card
        for card in catalogue_for(employee, now)
        if card.badge.active and card.progress.threshold is not None
    ]
    if not open_cards:
        return None
    return min(
        open_cards,
        key=lambda c: (
            -c.progress.percent,
            c.progress.threshold - max(0, c.progress.current),
            c.badge.id,
        ),
    )


def streak_for(employee: Employee, now: datetime | None = None) -> Streak:
    """Weeks running with a share, on the company calendar, with the grace of the
    streak badge (the most generous active one; none without one). Its words:
    ``scoring.badges.describe_streak(streak.current)``, never loss-framed."""
    now = now or utcnow()
    zone, week_start = company_calendar()
    grace = max(
        (
            b.grace_weeks
            for b in (definition_of(row) for row in active_badges())
            if b.kind is CriterionKind.STREAK
        ),
        default=0,
    )
    needs = core.Needs(event_kinds=frozenset({EventKind.SHARE}))
    history = load_histories([employee.id], needs, until=now)[employee.id]
    return core.streak(history.facts, now, zone, week_start, grace)


def streak_words(employee: Employee, now: datetime | None = None) -> str:
    return core.describe_streak(streak_for(employee, now).current)


def level_of(employee: Employee) -> core.PersonLevel:
    """The person's overall level from lifetime points (``DEFAULT_LEVEL_THRESHOLDS``)."""
    return core.person_level(ledger.balance(employee.id).lifetime, core.DEFAULT_LEVEL_THRESHOLDS)


@dataclass(frozen=True)
class PreviewEntry:
    name: str
    level: Level
    granted_at: datetime


@dataclass(frozen=True)
class Preview:
    count: int  # people who would hold the badge now
    sample: list[PreviewEntry]  # the first to have earned it, their highest level


def preview(
    data_or_badge: Mapping[str, Any] | Badge, now: datetime | None = None, limit: int = 50
) -> Preview:
    """Who would get the badge now, if it were saved as given: writes nothing. A
    definition that is not valid is a 422 naming the field."""
    now = now or utcnow()
    if isinstance(data_or_badge, Badge):
        badge = definition_of(data_or_badge)
    else:
        badge = parse(_stored(data_or_badge))
    zone, week_start = company_calendar()
    top: dict[int, Grant] = {}
    for histories in everyone_in_groups(core.needs_of([badge]), until=now):
        for employee_id, history in histories.items():
            grants = core.evaluate(badge, history.facts, history.placings, zone, week_start)
            if grants:
                top[employee_id] = grants[-1] if not badge.per_challenge else grants[0]
    first = sorted(top.items(), key=lambda item: (item[1].granted_at, item[0]))[:limit]
    names = (
        dict(
            db.session.execute(
                select(Employee.id, Employee.name).where(among(Employee.id, [e for e, _ in first]))
            ).all()
        )
        if first
        else {}
    )
    return Preview(
        count=len(top),
        sample=[PreviewEntry(names.get(e, ""), g.level, g.granted_at) for e, g in first],
    )
