"""Referral pages: programmes and recorded stages (HR), integrations (admin)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Integration, Referral, ReferralProgramme, Role, utcnow
from tests.conftest import csrf_token
from tests.factories import (
    ContentItemFactory,
    ContentTagFactory,
    EmployeeFactory,
    ReferralFactory,
    ReferralProgrammeFactory,
    ShareFactory,
)


def _count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def _post(client, path: str, data: dict):
    return client.post(path, data={"csrf_token": csrf_token(client, "/me"), **data})


def _programmes(app) -> list[tuple]:
    with app.app_context():
        rows = db.session.scalars(select(ReferralProgramme).order_by(ReferralProgramme.id))
        return [(p.name, p.content_tag, p.stages, p.attribution_days, p.active) for p in rows]


@pytest.mark.parametrize(
    ("path", "needed"),
    [
        ("/referrals", Role.HR),
        ("/referrals/record", Role.HR),
        ("/referrals/programmes", Role.HR),
        ("/referrals/programmes/new", Role.HR),
        ("/admin/integrations", Role.ADMIN),
    ],
)
@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.TEAM_LEAD, Role.HR, Role.ADMIN])
def test_pages_by_role(client, login, path, needed, role):
    login(role)
    assert client.get(path).status_code == (200 if role.includes(needed) else 403)


def test_create_and_edit_a_programme(app, client, login):
    login(Role.HR)
    form = client.get("/referrals/programmes/new").get_data(as_text=True)
    assert 'value="90"' in form
    response = _post(
        client,
        "/referrals/programmes/new",
        {
            "name": "Jobs",
            "content_tag": "job",
            "stages": ["applied", "hired"],
            "attribution_days": "60",
            "active": "on",
        },
    )
    assert response.status_code == 302
    assert _programmes(app) == [("Jobs", "job", ["applied", "hired"], 60, True)]
    listing = client.get("/referrals/programmes").get_data(as_text=True)
    assert "applied, hired" in listing
    assert "60 days" in listing
    with app.app_context():
        programme_id = db.session.scalar(select(ReferralProgramme.id))
    response = _post(
        client,
        f"/referrals/programmes/{programme_id}",
        {"name": "Jobs", "content_tag": "job", "stages": ["hired"], "attribution_days": "90"},
    )
    assert response.status_code == 302
    assert _programmes(app) == [("Jobs", "job", ["hired"], 90, False)]
    assert _post(client, f"/referrals/programmes/{programme_id}/delete", {}).status_code == 302
    assert _programmes(app) == []


@pytest.mark.parametrize(
    ("change", "field", "status"),
    [
        ({"name": ""}, "name", 422),
        ({"name": "Taken"}, "name", 409),
        ({"content_tag": ""}, "content_tag", 422),
        ({"stages": []}, "stages", 422),
        ({"stages": ["offer"]}, "stages", 422),
        ({"attribution_days": "0"}, "attribution_days", 422),
        ({"attribution_days": "ninety"}, "attribution_days", 422),
    ],
)
@pytest.mark.parametrize("editing", [False, True])
def test_bad_programme_forms_change_nothing(app, client, login, change, field, status, editing):
    login(Role.HR)
    with app.app_context():
        ReferralProgrammeFactory(name="Taken")
        mine = ReferralProgrammeFactory(name="Mine").id
    before = _programmes(app)
    data = {"name": "New", "content_tag": "job", "stages": ["applied"], "attribution_days": "90"}
    path = f"/referrals/programmes/{mine}" if editing else "/referrals/programmes/new"
    response = _post(client, path, {**data, **change})
    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page
    assert _programmes(app) == before


def test_unknown_programme_pages_are_404(client, login):
    login(Role.HR)
    assert client.get("/referrals/programmes/999999").status_code == 404
    assert _post(client, "/referrals/programmes/999999", {"name": "x"}).status_code == 404
    assert _post(client, "/referrals/programmes/999999/delete", {}).status_code == 404


def test_a_programme_in_use_is_not_deleted(app, client, login):
    login(Role.HR)
    with app.app_context():
        programme_id = ReferralProgrammeFactory(name="Jobs").id
        ReferralFactory(programme_id=programme_id)
    response = _post(client, f"/referrals/programmes/{programme_id}/delete", {})
    assert response.status_code == 409
    assert "switch it off instead" in response.get_data(as_text=True)
    assert len(_programmes(app)) == 1


# Recorded stages -------------------------------------------------------------------


@pytest.fixture
def ref_code(app) -> str:
    with app.app_context():
        ReferralProgrammeFactory(content_tag="job")
        content = ContentItemFactory(title="Data engineer")
        ContentTagFactory(content_id=content.id, tag="job")
        owner = EmployeeFactory(opted_in=True, name="Jana Klein")
        return ShareFactory(
            employee=owner, content=content, created_at=utcnow() - timedelta(days=2)
        ).ref_code


def test_record_a_stage_by_hand_and_see_it_listed(app, client, login, ref_code):
    login(Role.HR)
    response = _post(
        client,
        "/referrals/record",
        {"ref": ref_code, "candidate_id": "C-9", "stage": "applied", "occurred_at": ""},
    )
    assert response.status_code == 302
    page = client.get("/referrals").get_data(as_text=True)
    assert "awarded" in page
    assert "Data engineer" in page
    assert "Jana Klein" in page
    assert "C-9" not in page
    # Again: recorded before, unchanged.
    _post(client, "/referrals/record", {"ref": ref_code, "candidate_id": "C-9", "stage": "applied"})
    assert "recorded before" in client.get("/referrals").get_data(as_text=True)
    with app.app_context():
        assert _count(Referral) == 1


def test_an_unattributed_record_says_why(app, client, login):
    login(Role.HR)
    _post(client, "/referrals/record", {"ref": "nope", "candidate_id": "C", "stage": "hired"})
    page = client.get("/referrals").get_data(as_text=True)
    assert "no share has this referral code" in page
    assert "not attributed" in page


def test_a_local_time_is_read_in_the_company_zone(app, client, login, ref_code):
    login(Role.HR)
    yesterday = (utcnow() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    _post(
        client,
        "/referrals/record",
        {"ref": ref_code, "candidate_id": "C", "stage": "hired", "occurred_at": yesterday},
    )
    with app.app_context():
        referral = db.session.scalar(select(Referral))
        # Europe/Berlin is ahead of UTC: the same wall-clock time is earlier in UTC.
        assert referral.occurred_at < utcnow() - timedelta(days=1) + timedelta(minutes=1)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"ref": "", "candidate_id": "C", "stage": "hired"}, "ref"),
        ({"ref": "r", "candidate_id": "", "stage": "hired"}, "candidate_id"),
        ({"ref": "r", "candidate_id": " ", "stage": "hired"}, "candidate_id"),
        ({"ref": "r", "candidate_id": "C", "stage": ""}, "stage"),
        ({"ref": "r", "candidate_id": "C", "stage": "offer"}, "stage"),
        (
            {"ref": "r", "candidate_id": "C", "stage": "hired", "occurred_at": "later"},
            "occurred_at",
        ),
        (
            {"ref": "r", "candidate_id": "C", "stage": "hired", "occurred_at": "2999-01-01T10:00"},
            "occurred_at",
        ),
    ],
)
def test_bad_records_change_nothing(app, client, login, data, field):
    login(Role.HR)
    response = _post(client, "/referrals/record", data)
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    with app.app_context():
        assert _count(Referral) == 0


def test_the_list_is_paged_newest_first(app, client, login):
    login(Role.HR)
    with app.app_context():
        for n in range(26):
            ReferralFactory(ref_code=f"code{n:02d}", received_at=utcnow() - timedelta(hours=n))
    page = client.get("/referrals").get_data(as_text=True)
    assert "Page 1 of 2" in page
    assert page.index("code00") < page.index("code01")
    assert "code25" not in page
    assert "code25" in client.get("/referrals?page=2").get_data(as_text=True)


# Integrations ----------------------------------------------------------------------


def test_an_integration_secret_is_shown_once_and_can_be_rotated_and_revoked(app, client, login):
    login(Role.ADMIN)
    response = _post(client, "/admin/integrations", {"name": "Personio"})
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    secret = re.search(r'id="new-secret" readonly value="(whsec_[^"]+)"', page).group(1)
    listing = client.get("/admin/integrations").get_data(as_text=True)
    assert secret not in listing
    assert secret[:10] in listing
    with app.app_context():
        first = db.session.scalar(select(Integration.id))
    assert f"/api/v1/webhooks/ats/{first}" in listing
    rotated = _post(client, f"/admin/integrations/{first}/rotate", {})
    assert rotated.status_code == 201
    new_secret = re.search(
        r'id="new-secret" readonly value="(whsec_[^"]+)"', rotated.get_data(as_text=True)
    ).group(1)
    assert new_secret != secret
    with app.app_context():
        second = db.session.scalar(select(Integration.id).where(Integration.revoked_at.is_(None)))
    assert _post(client, f"/admin/integrations/{second}/revoke", {}).status_code == 302
    with app.app_context():
        assert all(i.revoked_at for i in db.session.scalars(select(Integration)))
    assert _post(client, f"/admin/integrations/{first}/rotate", {}).status_code == 409


@pytest.mark.parametrize(
    ("name", "status"), [("", 422), ("  ", 422), ("x" * 121, 422), ("personio", 409)]
)
def test_bad_integrations_are_not_created(app, client, login, name, status):
    login(Role.ADMIN)
    with app.app_context():
        db.session.add(Integration(name="Personio", secret="whsec_x"))
        db.session.commit()
    response = _post(client, "/admin/integrations", {"name": name})
    assert response.status_code == status
    assert 'id="name-error"' in response.get_data(as_text=True)
    with app.app_context():
        assert _count(Integration) == 1


def test_unknown_integrations_are_404(client, login):
    login(Role.ADMIN)
    assert _post(client, "/admin/integrations/999999/revoke", {}).status_code == 404
    assert _post(client, "/admin/integrations/999999/rotate", {}).status_code == 404


def test_every_referral_form_needs_the_csrf_token(app, client, login):
    login(Role.ADMIN)
    with app.app_context():
        programme_id = ReferralProgrammeFactory(name="Jobs").id
        integration = Integration(name="Personio", secret="whsec_x")
        db.session.add(integration)
        db.session.commit()
        integration_id = integration.id
    before = _programmes(app)
    for path, data in [
        ("/referrals/programmes/new", {"name": "N", "content_tag": "job", "stages": ["hired"]}),
        (f"/referrals/programmes/{programme_id}", {"name": "Renamed"}),
        (f"/referrals/programmes/{programme_id}/delete", {}),
        ("/referrals/record", {"ref": "r", "candidate_id": "c", "stage": "hired"}),
        ("/admin/integrations", {"name": "Other"}),
        (f"/admin/integrations/{integration_id}/revoke", {}),
        (f"/admin/integrations/{integration_id}/rotate", {}),
    ]:
        assert client.post(path, data=data).status_code == 400, path
    assert _programmes(app) == before
    with app.app_context():
        assert _count(Referral) == 0
        assert [(i.name, i.revoked_at) for i in db.session.scalars(select(Integration))] == [
            ("Personio", None)
        ]


@pytest.mark.parametrize(
    ("role", "visible", "hidden"),
    [
        (Role.TEAM_LEAD, [], ["/referrals", "/referrals/programmes", "/admin/integrations"]),
        (Role.HR, ["/referrals", "/referrals/programmes"], ["/admin/integrations"]),
        (Role.ADMIN, ["/referrals", "/referrals/programmes", "/admin/integrations"], []),
    ],
)
def test_navigation_links(client, login, role, visible, hidden):
    login(role)
    page = client.get("/me").get_data(as_text=True)
    nav = page[page.index('<nav class="nav"') : page.index("</nav>")]
    for path in visible:
        assert f'href="{path}"' in nav
    for path in hidden:
        assert f'href="{path}"' not in nav
