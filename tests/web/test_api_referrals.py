"""/api/v1/referral-programmes (HR), /api/v1/integrations (admin), /api/v1/referrals (HR)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Integration, Referral, ReferralProgramme, Role, utcnow
from tests.factories import (
    ContentItemFactory,
    ContentTagFactory,
    EmployeeFactory,
    ReferralFactory,
    ReferralProgrammeFactory,
    ShareFactory,
)
from tests.web.api_support import (
    INVALID_JSON,
    MISSING,
    UNAUTHORIZED,
    UNKNOWN,
    Caller,
    anonymous,
    bearer_caller,
    count,
    forbidden,
    pagination,
    session_caller,
)


@pytest.fixture
def hr(app: Flask) -> Caller:
    return session_caller(app, Role.HR)


@pytest.fixture
def admin(app: Flask) -> Caller:
    return bearer_caller(app, Role.ADMIN)


def programmes(app: Flask) -> list[tuple]:
    with app.app_context():
        return [
            (p.name, p.content_tag, p.stages, p.attribution_days, p.active)
            for p in db.session.scalars(select(ReferralProgramme).order_by(ReferralProgramme.id))
        ]


# Programmes ------------------------------------------------------------------------


def test_programme_crud(app: Flask, hr):
    created = hr.post("/api/v1/referral-programmes", json={"name": "Jobs", "content_tag": "job"})
    assert created.status_code == 201
    body = created.json
    assert body == {
        "id": body["id"],
        "name": "Jobs",
        "content_tag": "job",
        "stages": ["applied", "interviewed", "hired"],
        "attribution_days": 90,
        "active": True,
        "created_at": body["created_at"],
    }
    url = f"/api/v1/referral-programmes/{body['id']}"
    assert hr.get(url).json == body
    changed = hr.patch(url, json={"stages": ["hired"], "attribution_days": 30, "active": False})
    assert changed.status_code == 200
    assert (changed.json["stages"], changed.json["attribution_days"], changed.json["active"]) == (
        ["hired"],
        30,
        False,
    )
    listing = hr.get("/api/v1/referral-programmes")
    assert [p["name"] for p in listing.json] == ["Jobs"]
    assert pagination(listing)["total"] == 1
    assert hr.delete(url).status_code == 204
    assert programmes(app) == []
    with app.app_context():
        actions = list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions == [
        "referral_programme.create",
        "referral_programme.update",
        "referral_programme.delete",
    ]


@pytest.mark.parametrize(
    ("body", "status", "errors"),
    [
        ("{}", 422, {"name": MISSING, "content_tag": MISSING}),
        ('{"name": "Jobs"', 400, None),
        (
            '{"name": "", "content_tag": "job"}',
            422,
            {"name": ["This field cannot be empty."]},
        ),
        ('{"name": "   ", "content_tag": "job"}', 422, {"name": ["A programme needs a name."]}),
        ('{"name": "Jobs", "content_tag": 5}', 422, {"content_tag": ["Not a valid string."]}),
        (
            '{"name": "Jobs", "content_tag": "job", "stages": []}',
            422,
            {"stages": ["Give at least one."]},
        ),
        (
            '{"name": "Jobs", "content_tag": "job", "stages": ["offer"]}',
            422,
            {"stages": {"0": ["Must be one of: applied, interviewed, hired."]}},
        ),
        (
            '{"name": "Jobs", "content_tag": "job", "attribution_days": 0}',
            422,
            {
                "attribution_days": [
                    "Must be greater than or equal to 1 and less than or equal to 3650."
                ]
            },
        ),
        ('{"name": "Jobs", "content_tag": "job", "id": 3}', 422, {"id": UNKNOWN}),
        (
            '{"name": "taken", "content_tag": "job"}',
            409,
            {"name": ["A programme called 'Taken' exists already."]},
        ),
    ],
)
def test_bad_programmes_are_not_created(app: Flask, hr, body, status, errors):
    with app.app_context():
        ReferralProgrammeFactory(name="Taken")
    before = programmes(app)
    response = hr.raw("POST", "/api/v1/referral-programmes", body)
    assert response.status_code == status
    if errors is None:
        assert response.json == INVALID_JSON
    else:
        assert response.json["errors"] == errors
    assert programmes(app) == before


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ('{"name": "Taken"}', 409),
        ('{"stages": []}', 422),
        ('{"attribution_days": "long"}', 422),
        ('{"active": "perhaps"}', 422),
        ('{"content_tag": "  "}', 422),
        ('{"colour": "red"}', 422),
        ("{nope", 400),
    ],
)
def test_bad_programme_changes_change_nothing(app: Flask, hr, body, status):
    with app.app_context():
        ReferralProgrammeFactory(name="Taken")
        programme_id = ReferralProgrammeFactory(name="Mine").id
    before = programmes(app)
    response = hr.raw("PATCH", f"/api/v1/referral-programmes/{programme_id}", body)
    assert response.status_code == status
    assert programmes(app) == before


@pytest.mark.parametrize(
    ("method", "body"), [("GET", None), ("PATCH", {"active": False}), ("DELETE", None)]
)
def test_unknown_programmes_are_404(hr, method, body):
    response = hr.open(method, "/api/v1/referral-programmes/999999", json=body)
    assert response.status_code == 404
    assert response.json["errors"] == {"id": ["No referral programme with id 999999."]}


def test_a_programme_in_use_cannot_be_deleted(app: Flask, hr):
    with app.app_context():
        programme_id = ReferralProgrammeFactory().id
        ReferralFactory(programme_id=programme_id)
    response = hr.delete(f"/api/v1/referral-programmes/{programme_id}")
    assert response.status_code == 409
    assert len(programmes(app)) == 1


# Integrations ----------------------------------------------------------------------


def test_an_integration_secret_is_shown_once(app: Flask, admin):
    response = admin.post("/api/v1/integrations", json={"name": "Personio"})
    assert response.status_code == 201
    body = response.json
    secret = body.pop("secret")
    assert secret.startswith("whsec_")
    assert body == {
        "id": body["id"],
        "name": "Personio",
        "secret_starts_with": secret[:10],
        "webhook_url": f"http://localhost/api/v1/webhooks/ats/{body['id']}",
        "created_at": body["created_at"],
        "last_used_at": None,
        "revoked_at": None,
    }
    listing = admin.get("/api/v1/integrations")
    assert [i["name"] for i in listing.json] == ["Personio"]
    assert secret not in listing.get_data(as_text=True)


def test_revoke_and_rotate(app: Flask, admin):
    first = admin.post("/api/v1/integrations", json={"name": "Personio"}).json
    rotated = admin.post(f"/api/v1/integrations/{first['id']}/rotate")
    assert rotated.status_code == 201
    assert rotated.json["name"] == "Personio"
    assert rotated.json["secret"] != first["secret"]
    assert admin.post(f"/api/v1/integrations/{first['id']}/rotate").status_code == 409
    assert admin.delete(f"/api/v1/integrations/{rotated.json['id']}").status_code == 204
    assert admin.delete(f"/api/v1/integrations/{rotated.json['id']}").status_code == 204
    with app.app_context():
        assert all(i.revoked_at for i in db.session.scalars(select(Integration)))
        ours = AuditEntry.action.startswith("integration.")
        actions = list(
            db.session.scalars(select(AuditEntry.action).where(ours).order_by(AuditEntry.id))
        )
    assert actions == [
        "integration.create",
        "integration.revoke",
        "integration.create",
        "integration.revoke",
    ]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("{}", 422),
        ('{"name": ""}', 422),
        ('{"name": "   "}', 422),
        ('{"name": "' + "x" * 121 + '"}', 422),
        ('{"name": "Personio", "secret": "whsec_mine"}', 422),
        ('{"name": "personio"}', 409),
        ('{"name": "x"', 400),
    ],
)
def test_bad_integrations_are_not_created(app: Flask, admin, body, status):
    admin.post("/api/v1/integrations", json={"name": "Personio"})
    response = admin.raw("POST", "/api/v1/integrations", body)
    assert response.status_code == status
    assert count(app, Integration) == 1


@pytest.mark.parametrize(
    ("method", "path"),
    [("DELETE", "/api/v1/integrations/999999"), ("POST", "/api/v1/integrations/999999/rotate")],
)
def test_unknown_integrations_are_404(admin, method, path):
    assert admin.open(method, path).status_code == 404


# Access ----------------------------------------------------------------------------

GUARDED = [
    ("GET", "/api/v1/referral-programmes", None, Role.HR),
    ("POST", "/api/v1/referral-programmes", {"name": "J", "content_tag": "job"}, Role.HR),
    ("GET", "/api/v1/referral-programmes/{programme}", None, Role.HR),
    ("PATCH", "/api/v1/referral-programmes/{programme}", {"active": False}, Role.HR),
    ("DELETE", "/api/v1/referral-programmes/{programme}", None, Role.HR),
    ("GET", "/api/v1/referrals", None, Role.HR),
    ("POST", "/api/v1/referrals", {"ref": "r", "candidate_id": "c", "stage": "hired"}, Role.HR),
    ("GET", "/api/v1/integrations", None, Role.ADMIN),
    ("POST", "/api/v1/integrations", {"name": "Mine"}, Role.ADMIN),
    ("DELETE", "/api/v1/integrations/{integration}", None, Role.ADMIN),
    ("POST", "/api/v1/integrations/{integration}/rotate", None, Role.ADMIN),
]


@pytest.mark.parametrize(("method", "path", "body", "needed"), GUARDED)
@pytest.mark.parametrize("role", [None, Role.EMPLOYEE, Role.TEAM_LEAD, Role.HR])
def test_weaker_roles_are_refused_and_change_nothing(app: Flask, role, method, path, body, needed):
    if role is not None and role.includes(needed):
        return
    with app.app_context():
        programme = ReferralProgrammeFactory(name="Jobs")
        integration = Integration(name="Personio", secret="whsec_x")
        db.session.add(integration)
        db.session.commit()
        ids = {"programme": programme.id, "integration": integration.id}
    caller = anonymous(app) if role is None else session_caller(app, role)
    response = caller.open(method, path.format(**ids), json=body)
    if role is None:
        assert (response.status_code, response.json) == (401, UNAUTHORIZED)
    else:
        assert (response.status_code, response.json) == (403, forbidden(needed))
    assert programmes(app) == [("Jobs", "job", ["applied", "interviewed", "hired"], 90, True)]
    with app.app_context():
        assert [(i.name, i.revoked_at) for i in db.session.scalars(select(Integration))] == [
            ("Personio", None)
        ]
    assert count(app, Referral) == 0


# Referrals -------------------------------------------------------------------------


@pytest.fixture
def ref_code(app: Flask) -> str:
    with app.app_context():
        ReferralProgrammeFactory(content_tag="job")
        content = ContentItemFactory(title="Data engineer")
        ContentTagFactory(content_id=content.id, tag="job")
        owner = EmployeeFactory(opted_in=True, name="Jana Klein")
        return ShareFactory(employee=owner, content=content).ref_code


def test_hr_records_a_stage_by_hand(app: Flask, hr, ref_code):
    data = {"ref": ref_code, "candidate_id": "C-1", "stage": "interviewed"}
    first = hr.post("/api/v1/referrals", json=data)
    assert first.status_code == 201
    body = first.json
    assert body["outcome"] == "awarded"
    assert (body["referrer"], body["content_title"], body["recorded_by_id"]) == (
        "Jana Klein",
        "Data engineer",
        hr.employee_id,
    )
    again = hr.post("/api/v1/referrals", json=data)
    assert again.status_code == 200
    assert again.json == body
    backwards = hr.post("/api/v1/referrals", json={**data, "stage": "applied"})
    assert backwards.json["outcome"] == "backwards"
    listing = hr.get("/api/v1/referrals")
    assert [(r["stage"], r["outcome"]) for r in listing.json] == [
        ("applied", "backwards"),
        ("interviewed", "awarded"),
    ]


def test_the_referrer_is_named_only_while_taking_part(app: Flask, hr, ref_code):
    hr.post("/api/v1/referrals", json={"ref": ref_code, "candidate_id": "C", "stage": "hired"})
    with app.app_context():
        from app.models import Share

        share = db.session.scalar(select(Share).where(Share.ref_code == ref_code))
        share.employee.opted_in_at = None
        db.session.commit()
    (row,) = hr.get("/api/v1/referrals").json
    assert row["referrer"] is None
    assert row["content_title"] == "Data engineer"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ("{}", 422, "ref"),
        ('{"ref": "r", "candidate_id": "c"}', 422, "stage"),
        ('{"ref": "r", "candidate_id": "c", "stage": "signed"}', 422, "stage"),
        ('{"ref": "r", "candidate_id": "", "stage": "hired"}', 422, "candidate_id"),
        ('{"ref": "r", "candidate_id": "c", "stage": "hired", "x": 1}', 422, "x"),
        (
            '{"ref": "r", "candidate_id": "c", "stage": "hired", "occurred_at": "2026-01-01"}',
            422,
            "occurred_at",
        ),
        (
            '{"ref": "r", "candidate_id": "c", "stage": "hired",'
            ' "occurred_at": "2999-01-01T00:00:00Z"}',
            422,
            "occurred_at",
        ),
        ('{"ref": "r"', 400, "json"),
    ],
)
def test_bad_manual_records_change_nothing(app: Flask, hr, body, status, field):
    response = hr.raw("POST", "/api/v1/referrals", body)
    assert response.status_code == status
    assert field in response.json["errors"]
    assert count(app, Referral) == 0


def test_referrals_are_listed_newest_first_and_paged(app: Flask, hr):
    with app.app_context():
        for n in range(3):
            ReferralFactory(received_at=utcnow() - timedelta(hours=n), ref_code=f"code{n}")
    response = hr.get("/api/v1/referrals?page_size=2")
    assert [r["ref"] for r in response.json] == ["code0", "code1"]
    assert pagination(response)["total"] == 3
    assert "candidate_hash" not in response.json[0]
