"""The analytics pages: who may read them, bad addresses, the charts and tables, the CSV,
and small groups withheld from a team lead, from HR and from the downloads."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import insert

from app.extensions import db
from app.models import ClickKind, ClickRecord, ContentItem, Role, Team, employee_interests, utcnow
from app.services import rollups
from app.web.analytics import company_today
from tests.conftest import sign_in, sql_statements
from tests.factories import (
    CompanySettingsFactory,
    ContentItemFactory,
    ContentTagFactory,
    EmployeeFactory,
    InterestFactory,
    ShareFactory,
    TeamFactory,
)

COMPANY_PAGES = [
    "/analytics",
    "/analytics?show=network",
    "/analytics?show=matrix",
    "/analytics/time.csv",
    "/analytics/advocates.csv",
]
TEAM_PAGES = ["/team/analytics", "/team/analytics/time.csv"]
WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


def _team(name: str, size: int, item: ContentItem, clicks: int) -> tuple[int, list[int]]:
    """A team of people taking part, each with two shares today and ``clicks`` counted
    clicks on the first; returns the team's id and its people's."""
    team = TeamFactory(name=name)
    people = [EmployeeFactory(team=team, opted_in=True) for _ in range(size)]
    for person in people:
        first, _second = (ShareFactory(employee=person, content=item) for _ in range(2))
        db.session.add_all(
            ClickRecord(
                share_id=first.id,
                visitor=f"{first.id:08x}{n:024x}",
                day=utcnow().date(),
                kind=ClickKind.HUMAN,
                occurred_at=utcnow(),
            )
            for n in range(clicks)
        )
    return team.id, [person.id for person in people]


@pytest.fixture
def today(app):
    with app.app_context():
        return company_today()


@pytest.fixture
def company(app):
    """Two teams large enough to show, and one of four, below the minimum of five; their
    shares and clicks of today counted into the rollups as a rebuild counts them."""
    with app.app_context():
        CompanySettingsFactory(min_group_size=5)
        item = ContentItemFactory(title="Our <b>wind</b> farm")
        teams = {
            "Wind": _team("Wind", 6, item, clicks=7),
            "Solar": _team("Solar", 7, item, clicks=7),
            "Tiny": _team("Tiny", 4, item, clicks=37),
        }
        careers, engineering = InterestFactory(name="Careers"), InterestFactory(name="Engineering")
        for interest, names in ((careers, teams), (engineering, ["Wind"])):
            db.session.execute(
                insert(employee_interests),
                [
                    {"employee_id": person, "interest_id": interest.id}
                    for name in names
                    for person in teams[name][1]
                ],
            )
        rollups.recount()
        db.session.commit()
        return {name: team_id for name, (team_id, _people) in teams.items()}


# Who may read what ----------------------------------------------------------------


@pytest.mark.parametrize("path", COMPANY_PAGES + TEAM_PAGES)
def test_employees_may_read_none_of_it(client, login, company, path):
    login(Role.EMPLOYEE, opted_in=True)
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("path", COMPANY_PAGES)
def test_team_leads_may_not_read_the_company(client, login, company, path):
    login(Role.TEAM_LEAD, opted_in=True)
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("role", [Role.HR, Role.ADMIN])
@pytest.mark.parametrize("path", COMPANY_PAGES + TEAM_PAGES)
def test_hr_and_admins_read_every_page(client, login, company, role, path):
    login(role)
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("path", COMPANY_PAGES + TEAM_PAGES)
def test_signed_out_people_go_to_sign_in(client, company, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        (Role.EMPLOYEE, [], ["Analytics", "Team analytics"]),
        (Role.TEAM_LEAD, ["Team analytics"], [">Analytics<"]),
        (Role.HR, [">Analytics<", "Team analytics"], []),
    ],
)
def test_the_navigation_links_to_what_each_role_may_read(client, login, role, shown, hidden):
    login(role, opted_in=True)
    page = client.get("/leaderboards").get_data(as_text=True)
    for text in shown:
        assert text in page
    for text in hidden:
        assert text not in page


# Bad addresses ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("period=year", "period"),
        ("start=yesterday", "start"),
        ("start=2999-01-01", "start"),
        ("start=1999-12-31", "start"),
        ("show=salaries", "show"),
        ("period=week&start=2026-02-30", "start"),
    ],
)
@pytest.mark.parametrize("path", ["/analytics", "/analytics/time.csv", "/team/analytics"])
def test_a_bad_query_answers_a_readable_page_naming_the_field_and_writes_nothing(
    app, client, login, company, query, field, path
):
    login(Role.HR)
    with sql_statements(app) as statements:
        response = client.get(f"{path}?{query}")
    assert response.status_code == 422
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert field in page
    assert 'class="field-error"' in page or path.endswith(".csv")
    assert "Download CSV" not in page
    assert "<svg" not in page
    assert [s for s in statements if WRITES.match(s)] == []


def test_a_bad_team_id_is_named_too(client, login, company):
    login(Role.HR)
    response = client.get("/team/analytics?team_id=abc")
    assert response.status_code == 422
    assert 'id="team_id-error"' in response.get_data(as_text=True)


# The company page ------------------------------------------------------------------


def _svgs(page: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", page, re.S)


@pytest.mark.parametrize("show", ["time", "content", "network", "team", "persona", "advocates"])
def test_each_breakdown_has_a_chart_drawn_on_the_server_then_its_table(
    client, login, company, show
):
    login(Role.HR)
    page = client.get(f"/analytics?show={show}").get_data(as_text=True)
    svgs = _svgs(page)
    assert len(svgs) == 1
    svg = svgs[0]
    root = svg[: svg.index(">")]
    # Scaled by the page (a viewBox, no fixed size), named by its visible heading.
    assert "viewBox=" in root
    assert " width=" not in root
    assert f'role="img" aria-labelledby="chart-{show}"' in root
    assert f'<h3 id="chart-{show}">' in page
    assert "<title>" in svg
    # Nothing runs and nothing is fetched: no script, no address but the SVG namespace.
    assert "<script" not in svg
    assert re.findall(r"https?://[^\"' ]+", svg) == ["http://www.w3.org/2000/svg"]
    assert page.index("<svg") < page.index('<table class="figures">')
    assert 'aria-current="page">' in page
    assert "Download CSV" in page


def test_labels_in_a_chart_are_escaped(client, login, company):
    login(Role.HR)
    page = client.get("/analytics?show=content").get_data(as_text=True)
    assert "<b>wind</b>" not in page
    assert "&lt;b&gt;wind&lt;/b&gt;" in _svgs(page)[0]


def test_measured_clicks_come_first_and_each_figure_says_what_it_counts(client, login, company):
    login(Role.HR)
    page = client.get("/analytics?show=network").get_data(as_text=True)
    headers = re.findall(r'class="num">\s*<abbr title="([^"]*)">([^<]+)</abbr>', page)
    labels = [label for _meaning, label in headers]
    assert labels[:3] == ["Clicks", "Clicks on these shares", "Clicks per share"]
    assert labels.index("Shares") < labels.index("Potential reach") < labels.index("Value, low (€)")
    assert "counted clicks received" in headers[0][0]
    assert '<span class="cohort">clicks received in the period</span>' in page
    assert '<span class="cohort">shares made in the period</span>' in page
    # The value's formulas and assumptions, and where the assumptions are set.
    assert "value = CPM * (potential reach * seen %) / 1000 + CPC * counted clicks" in page
    assert 'href="/sharing-policy"' in page
    assert "Assumptions of value, per network" in page


def test_the_period_form_defaults_to_this_month_and_links_the_csv_of_what_is_shown(
    client, login, company, today
):
    login(Role.HR)
    page = client.get("/analytics?show=team").get_data(as_text=True)
    assert f'value="{today.isoformat()}"' in page
    assert '<option value="month" selected>' in page
    month = today.replace(day=1).isoformat()
    assert f'href="/analytics/team.csv?period=month&amp;start={month}"' in page
    assert f"Teams · {today:%B %Y}" in page
    week = client.get(f"/analytics?show=team&period=week&start={today}").get_data(as_text=True)
    assert '<option value="week" selected>' in week
    assert "Teams · Week from" in week


def test_small_teams_are_withheld_from_hr_too(client, login, company):
    login(Role.HR)
    page = client.get("/analytics?show=team").get_data(as_text=True)
    tiny = re.search(r"<th scope=\"row\">Tiny</th>(.*?)</tr>", page, re.S).group(1)
    assert "Group too small (fewer than 5 people)" in tiny
    assert "37" not in tiny


# The team lead's page --------------------------------------------------------------


def _lead_of(app, client, team_id: int, taking_part: bool = True) -> None:
    """Sign a lead of the team in."""
    with app.app_context():
        lead = EmployeeFactory(
            team=db.session.get(Team, team_id), role=Role.TEAM_LEAD, opted_in=taking_part
        )
        db.session.refresh(lead)
        db.session.expunge(lead)
    sign_in(client, lead)


def test_a_lead_of_a_team_large_enough_sees_its_figures_over_time(app, client, company, today):
    # Solar: seven and its lead. (Wind, of six, is withheld with Tiny: the company's
    # total less the shown teams would give Tiny's four away.)
    _lead_of(app, client, company["Solar"])
    page = client.get("/team/analytics").get_data(as_text=True)
    assert "Team analytics: Solar" in page
    assert "Solar over time" in page
    assert len(_svgs(page)) == 1
    this_month = re.findall(r"<tr>\s*<th scope=\"row\">(.*?)</th>(.*?)</tr>", page, re.S)[-1]
    assert f"{today:%B %Y}" in this_month[0]
    assert ">49<" in this_month[1]  # seven people's clicks; the lead's none
    assert "Group too small" not in page
    assert "Top advocates" not in page
    assert 'name="team_id"' not in page


def test_a_team_of_four_shows_its_lead_no_figures(app, client, company, today):
    # Four take part; the lead, who does not, would make a fifth of the team but not
    # of the people taking part.
    _lead_of(app, client, company["Tiny"], taking_part=False)
    page = client.get("/team/analytics").get_data(as_text=True)
    this_month = re.findall(r"<tr[^>]*>\s*<th scope=\"row\">(.*?)</th>(.*?)</tr>", page, re.S)[-1]
    assert f"{today:%B %Y}" in this_month[0]
    assert "Group too small (fewer than 5 people)" in this_month[1]
    assert ">37<" not in page  # one person's clicks
    assert ">148<" not in page  # the team's
    response = client.get("/team/analytics/time.csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][0] == "Month"
    this_month = next(row for row in rows if row[0] == today.replace(day=1).isoformat())
    assert this_month[-1] == "True"
    assert this_month[1:-1] == [""] * (len(rows[0]) - 2)
    assert "37" not in response.get_data(as_text=True).split("\n", 1)[1]


@pytest.mark.parametrize(
    "path",
    [
        "/team/analytics/network.csv",
        "/team/analytics/advocates.csv",
        "/team/analytics?show=advocates",
    ],
)
def test_a_lead_asking_for_a_breakdown_is_refused(app, client, company, path):
    _lead_of(app, client, company["Wind"])
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("suffix", ["", "/time.csv"])
def test_a_lead_asking_for_another_team_is_refused(app, client, company, suffix):
    _lead_of(app, client, company["Wind"])
    response = client.get(f"/team/analytics{suffix}?team_id={company['Solar']}")
    assert response.status_code == 403
    own = client.get(f"/team/analytics{suffix}?team_id={company['Wind']}")
    assert own.status_code == 200


def test_hr_chooses_any_team(client, login, company):
    login(Role.HR)
    page = client.get(f"/team/analytics?team_id={company['Solar']}").get_data(as_text=True)
    assert "Team analytics: Solar" in page
    assert f'<option value="{company["Solar"]}" selected>Solar</option>' in page
    assert f"team_id={company['Solar']}" in page  # the CSV of that team
    assert client.get("/team/analytics?team_id=999999").status_code == 404


# CSV -------------------------------------------------------------------------------


def test_the_csv_is_streamed_with_a_header_naming_each_cohort(client, login, company, today):
    login(Role.HR)
    response = client.get(f"/analytics/team.csv?period=month&start={today}")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    month = today.replace(day=1).isoformat()
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="chorus-team-month-{month}.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:3] == [
        "Team",
        "Clicks (clicks received in the period)",
        "Clicks on these shares (shares made in the period)",
    ]
    assert rows[0][-1] == "Withheld"
    by_team = {row[0]: row for row in rows[1:]}
    assert by_team["Solar"][1] == "49"
    assert by_team["Solar"][-1] == "False"
    # Tiny is too small, and the company's total less Solar's would give it away: the
    # next smallest team goes with it.
    for withheld in ("Tiny", "Wind"):
        assert by_team[withheld][1:-1] == [""] * (len(rows[0]) - 2)
        assert by_team[withheld][-1] == "True"
    assert rows[-1][0].startswith("Note: Figures of a group of fewer than 5 people")


def test_an_unknown_table_is_not_found(client, login, company):
    login(Role.HR)
    assert client.get("/analytics/salaries.csv").status_code == 404
    assert client.get("/team/analytics/salaries.csv").status_code == 404


# The interest x tag heat map ---------------------------------------------------------


def test_the_heat_map_shades_cells_by_clicks_and_withholds_small_ones(app, client, login):
    with app.app_context():
        CompanySettingsFactory(min_group_size=5)
        wind, hiring = InterestFactory(name="Wind"), InterestFactory(name="Hiring")
        story, job = ContentItemFactory(), ContentItemFactory()
        ContentTagFactory(content_id=story.id, tag="news")
        ContentTagFactory(content_id=job.id, tag="job")
        counted = []
        for n in range(5):
            person = EmployeeFactory(opted_in=True)
            person.interests.append(wind)
            counted.append((ShareFactory(employee=person, content=story), n + 1))
        for _ in range(2):
            person = EmployeeFactory(opted_in=True)
            person.interests.append(hiring)
            counted.append((ShareFactory(employee=person, content=job), 9))
        db.session.flush()
        # The shares and their clicks counted into the rollups as the services count them.
        tally = rollups.new_tally()
        for share, clicks in counted:
            tally.share(rollups.share_facts(share))
            for _ in range(clicks):
                tally.click(rollups.share_facts(share), share.created_at)
        rollups.count(tally)
        db.session.commit()
    login(Role.HR)
    page = client.get("/analytics?show=matrix").get_data(as_text=True)
    assert _svgs(page) == []
    heat_map = re.search(r'<table class="heat-map">.*?</table>', page, re.S).group(0)
    assert re.findall(r'<th scope="row">(\w+)</th>', heat_map) == ["Hiring", "Wind"]
    assert re.findall(r'<th scope="col">(\w+)</th>', heat_map) == ["Interest", "job", "news"]
    assert 'style="color: #fff; background: rgba(47, 91, 211, 0.90);"' in heat_map
    assert "15 <span" in heat_map  # five shares' clicks, in the cell
    assert '<td class="withheld">fewer than 5 people</td>' in heat_map
    assert "18 <span" not in heat_map  # the two people's clicks
