"""Small groups in the analytics: what a team lead and HR can and cannot see, and no
difference of two shown figures that gives a small group away."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.extensions import db
from app.services import analytics, sharing
from app.services.analytics import Selection, Withheld
from scoring.analytics import Period
from scoring.vocabulary import Channel
from tests.factories import (
    CompanySettingsFactory,
    ContentItemFactory,
    EmployeeFactory,
    TeamFactory,
)

NOW = datetime(2026, 11, 18, 10, tzinfo=UTC)


@pytest.fixture
def teams(ctx):
    """Sales (8 taking part), Tech (12) and Legal (4), each with one share a person."""
    CompanySettingsFactory(time_zone="Europe/Berlin", min_group_size=5)
    item = ContentItemFactory()
    found = {}
    for name, size in (("Sales", 8), ("Tech", 12), ("Legal", 4)):
        team = TeamFactory(name=name)
        for n in range(size):
            person = EmployeeFactory(name=f"{name} {n}", team=team, opted_in_at=NOW)
            sharing.record_share(person, item, Channel.LINKEDIN, "Read", NOW, share_points=True)
        found[name] = team.id
    db.session.commit()
    return found


def november(team_id: int | None = None) -> Selection:
    return Selection(Period.MONTH, datetime(2026, 11, 1).date(), team_id)


def by_label(table: analytics.Table) -> dict[str, analytics.Row]:
    return {row.label: row for row in table.rows}


def test_hr_sees_the_large_teams_and_nothing_that_gives_a_small_one_away(teams):
    rows = by_label(analytics.team_table(november()))
    assert rows["Legal"].withheld
    assert rows["Legal"].values["shares"] is None
    # Sales is large enough, but the company's 24 shares minus Tech's 12 and Sales's 8
    # would be Legal's 4: Sales is withheld too.
    assert rows["Sales"].withheld
    assert not rows["Tech"].withheld
    assert rows["Tech"].values["shares"] == 12
    company = analytics.time_table(november()).rows[-1]
    assert company.values["shares"] == 24
    assert company.values["headcount"] == 24


def test_a_team_over_time_withholds_what_the_table_by_team_withholds(teams):
    assert analytics.time_table(november(teams["Legal"])).rows[-1].withheld
    # Otherwise Sales's figures over time would undo the table's complement.
    assert analytics.time_table(november(teams["Sales"])).rows[-1].withheld
    tech = analytics.time_table(november(teams["Tech"])).rows[-1]
    assert not tech.withheld
    assert (tech.values["shares"], tech.values["active_advocates"]) == (12, 12)


def test_a_small_teams_export_holds_no_figure(teams):
    table = analytics.time_table(november(teams["Legal"]))
    lines = list(analytics.csv_lines(table))
    november_line = next(line for line in lines if line.startswith("2026-11-01"))
    assert november_line.strip() == "2026-11-01" + "," * (len(table.columns) - 1) + ",True"


@pytest.mark.parametrize("name", ["content", "network", "team", "persona", "advocates", "matrix"])
def test_a_teams_figures_are_never_broken_down(teams, name):
    with pytest.raises(Withheld):
        analytics.table(name, november(teams["Tech"]))


def test_the_minimum_group_size_is_the_companys(teams):
    from app.services.people import company_settings

    company_settings().min_group_size = 3
    db.session.commit()
    rows = by_label(analytics.team_table(november()))
    assert not any(row.withheld for row in rows.values())
    assert rows["Legal"].values["shares"] == 4
