"""Admin: company settings, API tokens and the audit log; and the navigation by role."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import ApiToken, CompanySettings, Role
from tests.conftest import csrf_token
from tests.factories import ApiTokenFactory, AuditEntryFactory, EmployeeFactory


def _count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def _post(client, path: str, data: dict):
    return client.post(path, data={"csrf_token": csrf_token(client, "/me"), **data})


@pytest.mark.parametrize("path", ["/admin/settings", "/admin/tokens", "/admin/audit"])
@pytest.mark.parametrize(("role", "status"), [(Role.HR, 403), (Role.ADMIN, 200)])
def test_admin_pages_are_for_admins(client, login, path, role, status):
    login(role)
    assert client.get(path).status_code == status


def test_settings_are_saved(app, client, login):
    login(Role.ADMIN)
    page = client.get("/admin/settings").get_data(as_text=True)
    assert 'value="Europe/Berlin"' in page
    with app.app_context():
        assert _count(CompanySettings) == 0  # looking changes nothing
    response = _post(
        client,
        "/admin/settings",
        {
            "name": "Nordlicht",
            "time_zone": "America/New_York",
            "week_start": "6",
            "min_group_size": "3",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        row = db.session.scalar(select(CompanySettings))
        assert (row.name, row.time_zone, row.week_start, row.min_group_size) == (
            "Nordlicht",
            "America/New_York",
            6,
            3,
        )
    page = client.get("/admin/settings").get_data(as_text=True)
    assert '<option value="6" selected>Sunday</option>' in page


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("time_zone", "Mars/Olympus"),
        ("week_start", "7"),
        ("week_start", "monday"),
        ("min_group_size", "0"),
        ("min_group_size", ""),
    ],
)
def test_bad_settings_change_nothing(app, client, login, field, value):
    login(Role.ADMIN)
    data = {
        "name": "Nordlicht",
        "time_zone": "Europe/Berlin",
        "week_start": "0",
        "min_group_size": "5",
    }
    response = _post(client, "/admin/settings", {**data, field: value})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page
    with app.app_context():
        assert _count(CompanySettings) == 0


def test_a_token_secret_is_shown_once_and_can_be_revoked(app, client, login):
    me = login(Role.ADMIN)
    with app.app_context():
        EmployeeFactory(email="bot@example.com", name="Ats Bot")
    response = _post(
        client, "/admin/tokens", {"name": "ATS webhook", "owner_email": "bot@example.com"}
    )
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    secret = re.search(r'id="new-secret" readonly value="(chorus_[^"]+)"', page).group(1)
    listing = client.get("/admin/tokens").get_data(as_text=True)
    assert secret not in listing
    assert secret[:12] in listing
    assert "Ats Bot" in listing
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code in (
        200,
        404,
    )
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
    assert _post(client, f"/admin/tokens/{token_id}/revoke", {}).status_code == 302
    assert "revoked" in client.get("/admin/tokens").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(ApiToken, token_id).revoked_at is not None
    # Empty owner: the token is the admin's own.
    _post(client, "/admin/tokens", {"name": "Mine", "owner_email": ""})
    with app.app_context():
        assert db.session.scalar(select(ApiToken.owner_id).where(ApiToken.name == "Mine")) == me.id


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "", "owner_email": ""}, "name"),
        ({"name": "x" * 81, "owner_email": ""}, "name"),
        ({"name": "T", "owner_email": "ghost@example.com"}, "owner_email"),
        ({"name": "T", "owner_email": "gone@example.com"}, "owner_email"),
    ],
)
def test_bad_tokens_are_not_created(app, client, login, data, field):
    login(Role.ADMIN)
    with app.app_context():
        EmployeeFactory(email="gone@example.com", active=False)
    response = _post(client, "/admin/tokens", data)
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    with app.app_context():
        assert _count(ApiToken) == 0


def test_unknown_token_revoke_is_404(client, login):
    login(Role.ADMIN)
    assert _post(client, "/admin/tokens/999999/revoke", {}).status_code == 404


def test_admin_forms_need_the_csrf_token(app, client, login):
    login(Role.ADMIN)
    with app.app_context():
        token_id = ApiTokenFactory().id
    assert client.post("/admin/tokens", data={"name": "T"}).status_code == 400
    assert client.post(f"/admin/tokens/{token_id}/revoke").status_code == 400
    assert client.post("/admin/settings", data={"name": "N"}).status_code == 400
    with app.app_context():
        assert _count(ApiToken) == 1
        assert db.session.get(ApiToken, token_id).revoked_at is None
        assert _count(CompanySettings) == 0


def test_audit_log_is_readable_newest_first_and_paged(app, client, login):
    login(Role.ADMIN)
    with app.app_context():
        actor = EmployeeFactory(name="Hanna HR", role=Role.HR)
        target = EmployeeFactory(name="Felix Wagner")
        for _ in range(50):
            AuditEntryFactory(actor=actor, action="team.create", target_type="teams", target_id=3)
        AuditEntryFactory(
            actor=actor,
            action="employee.update",
            target_id=target.id,
            details={"role": "team_lead"},
        )
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "Page 1 of 2" in page
    first = page.index("edited a person")
    assert first < page.index("created a team")
    assert "Felix Wagner" in page
    assert "role: team_lead" in page
    assert "Hanna HR" in page
    assert "created a team" in client.get("/admin/audit?page=2").get_data(as_text=True)


@pytest.mark.parametrize(
    ("role", "visible", "hidden"),
    [
        (Role.EMPLOYEE, ["/me", "/guidelines"], ["/people", "/admin/settings"]),
        (Role.TEAM_LEAD, ["/me"], ["/people", "/admin/settings"]),
        (Role.HR, ["/people", "/teams", "/interests", "/guidelines/edit"], ["/admin/settings"]),
        (Role.ADMIN, ["/people", "/admin/settings", "/admin/tokens", "/admin/audit"], []),
    ],
)
def test_navigation_by_role(client, login, role, visible, hidden):
    login(role)
    page = client.get("/me").get_data(as_text=True)
    nav = page[page.index('<nav class="nav"') : page.index("</nav>")]
    for path in visible:
        assert f'href="{path}"' in nav
    for path in hidden:
        assert f'href="{path}"' not in nav
    assert 'href="/me" aria-current="page"' in nav


def test_opt_out_is_not_beside_sign_out_but_a_page_away(client, login):
    login(opted_in=True)
    page = client.get("/me").get_data(as_text=True)
    nav = page[page.index('<nav class="nav"') : page.index("</nav>")]
    assert "/opt-out" not in nav
    assert 'action="/opt-out"' not in page  # no one-click form anywhere
    assert 'href="/opt-out"' in page


def test_nav_has_no_opt_out_before_opt_in(client, login):
    login()
    page = client.get("/guidelines").get_data(as_text=True)
    nav = page[page.index('<nav class="nav"') : page.index("</nav>")]
    assert "/opt-out" not in nav


def test_assets_are_served_by_the_app(client):
    page = client.get("/sign-in").get_data(as_text=True)
    assert "http" not in "".join(re.findall(r'(?:href|src)="([^"]+\.(?:css|js))"', page))
    for asset in ("/static/chorus.css", "/static/chorus.js"):
        response = client.get(asset)
        assert response.status_code == 200
        response.close()  # a file response holds the file open until closed


def test_every_audited_action_and_target_has_words_on_the_log_page():
    """A new audit.record(...) without a label would show its raw name to admins."""
    import re
    from pathlib import Path

    from app import models
    from app.extensions import db
    from app.web.admin import ACTIONS, TARGET_NAMES

    source = "\n".join(p.read_text() for p in Path("app").rglob("*.py"))
    recorded = set(re.findall(r'audit\.record\(\s*\w+,\s*"([a-z_.]+)"', source))
    assert len(recorded) > 30
    assert recorded - set(ACTIONS) == set()
    tables = {mapper.class_.__tablename__ for mapper in db.Model.registry.mappers}
    assert tables >= set(TARGET_NAMES)
    assert models.Employee.__tablename__ in TARGET_NAMES
