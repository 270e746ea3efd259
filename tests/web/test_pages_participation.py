"""Guidelines, opt-in and one-click opt-out pages."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEntry, Employee, Role
from tests.conftest import csrf_token
from tests.factories import GuidelineVersionFactory


def _employee(app, employee_id: int) -> Employee:
    db.session.expire_all()
    return db.session.get(Employee, employee_id)


def _audit_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEntry))


def test_guidelines_page_explains_what_taking_part_means(app, client, login):
    login()
    with app.app_context():
        version = GuidelineVersionFactory(contact_name="Sabine Meyer")
        version_id = version.id
    page = client.get("/guidelines").get_data(as_text=True)
    assert "Taking part is voluntary" in page
    for words in ("tracked", "points", "ranked", "pseudonym", "hidden", "opt out with one click"):
        assert words in page
    assert "Sabine Meyer" in page
    assert f'name="guidelines_version_id" value="{version_id}"' in page


def test_without_guidelines_the_page_explains_opt_in_is_not_open(client, login):
    login()
    response = client.get("/guidelines")
    assert response.status_code == 200
    assert "has not published" in response.get_data(as_text=True)


def test_opt_in_needs_sign_in(client):
    response = client.get("/guidelines")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=")


def test_opt_in_and_opt_out(app, client, login):
    me = login()
    with app.app_context():
        version_id = GuidelineVersionFactory().id
    token = csrf_token(client, "/guidelines")
    response = client.post(
        "/guidelines/accept",
        data={"csrf_token": token, "guidelines_version_id": version_id, "accept": "yes"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/me"
    with app.app_context():
        employee = _employee(app, me.id)
        assert employee.participating
        assert employee.guidelines_version_id == version_id
    page = client.get("/me").get_data(as_text=True)
    assert "You take part now" in page
    assert "Opt out" in page

    response = client.post("/opt-out", data={"csrf_token": token})
    assert response.status_code == 302
    with app.app_context():
        assert not _employee(app, me.id).participating
    assert "You opted out" in client.get("/me").get_data(as_text=True)


def test_opt_out_from_the_nav_returns_to_the_page(app, client, login):
    login(opted_in=True)
    token = csrf_token(client, "/guidelines")
    response = client.post("/opt-out", data={"csrf_token": token, "next": "/guidelines"})
    assert response.headers["Location"] == "/guidelines"
    response = client.post("/opt-out", data={"csrf_token": token, "next": "https://evil.example/"})
    assert response.headers["Location"] == "/"


def test_home_sends_people_where_they_start(client, login):
    assert client.get("/").headers["Location"] == "/sign-in"
    login()
    assert client.get("/").headers["Location"] == "/guidelines"


def test_home_sends_participants_to_their_feed(client, login):
    login(opted_in=True)
    assert client.get("/").headers["Location"] == "/feed"


@pytest.mark.parametrize(
    ("data", "status", "problem"),
    [
        ({"guidelines_version_id": "current"}, 422, "Tick the box"),
        ({"accept": "yes"}, 422, "Missing data for required field"),
        ({"accept": "yes", "guidelines_version_id": "abc"}, 422, "Not a valid integer"),
        ({"accept": "yes", "guidelines_version_id": "old"}, 409, "guidelines changed"),
    ],
)
def test_bad_opt_in_changes_nothing(app, client, login, data, status, problem):
    me = login()
    with app.app_context():
        old_id = GuidelineVersionFactory().id
        current_id = GuidelineVersionFactory().id
    ids = {"current": current_id, "old": old_id}
    if "guidelines_version_id" in data:
        data["guidelines_version_id"] = ids.get(data["guidelines_version_id"], "abc")
    before = _audit_count(app)
    data["csrf_token"] = csrf_token(client, "/guidelines")
    response = client.post("/guidelines/accept", data=data)
    assert response.status_code == status
    assert problem in response.get_data(as_text=True)
    with app.app_context():
        assert not _employee(app, me.id).participating
    assert _audit_count(app) == before


def test_opt_in_without_guidelines_is_refused(app, client, login):
    me = login()
    token = csrf_token(client, "/guidelines")
    response = client.post(
        "/guidelines/accept",
        data={"csrf_token": token, "guidelines_version_id": "1", "accept": "yes"},
    )
    assert response.status_code == 409
    assert "has not published" in response.get_data(as_text=True)
    with app.app_context():
        assert not _employee(app, me.id).participating


@pytest.mark.parametrize("path", ["/guidelines/accept", "/opt-out"])
def test_posts_without_csrf_token_are_refused(app, client, login, path):
    me = login(opted_in=True)
    with app.app_context():
        version_id = GuidelineVersionFactory().id
    response = client.post(path, data={"guidelines_version_id": version_id, "accept": "yes"})
    assert response.status_code == 400
    assert "form expired" in response.get_data(as_text=True)
    with app.app_context():
        assert _employee(app, me.id).participating


def test_accepting_a_new_version_keeps_the_first_opt_in_time(app, client, login):
    me = login(opted_in=True)
    with app.app_context():
        first = _employee(app, me.id).opted_in_at
        new_id = GuidelineVersionFactory().id
    page = client.get("/guidelines").get_data(as_text=True)
    assert "The guidelines changed since you accepted them" in page
    client.post(
        "/guidelines/accept",
        data={
            "csrf_token": csrf_token(client, "/guidelines"),
            "guidelines_version_id": new_id,
            "accept": "yes",
        },
    )
    with app.app_context():
        employee = _employee(app, me.id)
        assert employee.guidelines_version_id == new_id
        assert employee.opted_in_at == first
    assert "You accepted these guidelines" in client.get("/guidelines").get_data(as_text=True)


@pytest.mark.parametrize("role", list(Role))
def test_every_role_reads_the_guidelines(client, login, role):
    login(role)
    assert client.get("/guidelines").status_code == 200
