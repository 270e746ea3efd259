"""Guidelines, opt-in, and opting out as one deliberate step with the way back in."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEntry, Employee, Role, utcnow
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
    for words in ("tracked", "points", "ranked", "pseudonym", "hidden", "<strong>opt out</strong>"):
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
    assert "You opted out" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_opting_out_is_a_page_that_says_what_happens_and_changes_nothing(app, client, login):
    me = login(opted_in=True)
    before = _audit_count(app)
    page = client.get("/opt-out").get_data(as_text=True)
    for words in (
        "off every board at once",
        "nothing new about you is tracked, scored or ranked",
        "points are kept",
        "Nothing is deleted",
    ):
        assert words in page
    assert re.search(r'<form method="post" action="/opt-out"', page)
    assert "Yes, opt me out" in page
    assert 'href="/me">No, keep taking part' in page
    with app.app_context():
        assert _employee(app, me.id).participating  # reading the page changes nothing
    assert _audit_count(app) == before


def test_after_opting_out_taking_part_again_is_one_click(app, client, login):
    me = login()
    with app.app_context():
        version_id = GuidelineVersionFactory().id
        employee = _employee(app, me.id)
        employee.opted_in_at = utcnow()
        employee.guidelines_version_id = version_id
        db.session.commit()
    token = csrf_token(client, "/opt-out")
    response = client.post("/opt-out", data={"csrf_token": token})
    assert response.headers["Location"] == "/opt-out"
    page = client.get("/opt-out").get_data(as_text=True)
    assert "You opted out" in page
    assert "You do not take part at the moment" in page
    start = page.index('action="/guidelines/accept"')
    form = page[start : page.index("</form>", start)]
    assert f'name="guidelines_version_id" value="{version_id}"' in form
    data = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form))
    response = client.post("/guidelines/accept", data=data)  # the one click
    assert response.status_code == 302
    with app.app_context():
        assert _employee(app, me.id).participating


def test_after_the_guidelines_changed_the_way_back_reads_them_first(app, client, login):
    me = login(opted_in=True)
    with app.app_context():
        _employee(app, me.id).guidelines_version_id = GuidelineVersionFactory().id
        db.session.commit()
        GuidelineVersionFactory()  # a newer version since
    client.post("/opt-out", data={"csrf_token": csrf_token(client, "/opt-out")})
    page = client.get("/opt-out").get_data(as_text=True)
    assert 'action="/guidelines/accept"' not in page
    assert 'href="/guidelines"' in page


def test_home_sends_people_where_they_start(client, login):
    assert client.get("/").headers["Location"] == "/sign-in"
    login()
    assert client.get("/").headers["Location"] == "/guidelines"


def test_participants_have_their_home_page(client, login):
    login(opted_in=True)
    response = client.get("/")
    assert response.status_code == 200
    assert 'aria-current="page">Home</a>' in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "status", "problem"),
    [
        ({"guidelines_version_id": "current"}, 422, "Tick the box"),
        ({"accept": "yes"}, 422, "This field is required"),
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
