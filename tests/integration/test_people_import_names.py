"""The CSV import matches team names as every unique name is matched: by Unicode case
fold (app.services.names.name_key), so "STRASSE" is the team "Straße"."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Team
from app.services import people
from tests.factories import TeamFactory


@pytest.mark.parametrize("create_teams", [False, True])
def test_a_row_naming_a_team_in_another_case_joins_it(ctx, create_teams):
    strasse = TeamFactory(name="Straße")
    aerzte = TeamFactory(name="Ärzte")
    report = people.import_people(
        None,
        "email,name,team\n"
        "jana.weber@example.com,Jana Weber,STRASSE\n"
        "omar.haddad@example.com,Omar Haddad,ÄRZTE\n",
        create_teams=create_teams,
    )
    db.session.commit()
    assert (report.created, report.rejected, report.teams_created) == (2, [], [])
    assert people.find_employee_by_email("jana.weber@example.com").team == strasse
    assert people.find_employee_by_email("omar.haddad@example.com").team == aerzte
    assert db.session.scalar(select(func.count()).select_from(Team)) == 2


def test_a_team_the_import_creates_is_joined_by_later_rows_in_another_case(ctx):
    report = people.import_people(
        None,
        "email,name,team\n"
        "jana.weber@example.com,Jana Weber,Große Kunden\n"
        "omar.haddad@example.com,Omar Haddad,GROSSE KUNDEN\n",
        create_teams=True,
    )
    db.session.commit()
    assert (report.created, report.rejected, report.teams_created) == (2, [], ["Große Kunden"])
    jana = people.find_employee_by_email("jana.weber@example.com")
    omar = people.find_employee_by_email("omar.haddad@example.com")
    assert jana.team == omar.team
