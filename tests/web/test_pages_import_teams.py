"""A misspelt team name in a CSV import is a rejected row with the closest existing
name, unless the import asks for new teams: on the page, in the API and on the CLI."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Employee, Role, Team
from tests.conftest import csrf_token
from tests.factories import TeamFactory
from tests.web.api_support import session_caller

CSV = (
    "email,name,team\n"
    "ada@example.com,Ada Lovelace,Engineering\n"
    "bob@example.com,Bob Byte,Enginering\n"
    "cem@example.com,Cem Kaya,Moonbase\n"
)


@pytest.fixture
def engineering(app) -> None:
    with app.app_context():
        TeamFactory(name="Engineering")
        TeamFactory(name="Sales")


def _state(app) -> tuple[list[str], list[str]]:
    with app.app_context():
        # (the factory's own "Team N" of the signed-in HR person aside)
        teams = sorted(n for n in db.session.scalars(select(Team.name)) if n[:5] != "Team ")
        emails = sorted(
            db.session.scalars(select(Employee.email).where(Employee.email.like("%@example.com")))
        )
        return teams, emails


def _page_upload(client, **fields):
    token = csrf_token(client, "/people/import")
    data = {"csrf_token": token, "file": (io.BytesIO(CSV.encode()), "people.csv"), **fields}
    return client.post("/people/import", data=data, content_type="multipart/form-data")


def test_the_page_rejects_unknown_teams_and_suggests_the_closest(app, client, login, engineering):
    login(Role.HR)
    page = client.get("/people/import").get_data(as_text=True)
    assert 'name="create_teams" value="yes"' in page
    response = _page_upload(client)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<strong data-count="created">1</strong> created' in page
    assert '<strong data-count="teams">0</strong> new teams' in page
    assert (
        "<tr><td>3</td><td>Unknown team &#39;Enginering&#39;. Did you mean &#39;Engineering&#39;?"
        in page
    )
    assert "<tr><td>4</td><td>Unknown team &#39;Moonbase&#39;. Fix the name" in page
    teams, emails = _state(app)
    assert teams == ["Engineering", "Sales"]
    assert "bob@example.com" not in emails
    assert "cem@example.com" not in emails


def test_the_page_creates_teams_when_asked(app, client, login, engineering):
    login(Role.HR)
    page = _page_upload(client, create_teams="yes").get_data(as_text=True)
    assert '<strong data-count="created">3</strong> created' in page
    assert "new teams: Enginering, Moonbase" in page
    assert _state(app)[0] == ["Engineering", "Enginering", "Moonbase", "Sales"]


def test_the_api_rejects_unknown_teams_unless_create_teams(app, engineering):
    hr = session_caller(app, Role.HR)

    def upload(query: str = ""):
        return hr.post(
            "/api/v1/employees/import" + query,
            data={"file": (io.BytesIO(CSV.encode()), "people.csv")},
            content_type="multipart/form-data",
        )

    body = upload().json
    assert (body["created"], body["teams_created"]) == (1, [])
    assert [row["line"] for row in body["rejected"]] == [3, 4]
    assert "Did you mean 'Engineering'?" in body["rejected"][0]["reason"]
    assert _state(app)[0] == ["Engineering", "Sales"]
    assert upload("?create_teams=maybe").status_code == 422
    body = upload("?create_teams=true").json
    assert body["teams_created"] == ["Enginering", "Moonbase"]
    assert body["rejected"] == []


def test_the_cli_rejects_unknown_teams_unless_create_teams(app, runner, tmp_path, engineering):
    csv_file = tmp_path / "people.csv"
    csv_file.write_text(CSV, encoding="utf-8")
    result = runner.invoke(args=["import-people", str(csv_file)])
    assert result.exit_code == 1
    assert "created 1, updated 0, new teams 0, rejected 2" in result.output
    assert "line 3: Unknown team 'Enginering'. Did you mean 'Engineering'?" in result.stderr
    assert _state(app)[0] == ["Engineering", "Sales"]
    result = runner.invoke(args=["import-people", "--create-teams", str(csv_file)])
    assert result.exit_code == 0, result.output
    assert "created 2, updated 1, new teams 2, rejected 0" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Team)) == 4
