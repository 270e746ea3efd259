"""GET /api/v1/analytics/{table}(.csv): the seeded company's figures worked out by hand,
who may read which table, and small groups kept from view in JSON and in CSV."""

from __future__ import annotations

import csv
import io

import pytest
from flask import Flask

from app.extensions import db
from app.models import Role, Team
from app.services.analytics import COMPANY_TABLES
from scoring.analytics import FIGURES
from tests.factories import EmployeeFactory, TeamFactory
from tests.integration.analytics_scenario import seed_company
from tests.web.api_support import Caller, anonymous, bearer_caller, bearer_for, forbidden

API = "/api/v1/analytics"


@pytest.fixture
def company(ctx) -> dict[str, int]:
    return seed_company()


@pytest.fixture
def hr(app: Flask) -> Caller:
    return bearer_caller(app, Role.HR, team=None)


def lead_of(app: Flask, team_id: int) -> Caller:
    """A team lead in the team; not taking part, so no headcount changes."""
    lead = EmployeeFactory(role=Role.TEAM_LEAD, team=db.session.get(Team, team_id))
    return bearer_for(app, lead.id)


def rows(body: dict) -> dict[str, dict]:
    return {row["key"]: row for row in body["rows"]}


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


# Figures by hand ---------------------------------------------------------------------


def test_october_over_time(company, hr):
    response = hr.get(f"{API}/time?period=month&day=2026-10-15")
    assert response.status_code == 200
    body = response.json
    assert {k: body[k] for k in ("table", "period", "start", "end", "team_id")} == {
        "table": "time",
        "period": "month",
        "start": "2026-10-01",
        "end": "2026-11-01",
        "team_id": None,
    }
    assert body["minimum_group_size"] == 5
    assert [row["key"] for row in body["rows"]][-2:] == ["2026-09-01", "2026-10-01"]
    october = rows(body)["2026-10-01"]
    assert october["withheld"] is False
    assert october["values"] == {
        "shares": 4,
        "clicks": 6,
        "clicks_on_shares": 7,
        "applied": 2,
        "interviewed": 0,
        "hired": 0,
        "points": 72,
        "clicks_per_share": 1.75,
        "reach": 1120,  # Ada's 500 twice on LinkedIn, Ben's 120 on X as declared then
        "active_advocates": 3,  # Ada, Ben, Cem
        "headcount": 5,  # and Dora, and Eve who joined on the 28th
        "participation_rate": 0.6,
    }
    assert len(body["rows"]) == 12


def test_the_weeks_around_the_end_of_summer_time(company, hr):
    body = hr.get(f"{API}/time?period=week&day=2026-10-27").json
    assert (body["start"], body["end"]) == ("2026-10-26", "2026-11-02")
    before, after = rows(body)["2026-10-19"]["values"], rows(body)["2026-10-26"]["values"]
    # The long Sunday's clicks at both 02:30s, and Ben's share at 23:30 winter time.
    assert before == {
        "shares": 2,
        "clicks": 3,
        "clicks_on_shares": 5,
        "applied": 0,
        "interviewed": 0,
        "hired": 0,
        "points": 11,
        "clicks_per_share": 2.5,
        "reach": 620,
        "active_advocates": 2,
        "headcount": 4,
        "participation_rate": 0.5,
    }
    # Ada's share at 00:10 on Monday; Cem's click of Sunday 1 November.
    assert after == {
        "shares": 2,
        "clicks": 4,
        "clicks_on_shares": 2,
        "applied": 2,
        "interviewed": 0,
        "hired": 0,
        "points": 62,
        "clicks_per_share": 1.0,
        "reach": 500,
        "active_advocates": 2,
        "headcount": 5,
        "participation_rate": 0.4,
    }


def test_the_networks_value_from_the_default_assumptions(company, hr):
    body = hr.get(f"{API}/network?day=2026-10-01").json
    found = rows(body)
    linkedin, x = found["linkedin"]["values"], found["x"]["values"]
    assert (linkedin["shares"], linkedin["clicks"], linkedin["reach"]) == (2, 4, 1000)
    assert (x["shares"], x["clicks"], x["reach"]) == (2, 2, 120)
    # LinkedIn: CPM 8-35 €, CPC 2-6 €, 2-10 % seen: 800 * 1000 * 2 % / 1000 + 200 * 4
    # and 3500 * 1000 * 10 % / 1000 + 600 * 4.
    assert (linkedin["value_low"], linkedin["value_high"]) == (816, 2750)
    # X: CPM 3-8 €, CPC 0.50-2 €, 1-5 % seen: 300 * 120 * 1 % / 1000 = 0.36 cents, rounded
    # down, + 50 * 2; 800 * 120 * 5 % / 1000 = 4.8 -> 4, + 200 * 2.
    assert (x["value_low"], x["value_high"]) == (100, 404)
    assert found["email"]["values"]["value_high"] == 0
    columns = {column["name"]: column for column in body["columns"]}
    assert columns["clicks"]["cohort"] == "clicks_received"
    assert columns["value_low"]["cohort_label"] == "shares made in the period"
    assert columns["value_low"]["meaning"]
    assert columns["network"]["cohort"] is None
    assert any("CPM" in note for note in body["notes"])


def test_the_networks_value_from_the_companys_assumptions(company, hr):
    assumptions = {
        "cpm_low_cents": 1000,
        "cpm_high_cents": 2000,
        "cpc_low_cents": 100,
        "cpc_high_cents": 100,
        "seen_low_percent": 10,
        "seen_high_percent": 50,
    }
    put = hr.put("/api/v1/network-policies/x", json={"share_points": True, **assumptions})
    assert put.status_code == 200
    x = rows(hr.get(f"{API}/network?day=2026-10-01").json)["x"]["values"]
    # 1000 * 120 * 10 % / 1000 + 100 * 2; 2000 * 120 * 50 % / 1000 + 100 * 2.
    assert (x["value_low"], x["value_high"]) == (212, 320)
    hr.put("/api/v1/network-policies/x", json={"share_points": True})  # the defaults again
    x = rows(hr.get(f"{API}/network?day=2026-10-01").json)["x"]["values"]
    assert (x["value_low"], x["value_high"]) == (100, 404)


def test_content_items_in_october(company, hr):
    body = hr.get(f"{API}/content?period=month&day=2026-10-31").json
    assert [(row["label"], row["values"]["clicks"]) for row in body["rows"]] == [
        ("Story", 3),
        ("Job ad", 3),
    ]
    job = rows(body)[str(company["job"])]["values"]
    assert (job["shares"], job["applied"], job["points"], job["reach"]) == (2, 2, 61, 620)


def test_the_csv_is_the_same_table(company, hr):
    response = hr.get(f"{API}/time.csv?period=month&day=2026-10-15")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert 'filename="time-month-2026-10-01.csv"' in response.headers["Content-Disposition"]
    header, *lines = csv_rows(response)
    assert header[0] == "Month"
    assert header[1] == "Shares (shares made in the period)"
    assert header[-1] == "Withheld"
    october = next(line for line in lines if line[0] == "2026-10-01")
    assert october[1:5] == ["4", "6", "7", "2"]
    assert october[-1] == "False"
    assert lines[-1][0].startswith("Note: ")


# Who reads what ----------------------------------------------------------------------


def test_employees_and_strangers_read_nothing(app: Flask, company):
    assert anonymous(app).get(f"{API}/time").status_code == 401
    response = bearer_caller(app, Role.EMPLOYEE).get(f"{API}/time.csv")
    assert response.status_code == 403
    assert response.json == forbidden(Role.TEAM_LEAD)


@pytest.mark.parametrize("table", ["time", "content", "network", "team", "persona", "advocates"])
def test_hr_and_admins_read_every_table(app: Flask, company, table):
    for role in (Role.HR, Role.ADMIN):
        caller = bearer_caller(app, role, team=None)
        assert caller.get(f"{API}/{table}?day=2026-10-01").status_code == 200
        assert caller.get(f"{API}/{table}.csv?day=2026-10-01").status_code == 200


def test_hr_reads_any_teams_time_table(company, hr):
    body = hr.get(f"{API}/time?team_id={company['tech']}").json
    assert (body["team_id"], body["title"]) == (company["tech"], "Tech over time")


def test_a_team_lead_reads_their_own_teams_time_table_only(app: Flask, company):
    lead = lead_of(app, company["tech"])
    own = lead.get(f"{API}/time?day=2026-10-01")
    assert own.status_code == 200
    assert own.json["team_id"] == company["tech"]
    assert lead.get(f"{API}/time?team_id={company['tech']}").status_code == 200
    other = lead.get(f"{API}/time?team_id={company['sales']}")
    assert other.status_code == 403
    assert "team_id" in other.json["errors"]


def test_a_team_lead_in_no_team_reads_nothing(app: Flask, company):
    response = bearer_caller(app, Role.TEAM_LEAD, team=None).get(f"{API}/time")
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/nothing", "table"),
        ("/nothing.csv", "table"),
        ("/time?team_id=999999", "team_id"),
    ],
)
def test_unknown_tables_and_teams_are_not_found(company, hr, path, field):
    response = hr.get(f"{API}{path}")
    assert response.status_code == 404
    assert response.json["code"] == 404
    assert field in response.json["errors"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("period=year", "period"),
        ("day=yesterday", "day"),
        ("day=2026-02-30", "day"),
        ("day=1999-12-31", "day"),
        ("day=2101-01-01", "day"),
        ("day=0001-01-01", "day"),
        ("day=9999-12-31", "day"),
        ("team_id=0", "team_id"),
        ("team_id=x", "team_id"),
        (f"team_id={2**63}", "team_id"),
    ],
)
def test_bad_queries_name_the_field(company, hr, query, field):
    for suffix in ("", ".csv"):
        response = hr.get(f"{API}/time{suffix}?{query}")
        assert response.status_code == 422
        assert list(response.json["errors"]) == [field]


@pytest.mark.parametrize("day", ["2000-01-01", "2100-12-31"])
@pytest.mark.parametrize("period", ["day", "week", "month"])
def test_the_first_and_last_days_answer(company, hr, day, period):
    assert hr.get(f"{API}/time?period={period}&day={day}").status_code == 200


def test_today_is_the_default_day(company, hr):
    body = hr.get(f"{API}/time?period=day").json
    assert body["end"] > body["start"]
    assert len(body["rows"]) == 31


# Small groups ------------------------------------------------------------------------


def tells_nothing(body: dict) -> bool:
    """Every row withheld, or of a period in which nobody took part (all figures 0)."""
    return all(row["withheld"] or set(row["values"].values()) <= {0, None} for row in body["rows"])


def csv_tells_nothing(response) -> bool:
    _header, *lines = csv_rows(response)
    figures = [line for line in lines if not line[0].startswith("Note")]
    return bool(figures) and all(
        set(line[1:-1]) == {""} if line[-1] == "True" else set(line[1:-1]) <= {"0", ""}
        for line in figures
    )


def test_a_small_teams_lead_sees_only_withheld_rows(app: Flask, company):
    # Tech: Ben, Cem and Eve, fewer than the minimum group size of 5.
    lead = lead_of(app, company["tech"])
    body = lead.get(f"{API}/time?period=week&day=2026-10-26").json
    assert tells_nothing(body)
    weeks = rows(body)
    assert weeks["2026-10-19"]["withheld"]
    assert weeks["2026-10-26"]["withheld"]
    assert set(weeks["2026-10-26"]["values"].values()) == {None}
    assert "Figures of a group of fewer than 5 people taking part are withheld." in body["notes"]
    csv_answer = lead.get(f"{API}/time.csv?period=week&day=2026-10-26")
    assert csv_tells_nothing(csv_answer)
    assert [line[-1] for line in csv_rows(csv_answer) if line[0] == "2026-10-26"] == ["True"]


def test_a_team_of_four_is_withheld_and_of_five_shown(app: Flask, ctx):
    team = TeamFactory(name="Four")
    EmployeeFactory.create_batch(4, team=team, opted_in=True)
    lead = lead_of(app, team.id)
    four = lead.get(f"{API}/time").json
    assert tells_nothing(four)
    assert four["rows"][-1]["withheld"]  # the running month
    assert csv_tells_nothing(lead.get(f"{API}/time.csv"))
    EmployeeFactory(team=team, opted_in=True)
    now = lead.get(f"{API}/time").json["rows"][-1]
    assert now["withheld"] is False
    assert (now["values"]["headcount"], now["values"]["active_advocates"]) == (5, 0)


@pytest.mark.parametrize("table", ["content", "network", "team", "persona", "advocates", "matrix"])
def test_a_teams_figures_are_not_broken_down(app: Flask, company, hr, table):
    """Differencing: a team's figures by item or interest would show its parts."""
    lead = lead_of(app, company["tech"])
    for caller, query in ((lead, ""), (hr, f"?team_id={company['tech']}")):
        for suffix in ("", ".csv"):
            response = caller.get(f"{API}/{table}{suffix}{query}")
            assert response.status_code == 403
            assert "team_id" in response.json["errors"]
            assert "not broken down" in response.json["message"]


def test_hrs_team_table_withholds_the_team_the_total_would_give_away(app: Flask, ctx, hr):
    """Six, five and two people: the two are withheld; the company's total minus the
    six would give them away with the five, so the five are withheld too."""
    six, five, two = (TeamFactory(name=name) for name in ("Six", "Five", "Two"))
    for team, size in ((six, 6), (five, 5), (two, 2)):
        EmployeeFactory.create_batch(size, team=team, opted_in=True)
    body = hr.get(f"{API}/team").json
    shown = {row["label"]: row["withheld"] for row in body["rows"]}
    assert shown == {"Five": True, "Six": False, "Two": True}
    assert rows(body)[str(six.id)]["values"]["headcount"] == 6
    time = hr.get(f"{API}/time").json["rows"][-1]["values"]
    assert time["headcount"] == 13
    _header, *lines = csv_rows(hr.get(f"{API}/team.csv"))
    assert {line[0]: line[-1] for line in lines if not line[0].startswith("Note")} == {
        "Five": "True",
        "Six": "False",
        "Two": "True",
    }


def test_the_openapi_document_says_what_each_figure_counts(client):
    spec = client.get("/api/openapi.json").json
    csv_answer = spec["paths"][f"{API}/{{table}}.csv"]["get"]["responses"]["200"]
    assert list(csv_answer["content"]) == ["text/csv"]
    values = spec["components"]["schemas"]["AnalyticsRow"]["properties"]["values"]
    for name, figure in FIGURES.items():
        assert f"- `{name}` ({figure.cohort.label}): {figure.meaning}" in values["description"]
    table = spec["paths"][f"{API}/{{table}}"]["parameters"][0]
    assert table["schema"]["enum"] == list(COMPANY_TABLES)
