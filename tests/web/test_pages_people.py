"""HR: the people directory, adding and editing people, and the CSV import."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEntry, Employee, Role, Team
from tests.conftest import csrf_token
from tests.factories import EmployeeFactory, TeamFactory


def _count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def _post(client, path: str, data: dict, **kwargs):
    return client.post(path, data={"csrf_token": csrf_token(client, "/me"), **data}, **kwargs)


@pytest.mark.parametrize(
    "path", ["/people", "/people/new", "/people/import", "/teams", "/interests", "/guidelines/edit"]
)
@pytest.mark.parametrize(
    ("role", "status"), [(Role.TEAM_LEAD, 403), (Role.HR, 200), (Role.ADMIN, 200)]
)
def test_hr_pages_render_for_hr_and_admins_only(client, login, path, role, status):
    login(role)
    assert client.get(path).status_code == status


def test_employees_cannot_see_the_directory_nor_the_nav_links(client, login):
    login(Role.EMPLOYEE)
    response = client.get("/people")
    assert response.status_code == 403
    assert "This needs the hr role." in response.get_data(as_text=True)
    assert 'href="/people"' not in client.get("/me").get_data(as_text=True)


def test_directory_search_filter_and_pages(app, client, login):
    login(Role.HR, name="Hanna HR")
    with app.app_context():
        sales = TeamFactory(name="Sales")
        EmployeeFactory(name="Katrin Vogel", email="katrin@example.com", team=sales)
        EmployeeFactory(name="Lukas Richter", team=sales, role=Role.TEAM_LEAD)
        EmployeeFactory(name="Omar 100%_Haddad", email="omar@example.com")
        for n in range(30):
            EmployeeFactory(name=f"Zed Filler {n:02}")
        sales_id = sales.id
    page = client.get("/people").get_data(as_text=True)
    assert "34 people found." in page
    assert "Page 1 of 2" in page
    assert 'aria-current="page">People' in page
    assert "Zed Filler 29" in client.get("/people?page=2").get_data(as_text=True)

    assert "1 person found." in client.get("/people?q=KATRIN@").get_data(as_text=True)
    page = client.get("/people?q=100%_").get_data(as_text=True)  # wildcards are literal
    assert "1 person found." in page
    assert "Omar 100%_Haddad" in page
    page = client.get(f"/people?team_id={sales_id}&role=team_lead").get_data(as_text=True)
    assert "1 person found." in page
    assert "Lukas Richter" in page
    assert "0 people found." in client.get("/people?q=nobody").get_data(as_text=True)


@pytest.mark.parametrize("query", ["team_id=abc", "role=boss"])
def test_directory_filters_are_validated(client, login, query):
    login(Role.HR)
    response = client.get(f"/people?{query}")
    assert response.status_code == 422
    assert "field-error" in response.get_data(as_text=True)


def test_hr_adds_a_person(app, client, login):
    login(Role.HR)
    with app.app_context():
        team_id = TeamFactory(name="Engineering").id
    response = _post(
        client,
        "/people/new",
        {
            "email": "Marta@Example.com",
            "name": "Marta Nowak",
            "role": "team_lead",
            "team_id": team_id,
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/people"
    with app.app_context():
        marta = db.session.scalar(select(Employee).where(Employee.email == "marta@example.com"))
        assert (marta.name, marta.role, marta.team_id) == ("Marta Nowak", Role.TEAM_LEAD, team_id)
    assert "Marta Nowak is in the directory now." in client.get("/people").get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "status", "field", "problem"),
    [
        ({"email": "", "name": "A"}, 422, "email", "Not a valid email address."),
        ({"email": "not-mail", "name": "A"}, 422, "email", "Not a valid email address."),
        ({"email": "a@example.com", "name": ""}, 422, "name", "This field cannot be empty."),
        ({"email": "a@example.com", "name": "   "}, 422, "name", "A name is required."),
        ({"email": "a@example.com", "name": "A", "role": "boss"}, 422, "role", "Must be one of"),
        ({"email": "a@example.com", "name": "A", "team_id": "x"}, 422, "team_id", "valid integer"),
        ({"email": "a@example.com", "name": "A", "team_id": "999999"}, 404, "team_id", "No team"),
        ({"email": "taken@example.com", "name": "A"}, 409, "email", "in the directory already"),
        ({"email": "a@example.com", "name": "A", "role": "hr"}, 403, "role", "Only an admin"),
        ({"email": "a@example.com", "name": "A", "role": "admin"}, 403, "role", "Only an admin"),
    ],
)
def test_bad_new_person_changes_nothing(app, client, login, data, status, field, problem):
    login(Role.HR)
    with app.app_context():
        EmployeeFactory(email="taken@example.com")
        before = _count(Employee), _count(AuditEntry)
    response = _post(client, "/people/new", data)
    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page
    assert problem in page
    assert f'value="{data["email"]}"' in page  # the entered values stay
    with app.app_context():
        assert (_count(Employee), _count(AuditEntry)) == before


def test_admins_grant_hr(app, client, login):
    login(Role.ADMIN)
    response = _post(client, "/people/new", {"email": "h@example.com", "name": "H", "role": "hr"})
    assert response.status_code == 302


def test_hr_edits_a_person(app, client, login):
    login(Role.HR)
    with app.app_context():
        person = EmployeeFactory(name="Old Name")
        person_id, team_id = person.id, TeamFactory(name="Sales").id
    page = client.get(f"/people/{person_id}").get_data(as_text=True)
    assert "Edit Old Name" in page
    assert 'name="active" checked' in page
    response = _post(
        client,
        f"/people/{person_id}",
        {"name": "New Name", "role": "team_lead", "team_id": str(team_id)},  # active unticked
    )
    assert response.status_code == 302
    with app.app_context():
        person = db.session.get(Employee, person_id)
        assert (person.name, person.role, person.team_id, person.active) == (
            "New Name",
            Role.TEAM_LEAD,
            team_id,
            False,
        )


@pytest.mark.parametrize(
    ("data", "status", "field", "problem"),
    [
        ({"name": "", "role": "employee"}, 422, "name", "This field cannot be empty."),
        ({"name": "X", "role": "hr"}, 403, "role", "Only an admin"),
        ({"name": "X", "role": "ruler"}, 422, "role", "Must be one of"),
        ({"name": "X", "role": "employee", "team_id": "999999"}, 404, "team_id", "No team"),
    ],
)
def test_bad_edits_change_nothing(app, client, login, data, status, field, problem):
    login(Role.HR)
    with app.app_context():
        person = EmployeeFactory(name="Kept Name")
        person_id, team_id = person.id, person.team_id
    response = _post(client, f"/people/{person_id}", {**data, "active": "on"})
    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page
    assert problem in page
    with app.app_context():
        person = db.session.get(Employee, person_id)
        assert (person.name, person.role, person.team_id) == ("Kept Name", Role.EMPLOYEE, team_id)


def test_the_last_admin_cannot_be_demoted(app, client, login):
    me = login(Role.ADMIN)
    response = _post(client, f"/people/{me.id}", {"name": me.name, "role": "hr", "active": "on"})
    assert response.status_code == 409
    assert "at least one active admin" in response.get_data(as_text=True)


def test_unknown_people_are_404(client, login):
    login(Role.HR)
    assert client.get("/people/999999").status_code == 404
    assert _post(client, "/people/999999", {"name": "X"}).status_code == 404


def _upload(client, text: str, filename: str = "people.csv", **fields):
    return _post(
        client,
        "/people/import",
        {"file": (io.BytesIO(text.encode()), filename), **fields},
        content_type="multipart/form-data",
    )


def test_csv_import_reports_created_updated_and_rejected_rows(app, client, login):
    login(Role.HR)
    with app.app_context():
        EmployeeFactory(email="known@example.com", name="Known Person")
    csv_text = (
        "email,name,team,role\n"
        "new.one@example.com,New One,Marketing,employee\n"
        "known@example.com,Known Renamed,Marketing,\n"
        "broken-address,Broken,Marketing,employee\n"
        "new.two@example.com,,Sales,employee\n"
        "boss@example.com,Boss,Sales,admin\n"
        "odd@example.com,Odd,Sales,wizard\n"
    )
    response = _upload(client, csv_text, create_teams="yes")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<strong data-count="created">1</strong> created' in page
    assert '<strong data-count="updated">1</strong> updated' in page
    assert "new team: Marketing" in page
    assert '<strong data-count="rejected">4</strong> rejected rows' in page
    for line, reason in [
        (4, "Not a valid e-mail address."),
        (5, "The name is empty."),
        (6, "Only an admin"),
        (7, "Unknown role"),
    ]:
        assert f"<tr><td>{line}</td><td>{reason}" in page
    with app.app_context():
        names = set(db.session.scalars(select(Employee.name)))
        assert {"New One", "Known Renamed"} <= names
        assert "Boss" not in names
        assert set(db.session.scalars(select(Team.name))) >= {"Marketing"}


@pytest.mark.parametrize(
    ("content", "filename", "problem"),
    [
        (None, None, "Upload a CSV file."),
        (b"name,team\nA,B\n", "x.csv", "missing: email"),
        (b"email,name\n\xff\xfe\xfa,x\n", "x.csv", "not UTF-8"),
    ],
)
def test_unusable_uploads_change_nothing(app, client, login, content, filename, problem):
    login(Role.HR)
    with app.app_context():
        before = _count(Employee), _count(AuditEntry)
    data = {} if content is None else {"file": (io.BytesIO(content), filename)}
    response = _post(client, "/people/import", data, content_type="multipart/form-data")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="file-error"' in page
    assert problem in page
    with app.app_context():
        assert (_count(Employee), _count(AuditEntry)) == before


@pytest.mark.parametrize("path", ["/people/new", "/people/import"])
def test_people_forms_need_the_csrf_token(app, client, login, path):
    login(Role.HR)
    with app.app_context():
        before = _count(Employee)
    data = {"email": "x@example.com", "name": "X"}
    if path == "/people/import":
        data = {"file": (io.BytesIO(b"email,name\nx@example.com,X\n"), "p.csv")}
    assert client.post(path, data=data).status_code == 400
    with app.app_context():
        assert _count(Employee) == before
