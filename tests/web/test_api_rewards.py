"""The reward catalogue and redemptions over the API: HR manages and decides, employees
redeem with a key, follow and cancel; bad input names its field and changes nothing."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Redemption, Reward, Role
from tests.conftest import mail_text
from tests.factories import LedgerLineFactory
from tests.integration.test_content import png_bytes
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


MAIL_JOB = "app.jobs.notify_redemptions"  # the clock runs it every few seconds


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


def test_hr_decides_the_queue_and_the_employee_hears_once(
    app: Flask, hr, hoodie, run_scheduled, deliver
):
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
    run_scheduled(MAIL_JOB)
    outbox = deliver()
    assert "was approved" in mail_text(outbox[-1])
    assert "Size M is ready." in mail_text(outbox[-1])
    assert hr.post(f"/api/v1/redemptions/{taken}/fulfil", json={}).json["state"] == "fulfilled"
    assert [r["id"] for r in hr.get("/api/v1/redemptions?state=fulfilled").json] == [taken]
    run_scheduled(MAIL_JOB)
    run_scheduled(MAIL_JOB)
    outbox = deliver()
    assert len(outbox) == 2  # approved, then fulfilled: one mail each
    assert "is fulfilled" in mail_text(outbox[-1])
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


# Kinds, the availability window, approval at once, the image, the tax note ---------


def _days(offset: int) -> str:
    return (date.today() + timedelta(days=offset)).isoformat()


def test_hr_sets_the_details_and_employees_never_see_the_tax_note(app: Flask, hr):
    created = hr.post(
        "/api/v1/rewards",
        json={
            "name": "Tree planting",
            "cost": 50,
            "kind": "donation",
            "charity_name": " Forests Now ",
            "available_from": _days(-1),
            "available_until": _days(30),
            "needs_approval": False,
            "tax_note": "Charitable gift: no benefit in kind.",
        },
    )
    assert created.status_code == 201
    body = created.json
    assert (body["kind"], body["charity_name"], body["needs_approval"], body["tax_note"]) == (
        "donation",
        "Forests Now",
        False,
        "Charitable gift: no benefit in kind.",
    )
    assert (body["available_from"], body["available_until"]) == (_days(-1), _days(30))
    assert hr.get(f"/api/v1/rewards/{body['id']}").json["tax_note"].startswith("Charitable")
    alice = employee(app, 100)
    catalogue = alice.get("/api/v1/rewards/catalogue")
    entry = catalogue.json["rewards"][0]
    assert (entry["kind"], entry["kind_label"], entry["charity_name"]) == (
        "donation",
        "Donation",
        "Forests Now",
    )
    assert "tax_note" not in entry
    assert "no benefit in kind" not in catalogue.get_data(as_text=True)
    made = redeem(alice, body["id"])
    assert "no benefit in kind" not in made.get_data(as_text=True)
    assert "no benefit in kind" not in alice.get("/api/v1/me/redemptions").get_data(as_text=True)
    # HR's reads are for HR only.
    assert alice.get(f"/api/v1/rewards/{body['id']}").status_code == 403
    assert alice.get("/api/v1/rewards").status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "donation"}, "charity_name"),
        ({"kind": "donation", "charity_name": "  "}, "charity_name"),
        ({"kind": "team", "cost": 0}, "cost"),  # a team reward costs at least 1 point
        ({"available_from": _days(5), "available_until": _days(4)}, "available_until"),
        ({"available_from": "tomorrow"}, "available_from"),
        ({"needs_approval": "maybe"}, "needs_approval"),
        ({"image_credit": "x" * 201}, "image_credit"),
    ],
)
def test_bad_details_name_the_field_and_change_nothing(app: Flask, hr, hoodie, body, field):
    created = hr.post("/api/v1/rewards", json={"name": "Mug", "cost": 5, **body})
    assert (created.status_code, field in created.json["errors"]) == (422, True)
    before = hr.get(f"/api/v1/rewards/{hoodie}").json
    edited = hr.patch(f"/api/v1/rewards/{hoodie}", json=body)
    assert (edited.status_code, field in edited.json["errors"]) == (422, True)
    assert hr.get(f"/api/v1/rewards/{hoodie}").json == before
    assert count(app, Reward) == 1


def test_outside_its_window_a_reward_is_shown_with_the_date_and_refused_422(app: Flask, hr, hoodie):
    soon = hr.post(
        "/api/v1/rewards", json={"name": "Summer party", "cost": 10, "available_from": _days(3)}
    ).json["id"]
    over = hr.post(
        "/api/v1/rewards", json={"name": "Winter fair", "cost": 20, "available_until": _days(-1)}
    ).json["id"]
    alice = employee(app, 200)
    entries = {r["id"]: r for r in alice.get("/api/v1/rewards/catalogue").json["rewards"]}
    assert entries[soon]["unavailable_reason"] == "not_yet"
    assert entries[soon]["message"].startswith("Not available yet: from ")
    assert entries[over]["unavailable_reason"] == "ended"
    assert entries[over]["message"].startswith("No longer available")
    for reward_id, reason in ((soon, "Not available yet"), (over, "No longer available")):
        refused = redeem(alice, reward_id, f"key-{reward_id}")
        assert refused.status_code == 422
        assert refused.json["errors"]["reward_id"][0].startswith(reason)
    assert count(app, Redemption) == 0
    assert alice.get("/api/v1/me/points").json["spendable"] == 200
    # Opening the window lets it be redeemed.
    hr.patch(f"/api/v1/rewards/{soon}", json={"available_from": None})
    assert redeem(alice, soon, "key-open").status_code == 201


def test_a_reward_without_approval_is_approved_at_once_and_mailed_once(
    app: Flask, hr, hoodie, run_scheduled, deliver
):
    hr.patch(f"/api/v1/rewards/{hoodie}", json={"needs_approval": False})
    alice = employee(app, 300)
    made = redeem(alice, hoodie)
    assert (made.status_code, made.json["state"]) == (201, "approved")
    assert hr.get("/api/v1/redemptions").json == []  # nothing for HR to decide
    assert [r["id"] for r in hr.get("/api/v1/redemptions?state=approved").json] == [made.json["id"]]
    again = redeem(alice, hoodie)
    assert (again.status_code, again.json["state"]) == (200, "approved")
    cancel = alice.post(f"/api/v1/me/redemptions/{made.json['id']}/cancel")
    assert cancel.status_code == 409  # approved: no longer the employee's to withdraw
    run_scheduled(MAIL_JOB)
    run_scheduled(MAIL_JOB)
    outbox = deliver()
    assert len(outbox) == 1
    assert "was approved" in mail_text(outbox[0])
    assert alice.get("/api/v1/me/points").json["held"] == 100
    fulfilled = hr.post(f"/api/v1/redemptions/{made.json['id']}/fulfil", json={})
    assert fulfilled.json["state"] == "fulfilled"


def test_hr_sets_an_image_under_credit_and_rights_and_employees_see_it(app: Flask, hr, hoodie):
    upload = {"file": (io.BytesIO(png_bytes()), "hoodie.png")}
    refused = hr.put(f"/api/v1/rewards/{hoodie}/image", data=upload)
    assert (refused.status_code, list(refused.json["errors"])) == (
        422,
        ["image_rights_confirmed"],
    )
    hr.patch(
        f"/api/v1/rewards/{hoodie}",
        json={"image_credit": "Our studio", "image_rights_confirmed": True},
    )
    fake = hr.put(
        f"/api/v1/rewards/{hoodie}/image", data={"file": (io.BytesIO(b"GIF89a" * 5), "a.png")}
    )
    assert (fake.status_code, list(fake.json["errors"])) == (422, ["image"])
    assert hr.get(f"/api/v1/rewards/{hoodie}").json["image_url"] is None
    upload = {"file": (io.BytesIO(png_bytes()), "hoodie.png")}
    stored = hr.put(f"/api/v1/rewards/{hoodie}/image", data=upload)
    assert stored.status_code == 200
    url = stored.json["image_url"]
    assert url.startswith("/media/")
    assert url.endswith(".png")
    alice = employee(app)
    assert alice.get("/api/v1/rewards/catalogue").json["rewards"][0]["image_url"] == url
    served = alice.get(url)
    assert served.status_code == 200
    served.close()
    assert hr.delete(f"/api/v1/rewards/{hoodie}/image").json["image_url"] is None
