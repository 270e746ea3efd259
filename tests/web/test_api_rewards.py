"""The reward catalogue and redemptions over the API: HR manages and decides, employees
redeem with a key, follow and cancel; bad input names its field and changes nothing."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Redemption, Reward, Role
from tests.factories import LedgerLineFactory
from tests.web.api_support import (
    MISSING,
    NOT_AN_INTEGER,
    UNKNOWN,
    bearer_caller,
    count,
    invalid,
    pagination,
    session_caller,
)


def fund(app: Flask, employee_id: int, points: int) -> None:
    with app.app_context():
        LedgerLineFactory(employee_id=employee_id, points=points)


@pytest.fixture
def hr(app: Flask):
    return bearer_caller(app, Role.HR)


@pytest.fixture
def hoodie(hr) -> int:
    response = hr.post(
        "/api/v1/rewards",
        json={"name": "Company hoodie", "description": "Navy, organic cotton", "cost": 100},
    )
    assert response.status_code == 201
    return response.json["id"]


def employee(app: Flask, points: int = 0):
    caller = bearer_caller(app, opted_in=True)
    if points:
        fund(app, caller.employee_id, points)
    return caller


def redeem(caller, reward_id: int, key: str = "key-1"):
    return caller.post("/api/v1/redemptions", json={"reward_id": reward_id, "idempotency_key": key})


# The catalogue ---------------------------------------------------------------------


def test_hr_adds_edits_lists_and_retires_rewards(app: Flask, hr, hoodie):
    created = hr.get(f"/api/v1/rewards/{hoodie}").json
    assert {k: created[k] for k in ("name", "cost", "stock", "per_person_limit", "active")} == {
        "name": "Company hoodie",
        "cost": 100,
        "stock": None,
        "per_person_limit": None,
        "active": True,
    }
    edited = hr.patch(f"/api/v1/rewards/{hoodie}", json={"stock": 20, "per_person_limit": 1})
    assert (edited.status_code, edited.json["stock"], edited.json["per_person_limit"]) == (
        200,
        20,
        1,
    )
    retired = hr.post(f"/api/v1/rewards/{hoodie}/retire")
    assert (retired.status_code, retired.json["active"]) == (200, False)
    listed = hr.get("/api/v1/rewards")
    assert [r["name"] for r in listed.json] == ["Company hoodie"]
    assert pagination(listed)["total"] == 1
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.action.startswith("reward."))
            .order_by(AuditEntry.id)
        ).all()
    assert actions == ["reward.create", "reward.update", "reward.retire"]


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"cost": 10}, {"name": MISSING}),
        ({"name": "Hoodie"}, {"cost": MISSING}),
        ({"name": "Hoodie", "cost": "10"}, {"cost": NOT_AN_INTEGER}),
        (
            {"name": "Hoodie", "cost": -1},
            {"cost": ["Must be greater than or equal to 0 and less than or equal to 1000000."]},
        ),
        (
            {"name": "Hoodie", "cost": 1, "stock": -1},
            {"stock": ["Must be greater than or equal to 0."]},
        ),
        (
            {"name": "Hoodie", "cost": 1, "per_person_limit": 0},
            {"per_person_limit": ["Must be greater than or equal to 1."]},
        ),
        ({"name": "", "cost": 1}, {"name": ["This field cannot be empty."]}),
        ({"name": "Hoodie", "cost": 1, "price": 3}, {"price": UNKNOWN}),
    ],
)
def test_bad_rewards_name_the_field_and_change_nothing(app: Flask, hr, body, errors):
    response = hr.post("/api/v1/rewards", json=body)
    assert (response.status_code, response.json) == (422, invalid(errors))
    assert count(app, Reward) == 0


def test_a_taken_name_or_a_bad_edit_changes_nothing(app: Flask, hr, hoodie):
    taken = hr.post("/api/v1/rewards", json={"name": "company HOODIE", "cost": 5})
    assert (taken.status_code, list(taken.json["errors"])) == (409, ["name"])
    bad = hr.patch(f"/api/v1/rewards/{hoodie}", json={"cost": -5, "name": "Mug"})
    assert (bad.status_code, bad.json["errors"]) == (
        422,
        {"cost": ["Must be greater than or equal to 0 and less than or equal to 1000000."]},
    )
    assert hr.get(f"/api/v1/rewards/{hoodie}").json["name"] == "Company hoodie"
    assert hr.post("/api/v1/rewards/999999/retire").status_code == 404
    assert count(app, Reward) == 1


def test_the_catalogue_shows_what_i_can_redeem_and_why_not(app: Flask, hr, hoodie):
    hr.post("/api/v1/rewards", json={"name": "Extra day off", "cost": 500})
    hr.post("/api/v1/rewards", json={"name": "Mug", "cost": 10, "stock": 0})
    retired = hr.post("/api/v1/rewards", json={"name": "Old pin", "cost": 1}).json["id"]
    hr.post(f"/api/v1/rewards/{retired}/retire")
    alice = employee(app, 150)
    catalogue = alice.get("/api/v1/rewards/catalogue").json
    assert catalogue["spendable"] == 150
    assert [(r["name"], r["available"], r["unavailable_reason"]) for r in catalogue["rewards"]] == [
        ("Mug", False, "stock"),
        ("Company hoodie", True, None),
        ("Extra day off", False, "balance"),
    ]
    assert catalogue["rewards"][2]["message"].startswith("This reward costs 500 points")


# Redeeming -------------------------------------------------------------------------


def test_the_same_key_twice_is_one_redemption_201_then_200(app: Flask, hoodie):
    alice = employee(app, 250)
    first = redeem(alice, hoodie)
    again = redeem(alice, hoodie)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json == again.json
    assert (first.json["state"], first.json["points"], first.json["reward_name"]) == (
        "pending",
        100,
        "Company hoodie",
    )
    assert count(app, Redemption) == 1
    points = alice.get("/api/v1/me/points").json
    assert (points["lifetime"], points["held"], points["spendable"]) == (250, 100, 150)


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"idempotency_key": "k"}, {"reward_id": MISSING}),
        ({"reward_id": 1}, {"idempotency_key": MISSING}),
        ({"reward_id": "one", "idempotency_key": "k"}, {"reward_id": NOT_AN_INTEGER}),
        (
            {"reward_id": 1, "idempotency_key": ""},
            {"idempotency_key": ["This field cannot be empty."]},
        ),
    ],
)
def test_bad_redemptions_name_the_field_and_change_nothing(app: Flask, hoodie, body, errors):
    alice = employee(app, 250)
    response = alice.post("/api/v1/redemptions", json=body)
    assert (response.status_code, response.json) == (422, invalid(errors))
    assert count(app, Redemption) == 0


def test_refusals_are_409_naming_the_reward_and_change_nothing(app: Flask, hr, hoodie):
    bob = employee(app, 99)
    poor = redeem(bob, hoodie)
    assert poor.status_code == 409
    assert poor.json["errors"] == {"reward_id": [poor.json["message"]]}
    assert "you can spend 99, so 1 more" in poor.json["message"]
    assert redeem(bob, 999999).status_code == 404
    alice = employee(app, 500)
    hr.patch(f"/api/v1/rewards/{hoodie}", json={"per_person_limit": 1})
    assert redeem(alice, hoodie, "a").status_code == 201
    limited = redeem(alice, hoodie, "b")
    assert (limited.status_code, limited.json["message"]) == (
        409,
        "You can redeem this reward once, and you have already.",
    )
    other = hr.post("/api/v1/rewards", json={"name": "Mug", "cost": 1}).json["id"]
    reused = redeem(alice, other, "a")
    assert (reused.status_code, list(reused.json["errors"])) == (409, ["idempotency_key"])
    assert count(app, Redemption) == 1


def test_i_follow_and_cancel_my_own_pending_redemption_once(app: Flask, hr, hoodie):
    hr.patch(f"/api/v1/rewards/{hoodie}", json={"stock": 1})
    alice, bob = employee(app, 300), employee(app, 300)
    mine = redeem(alice, hoodie).json["id"]
    assert bob.post(f"/api/v1/me/redemptions/{mine}/cancel").status_code == 404
    assert [r["id"] for r in alice.get("/api/v1/me/redemptions").json] == [mine]
    assert bob.get("/api/v1/me/redemptions").json == []
    for _ in range(2):
        cancelled = alice.post(f"/api/v1/me/redemptions/{mine}/cancel")
        assert (cancelled.status_code, cancelled.json["state"]) == (200, "cancelled")
    assert alice.get("/api/v1/me/points").json["spendable"] == 300
    assert hr.get(f"/api/v1/rewards/{hoodie}").json["stock"] == 1


def test_hr_decides_the_queue_and_the_employee_hears_once(app: Flask, hr, hoodie, run_jobs, outbox):
    alice = employee(app, 300)
    taken = redeem(alice, hoodie).json["id"]
    second = redeem(alice, hoodie, "key-2").json["id"]
    queue = hr.get("/api/v1/redemptions")
    assert [r["id"] for r in queue.json] == [second, taken]
    assert queue.json[0]["employee_name"]
    early = hr.post(f"/api/v1/redemptions/{taken}/fulfil", json={})
    assert (early.status_code, early.json["errors"]) == (
        409,
        {"state": ["A pending redemption cannot become fulfilled."]},
    )
    approved = hr.post(f"/api/v1/redemptions/{taken}/approve", json={"note": "Size M is ready."})
    assert (approved.status_code, approved.json["state"]) == (200, "approved")
    run_jobs()
    assert "was approved" in outbox[-1].get_content()
    assert "Size M is ready." in outbox[-1].get_content()
    assert hr.post(f"/api/v1/redemptions/{taken}/fulfil", json={}).json["state"] == "fulfilled"
    assert [r["id"] for r in hr.get("/api/v1/redemptions?state=fulfilled").json] == [taken]
    run_jobs()
    run_jobs()
    assert len(outbox) == 2  # approved, then fulfilled: one mail each
    assert "is fulfilled" in outbox[-1].get_content()
    points = alice.get("/api/v1/me/points").json
    assert (points["lifetime"], points["spent"], points["held"], points["spendable"]) == (
        300,
        100,
        100,
        100,
    )
    bad_state = hr.get("/api/v1/redemptions?state=lost")
    assert (bad_state.status_code, list(bad_state.json["errors"])) == (422, ["state"])


def test_rejecting_needs_a_reason_and_refunds_once(app: Flask, hr, hoodie):
    alice = employee(app, 100)
    taken = redeem(alice, hoodie).json["id"]
    missing = hr.post(f"/api/v1/redemptions/{taken}/reject", json={})
    assert (missing.status_code, missing.json) == (422, invalid({"reason": MISSING}))
    for _ in range(2):
        rejected = hr.post(f"/api/v1/redemptions/{taken}/reject", json={"reason": "Sold out."})
        assert (rejected.status_code, rejected.json["state"]) == (200, "rejected")
    assert rejected.json["decision_note"] == "Sold out."
    assert alice.get("/api/v1/me/points").json["spendable"] == 100
    assert hr.post("/api/v1/redemptions/999999/approve", json={}).status_code == 404
    with app.app_context():
        rejections = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "redemption.reject")
        ).all()
    assert len(rejections) == 1


def test_a_session_caller_redeems_with_the_csrf_header(app: Flask, hoodie):
    alice = session_caller(app, opted_in=True)
    fund(app, alice.employee_id, 100)
    without = alice.post(
        "/api/v1/redemptions",
        json={"reward_id": hoodie, "idempotency_key": "k"},
        headers={"X-CSRFToken": ""},
    )
    assert without.status_code == 400
    assert redeem(alice, hoodie).status_code == 201


@pytest.mark.parametrize("move", ["approve", "fulfil"])
def test_a_bad_note_names_the_field_and_changes_nothing(app: Flask, hr, hoodie, move):
    alice = employee(app, 100)
    taken = redeem(alice, hoodie).json["id"]
    response = hr.post(f"/api/v1/redemptions/{taken}/{move}", json={"note": "x" * 301})
    assert (response.status_code, response.json) == (
        422,
        invalid({"note": ["At most 300 characters."]}),
    )
    assert alice.get("/api/v1/me/redemptions").json[0]["state"] == "pending"
