"""Every table of the analytics against totals worked out by hand, for the company of
``analytics_scenario`` (shares, clicks and referral stages around the end of summer time in
Berlin on Sunday 25 October 2026, which ends a week, and the end of October)."""

from __future__ import annotations

from datetime import date

import pytest

from app.extensions import db
from app.models import Employee, Interest
from app.services import analytics
from app.services.analytics import Selection
from app.services.people import company_settings
from scoring.analytics import Period
from scoring.participation import Presence
from tests.integration.analytics_scenario import seed_company

OCTOBER, NOVEMBER = date(2026, 10, 1), date(2026, 11, 1)
BEFORE, AFTER = date(2026, 10, 19), date(2026, 10, 26)  # the weeks around the change


@pytest.fixture
def company(ctx):
    return seed_company()


def rows(table: analytics.Table) -> dict[str, dict]:
    return {row.label: row.values for row in table.rows}


def figures(values: dict, *names: str) -> tuple:
    return tuple(values[name] for name in names)


COUNTED = ("shares", "clicks", "clicks_on_shares", "applied", "hired", "points", "reach")


def test_months_over_time(company):
    months = rows(analytics.time_table(Selection(Period.MONTH, NOVEMBER)))
    assert len(months) == 12
    # October: four shares; clicks received 2 + 1 (25th) + 3 (26th); the shares drew
    # 3 + 2 + 1 + 1; Ben's and Ada's job ad applications; 72 points; audiences 500 +
    # 120 + 500 (Cem declared none).
    october = months["2026-10-01"]
    assert figures(october, *COUNTED) == (4, 6, 7, 2, 0, 72, 1120)
    assert october["clicks_per_share"] == 1.75
    # Ada, Ben and Cem shared; Ada, Ben, Cem, Dora and Eve took part (Finn never did).
    assert figures(october, "active_advocates", "headcount", "participation_rate") == (3, 5, 0.6)
    # November: Cem's click on 1 November 00:30, the hire, 1 + 200 points, Dora's 10
    # and Ada's -3 by hand; nobody shared; Cem stopped on the 2nd but took part.
    november = months["2026-11-01"]
    assert figures(november, *COUNTED) == (0, 1, 0, 0, 1, 208, 0)
    assert november["clicks_per_share"] is None
    assert figures(november, "active_advocates", "headcount", "participation_rate") == (0, 5, 0.0)
    assert figures(months["2026-09-01"], "shares", "headcount", "participation_rate") == (
        0,
        0,
        None,
    )


def test_the_weeks_around_the_end_of_summer_time(company):
    weeks = rows(analytics.time_table(Selection(Period.WEEK, AFTER)))
    # Sunday 25 October, 25 hours long, ends the week: Ben's share at 23:30 and the
    # click at 23:45 belong to it, the click at 00:05 to the next.
    assert figures(weeks["2026-10-19"], *COUNTED) == (2, 3, 5, 0, 0, 11, 620)
    assert figures(weeks["2026-10-19"], "active_advocates", "headcount") == (2, 4)
    assert weeks["2026-10-19"]["participation_rate"] == 0.5
    # Ada's share at 00:10 on Monday, Cem's on Saturday 31st; clicks of the 26th and
    # Cem's at 00:30 on 1 November (a Sunday); two applications; Eve joined.
    assert figures(weeks["2026-10-26"], *COUNTED) == (2, 4, 2, 2, 0, 62, 500)
    assert figures(weeks["2026-10-26"], "active_advocates", "headcount") == (2, 5)
    assert weeks["2026-10-26"]["participation_rate"] == 0.4
    day = rows(analytics.time_table(Selection(Period.DAY, date(2026, 10, 25))))
    assert figures(day["2026-10-25"], "shares", "clicks", "points", "reach") == (1, 3, 7, 120)


def test_networks_with_their_value(company):
    networks = rows(analytics.network_table(Selection(Period.MONTH, OCTOBER)))
    assert figures(networks["LinkedIn"], *COUNTED) == (2, 4, 4, 1, 0, 37, 1000)
    assert figures(networks["X"], *COUNTED) == (2, 2, 3, 1, 0, 35, 120)
    # LinkedIn: 800 ct CPM x 1000 x 2 % / 1000 + 200 ct x 4 clicks; 3500 x 1000 x 10 % /
    # 1000 + 600 x 4. X: 300 x 120 x 1 % / 1000 rounds down to 0, + 50 x 2; 800 x 120 x
    # 5 % / 1000 = 4.8, down to 4, + 200 x 2.
    assert figures(networks["LinkedIn"], "value_low", "value_high") == (816, 2750)
    assert figures(networks["X"], "value_low", "value_high") == (100, 404)
    assert figures(networks["XING"], "shares", "value_low", "value_high") == (0, 0, 0)


def test_content_items(company):
    items = rows(analytics.content_table(Selection(Period.MONTH, OCTOBER)))
    assert list(items) == ["Story", "Job ad"]  # 3 clicks and 2 shares each: the older first
    assert figures(items["Story"], *COUNTED) == (2, 3, 4, 0, 0, 11, 500)
    assert figures(items["Job ad"], *COUNTED) == (2, 3, 3, 2, 0, 61, 620)
    top = analytics.content_table(Selection(Period.MONTH, NOVEMBER), limit=1)
    assert [(row.label, row.values["clicks"]) for row in top.rows] == [("Story", 1)]


def test_teams_shown_only_when_large_enough(company):
    october = Selection(Period.MONTH, OCTOBER)
    # Sales: Ada and Dora took part; Tech: Ben, Cem and Eve. Both below 5.
    assert all(row.withheld for row in analytics.team_table(october).rows)
    company_settings().min_group_size = 2
    db.session.commit()
    teams = rows(analytics.team_table(october))
    assert figures(teams["Sales"], *COUNTED) == (2, 4, 4, 1, 0, 37, 1000)
    assert figures(teams["Sales"], "active_advocates", "headcount", "participation_rate") == (
        1,
        2,
        0.5,
    )
    assert figures(teams["Tech"], *COUNTED) == (2, 2, 3, 1, 0, 35, 120)
    assert figures(teams["Tech"], "active_advocates", "headcount") == (2, 3)
    assert teams["Tech"]["participation_rate"] == pytest.approx(2 / 3, abs=0.001)


def test_interests_and_the_matrix(company):
    careers = Interest(name="Careers")
    ada, ben = (db.session.get(Employee, company[name]) for name in ("ada", "ben"))
    ada.interests.append(careers)
    ben.interests.append(careers)
    db.session.commit()
    october = Selection(Period.MONTH, OCTOBER)
    assert [row.withheld for row in analytics.persona_table(october).rows] == [True]
    assert [row.withheld for row in analytics.matrix_table(october).rows] == [True]
    company_settings().min_group_size = 2
    db.session.commit()
    interests = rows(analytics.persona_table(october))
    # Ada's two shares and Ben's one; their clicks 4 + 2; points 37 + 31.
    assert figures(interests["Careers"], "shares", "clicks", "points", "reach") == (3, 6, 68, 1120)
    assert figures(interests["Careers"], "active_advocates", "headcount") == (2, 2)
    # Only the job ad has a tag: Ada's and Ben's shares of it, which drew 1 + 2 clicks.
    matrix = rows(analytics.matrix_table(october))
    assert matrix == {"Careers / job": {"shares": 2, "clicks_on_shares": 3, "sharers": 2}}


def test_top_advocates_as_the_boards_show_them(company):
    ada, ben = (db.session.get(Employee, company[name]) for name in ("ada", "ben"))
    october = Selection(Period.MONTH, OCTOBER)
    # Cem shared in October, but stopped taking part on 2 November: not listed.
    assert [
        (row.label, row.values["clicks"]) for row in analytics.advocates_table(october).rows
    ] == [
        ("Ada", 4),
        ("Ben", 2),
    ]
    ada.presence, ada.pseudonym = Presence.PSEUDONYM, "Night Owl"
    ben.presence = Presence.HIDDEN
    db.session.commit()
    top = analytics.advocates_table(october)
    assert [(row.label, row.values["shares"]) for row in top.rows] == [("Night Owl", 2)]
