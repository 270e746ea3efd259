"""For any history, the rollups the pipelines keep equal a rebuild from the raw rows.

Random histories on real SQL and a real Redis: shares around the end of summer time
(a 25-hour Sunday ending a week) and around a month's end; clicks of people, bots and
the sharer's own, the same visitor twice, clicks waiting in the stream while their
sharer opts out; referral stages forwards, backwards and unattributed; scoring in
batches, a share rule repriced back in time and recalculated (negative lines),
adjustments either way; people moving teams, opting out and in, erased, choosing
interests anew; items tagged anew; teams and interests deleted. Every step goes
through the services the product uses. Whatever happened, the live rollups and kept
headcounts equal what a full rebuild, and a rebuild of the days from any date on, make.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.errors import ChorusError
from app.extensions import db, get_redis
from app.models import ContentItem, Employee, Interest, Role, ScoringRule, Share, Team, utcnow
from app.services import clicks as click_pipeline
from app.services import content as content_service
from app.services import headcounts, ledger, participation, people, referrals, sharing
from app.services import rules as rules_service
from app.services.scoring import score_pending_events
from scoring.analytics import Period, day_start, next_period_start, period_start
from scoring.analytics import headcounts as count_headcounts
from scoring.vocabulary import Channel, ReferralStage
from tests.factories import (
    CompanySettingsFactory,
    ContentItemFactory,
    ContentTagFactory,
    EmployeeFactory,
    InterestFactory,
    ReferralProgrammeFactory,
    TeamFactory,
)
from tests.integration.rollup_support import click, live_rows, process_clicks, rebuilt_rows

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
SUMMER_ENDS = date(2026, 10, 25)
# 23:30 on the Saturday before summer time ends in Berlin, on 31 October, and on 30
# September (still summer time: a month counted anew from a day in winter time starts
# before the clocks went back).
EDGES = [
    datetime(2026, 10, 24, 21, 30, tzinfo=UTC),
    datetime(2026, 10, 31, 22, 30, tzinfo=UTC),
    datetime(2026, 9, 30, 21, 30, tzinfo=UTC),
]
HOURS = [0, 0.5, 1, 2.5, 3.5, 24.5, 25.5, 26]  # across midnight, the repeated hour, Monday
TAGS = ["news", "ai"]

moments = st.builds(
    lambda edge, hours: edge + timedelta(hours=hours),
    st.sampled_from(EDGES),
    st.sampled_from(HOURS),
)
people_ = st.integers(0, 3)
shares = st.tuples(
    st.just("share"),
    people_,
    st.integers(0, 1),
    st.sampled_from([Channel.LINKEDIN, Channel.X]),
    moments,
)
clicks = st.lists(
    st.tuples(
        st.just("click"),
        st.integers(0, 7),  # which share, by position
        moments,
        st.integers(0, 2),  # visitor
        st.sampled_from(["person", "person", "bot", "self"]),
    ),
    max_size=6,
)
steps = st.lists(
    st.one_of(
        shares,
        st.tuples(
            st.just("click"),
            st.integers(0, 7),  # which share, by position
            moments,
            st.integers(0, 2),  # visitor
            st.sampled_from(["person", "bot", "self"]),
        ),
        st.tuples(st.just("process")),
        st.tuples(
            st.just("stage"),
            st.integers(0, 7),
            st.integers(0, 2),  # candidate
            st.sampled_from(list(ReferralStage)),
            moments,
        ),
        st.tuples(st.just("stage_unknown"), st.integers(0, 2), moments),
        st.tuples(st.just("score")),
        st.tuples(st.just("reprice"), st.integers(0, 7)),
        st.tuples(st.just("adjust"), people_, st.sampled_from([-8, -2, 3, 10])),
        st.tuples(st.just("move"), people_, st.integers(0, 2)),  # 2: no team
        st.tuples(st.just("opt_out"), people_),
        st.tuples(st.just("opt_in"), people_),
        st.tuples(st.just("erase"), people_),
        st.tuples(st.just("delete_team"), st.integers(0, 1)),
        st.tuples(st.just("interests"), people_, st.frozensets(st.integers(0, 2))),
        st.tuples(st.just("retag"), st.integers(0, 1), st.frozensets(st.sampled_from(TAGS))),
        st.tuples(st.just("delete_interest"), st.integers(0, 2)),
    ),
    min_size=1,
    max_size=25,
)


def _reset(app) -> None:
    db.session.rollback()
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()
    get_redis().flushdb()
    app.extensions.pop("chorus.calendar", None)


class History:
    """A company the steps act on, through the product's services."""

    def __init__(self) -> None:
        CompanySettingsFactory(time_zone="Europe/Berlin")
        rules_service.install_default_rules(effective_at=datetime(2026, 9, 1, tzinfo=UTC))
        teams = [TeamFactory(), TeamFactory()]
        joined = datetime(2026, 10, 1, tzinfo=UTC)
        self.teams = [team.id for team in teams]
        self.people = [EmployeeFactory(team=teams[n % 2], opted_in_at=joined).id for n in range(4)]
        story, job = ContentItemFactory(), ContentItemFactory()
        ContentTagFactory(content_id=story.id, tag="news")
        ContentTagFactory(content_id=job.id, tag="job")
        ReferralProgrammeFactory(content_tag="job")
        self.items = [story.id, job.id]
        interests = [InterestFactory(), InterestFactory(), InterestFactory()]
        self.interest_ids = [interest.id for interest in interests]
        for index, chosen in enumerate(([0], [0, 1], [1, 2], [])):
            self.person(index).interests = [interests[n] for n in chosen]
        self.shares: list[tuple[int, int]] = []  # (share id, owner)
        self.repriced = datetime(2026, 9, 1, tzinfo=UTC)
        self.adjustments = 0
        self.admin = EmployeeFactory(role=Role.ADMIN)
        db.session.commit()

    def person(self, index: int) -> Employee:
        return db.session.get(Employee, self.people[index])

    def run(self, step: tuple) -> None:
        getattr(self, step[0])(*step[1:])
        db.session.commit()

    def share(self, who, item, channel, at) -> None:
        person = self.person(who)
        if not person.participating:
            return  # the share page refuses anyone not taking part
        content = db.session.get(ContentItem, self.items[item])
        made = sharing.record_share(person, content, channel, "text", at, share_points=True)
        self.shares.append((made.id, person.id))

    def click(self, which, at, visitor, kind) -> None:
        if not self.shares:
            return
        share_id, owner = self.shares[which % len(self.shares)]
        options = {"person": {}, "bot": {"agent": "Twitterbot/1.0"}}.get(kind)
        if options is None:
            options = {"session_user_id": str(owner)}
        click(share_id, max(at, self._shared_at(share_id)), f"192.0.2.{visitor}", **options)

    def _shared_at(self, share_id: int) -> datetime:
        return db.session.get(Share, share_id).created_at

    def process(self) -> None:
        process_clicks()

    def stage(self, which, candidate, stage, at) -> None:
        if not self.shares:
            return
        share_id, _ = self.shares[which % len(self.shares)]
        referrals.record_stage(
            ref_code=db.session.get(Share, share_id).ref_code,
            candidate_id=f"candidate-{candidate}",
            stage=stage,
            occurred_at=at,
        )

    def stage_unknown(self, candidate, at) -> None:
        referrals.record_stage(
            ref_code="unknown",
            candidate_id=f"other-{candidate}",
            stage=ReferralStage.APPLIED,
            occurred_at=at,
        )

    def score(self) -> None:
        while score_pending_events(now=NOW):
            db.session.commit()

    def reprice(self, points) -> None:
        """The share rule gets a new price from a moment past, and the ledger follows."""
        self.repriced += timedelta(days=3)
        rule = db.session.scalar(select(ScoringRule).where(ScoringRule.name == "Sharing"))
        rules_service.edit_rule(None, rule, {"points": points}, effective_at=self.repriced)
        ledger.recalculate(None, self.repriced, now=NOW)

    def adjust(self, who, points) -> None:
        self.adjustments += 1
        try:
            ledger.adjust_points(
                self.admin, self.person(who), points, "Correction", f"a{self.adjustments}"
            )
        except ChorusError:
            db.session.rollback()  # refused: it would take the total below zero

    def move(self, who, team) -> None:
        person = self.person(who)
        if person.erased_at is not None:
            return
        team_id = self.teams[team] if team < 2 else None
        if team_id is not None and db.session.get(Team, team_id) is None:
            return
        people.update_employee(None, person, {"team_id": team_id})

    def opt_out(self, who) -> None:
        participation.opt_out(self.person(who))

    def opt_in(self, who) -> None:
        person = self.person(who)
        if person.erased_at is None and person.opted_in_at is None:
            person.opted_in_at = utcnow()

    def erase(self, who) -> None:
        participation.erase_employee(None, self.person(who))

    def interests(self, who, chosen) -> None:
        person = self.person(who)
        if person.erased_at is None:
            ids = [self.interest_ids[n] for n in chosen]
            participation.set_interests(person, [i for i in ids if db.session.get(Interest, i)])

    def retag(self, item, tags) -> None:
        content = db.session.get(ContentItem, self.items[item])
        kept = ["job"] if item else []  # the referral programme's tag stays
        content_service.update_content(self.admin, content, {"tags": kept + sorted(tags)})

    def delete_interest(self, which) -> None:
        interest = db.session.get(Interest, self.interest_ids[which])
        if interest is not None:
            people.delete_interest(self.admin, interest)

    def delete_team(self, which) -> None:
        team = db.session.get(Team, self.teams[which])
        if team is not None:
            people.delete_team(None, team)


@pytest.mark.usefixtures("ctx")
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    first=st.lists(shares, min_size=1, max_size=5),
    clicks=clicks,
    steps=steps,
    last=st.lists(
        st.sampled_from([("delete_team", 0), ("delete_team", 1), ("reprice", 2), ("erase", 0)]),
        max_size=2,
    ),
    since=st.dates(date(2026, 10, 20), date(2026, 11, 3)),
)
def test_live_rollups_equal_rebuilt_rollups(app, first, clicks, steps, last, since):
    _reset(app)
    history = History()
    for step in [*first, *clicks, *steps, ("score",), *last]:
        history.run(step)
    history.run(("process",))
    history.run(("score",))
    live = live_rows(NOW)
    db.session.commit()
    assert rebuilt_rows(now=NOW) == live
    db.session.rollback()
    assert rebuilt_rows(since, now=NOW) == live
    db.session.rollback()
    # A running period's headcount, counted by the database, is the one the clock keeps.
    zone = ZoneInfo("Europe/Berlin")
    for period in Period:
        for day in (SUMMER_ENDS, since, utcnow().astimezone(zone).date()):
            start = period_start(period, day)
            bounds = day_start(start, zone), day_start(next_period_start(period, start), zone)
            kept = count_headcounts(headcounts._spells(*bounds), period, [start], zone)[start]
            assert headcounts.taking_part(*bounds) == kept


AT = EDGES[0]


@pytest.mark.usefixtures("ctx")
@pytest.mark.parametrize(
    "steps",
    [
        [("interests", 3, frozenset({0}))],  # a sharer with no interest takes one
        [("share", 0, 1, Channel.X, AT), ("interests", 0, frozenset())],
        [("interests", 0, frozenset({1, 2}))],  # drops one, takes two
        [("retag", 0, frozenset({"ai"}))],
        [("retag", 0, frozenset())],
        [("delete_interest", 0)],
        [("erase", 0)],
        [("click", 0, AT, 1, "person"), ("process",), ("retag", 0, frozenset({"news", "ai"}))],
    ],
)
def test_the_tag_rollups_follow_interests_and_tags(app, steps):
    _reset(app)
    history = History()
    history.run(("share", 0, 0, Channel.LINKEDIN, AT))
    history.run(("share", 3, 1, Channel.X, AT + timedelta(days=2)))
    for step in steps:
        history.run(step)
    live = live_rows(NOW)
    db.session.commit()
    assert live["rollup_sharer_tags"]
    assert rebuilt_rows(now=NOW) == live


def _a_sharer_and_an_item() -> tuple[Employee, ContentItem]:
    """In Berlin, under the default rules: someone taking part, with one interest, and
    an item tagged "news"."""
    CompanySettingsFactory(time_zone="Europe/Berlin")
    rules_service.install_default_rules(effective_at=datetime(2026, 9, 1, tzinfo=UTC))
    person = EmployeeFactory(opted_in_at=datetime(2026, 10, 1, tzinfo=UTC))
    person.interests = [InterestFactory()]
    item = ContentItemFactory()
    ContentTagFactory(content_id=item.id, tag="news")
    return person, item


def test_two_first_shares_at_once_make_one_sharer_and_one_active_advocate(app):
    """Two shares of one person's, on two connections at once, both her first of the
    tag in the week and the month: the upserts tell one of them it came second."""
    with app.app_context():
        person, item = _a_sharer_and_an_item()
        db.session.commit()
        person_id, item_id = person.id, item.id

    def share(channel: Channel):
        person, item = db.session.get(Employee, person_id), db.session.get(ContentItem, item_id)
        yield  # ready
        sharing.record_share(person, item, channel, "text", AT, share_points=True)

    assert _at_once(app, share, (Channel.LINKEDIN, Channel.X)) == []
    with app.app_context():
        live = live_rows(NOW)
        db.session.commit()
        # (period, first day, interest, tag, sharers, shares, clicks); then active.
        assert {row[4:6] for row in live["rollup_interest_tags"]} == {(1, 2)}
        assert {(row[3], row[4]) for row in live["rollup_interest_periods"]} == {(1, 2)}
        assert rebuilt_rows(now=NOW) == live


def test_two_choices_of_interests_at_once_leave_the_rollups_as_a_rebuild(app):
    """One person chooses interests on two devices at once: both answers succeed, the
    later choice stands, and her rows lie in its interests only."""
    with app.app_context():
        person, item = _a_sharer_and_an_item()
        first, second = InterestFactory(), InterestFactory()
        sharing.record_share(person, item, Channel.LINKEDIN, "text", AT, share_points=True)
        db.session.commit()
        person_id, choices = person.id, (first.id, second.id)

    def choose(interest_id: int):
        person = db.session.get(Employee, person_id)
        _ = list(person.interests)  # as the page has them
        yield  # ready
        participation.set_interests(person, [interest_id])

    assert _at_once(app, choose, choices) == []
    with app.app_context():
        person = db.session.get(Employee, person_id)
        assert [interest.id for interest in person.interests] in ([c] for c in choices)
        live = live_rows(NOW)
        db.session.commit()
        assert rebuilt_rows(now=NOW) == live


def _clicked_sharer(app) -> dict[str, int]:
    """A sharer with one interest, a click on her share of an item tagged "news"
    waiting in the stream, another interest to choose and someone from HR to retag the
    item; returns their ids."""
    with app.app_context():
        person, item = _a_sharer_and_an_item()
        share = sharing.record_share(person, item, Channel.LINKEDIN, "text", AT, share_points=True)
        db.session.commit()
        click(share, AT + timedelta(hours=1))
        ids = {"person": person.id, "item": item.id, "interest": InterestFactory().id}
        ids["hr"] = EmployeeFactory(role=Role.HR).id
        db.session.commit()
        return ids


def _count_the_clicks(_ids):
    for _batch in click_pipeline.store_clicks(Counter()):
        yield  # counted, not committed


def _choose_interests(ids):
    person = db.session.get(Employee, ids["person"])
    participation.set_interests(person, [ids["interest"]])
    db.session.flush()
    yield  # moved, not committed


def _retag(ids):
    hr, item = db.session.get(Employee, ids["hr"]), db.session.get(ContentItem, ids["item"])
    content_service.update_content(hr, item, {"tags": ["ai"]})
    yield  # recounted, not committed


@pytest.mark.parametrize("change", [_choose_interests, _retag], ids=["interests", "tags"])
@pytest.mark.parametrize("clicks_first", [True, False], ids=["clicks-first", "change-first"])
def test_clicks_counted_while_their_sharer_or_item_changes_land_where_a_rebuild_puts_them(
    app, change, clicks_first
):
    """The click worker has written a batch and not committed it when the sharer
    chooses other interests or the item gets other tags, or the other way round: either
    way the counts end up under the interests and tags there are now."""
    ids = _clicked_sharer(app)
    steps = [_count_the_clicks, change]
    first, then = steps if clicks_first else steps[::-1]
    assert _meanwhile(app, lambda: first(ids), lambda: then(ids)) == []
    with app.app_context():
        live = live_rows(NOW)
        db.session.commit()
        assert any(row[4] == 1 for row in live["rollup_person_periods"])  # the click
        if change is _retag:
            assert {row[3] for row in live["rollup_sharer_tags"]} == {"ai"}
        else:
            assert {row[2] for row in live["rollup_interest_periods"]} == {ids["interest"]}
        assert rebuilt_rows(now=NOW) == live


def _meanwhile(app, first, then) -> list[Exception]:
    """``first`` runs up to its ``yield`` (its rows written, not committed); then
    ``then`` runs on a connection of its own, and ``first`` commits half a second later,
    ``then`` once it is done. Returns what they raised."""
    started = threading.Event()
    errors: list[Exception] = []

    def run(steps, wait: bool) -> None:
        with app.app_context():
            try:
                if wait:
                    started.wait(timeout=10)
                work = steps()
                next(work)
                if not wait:
                    started.set()
                    time.sleep(0.5)
                next(work, None)
                db.session.commit()
            except Exception as exc:  # pragma: no cover - shown by the caller's assertion
                errors.append(exc)
            finally:
                started.set()

    threads = [threading.Thread(target=run, args=(first, False))]
    threads.append(threading.Thread(target=run, args=(then, True)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return errors


def _at_once(app, step, arguments) -> list[Exception]:
    """Runs ``step`` for each argument, on connections of their own: each gets ready up
    to its ``yield``; then all go on at once and commit. Returns what they raised."""
    barrier = threading.Barrier(len(arguments))
    errors: list[Exception] = []

    def run(argument) -> None:
        with app.app_context():
            steps = step(argument)
            next(steps)
            barrier.wait()
            try:
                next(steps, None)
                db.session.commit()
            except Exception as exc:  # pragma: no cover - shown by the caller's assertion
                errors.append(exc)

    threads = [threading.Thread(target=run, args=(argument,)) for argument in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return errors
