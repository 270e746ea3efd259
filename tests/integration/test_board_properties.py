"""For any ledger, the live boards, the rebuilt boards and the pure ranking agree.

Random ledgers on real SQL and a real Redis: negative lines (an adjustment this week for
last week's work, a reversal), lines of zero points, ties within one second, times at
the edges of weeks and months in the company's time zone, people hidden and back, and
people moving between teams. The live boards are made by the real pipeline: lines
applied in batches as they come, hiding and returning through the presence service
and its job. They must equal the boards a rebuild makes, and both must list every
board as ``scoring.ranking.rank_standings`` ranks the ledger.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.boards import BoardStore, scope_key
from app.extensions import db, get_redis
from app.models import Employee, LedgerLine, LineKind
from app.services import participation
from app.services.calendar import company_calendar
from app.services.scoring import apply_pending_lines, rebuild_boards
from scoring.participation import Presence
from scoring.ranking import EPOCH, Standing, rank_standings
from scoring.windows import Window, window_key
from tests.factories import CompanySettingsFactory, EmployeeFactory, TeamFactory

# Sunday 29 November 2026, 23:59:59 in Berlin: the next second starts a week, and a
# day later, the next second starts a month.
WEEK_EDGE = datetime(2026, 11, 29, 22, 59, 59, tzinfo=UTC)
MONTH_EDGE = datetime(2026, 11, 30, 22, 59, 59, tzinfo=UTC)
OFFSETS = [0, 0.25, 0.75, 1, 1.5, 60]  # seconds: several lines share a second
IDS = [8, 9, 10, 11, 99, 100, 1234]  # ids whose text order is not their number order

moments = st.builds(
    lambda edge, offset: edge + timedelta(seconds=offset),
    st.sampled_from([WEEK_EDGE, MONTH_EDGE]),
    st.sampled_from(OFFSETS),
)
steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("line"),
            st.integers(0, 4),  # who, by position
            st.sampled_from([-22, -7, -1, 0, 1, 5, 22]),
            moments,
        ),
        st.tuples(st.just("apply")),
        st.tuples(st.just("hide"), st.integers(0, 4)),
        st.tuples(st.just("return"), st.integers(0, 4)),
        st.tuples(st.just("move"), st.integers(0, 4), st.integers(0, 2)),  # 2: no team
    ),
    min_size=1,
    max_size=30,
)


def _reset(app) -> None:
    db.session.rollback()
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()
    get_redis().flushdb()
    app.extensions.pop("chorus.calendar", None)


def _boards(store: BoardStore) -> dict[str, list[tuple[int, int, int]]]:
    """Every board in Redis as (rank, member, points) rows in board order."""
    boards = {}
    for key in store.board_keys():
        page = store.page(key, limit=1000)
        boards[key] = [(row.rank, row.member_id, row.points) for row in page.rows]
    return boards


def _ranked_ledger() -> dict[str, list[tuple[int, int, int]]]:
    """The boards as the pure ranking lists them, from the ledger and who is visible."""
    zone, week_start = company_calendar()
    visible = {
        e.id
        for e in db.session.query(Employee)
        if e.opted_in_at is not None and e.active and e.presence is not Presence.HIDDEN
    }
    totals: dict[str, dict[int, list]] = defaultdict(dict)
    for line in db.session.query(LedgerLine).order_by(LedgerLine.id):
        if line.employee_id not in visible:
            continue
        windows = [
            "all",
            window_key(Window.MONTH, line.occurred_at, zone, week_start),
            window_key(Window.WEEK, line.occurred_at, zone, week_start),
        ]
        teams = [None] if line.team_id is None else [None, line.team_id]
        for key in (scope_key(w, t) for w in windows for t in teams):
            entry = totals[key].setdefault(line.employee_id, [0, EPOCH])
            entry[0] += line.points
            if line.points:  # a 0-point line does not change when a score was reached
                entry[1] = max(entry[1], line.occurred_at)
    return {
        key: [
            (r.rank, r.member_id, r.points)
            for r in rank_standings(Standing(m, p, at) for m, (p, at) in members.items())
        ]
        for key, members in totals.items()
    }


@pytest.mark.usefixtures("ctx")
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ids=st.lists(st.sampled_from(IDS), min_size=5, max_size=5, unique=True), steps=steps)
def test_live_boards_equal_rebuilt_boards_equal_the_pure_ranking(app, run_jobs, ids, steps):
    _reset(app)
    CompanySettingsFactory(time_zone="Europe/Berlin")
    teams = [TeamFactory(), TeamFactory()]
    people = [EmployeeFactory(id=i, opted_in=True, team=teams[n % 2]) for n, i in enumerate(ids)]
    db.session.commit()
    store = BoardStore(get_redis())
    for number, step in enumerate(steps):
        kind = step[0]
        if kind == "line":
            _, who, points, at = step
            person = people[who]
            db.session.add(
                LedgerLine(
                    line_key=f"adjust:{number}",
                    kind=LineKind.ADJUSTMENT,
                    employee_id=person.id,
                    team_id=person.team_id,
                    points=points,
                    occurred_at=at,
                    reason="random",
                )
            )
            db.session.commit()
        elif kind == "apply":
            apply_pending_lines(store)
            db.session.commit()
        elif kind in ("hide", "return"):
            presence = Presence.HIDDEN if kind == "hide" else Presence.NAMED
            participation.update_presence(people[step[1]], presence, None)
            db.session.commit()
            run_jobs()  # the job that takes them off the boards, or puts them back
        else:
            _, who, team = step
            people[who].team_id = teams[team].id if team < 2 else None
            db.session.commit()
    while apply_pending_lines(store):
        db.session.commit()
    db.session.commit()

    expected = _ranked_ledger()
    live = _boards(store)
    live_scores = {key: store.scores(key) for key in live}
    assert live == expected

    rebuild_boards(store)
    assert _boards(store) == expected
    assert {key: store.scores(key) for key in store.board_keys()} == live_scores
