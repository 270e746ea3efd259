"""HR: teams, interests and the guidelines editor."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEntry, Employee, GuidelineVersion, Interest, Role, Team
from tests.conftest import csrf_token
from tests.factories import EmployeeFactory, GuidelineVersionFactory, InterestFactory, TeamFactory


def _count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def _post(client, path: str, data: dict):
    return client.post(path, data={"csrf_token": csrf_token(client, "/me"), **data})


def test_teams_page_lists_member_counts(app, client, login):
    login(Role.HR)
    with app.app_context():
        sales = TeamFactory(name="Sales")
        EmployeeFactory.create_batch(3, team=sales)
    page = client.get("/teams").get_data(as_text=True)
    assert "Sales" in page
    assert "(3 members)" in page


def test_create_rename_and_delete_a_team(app, client, login):
    login(Role.HR)
    assert _post(client, "/teams", {"name": "  Marketing "}).status_code == 302
    with app.app_context():
        team = db.session.scalar(select(Team).where(Team.name == "Marketing"))
        member = EmployeeFactory(team=team)
        team_id, member_id = team.id, member.id
    assert _post(client, f"/teams/{team_id}/rename", {"name": "Brand"}).status_code == 302
    with app.app_context():
        assert db.session.get(Team, team_id).name == "Brand"
    response = _post(client, f"/teams/{team_id}/delete", {})
    assert response.status_code == 302
    page = client.get("/teams").get_data(as_text=True)
    assert "Team Brand deleted; its 1 member(s) now have no team." in page
    with app.app_context():
        assert db.session.get(Team, team_id) is None
        assert db.session.get(Employee, member_id).team_id is None


@pytest.mark.parametrize(("name", "status"), [("", 422), ("x" * 121, 422), ("sales", 409)])
def test_bad_team_names_change_nothing(app, client, login, name, status):
    login(Role.HR)
    with app.app_context():
        sales = TeamFactory(name="Sales")
        other = TeamFactory(name="Support")
        sales_id, other_id = sales.id, other.id
        before = _count(Team), _count(AuditEntry)
    response = _post(client, "/teams", {"name": name})
    assert response.status_code == status
    assert 'id="name-error"' in response.get_data(as_text=True)
    response = _post(client, f"/teams/{other_id}/rename", {"name": name})
    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert f'id="team-{other_id}-error"' in page
    with app.app_context():
        assert (_count(Team), _count(AuditEntry)) == before
        assert db.session.get(Team, other_id).name == "Support"
        assert db.session.get(Team, sales_id).name == "Sales"


@pytest.mark.parametrize("path", ["/teams/999999/rename", "/teams/999999/delete"])
def test_unknown_teams_are_404(client, login, path):
    login(Role.HR)
    assert _post(client, path, {"name": "X"}).status_code == 404


def test_interests_are_added_and_deleted(app, client, login):
    login(Role.HR)
    assert _post(client, "/interests", {"name": "Careers"}).status_code == 302
    assert "Interest Careers added." in client.get("/interests").get_data(as_text=True)
    with app.app_context():
        interest_id = db.session.scalar(select(Interest.id).where(Interest.name == "Careers"))
    assert _post(client, f"/interests/{interest_id}/delete", {}).status_code == 302
    with app.app_context():
        assert _count(Interest) == 0


@pytest.mark.parametrize(("name", "status"), [("", 422), ("careers", 409), ("y" * 81, 422)])
def test_bad_interests_change_nothing(app, client, login, name, status):
    login(Role.HR)
    with app.app_context():
        InterestFactory(name="Careers")
    response = _post(client, "/interests", {"name": name})
    assert response.status_code == status
    assert 'id="name-error"' in response.get_data(as_text=True)
    with app.app_context():
        assert _count(Interest) == 1


def test_unknown_interest_is_404(client, login):
    login(Role.HR)
    assert _post(client, "/interests/999999/delete", {}).status_code == 404


def test_guidelines_editor_publishes_a_new_version(app, client, login):
    login(Role.HR)
    page = client.get("/guidelines/edit").get_data(as_text=True)
    assert "No guidelines are published yet." in page
    with app.app_context():
        first = GuidelineVersionFactory(body="Be kind, be yourself, keep secrets secret.").id
    page = client.get("/guidelines/edit").get_data(as_text=True)
    assert f"version {first}" in page
    assert "Be kind, be yourself" in page  # the editor starts from the current text
    body = "Share what you like.\nNo customer names, no numbers before they are public."
    response = _post(
        client,
        "/guidelines/edit",
        {"body": body, "contact_name": "Sabine Meyer", "contact_email": "sabine@example.com"},
    )
    assert response.status_code == 302
    with app.app_context():
        latest = db.session.scalar(select(GuidelineVersion).order_by(GuidelineVersion.id.desc()))
        assert latest.id != first
        assert (latest.body, latest.contact_email) == (body, "sabine@example.com")
    assert "Sabine Meyer" in client.get("/guidelines").get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"body": "too short", "contact_name": "S", "contact_email": "s@example.com"}, "body"),
        ({"body": "x" * 30, "contact_name": "", "contact_email": "s@example.com"}, "contact_name"),
        ({"body": "x" * 30, "contact_name": "S", "contact_email": "nope"}, "contact_email"),
        ({"body": " " * 30, "contact_name": "S", "contact_email": "s@example.com"}, "body"),
        ({}, "body"),
    ],
)
def test_bad_guidelines_publish_nothing(app, client, login, data, field):
    login(Role.HR)
    response = _post(client, "/guidelines/edit", data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page
    with app.app_context():
        assert _count(GuidelineVersion) == 0


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/teams", {"name": "T"}),
        ("/interests", {"name": "I"}),
        ("/guidelines/edit", {"body": "x" * 30, "contact_name": "S", "contact_email": "s@e.com"}),
    ],
)
def test_directory_forms_need_the_csrf_token(app, client, login, path, data):
    login(Role.HR)
    with app.app_context():
        before = _count(AuditEntry)
    assert client.post(path, data=data).status_code == 400
    with app.app_context():
        assert _count(AuditEntry) == before


@pytest.mark.parametrize("path", ["/teams", "/interests", "/guidelines/edit"])
def test_employees_cannot_post_directory_forms(app, client, login, path):
    login(Role.TEAM_LEAD)
    with app.app_context():
        before = _count(AuditEntry)
    response = _post(client, path, {"name": "T"})
    assert response.status_code == 403
    with app.app_context():
        assert _count(AuditEntry) == before
