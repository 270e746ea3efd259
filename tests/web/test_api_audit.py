"""/api/v1/audit: admins read who changed what, newest first."""

from __future__ import annotations

import pytest
from flask import Flask

from app.models import Role
from tests.web.api_support import bearer_caller, forbidden, pagination, session_caller


def test_the_audit_log_newest_first(app: Flask):
    admin = session_caller(app, Role.ADMIN)
    created = admin.post("/api/v1/teams", json={"name": "Sales"}).json
    admin.patch(f"/api/v1/teams/{created['id']}", json={"name": "Sales & Marketing"})
    admin.patch("/api/v1/company", json={"week_start": 6})

    response = admin.get("/api/v1/audit?page_size=3")
    assert response.status_code == 200
    entries = response.json
    assert [e["action"] for e in entries] == ["company.update", "team.rename", "team.create"]
    assert entries[1] == {
        "id": entries[1]["id"],
        "created_at": entries[1]["created_at"],
        "actor_id": admin.employee_id,
        "action": "team.rename",
        "target_type": "teams",
        "target_id": created["id"],
        "details": {"old": "Sales", "new": "Sales & Marketing"},
    }
    assert entries[0]["details"] == {"week_start": 6}
    assert pagination(response)["total"] == 3


def test_the_audit_log_pages_on(app: Flask):
    admin = bearer_caller(app, Role.ADMIN)  # creating its token wrote the first entry
    for n in range(3):
        admin.post("/api/v1/interests", json={"name": f"Topic {n}"})
    second_page = admin.get("/api/v1/audit?page=2&page_size=3")
    assert [e["action"] for e in second_page.json] == ["token.create"]
    assert pagination(second_page)["total"] == 4


@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.TEAM_LEAD, Role.HR])
def test_only_admins_read_the_audit_log(app: Flask, role: Role):
    response = bearer_caller(app, role).get("/api/v1/audit")
    assert response.status_code == 403
    assert response.json == forbidden(Role.ADMIN)
