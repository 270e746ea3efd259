"""/api/v1/employees: HR finds, adds, changes and imports people; admins erase."""

from __future__ import annotations

import io

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import Employee, Role, Team
from tests.factories import EmployeeFactory, TeamFactory
from tests.web.api_support import (
    INVALID_JSON,
    MISSING,
    NOT_AN_INTEGER,
    UNKNOWN,
    Caller,
    bearer_caller,
    forbidden,
    invalid,
    pagination,
    session_caller,
)

ROLE_CHOICES = ["Must be one of: employee, team_lead, hr, admin."]


def people(app: Flask) -> dict[str, tuple]:
    """e-mail -> (name, role, team name, active) for everyone in the directory."""
    with app.app_context():
        return {
            e.email: (e.name, e.role.value, e.team.name if e.team else None, e.active)
            for e in db.session.scalars(select(Employee))
        }


@pytest.fixture
def hr(app: Flask) -> Caller:
    return bearer_caller(app, Role.HR, name="Zoe Hr", email="zoe@example.com", team=None)


@pytest.fixture
def admin(app: Flask) -> Caller:
    return bearer_caller(app, Role.ADMIN, name="Zach Admin", email="zach@example.com", team=None)


@pytest.fixture
def directory(app: Flask) -> dict[str, int]:
    with app.app_context():
        sales, ops = TeamFactory(name="Sales"), TeamFactory(name="Ops")
        rows = {
            "anna": EmployeeFactory(name="Anna Schmidt", email="anna@example.com", team=sales),
            "ben": EmployeeFactory(
                name="Ben Koch", email="ben.k@example.com", team=ops, role=Role.TEAM_LEAD
            ),
            "carla": EmployeeFactory(
                name="Carla 100% Ruiz", email="carla@example.org", team=sales, opted_in=True
            ),
        }
        ids = {key: row.id for key, row in rows.items()}
        ids.update(sales=sales.id, ops=ops.id)
        return ids


# Listing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("", ["Anna Schmidt", "Ben Koch", "Carla 100% Ruiz", "Zoe Hr"]),
        ("?q=SCHMIDT", ["Anna Schmidt"]),
        ("?q=example.org", ["Carla 100% Ruiz"]),
        ("?q=100%25", ["Carla 100% Ruiz"]),  # a literal %, not a wildcard
        ("?q=_", []),
        ("?role=team_lead", ["Ben Koch"]),
        ("?team_id={sales}", ["Anna Schmidt", "Carla 100% Ruiz"]),
        ("?team_id={sales}&q=anna", ["Anna Schmidt"]),
        ("?team_id={ops}&role=employee", []),
        ("?team_id=999999", []),
        ("?page_size=2&page=2", ["Carla 100% Ruiz", "Zoe Hr"]),
    ],
)
def test_find_employees(app: Flask, hr, directory, query, names):
    response = hr.get("/api/v1/employees" + query.format(**directory))
    assert response.status_code == 200
    assert [e["name"] for e in response.json] == names


def test_the_listing_shape_and_pagination(app: Flask, hr, directory):
    response = hr.get("/api/v1/employees?q=anna")
    assert pagination(response) == {
        "total": 1,
        "total_pages": 1,
        "first_page": 1,
        "last_page": 1,
        "page": 1,
    }
    (anna,) = response.json
    assert set(anna) == {
        "id",
        "email",
        "name",
        "role",
        "team",
        "active",
        "participating",
        "opted_in_at",
        "last_sign_in_at",
        "created_at",
        "erased_at",
    }
    assert anna["team"] == {"id": directory["sales"], "name": "Sales"}
    assert (anna["email"], anna["role"], anna["active"]) == ("anna@example.com", "employee", True)


def test_erased_employees_are_not_listed(app: Flask, hr, admin, directory):
    assert admin.post(f"/api/v1/employees/{directory['anna']}/erase").status_code == 204
    names = [
        e["name"] for e in hr.get("/api/v1/employees?team_id={}".format(directory["sales"])).json
    ]
    assert names == ["Carla 100% Ruiz"]


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ("?role=boss", {"role": ROLE_CHOICES}),
        ("?team_id=sales", {"team_id": NOT_AN_INTEGER}),
        ("?q=" + "q" * 121, {"q": ["At most 120 characters."]}),
    ],
)
def test_bad_filters_are_422(hr, query, errors):
    response = hr.get("/api/v1/employees" + query)
    assert response.status_code == 422
    assert response.json == invalid(errors)


# Creating --------------------------------------------------------------------------


@pytest.mark.parametrize("make_caller", [session_caller, bearer_caller])
def test_hr_adds_an_employee(app: Flask, directory, make_caller):
    hr = make_caller(app, Role.HR, team=None)
    response = hr.post(
        "/api/v1/employees",
        json={"email": "Dora@Example.com", "name": "Dora Weiss", "team_id": directory["ops"]},
    )
    assert response.status_code == 201
    assert response.json["email"] == "dora@example.com"
    assert response.json["role"] == "employee"
    assert response.json["team"] == {"id": directory["ops"], "name": "Ops"}
    assert response.json["participating"] is False
    assert people(app)["dora@example.com"] == ("Dora Weiss", "employee", "Ops", True)


def test_admins_grant_hr(app: Flask, admin):
    response = admin.post(
        "/api/v1/employees", json={"email": "eva@example.com", "name": "Eva", "role": "hr"}
    )
    assert response.status_code == 201
    assert people(app)["eva@example.com"] == ("Eva", "hr", None, True)


ROLE_REFUSED = "Only an admin can grant or remove the hr and admin roles."


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        ("{}", 422, invalid({"email": MISSING, "name": MISSING})),
        (
            '{"email": "dora", "name": "Dora"}',
            422,
            invalid({"email": ["Not a valid email address."]}),
        ),
        (
            '{"email": "dora@example.com", "name": ""}',
            422,
            invalid({"name": ["This field cannot be empty."]}),
        ),
        (
            '{"email": "dora@example.com", "name": "Dora", "role": "boss"}',
            422,
            invalid({"role": ROLE_CHOICES}),
        ),
        (
            '{"email": "dora@example.com", "name": "Dora", "team_id": "Ops"}',
            422,
            invalid({"team_id": NOT_AN_INTEGER}),
        ),
        (
            '{"email": "dora@example.com", "name": "Dora", "active": false}',
            422,
            invalid({"active": UNKNOWN}),
        ),
        (
            '{"email": "dora@example.com", "name": "Dora", "team": {"id": 1}}',
            422,
            invalid({"team": UNKNOWN}),
        ),
        (
            '{"email": "dora@example.com", "name": "  "}',
            422,
            invalid({"name": ["A name is required."]}, "A name is required."),
        ),
        (
            '{"email": "dora@example.com", "name": "Dora", "team_id": 999999}',
            404,
            {
                "code": 404,
                "status": "Not Found",
                "message": "No team with id 999999.",
                "errors": {"team_id": ["No team with id 999999."]},
            },
        ),
        (
            '{"email": "ANNA@example.com", "name": "Anna Again"}',
            409,
            {
                "code": 409,
                "status": "Conflict",
                "message": "anna@example.com is in the directory already.",
                "errors": {"email": ["anna@example.com is in the directory already."]},
            },
        ),
        (
            '{"email": "dora@example.com", "name": "Dora", "role": "admin"}',
            403,
            {
                "code": 403,
                "status": "Forbidden",
                "message": ROLE_REFUSED,
                "errors": {"role": [ROLE_REFUSED]},
            },
        ),
        (
            '{"email": "dora@example.com", "name": "Dora", "role": "hr"}',
            403,
            {
                "code": 403,
                "status": "Forbidden",
                "message": ROLE_REFUSED,
                "errors": {"role": [ROLE_REFUSED]},
            },
        ),
        ('{"email": "dora@example.com", "name": "Dora"', 400, INVALID_JSON),
    ],
)
def test_bad_new_employees_add_nobody(app: Flask, hr, directory, body, status, expected):
    before = people(app)
    response = hr.raw("POST", "/api/v1/employees", body)
    assert response.status_code == status
    assert response.json == expected
    assert people(app) == before


# Reading and changing one ----------------------------------------------------------


def test_get_one_employee(hr, directory):
    response = hr.get(f"/api/v1/employees/{directory['ben']}")
    assert response.status_code == 200
    assert response.json["name"] == "Ben Koch"
    assert response.json["role"] == "team_lead"


def test_hr_changes_name_team_and_role(app: Flask, hr, directory):
    response = hr.patch(
        f"/api/v1/employees/{directory['anna']}",
        json={"name": "Anna Schmidt-Lange", "team_id": directory["ops"], "role": "team_lead"},
    )
    assert response.status_code == 200
    assert response.json["team"] == {"id": directory["ops"], "name": "Ops"}
    assert people(app)["anna@example.com"] == ("Anna Schmidt-Lange", "team_lead", "Ops", True)


def test_hr_removes_a_team_and_deactivates(app: Flask, hr, directory):
    response = hr.patch(
        f"/api/v1/employees/{directory['anna']}", json={"team_id": None, "active": False}
    )
    assert response.status_code == 200
    assert (response.json["team"], response.json["active"]) == (None, False)
    assert people(app)["anna@example.com"] == ("Anna Schmidt", "employee", None, False)


def test_an_empty_change_changes_nothing(app: Flask, hr, directory):
    before = people(app)
    assert hr.patch(f"/api/v1/employees/{directory['anna']}", json={}).status_code == 200
    assert people(app) == before


@pytest.mark.parametrize(
    ("body", "status", "errors"),
    [
        ('{"role": "admin"}', 403, {"role": [ROLE_REFUSED]}),
        ('{"team_id": 999999}', 404, {"team_id": ["No team with id 999999."]}),
        ('{"name": ""}', 422, {"name": ["This field cannot be empty."]}),
        ('{"active": "sometimes"}', 422, {"active": ["Not a valid boolean."]}),
        ('{"team_id": "Ops"}', 422, {"team_id": NOT_AN_INTEGER}),
        ('{"email": "new@example.com"}', 422, {"email": UNKNOWN}),
        ('{"role": "boss"}', 422, {"role": ROLE_CHOICES}),
        ("[1]", 422, {"_schema": ["Invalid input type."]}),
    ],
)
def test_bad_changes_change_nothing(app: Flask, hr, directory, body, status, errors):
    before = people(app)
    response = hr.raw("PATCH", f"/api/v1/employees/{directory['anna']}", body)
    assert response.status_code == status
    assert response.json["errors"] == errors
    assert people(app) == before


def test_malformed_change_is_400(app: Flask, hr, directory):
    response = hr.raw("PATCH", f"/api/v1/employees/{directory['anna']}", "{'name': 'x'}")
    assert response.status_code == 400
    assert response.json == INVALID_JSON


def test_the_last_admin_cannot_be_demoted(app: Flask, admin):
    response = admin.patch(f"/api/v1/employees/{admin.employee_id}", json={"role": "hr"})
    assert response.status_code == 409
    assert response.json["message"] == "Chorus needs at least one active admin."
    assert people(app)["zach@example.com"][1] == "admin"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v1/employees/999999", None),
        ("PATCH", "/api/v1/employees/999999", {"name": "Nobody"}),
        ("POST", "/api/v1/employees/999999/erase", None),
    ],
)
def test_unknown_employees_are_404(admin, method, path, body):
    response = admin.open(method, path, json=body)
    assert response.status_code == 404
    assert response.json == {
        "code": 404,
        "status": "Not Found",
        "message": "No employee with id 999999.",
        "errors": {"id": ["No employee with id 999999."]},
    }


# Erasing ---------------------------------------------------------------------------


def test_admins_erase_an_employee(app: Flask, admin, directory):
    response = admin.post(f"/api/v1/employees/{directory['carla']}/erase")
    assert response.status_code == 204
    with app.app_context():
        carla = db.session.get(Employee, directory["carla"])
        assert carla.erased_at is not None
        assert carla.email == f"erased-{carla.id}@erased.invalid"
        assert carla.opted_in_at is None
    # Erased people cannot be changed any more.
    response = admin.patch(f"/api/v1/employees/{directory['carla']}", json={"name": "Carla"})
    assert response.status_code == 409


@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.TEAM_LEAD, Role.HR])
def test_only_admins_erase(app: Flask, directory, role):
    before = people(app)
    response = bearer_caller(app, role).post(f"/api/v1/employees/{directory['carla']}/erase")
    assert response.status_code == 403
    assert response.json == forbidden(Role.ADMIN)
    assert people(app).items() >= before.items()


def test_the_last_admin_cannot_be_erased(app: Flask, admin):
    response = admin.post(f"/api/v1/employees/{admin.employee_id}/erase")
    assert response.status_code == 409
    assert "zach@example.com" in people(app)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v1/employees", None),
        ("POST", "/api/v1/employees", {"email": "x@example.com", "name": "X"}),
        ("GET", "/api/v1/employees/{id}", None),
        ("PATCH", "/api/v1/employees/{id}", {"name": "X"}),
    ],
)
@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.TEAM_LEAD])
def test_the_directory_is_for_hr(app: Flask, directory, role, method, path, body):
    before = people(app)
    response = session_caller(app, role).open(method, path.format(id=directory["ben"]), json=body)
    assert response.status_code == 403
    assert response.json == forbidden(Role.HR)
    assert people(app).items() >= before.items()
    assert "x@example.com" not in people(app)


# CSV import ------------------------------------------------------------------------


def upload(caller: Caller, content: bytes | None, filename: str = "people.csv", query: str = ""):
    data = {} if content is None else {"file": (io.BytesIO(content), filename)}
    return caller.post(
        "/api/v1/employees/import" + query, data=data, content_type="multipart/form-data"
    )


@pytest.mark.parametrize("make_caller", [session_caller, bearer_caller])
def test_import_people(app: Flask, directory, make_caller):
    hr = make_caller(app, Role.HR, team=None)
    csv_text = (
        "\ufeffEmail,Name,Team,Role\n"
        "dora@example.com,Dora Weiss,Marketing,team_lead\n"
        "anna@example.com,Anna Schmidt-Lange,Ops,\n"
        "not-an-address,Nobody,,\n"
        "eve@example.com,,Sales,\n"
        "fritz@example.com,Fritz,Sales,admin\n"
        "gina@example.com,Gina,Sales,boss\n"
        ",,,\n"
        "dora@example.com,Dora Again,,\n"
    )
    response = upload(hr, csv_text.encode(), query="?create_teams=true")
    assert response.status_code == 200
    assert response.json == {
        "created": 1,
        "updated": 1,
        "teams_created": ["Marketing"],
        "rejected": [
            {"line": 4, "reason": "Not a valid e-mail address."},
            {"line": 5, "reason": "The name is empty."},
            {"line": 6, "reason": ROLE_REFUSED},
            {
                "line": 7,
                "reason": "Unknown role 'boss': use one of employee, team_lead, hr, admin.",
            },
            {"line": 9, "reason": "dora@example.com appears twice in the file."},
        ],
    }
    directory_now = people(app)
    assert directory_now["dora@example.com"] == ("Dora Weiss", "team_lead", "Marketing", True)
    assert directory_now["anna@example.com"] == ("Anna Schmidt-Lange", "employee", "Ops", True)
    assert {"eve@example.com", "fritz@example.com", "gina@example.com"}.isdisjoint(directory_now)


MISSING_HEADER = (
    "The CSV needs a header row with the columns email, name, team, role "
    "(team and role optional); missing: email, name."
)


@pytest.mark.parametrize(
    ("content", "filename", "expected"),
    [
        (None, "people.csv", invalid({"file": MISSING})),
        (b"", "", invalid({"file": ["Upload a CSV file."]})),
        (
            "email,name\njörg@example.com,J\xf6rg\n".encode("latin-1"),
            "people.csv",
            invalid({"file": ["The file is not UTF-8 text; save it as CSV (UTF-8)."]}),
        ),
        (
            b"\x89PNG\r\n\x1a\n\x00\x00",
            "photo.png",
            invalid({"file": ["The file is not UTF-8 text; save it as CSV (UTF-8)."]}),
        ),
        (b"", "people.csv", invalid({"file": [MISSING_HEADER]}, MISSING_HEADER)),
        (
            b"mail;full name\ndora@example.com;Dora\n",
            "people.csv",
            invalid({"file": [MISSING_HEADER]}, MISSING_HEADER),
        ),
    ],
)
def test_bad_files_import_nothing(app: Flask, hr, directory, content, filename, expected):
    before = people(app)
    response = upload(hr, content, filename)
    assert response.status_code == 422
    assert response.json == expected
    assert people(app) == before


def test_an_oversized_csv_field_is_422_not_500(app: Flask, hr, directory):
    before = people(app)
    huge = b"email,name\ndora@example.com,Dora\nx@example.com," + b"x" * 200_000 + b"\n"
    response = upload(hr, huge)
    assert response.status_code == 422
    assert response.json["errors"] == {
        "file": ["The file is not readable as CSV: field larger than field limit (131072)."]
    }
    assert people(app) == before
    with app.app_context():
        assert db.session.scalar(select(Team).where(Team.name == "Dora")) is None


def test_a_json_body_is_not_a_file(app: Flask, hr):
    response = hr.post("/api/v1/employees/import", json={"file": "email,name\n"})
    assert response.status_code == 422
    assert response.json == invalid({"file": MISSING})


@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.TEAM_LEAD])
def test_only_hr_imports(app: Flask, role):
    response = upload(bearer_caller(app, role), b"email,name\ndora@example.com,Dora\n")
    assert response.status_code == 403
    assert "dora@example.com" not in people(app)
