"""The analytics rollups, kept by the pipelines that write the raw rows and rebuilt from
those rows: a seeded company around the end of summer time in Berlin (a 25-hour
Sunday that ends a week), a month's end, every way a figure counts or does not, and
totals worked out by hand; the headcounts kept from who took part when; batches,
deleted teams, a new time zone, the command."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    ClickRecord,
    ContentItem,
    Employee,
    Event,
    Headcount,
    LedgerLine,
    LineKind,
    ParticipationSpell,
    Role,
    RollupContentDaily,
    RollupEmployeeDaily,
    ScoringRule,
    Team,
)
from app.services import headcounts, participation, people, sharing
from app.services.scoring import score_pending_events
from scoring.analytics import (
    COUNTERS,
    NO_TEAM,
    WHOLE_COMPANY,
    Period,
    clicks_per_share,
    interests_key,
    next_period_start,
    participation_rate,
)
from scoring.vocabulary import Channel
from tests.conftest import sql_statements
from tests.factories import (
    EmployeeFactory,
    InterestFactory,
)
from tests.integration.analytics_scenario import SCORED_AT, seed_company, utc
from tests.integration.rollup_support import (
    click,
    live_rows,
    process_clicks,
    rebuilt_rows,
    rollup_rows,
)

SUMMER_ENDS = date(2026, 10, 25)  # Sunday: 02:00-03:00 comes twice; the week ends


def counters(*values: int, reach: int = 0) -> dict[str, int]:
    return dict(zip(COUNTERS, (*values, reach), strict=True))


@pytest.fixture
def company(ctx):
    return seed_company()


def content_rows() -> dict[tuple, dict[str, int]]:
    return {
        (row.day, row.content_id, row.channel, row.team_id): {n: getattr(row, n) for n in COUNTERS}
        for row in db.session.scalars(select(RollupContentDaily))
    }


def employee_rows() -> dict[tuple, dict[str, int]]:
    return {
        (row.day, row.employee_id, row.team_id): {n: getattr(row, n) for n in COUNTERS}
        for row in db.session.scalars(select(RollupEmployeeDaily))
    }


def in_period(rows: dict, period: Period, start: date, where=lambda key: True) -> Counter:
    """The counters of the rows on the period's days (whose keys ``where`` picks)."""
    end = next_period_start(period, start)
    total: Counter = Counter()
    for key, values in rows.items():
        if start <= key[0] < end and where(key):
            total.update(values)
    return total


def active_advocates(period: Period, start: date, team: int | None = None) -> int:
    end = next_period_start(period, start)
    return len(
        {
            employee
            for (day, employee, team_id), values in employee_rows().items()
            if start <= day < end and values["shares"] and team in (None, team_id)
        }
    )


def test_each_counter_by_hand(company):
    story, job, sales, tech = (company[k] for k in ("story", "job", "sales", "tech"))
    ada, ben, cem, dora = (company[k] for k in ("ada", "ben", "cem", "dora"))
    linkedin, x = Channel.LINKEDIN, Channel.X

    def day(month: int, number: int) -> date:
        return date(2026, month, number)

    # shares, clicks, clicks on the day's shares, applied, interviewed, hired, points;
    # reach: the audiences declared on the network, per share
    assert content_rows() == {
        (day(10, 24), story, linkedin, sales): counters(1, 0, 3, 0, 0, 0, 4, reach=500),
        # Both 02:30s of the long Sunday, and Ben's share at 23:30 winter time.
        (day(10, 25), story, linkedin, sales): counters(0, 2, 0, 0, 0, 0, 2),
        (day(10, 25), job, x, tech): counters(1, 1, 2, 0, 0, 0, 5, reach=120),
        (day(10, 26), story, linkedin, sales): counters(0, 1, 0, 0, 0, 0, 1),
        (day(10, 26), job, x, tech): counters(0, 1, 0, 0, 0, 0, 1),
        # Shared at 23:10 UTC on Sunday: Monday in Berlin.
        (day(10, 26), job, linkedin, sales): counters(1, 1, 1, 1, 0, 0, 30, reach=500),
        (day(10, 27), job, x, tech): counters(0, 0, 0, 1, 0, 0, 25),
        (day(10, 31), story, x, tech): counters(1, 0, 1, 0, 0, 0, 4),
        (day(11, 1), story, x, tech): counters(0, 1, 0, 0, 0, 0, 1),
        (day(11, 6), job, x, tech): counters(0, 0, 0, 0, 0, 1, 200),
    }
    assert employee_rows() == {
        (day(10, 24), ada, sales): counters(1, 0, 3, 0, 0, 0, 4, reach=500),
        (day(10, 25), ada, sales): counters(0, 2, 0, 0, 0, 0, 2),
        (day(10, 26), ada, sales): counters(1, 2, 1, 1, 0, 0, 31, reach=500),
        (day(11, 10), ada, sales): counters(0, 0, 0, 0, 0, 0, -3),  # an adjustment
        (day(10, 25), ben, tech): counters(1, 1, 2, 0, 0, 0, 5, reach=120),
        (day(10, 26), ben, tech): counters(0, 1, 0, 0, 0, 0, 1),
        (day(10, 27), ben, tech): counters(0, 0, 0, 1, 0, 0, 25),
        (day(11, 6), ben, tech): counters(0, 0, 0, 0, 0, 1, 200),
        (day(10, 31), cem, tech): counters(1, 0, 1, 0, 0, 0, 4),
        (day(11, 1), cem, tech): counters(0, 1, 0, 0, 0, 0, 1),
        (day(11, 10), dora, sales): counters(0, 0, 0, 0, 0, 0, 10),
    }


def test_weeks_and_months_by_hand(company):
    content = content_rows()
    before, after = date(2026, 10, 19), date(2026, 10, 26)  # the weeks around the change
    october, november = date(2026, 10, 1), date(2026, 11, 1)

    def totals(rows, period, start, *names, where=lambda key: True) -> tuple[int, ...]:
        found = in_period(rows, period, start, where)
        return tuple(found[name] for name in names)

    shares_and_clicks = ("shares", "clicks", "clicks_on_shares")
    assert totals(content, Period.WEEK, before, *shares_and_clicks, "points") == (2, 3, 5, 11)
    per_share = ("clicks_on_shares", "shares")
    assert clicks_per_share(*totals(content, Period.WEEK, before, *per_share)) == 2.5
    assert clicks_per_share(*totals(content, Period.WEEK, after, *per_share)) == 1.0
    assert totals(content, Period.WEEK, after, *shares_and_clicks) == (2, 4, 2)
    assert totals(content, Period.WEEK, after, "applied", "hired", "points") == (2, 0, 62)
    assert totals(content, Period.MONTH, october, *shares_and_clicks) == (4, 6, 7)
    assert totals(content, Period.MONTH, october, "applied", "points") == (2, 72)
    assert totals(content, Period.MONTH, november, *shares_and_clicks) == (0, 1, 0)
    assert totals(content, Period.MONTH, november, "hired", "points") == (1, 201)
    # People's points hold what is about no content item too: the adjustments.
    assert totals(employee_rows(), Period.MONTH, november, "points") == (208,)
    # By team: Tech's week after the change, Sales' October; by item: the job ad.
    tech, sales, job = (company[k] for k in ("tech", "sales", "job"))
    counted = ("shares", "clicks", "applied", "points")
    in_tech = totals(content, Period.WEEK, after, *counted, where=lambda key: key[3] == tech)
    assert in_tech == (1, 2, 1, 31)
    in_sales = totals(content, Period.MONTH, october, *counted, where=lambda key: key[3] == sales)
    assert in_sales == (2, 4, 1, 37)
    of_job = totals(content, Period.MONTH, october, *counted, where=lambda key: key[1] == job)
    assert of_job == (2, 3, 2, 61)


def test_headcounts_and_participation_by_hand(company):
    c = company
    assert headcounts.keep_headcounts(now=SCORED_AT) > 0
    weeks = headcounts.headcounts_of(Period.WEEK, [date(2026, 10, 19), date(2026, 10, 26)])
    assert weeks[date(2026, 10, 19)] == {WHOLE_COMPANY: 4, c["sales"]: 2, c["tech"]: 2}
    # Eve joined on Wednesday.
    assert weeks[date(2026, 10, 26)] == {WHOLE_COMPANY: 5, c["sales"]: 2, c["tech"]: 3}
    # Cem stopped on the Monday of that week: he took part in it.
    assert headcounts.headcounts_of(Period.WEEK, [date(2026, 11, 2)])[date(2026, 11, 2)] == {
        WHOLE_COMPANY: 5,
        c["sales"]: 2,
        c["tech"]: 3,
    }
    # The week after he had gone; the running week is worked out, not kept.
    later = headcounts.headcounts_of(Period.WEEK, [date(2026, 11, 9), date(2026, 11, 16)])
    assert later[date(2026, 11, 9)][WHOLE_COMPANY] == 4
    assert later[date(2026, 11, 16)][WHOLE_COMPANY] == 4
    running = (Headcount.period == Period.WEEK, Headcount.starts_on == date(2026, 11, 16))
    assert not db.session.scalar(select(func.count()).where(*running))
    rate = participation_rate(active_advocates(Period.WEEK, date(2026, 10, 19)), 4)
    assert rate == 0.5
    assert active_advocates(Period.WEEK, date(2026, 10, 26)) == 2  # Ada and Cem: 2 of 5
    assert active_advocates(Period.WEEK, date(2026, 10, 26), team=c["tech"]) == 1  # of 3
    october = headcounts.headcounts_of(Period.MONTH, [date(2026, 10, 1)])[date(2026, 10, 1)]
    assert october[WHOLE_COMPANY] == 5
    assert participation_rate(active_advocates(Period.MONTH, date(2026, 10, 1)), 5) == 0.6
    day = headcounts.headcounts_of(Period.DAY, [SUMMER_ENDS])[SUMMER_ENDS]
    assert day == {WHOLE_COMPANY: 4, c["sales"]: 2, c["tech"]: 2}
    # Kept: later changes to people do not reach finished periods.
    db.session.commit()
    assert db.session.scalar(
        select(Headcount.people).where(
            Headcount.period == Period.MONTH,
            Headcount.starts_on == date(2026, 10, 1),
            Headcount.team_id == WHOLE_COMPANY,
        )
    )


def test_the_live_rollups_equal_a_rebuild(company):
    live = live_rows(SCORED_AT)
    db.session.commit()
    assert live["rollup_content_daily"]
    assert live["headcounts"]
    assert rebuilt_rows(now=SCORED_AT) == live
    db.session.rollback()
    assert rebuilt_rows(since=date(2026, 10, 26), now=SCORED_AT) == live


def test_a_batch_of_clicks_is_one_upsert_per_table(app, company):
    shares = [
        sharing.record_share(
            db.session.get(type(p), p.id),
            db.session.get(type(i), i.id),
            Channel.LINKEDIN,
            "text",
            utc(2026, 11, 18, 9, n),
            True,
        )
        for n, (p, i) in enumerate(_people_and_items(company))
    ]
    db.session.commit()
    for n in range(300):
        click(
            shares[n % 3], utc(2026, 11, 19, 9) + timedelta(seconds=n), f"10.0.{n // 250}.{n % 250}"
        )
    with sql_statements(app) as seen:
        assert process_clicks()["recorded"] == 300
    content = [s for s in seen if "INSERT INTO rollup_content_daily" in s]
    employees = [s for s in seen if "INSERT INTO rollup_employee_daily" in s]
    assert (len(content), len(employees)) == (1, 1)
    day = date(2026, 11, 19)
    assert sum(r["clicks"] for k, r in content_rows().items() if k[0] == day) == 300
    live = live_rows()
    assert rebuilt_rows() == live


def _people_and_items(company):
    ada = db.session.get(Employee, company["ada"])
    ben = db.session.get(Employee, company["ben"])
    story = db.session.get(ContentItem, company["story"])
    job = db.session.get(ContentItem, company["job"])
    return [(ada, story), (ben, story), (ada, job)]


def test_a_deleted_teams_figures_join_those_of_no_team(company):
    headcounts.keep_headcounts(now=SCORED_AT)
    db.session.commit()
    before = in_period(content_rows(), Period.MONTH, date(2026, 10, 1))
    people.delete_team(None, db.session.get(Team, company["tech"]))
    db.session.commit()
    assert {key[3] for key in content_rows()} == {company["sales"], NO_TEAM}
    assert in_period(content_rows(), Period.MONTH, date(2026, 10, 1)) == before
    week = headcounts.headcounts_of(Period.WEEK, [date(2026, 10, 26)])[date(2026, 10, 26)]
    assert week == {WHOLE_COMPANY: 5, company["sales"]: 2, NO_TEAM: 3}
    live = live_rows()
    assert rebuilt_rows() == live


def test_a_new_time_zone_counts_the_days_anew(app, company, run_jobs):
    admin = EmployeeFactory(role=Role.ADMIN)
    people.update_company_settings(admin, {"time_zone": "America/New_York"})
    db.session.commit()
    run_jobs()
    db.session.expire_all()
    # Ada's Monday-00:10 share is Sunday evening in New York.
    key = (date(2026, 10, 25), company["job"], Channel.LINKEDIN, company["sales"])
    assert content_rows()[key]["shares"] == 1
    live = live_rows()
    assert rebuilt_rows() == live


def test_spells_follow_opting_in_and_out_moves_deactivation_and_erasure(company):
    def spells(person: int) -> list[tuple]:
        rows = db.session.execute(
            select(
                ParticipationSpell.team_id,
                ParticipationSpell.started_at,
                ParticipationSpell.ended_at,
            )
            .where(ParticipationSpell.employee_id == person)
            .order_by(ParticipationSpell.id)
        )
        return [tuple(row) for row in rows]

    c = company
    assert spells(c["cem"]) == [(c["tech"], utc(2026, 10, 1, 8), utc(2026, 11, 2, 10))]
    ben = db.session.get(Employee, c["ben"])
    with time_machine.travel(utc(2026, 11, 3, 9), tick=False):
        people.update_employee(None, ben, {"team_id": c["sales"]})
        db.session.commit()
    with time_machine.travel(utc(2026, 11, 4, 9), tick=False):
        people.update_employee(None, ben, {"active": False})
        db.session.commit()
    with time_machine.travel(utc(2026, 11, 5, 9), tick=False):
        people.update_employee(None, ben, {"active": True})
        db.session.commit()
    assert participation.export_personal_data(ben)["taking_part"] == [
        {"from": "2026-10-01T08:00:00+00:00", "until": "2026-11-03T09:00:00+00:00", "team": "Tech"},
        {
            "from": "2026-11-03T09:00:00+00:00",
            "until": "2026-11-04T09:00:00+00:00",
            "team": "Sales",
        },
        {"from": "2026-11-05T09:00:00+00:00", "until": None, "team": "Sales"},
    ]
    with time_machine.travel(utc(2026, 11, 6, 9), tick=False):
        participation.erase_employee(None, ben)
        db.session.commit()
    assert spells(c["ben"]) == [
        (c["tech"], utc(2026, 10, 1, 8), utc(2026, 11, 3, 9)),
        (c["sales"], utc(2026, 11, 3, 9), utc(2026, 11, 4, 9)),
        (c["sales"], utc(2026, 11, 5, 9), utc(2026, 11, 6, 9)),
    ]
    # Renaming or a new presence changes nothing; a newcomer who never opted in has none.
    people.update_employee(None, db.session.get(Employee, c["ada"]), {"name": "Ada L."})
    newcomer = people.create_employee(None, email="new@example.com", name="New", team=None)
    db.session.commit()
    assert len(spells(c["ada"])) == 1
    assert spells(newcomer.id) == []
    # The erased person's figures stay, under the anonymous row.
    assert any(key[1] == c["ben"] for key in employee_rows())
    assert db.session.get(Team, c["tech"]) is not None
    live = live_rows()
    assert rebuilt_rows() == live


def test_the_command_rebuilds(app, company, runner):
    db.session.commit()
    live = rollup_rows()
    db.session.execute(RollupContentDaily.__table__.delete())
    db.session.commit()
    result = runner.invoke(args=["rebuild-rollups"])
    assert result.exit_code == 0, result.output
    assert "rollup_content_daily: 10 rows" in result.output
    db.session.expire_all()
    assert rollup_rows()["rollup_content_daily"] == live["rollup_content_daily"]
    result = runner.invoke(args=["rebuild-rollups", "--since", "2026-11-01"])
    assert "rollup_content_daily: 2 rows" in result.output, result.output


def test_every_share_and_counted_click_is_counted_once(company):
    shares = db.session.scalar(select(func.sum(RollupContentDaily.shares)))
    events = select(func.count()).select_from(Event).where(Event.kind == "share")
    assert shares == db.session.scalar(events) == 4
    clicks = db.session.scalar(select(func.sum(RollupContentDaily.clicks)))
    human = select(func.count()).select_from(ClickRecord).where(ClickRecord.kind == "human")
    assert clicks == db.session.scalar(human) == 7
    assert db.session.scalar(select(func.sum(RollupContentDaily.clicks_on_shares))) == 7


def test_lines_an_insert_skipped_are_counted_anew_from_their_days(company, caplog):
    # Never expected (an event's lines are written by the run that claimed it), but a
    # line already there must not count twice: the days are counted from the rows.
    ada = db.session.get(Employee, company["ada"])
    story = db.session.get(ContentItem, company["story"])
    share = sharing.record_share(ada, story, Channel.X, "text", utc(2026, 11, 19, 9), True)
    event = db.session.scalar(select(Event).where(Event.share_id == share.id))
    rule = db.session.scalar(select(ScoringRule).where(ScoringRule.name == "Sharing"))
    db.session.add(
        LedgerLine(
            line_key=f"award:{event.id}:{rule.id}",
            kind=LineKind.AWARD,
            employee_id=ada.id,
            team_id=ada.team_id,
            event_id=event.id,
            points=4,
            occurred_at=event.occurred_at,
            reason="written before",
        )
    )
    db.session.commit()
    assert score_pending_events(now=SCORED_AT) == 1
    assert "counted anew" in caplog.text
    key = (date(2026, 11, 19), story.id, Channel.X, company["sales"])
    assert content_rows()[key]["points"] == 4
    live = live_rows()
    assert rebuilt_rows() == live


def test_each_persons_interests_key_follows_every_change_of_their_interests(app):
    with app.app_context():
        cloud, ai, jobs = InterestFactory(), InterestFactory(), InterestFactory()
        admin = EmployeeFactory(role=Role.ADMIN)
        newcomer = Employee(email="new@example.com", name="New", interests=[jobs, cloud])
        db.session.add(newcomer)  # new, and with interests, in one flush

        def stored(person: Employee) -> str:
            db.session.flush()
            return db.session.scalar(select(Employee.interests_key).where(Employee.id == person.id))

        assert stored(newcomer) == interests_key([cloud.id, jobs.id])
        assert newcomer.interests_key == stored(newcomer)
        participation.set_interests(newcomer, [ai.id])
        assert stored(newcomer) == str(ai.id)
        newcomer.interests.append(jobs)
        assert stored(newcomer) == interests_key([ai.id, jobs.id])
        people.delete_interest(admin, ai)
        db.session.expire(newcomer, ["interests"])
        assert stored(newcomer) == str(jobs.id)
        participation.erase_employee(None, newcomer)
        assert stored(newcomer) == ""
        assert stored(admin) == ""
