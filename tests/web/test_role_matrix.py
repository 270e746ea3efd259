"""Every endpoint declares the least role it needs, and enforces it.

The matrix is read from the app itself: each view carries ``required_role`` (set by
``@requires_role``) or is marked ``@public``. A view with neither fails the first test;
the second sends a real request to every endpoint and method as anonymous and as every
role, and checks the answer: signed out -> 401 or the sign-in page, too weak -> 403,
strong enough -> neither.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from flask import Blueprint, Flask
from werkzeug.routing import Rule

from app.auth import requires_role
from app.extensions import db
from app.models import Role
from tests.conftest import sign_in
from tests.factories import EmployeeFactory

# Served by libraries, public by nature.
LIBRARY_ENDPOINTS = {"static", "api-docs.openapi_json"}
UNDECLARED = object()


@dataclass(frozen=True)
class Route:
    rule: Rule
    method: str
    role: Role | None  # None: public

    @property
    def is_api(self) -> bool:
        return self.rule.rule.startswith("/api/")

    def __str__(self) -> str:
        return f"{self.method} {self.rule.rule}"


def declared_role(app: Flask, rule: Rule, method: str):
    view = app.view_functions[rule.endpoint]
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        view = getattr(view_class, method.lower(), None)
    return getattr(view, "required_role", UNDECLARED)


def routes(app: Flask) -> tuple[list[Route], list[str]]:
    found, undeclared = [], []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in LIBRARY_ENDPOINTS:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            role = declared_role(app, rule, method)
            if role is UNDECLARED:
                undeclared.append(f"{method} {rule.rule} ({rule.endpoint})")
            else:
                found.append(Route(rule, method, role))
    return found, undeclared


def url_for_rule(rule: Rule) -> str:
    # Ids that exist nowhere: the role check must come before any lookup.
    return re.sub(
        r"<(?:(\w+):)?(\w+)>",
        lambda m: "999999" if m.group(1) in ("int", None) and "id" in m.group(2) else "x",
        rule.rule,
    )


def test_every_endpoint_declares_its_role(app):
    found, undeclared = routes(app)
    assert undeclared == []
    assert len(found) > 20  # the app's endpoints were really enumerated


def test_an_undeclared_endpoint_is_caught(app):
    probe = Flask(__name__)
    bp = Blueprint("probe", __name__)

    @bp.get("/forgotten")
    def forgotten():
        return "open to everyone by accident"

    @bp.get("/guarded")
    @requires_role(Role.HR)
    def guarded():
        return "fine"

    probe.register_blueprint(bp)
    found, undeclared = routes(probe)
    assert undeclared == ["GET /forgotten (probe.forgotten)"]
    assert [str(r) for r in found] == ["GET /guarded"]


def _request(client, route: Route, token: str):
    url = url_for_rule(route.rule)
    headers = {"X-CSRFToken": token, "Accept": "application/json" if route.is_api else "text/html"}
    if route.method == "GET":
        return client.get(url, headers=headers)
    if route.is_api:
        return client.open(url, method=route.method, json={}, headers=headers)
    return client.open(url, method=route.method, data={"csrf_token": token}, headers=headers)


def _csrf_token(client) -> str:
    page = client.get("/no-such-page", headers={"Accept": "text/html"}).get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


ROLES = list(Role)


@pytest.mark.parametrize("as_role", [None, *ROLES], ids=lambda r: r.value if r else "anonymous")
def test_role_matrix(app, as_role: Role | None):
    found, _ = routes(app)
    client = app.test_client()
    if as_role is not None:
        with app.app_context():
            employee = EmployeeFactory(role=as_role, opted_in=True)
            db.session.refresh(employee)  # the commit expired it; load it before detaching
            db.session.expunge(employee)
        sign_in(client, employee)
    token = _csrf_token(client)
    problems = []
    for route in found:
        if route.role is None:
            continue
        response = _request(client, route, token)
        status = response.status_code
        if as_role is None:
            expected = "401" if route.is_api else "redirect to sign-in"
            ok = (
                status == 401
                if route.is_api
                else (status == 302 and "/sign-in" in response.headers["Location"])
            )
        elif not as_role.includes(route.role):
            expected, ok = "403", status == 403
        else:
            expected, ok = "neither 401 nor 403, no 5xx", status not in (401, 403) and status < 500
        if not ok:
            problems.append(f"{route} needs {route.role.value}: got {status}, expected {expected}")
        if as_role is not None and route.rule.endpoint in {"auth.sign_out"}:
            sign_in(client, employee)  # signing out is allowed; sign back in for the rest
    assert problems == []


# The badge pages' roles, stated here so that changing one is a decision: the catalogue
# and my badges for every employee, the editor for HR (and so admins).
BADGE_PAGES = {
    "GET /badges": Role.EMPLOYEE,
    "GET /badges/mine": Role.EMPLOYEE,
    "GET /hr/badges": Role.HR,
    "GET /hr/badges/new": Role.HR,
    "POST /hr/badges/new": Role.HR,
    "GET /hr/badges/<int:badge_id>/edit": Role.HR,
    "POST /hr/badges/<int:badge_id>/edit": Role.HR,
    "POST /hr/badges/<int:badge_id>/retire": Role.HR,
    "POST /hr/badges/<int:badge_id>/activate": Role.HR,
}


def test_badge_pages_declare_their_roles(app):
    found, _ = routes(app)
    declared = {str(r): r.role for r in found if r.rule.endpoint.startswith("badge_pages.")}
    assert declared == BADGE_PAGES


# Lessons' roles, stated here so that changing one is a decision: reading and the quiz
# for every employee, the editor for HR (and so admins).
LESSON_ROUTES = {
    "GET /lessons": Role.EMPLOYEE,
    "GET /lessons/<int:lesson_id>": Role.EMPLOYEE,
    "POST /lessons/<int:lesson_id>/completion": Role.EMPLOYEE,
    "GET /hr/lessons": Role.HR,
    "GET /hr/lessons/new": Role.HR,
    "POST /hr/lessons/new": Role.HR,
    "GET /hr/lessons/<int:lesson_id>/edit": Role.HR,
    "POST /hr/lessons/<int:lesson_id>/edit": Role.HR,
    "POST /hr/lessons/<int:lesson_id>/publish": Role.HR,
    "POST /hr/lessons/<int:lesson_id>/retire": Role.HR,
    "GET /api/v1/lessons": Role.EMPLOYEE,
    "POST /api/v1/lessons": Role.HR,
    "GET /api/v1/lessons/<int:lesson_id>": Role.EMPLOYEE,
    "PATCH /api/v1/lessons/<int:lesson_id>": Role.HR,
    "POST /api/v1/lessons/<int:lesson_id>/publish": Role.HR,
    "POST /api/v1/lessons/<int:lesson_id>/retire": Role.HR,
    "PUT /api/v1/lessons/<int:lesson_id>/image": Role.HR,
    "DELETE /api/v1/lessons/<int:lesson_id>/image": Role.HR,
    "POST /api/v1/lessons/<int:lesson_id>/completion": Role.EMPLOYEE,
}


def test_lesson_routes_declare_their_roles(app):
    found, _ = routes(app)
    declared = {
        str(r): r.role for r in found if r.rule.endpoint.startswith(("lesson_pages.", "lessons."))
    }
    assert declared == LESSON_ROUTES


# The landing page is public (it sends visitors to sign in and people who do not take
# part to the guidelines), so the matrix above skips it: every role's home is read here.
@pytest.mark.parametrize("as_role", [None, *ROLES], ids=lambda r: r.value if r else "anonymous")
def test_home_page_for_every_role(app, as_role: Role | None):
    client = app.test_client()
    if as_role is None:
        response = client.get("/")
        assert (response.status_code, response.headers["Location"]) == (302, "/sign-in")
        return
    with app.app_context():
        people = [EmployeeFactory(role=as_role, opted_in=taking) for taking in (False, True)]
        for person in people:
            db.session.refresh(person)
            db.session.expunge(person)
    sign_in(client, people[0])
    response = client.get("/")
    assert (response.status_code, response.headers["Location"]) == (302, "/guidelines")
    sign_in(client, people[1])
    response = client.get("/")
    assert response.status_code == 200
    assert 'data-home="boards"' in response.get_data(as_text=True)


# Challenges: everyone reads and declines; team leads and HR start, edit and cancel (a
# team lead only their own team's, which tests/web/test_*_challenges.py check per team).
CHALLENGE_ROLES = {
    "GET /challenges": Role.EMPLOYEE,
    "GET /challenges/<int:challenge_id>": Role.EMPLOYEE,
    "POST /challenges/<int:challenge_id>/decline": Role.EMPLOYEE,
    "POST /challenges/<int:challenge_id>/rejoin": Role.EMPLOYEE,
    "GET /challenges/new": Role.TEAM_LEAD,
    "POST /challenges/new": Role.TEAM_LEAD,
    "GET /challenges/<int:challenge_id>/edit": Role.TEAM_LEAD,
    "POST /challenges/<int:challenge_id>/edit": Role.TEAM_LEAD,
    "GET /challenges/<int:challenge_id>/cancel": Role.TEAM_LEAD,
    "POST /challenges/<int:challenge_id>/cancel": Role.TEAM_LEAD,
    "GET /api/v1/challenges": Role.EMPLOYEE,
    "POST /api/v1/challenges": Role.TEAM_LEAD,
    "GET /api/v1/challenges/<int:challenge_id>": Role.EMPLOYEE,
    "PATCH /api/v1/challenges/<int:challenge_id>": Role.TEAM_LEAD,
    "POST /api/v1/challenges/<int:challenge_id>/cancel": Role.TEAM_LEAD,
    "POST /api/v1/challenges/<int:challenge_id>/decline": Role.EMPLOYEE,
    "DELETE /api/v1/challenges/<int:challenge_id>/decline": Role.EMPLOYEE,
    "GET /api/v1/challenges/<int:challenge_id>/board": Role.EMPLOYEE,
}


def test_challenge_routes_need_these_roles(app):
    found, _ = routes(app)
    declared = {
        str(route): route.role
        for route in found
        if route.rule.rule.startswith(("/challenges", "/api/v1/challenges"))
    }
    assert declared == CHALLENGE_ROLES


# Badges over the API: everyone reads the catalogue and their own grants; HR defines,
# edits and previews badges.
BADGE_API_ROLES = {
    "GET /api/v1/badges": Role.EMPLOYEE,
    "POST /api/v1/badges": Role.HR,
    "POST /api/v1/badges/preview": Role.HR,
    "GET /api/v1/badges/<int:badge_id>": Role.EMPLOYEE,
    "PATCH /api/v1/badges/<int:badge_id>": Role.HR,
    "GET /api/v1/me/badges": Role.EMPLOYEE,
}


def test_badge_api_routes_need_these_roles(app):
    found, _ = routes(app)
    declared = {
        str(route): route.role
        for route in found
        if route.rule.rule.startswith(("/api/v1/badges", "/api/v1/me/badges"))
    }
    assert declared == BADGE_API_ROLES


# Intranet links: HR (and so admins) make, list and revoke them, as they curate the
# content they show; the feed and the widget are public, the secret in the address
# being the credential (tests/web/test_intranet.py checks what a bad one gets).
INTRANET_ROLES = {
    "GET /intranet-links": Role.HR,
    "POST /intranet-links": Role.HR,
    "POST /intranet-links/<int:link_id>/revoke": Role.HR,
    "GET /intranet/<secret>/feed.atom": None,
    "GET /intranet/<secret>/widget": None,
    "GET /api/v1/intranet-links": Role.HR,
    "POST /api/v1/intranet-links": Role.HR,
    "DELETE /api/v1/intranet-links/<int:link_id>": Role.HR,
}


def test_intranet_routes_need_these_roles(app):
    found, _ = routes(app)
    declared = {
        str(route): route.role
        for route in found
        if route.rule.rule.startswith(("/intranet", "/api/v1/intranet"))
    }
    assert declared == INTRANET_ROLES
