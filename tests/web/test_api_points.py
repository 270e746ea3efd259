"""Your points and ledger; an admin's adjustments, recalculation and rebuild."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from app.boards import BoardStore, board_key
from app.extensions import db, get_redis
from app.models import AuditEntry, Employee, Role, utcnow
from app.services import ledger
from scoring.vocabulary import EventKind
from tests.web.api_support import (
    INVALID_JSON,
    MISSING,
    UNKNOWN,
    Caller,
    anonymous,
    bearer_caller,
    bearer_for,
    forbidden,
    pagination,
)
from tests.web.points_support import (
    add_event,
    berlin_noon,
    job_result,
    ledger_count,
    new_people,
    settle,
    setup_company,
)

COMPANY_ALL_TIME = board_key("company", "all")


@pytest.fixture
def company(app: Flask) -> None:
    setup_company(app)


def board(app: Flask) -> dict[int, int]:
    """member -> points on the company's all-time board."""
    with app.app_context():
        return {
            m: points for m, (points, _) in BoardStore(get_redis()).scores(COMPANY_ALL_TIME).items()
        }


# Balance and ledger -----------------------------------------------------------------


def test_a_newcomer_has_nothing_yet(app: Flask, company):
    (alice,) = new_people(app)
    caller = bearer_for(app, alice)
    response = caller.get("/api/v1/me/points")
    assert response.status_code == 200
    assert response.json == {
        "lifetime": 0,
        "spendable": 0,
        "vested": 0,
        "pending": 0,
        "spent": 0,
        "held": 0,
    }
    ledger_page = caller.get("/api/v1/me/ledger")
    assert (ledger_page.status_code, ledger_page.json) == (200, [])
    assert pagination(ledger_page)["total"] == 0


def test_vesting_referral_points_count_for_rank_but_are_not_spendable_yet(
    app: Flask, company, run_jobs
):
    (alice,) = new_people(app)
    add_event(app, alice, EventKind.SHARE, utcnow() - timedelta(hours=2))
    add_event(app, alice, EventKind.REFERRAL_HIRED, utcnow() - timedelta(hours=1))
    settle(app, run_jobs)
    caller = bearer_for(app, alice)
    assert caller.get("/api/v1/me/points").json == {
        "lifetime": 205,
        "spendable": 5,
        "vested": 5,
        "pending": 200,
        "spent": 0,
        "held": 0,
    }
    assert board(app) == {alice: 205}  # rank uses everything earned
    lines = caller.get("/api/v1/me/ledger").json
    hired, share = lines
    assert hired["points"] == 200
    assert hired["reason"] == "Referral: hired: a referred candidate being hired"
    assert (hired["kind"], hired["capped"], hired["rule_name"], hired["rule_version"]) == (
        "award",
        False,
        "Referral: hired",
        1,
    )
    assert hired["vests_at"] > utcnow().isoformat()
    assert share["reason"] == "Sharing: sharing content on LinkedIn"
    assert share["vests_at"] is None


def test_a_capped_line_is_written_and_explained(app: Flask, company, run_jobs):
    (alice,) = new_people(app)
    noon = berlin_noon(days_ago=3)
    for minute in range(4):  # the default share rule caps at 15 points a day
        add_event(app, alice, EventKind.SHARE, noon + timedelta(minutes=minute))
    settle(app, run_jobs)
    lines = bearer_for(app, alice).get("/api/v1/me/ledger").json
    assert [(line["points"], line["capped"]) for line in lines] == [
        (0, True),
        (5, False),
        (5, False),
        (5, False),
    ]
    assert lines[0]["reason"].endswith("(capped: 15 per day)")


def test_the_ledger_is_paginated_newest_first_and_only_yours(app: Flask, company):
    alice, bob = new_people(app, 2)
    with app.app_context():
        admin = db.session.get(Employee, new_people(app, role=Role.ADMIN)[0])
        for n in range(25):
            ledger.adjust_points(
                admin, db.session.get(Employee, alice), n + 1, f"Thanks no. {n + 1}", f"a-{n}"
            )
        ledger.adjust_points(admin, db.session.get(Employee, bob), 7, "Not Alice's", "b-0")
        db.session.commit()
    caller = bearer_for(app, alice)
    first = caller.get("/api/v1/me/ledger")
    assert [line["points"] for line in first.json] == list(range(25, 5, -1))
    assert pagination(first) == {
        "total": 25,
        "total_pages": 2,
        "first_page": 1,
        "last_page": 2,
        "page": 1,
        "next_page": 2,
    }
    second = caller.get("/api/v1/me/ledger?page=2")
    assert [line["points"] for line in second.json] == [5, 4, 3, 2, 1]
    assert {line["employee_id"] for line in first.json + second.json} == {alice}
    line = second.json[-1]
    assert (line["kind"], line["reason"], line["rule_name"], line["rule_version"]) == (
        "adjustment",
        "Thanks no. 1",
        None,
        None,
    )
    assert caller.get("/api/v1/me/ledger?page_size=101").status_code == 422


@pytest.mark.parametrize("path", ["/api/v1/me/points", "/api/v1/me/ledger"])
def test_your_points_need_a_signed_in_caller(app: Flask, path: str):
    assert anonymous(app).get(path).status_code == 401


# Adjustments ------------------------------------------------------------------------


def adjustments(employee_id: int) -> str:
    return f"/api/v1/employees/{employee_id}/adjustments"


def test_an_adjustment_is_a_line_of_its_own_and_reaches_the_boards(app: Flask, company, run_jobs):
    (alice,) = new_people(app)
    admin = bearer_caller(app, Role.ADMIN)
    body = {"points": 30, "reason": "Organised the meetup", "adjustment_id": "meetup-2026"}
    response = admin.post(adjustments(alice), json=body)
    assert response.status_code == 201
    line = response.json
    assert (line["employee_id"], line["points"], line["kind"], line["reason"]) == (
        alice,
        30,
        "adjustment",
        "Organised the meetup",
    )
    run_jobs()  # the settle job the adjustment sent after its commit
    assert board(app) == {alice: 30}
    assert bearer_for(app, alice).get("/api/v1/me/points").json["lifetime"] == 30
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "ledger.adjust"))
        assert (entry.actor_id, entry.target_id) == (admin.employee_id, alice)


def test_the_same_adjustment_again_answers_the_first_line(app: Flask, company, run_jobs):
    alice, bob = new_people(app, 2)
    admin = bearer_caller(app, Role.ADMIN)
    body = {"points": 30, "reason": "Organised the meetup", "adjustment_id": "meetup-2026"}
    first = admin.post(adjustments(alice), json=body)
    again = admin.post(adjustments(alice), json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json == first.json
    for other in (
        (alice, {**body, "points": 40}),
        (bob, body),
    ):
        response = admin.post(adjustments(other[0]), json=other[1])
        assert response.status_code == 409
        assert list(response.json["errors"]) == ["adjustment_id"]
    run_jobs()
    assert ledger_count(app) == 1
    assert board(app) == {alice: 30}


def test_a_correction_never_takes_the_total_below_zero(app: Flask, company, run_jobs):
    (alice,) = new_people(app)
    admin = bearer_caller(app, Role.ADMIN)
    assert (
        admin.post(
            adjustments(alice), json={"points": 10, "reason": "Bonus", "adjustment_id": "a1"}
        ).status_code
        == 201
    )
    taken = admin.post(
        adjustments(alice), json={"points": -4, "reason": "Counted twice", "adjustment_id": "a2"}
    )
    assert (taken.status_code, taken.json["points"], taken.json["kind"]) == (201, -4, "adjustment")
    too_much = admin.post(
        adjustments(alice), json={"points": -7, "reason": "Oops", "adjustment_id": "a3"}
    )
    assert too_much.status_code == 422
    assert list(too_much.json["errors"]) == ["points"]
    run_jobs()
    assert board(app) == {alice: 6}


GOOD_ADJUSTMENT = {"points": 5, "reason": "Helped", "adjustment_id": "x-1"}


@pytest.mark.parametrize(
    ("body", "status", "errors"),
    [
        ("{not json", 400, INVALID_JSON["errors"]),
        ("{}", 422, {"points": MISSING, "reason": MISSING, "adjustment_id": MISSING}),
        ('{"points": 5, "reason": "Helped"}', 422, {"adjustment_id": MISSING}),
        (
            '{"points": "5", "reason": "Helped", "adjustment_id": "x"}',
            422,
            {"points": ["Not a valid integer."]},
        ),
        ('{"points": 0, "reason": "Helped", "adjustment_id": "x"}', 422, {"points": None}),
        ('{"points": 5, "reason": "", "adjustment_id": "x"}', 422, {"reason": None}),
        ('{"points": 5, "reason": "   ", "adjustment_id": "x"}', 422, {"reason": None}),
        ('{"points": 5, "reason": "Helped", "adjustment_id": ""}', 422, {"adjustment_id": None}),
        (
            '{"points": 5, "reason": "Helped", "adjustment_id": "x", "team": 1}',
            422,
            {"team": UNKNOWN},
        ),
        ('{"points": 1000000, "reason": "Helped", "adjustment_id": "x"}', 422, {"points": None}),
    ],
)
def test_bad_adjustments_are_refused_and_change_nothing(
    app: Flask, company, body: str, status: int, errors: dict
):
    (alice,) = new_people(app)
    response = bearer_caller(app, Role.ADMIN).raw("POST", adjustments(alice), body)
    assert response.status_code == status
    assert set(response.json["errors"]) == set(errors)
    for field, problems in errors.items():
        if problems is not None:
            assert response.json["errors"][field] == problems
    assert ledger_count(app) == 0


def test_adjusting_an_unknown_employee_is_404(app: Flask, company):
    response = bearer_caller(app, Role.ADMIN).post(adjustments(999999), json=GOOD_ADJUSTMENT)
    assert response.status_code == 404
    assert response.json["message"] == "No employee with id 999999."


@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.TEAM_LEAD, Role.HR])
def test_only_admins_adjust_points(app: Flask, company, role: Role):
    (alice,) = new_people(app)
    response = bearer_caller(app, role).post(adjustments(alice), json=GOOD_ADJUSTMENT)
    assert (response.status_code, response.json) == (403, forbidden(Role.ADMIN))
    assert ledger_count(app) == 0


# Recalculation and rebuild ----------------------------------------------------------


def test_a_rule_edit_then_a_recalculation_corrects_the_ledger_and_the_boards_once(
    app: Flask, company, run_jobs
):
    alice, bob = new_people(app, 2)
    noon = berlin_noon(days_ago=2)
    for minute in range(3):
        add_event(app, alice, EventKind.SHARE, noon + timedelta(minutes=minute))
    add_event(app, bob, EventKind.CLICK, noon)
    settle(app, run_jobs)
    assert board(app) == {alice: 15, bob: 1}

    hr = bearer_caller(app, Role.HR)
    sharing = next(r for r in hr.get("/api/v1/rules").json if r["name"] == "Sharing")
    since = (noon - timedelta(hours=1)).isoformat()
    edit = hr.post(
        f"/api/v1/rules/{sharing['id']}/versions", json={"points": 2, "effective_at": since}
    )
    assert edit.status_code == 201
    assert edit.json["recalculation_needed"] is True
    assert board(app) == {alice: 15, bob: 1}  # scored events keep their points until then

    admin = bearer_caller(app, Role.ADMIN)
    response = admin.post("/api/v1/points/recalculate", json={"since": since})
    assert response.status_code == 202
    run_jobs()
    assert job_result(app, response.json["job_id"]) == 3
    assert board(app) == {alice: 6, bob: 1}
    assert bearer_for(app, alice).get("/api/v1/me/points").json["lifetime"] == 6
    compensations = [
        line
        for line in bearer_for(app, alice).get("/api/v1/me/ledger").json
        if line["kind"] == "compensation"
    ]
    assert [line["points"] for line in compensations] == [-3, -3, -3]
    assert all(line["rule_version"] == 2 for line in compensations)

    lines = ledger_count(app)
    again = admin.post("/api/v1/points/recalculate", json={"since": since})
    run_jobs()
    assert job_result(app, again.json["job_id"]) == 0
    assert ledger_count(app) == lines
    assert board(app) == {alice: 6, bob: 1}


def test_a_rebuild_restores_the_boards_from_the_ledger(app: Flask, company, run_jobs):
    alice, bob = new_people(app, 2)
    add_event(app, alice, EventKind.REFERRAL_APPLIED)
    add_event(app, bob, EventKind.SHARE)
    settle(app, run_jobs)
    live = board(app)
    with app.app_context():
        get_redis().delete(COMPANY_ALL_TIME)
        get_redis().zadd(COMPANY_ALL_TIME, {str(bob): 1e15})  # a board gone wrong
    response = bearer_caller(app, Role.ADMIN).post("/api/v1/points/rebuild")
    assert response.status_code == 202
    assert response.json["job_id"].startswith("rebuild-boards-")
    run_jobs()
    assert board(app) == live == {alice: 25, bob: 5}
    assert job_result(app, response.json["job_id"]) > 0


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"since": MISSING}),
        ({"since": "yesterday"}, {"since": ["Not a valid datetime."]}),
        ({"since": "2026-11-01T10:00:00"}, {"since": ["Not a valid aware datetime."]}),
        ({"since": "2999-01-01T00:00:00+00:00"}, {"since": None}),
        ({"since": "2026-11-01T10:00:00+00:00", "dry_run": True}, {"dry_run": UNKNOWN}),
    ],
)
def test_bad_recalculations_are_refused(app: Flask, company, body: dict, errors: dict):
    response = bearer_caller(app, Role.ADMIN).post("/api/v1/points/recalculate", json=body)
    assert response.status_code == 422
    assert set(response.json["errors"]) == set(errors)
    for field, problems in errors.items():
        if problems is not None:
            assert response.json["errors"][field] == problems


@pytest.mark.parametrize("path", ["/api/v1/points/recalculate", "/api/v1/points/rebuild"])
@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.HR])
def test_only_admins_recalculate_or_rebuild(app: Flask, company, path: str, role: Role):
    body = {"since": (utcnow() - timedelta(days=1)).isoformat()}
    response = bearer_caller(app, role).post(path, json=body)
    assert (response.status_code, response.json) == (403, forbidden(Role.ADMIN))


def test_two_identical_adjustments_at_once_answer_201_once_and_200_once(
    app: Flask, company, run_jobs
):
    """Two requests race with the same adjustment_id. The one that holds back after its
    first look at the ledger resumes only once the other has answered: the ledger keeps
    one line, and only the request whose insert wrote it answers 201."""
    import threading

    from sqlalchemy import event

    (alice,) = new_people(app)
    admin = bearer_caller(app, Role.ADMIN)
    body = {"points": 15, "reason": "Ran the stand at the fair", "adjustment_id": "fair-2026"}
    fast_done = threading.Event()
    slow_thread: list[int] = []
    statuses: dict[str, int] = {}

    def hold_back(conn, cursor, statement, parameters, context, executemany):
        if (
            threading.get_ident() in slow_thread
            and statement.lstrip().upper().startswith("SELECT")
            and "ledger_lines" in statement
        ):
            slow_thread.clear()  # hold back once
            fast_done.wait(timeout=5)

    def send(name: str) -> None:
        if name == "slow":
            slow_thread.append(threading.get_ident())
        statuses[name] = (
            Caller(app.test_client(), admin.employee_id, admin.headers)
            .post(adjustments(alice), json=body)
            .status_code
        )
        if name == "fast":
            fast_done.set()

    with app.app_context():
        engine = db.engine
    event.listen(engine, "after_cursor_execute", hold_back)
    try:
        slow = threading.Thread(target=send, args=("slow",))
        slow.start()
        time.sleep(0.3)  # the slow request is past its first look at the ledger
        fast = threading.Thread(target=send, args=("fast",))
        fast.start()
        fast.join(10)
        slow.join(10)
    finally:
        event.remove(engine, "after_cursor_execute", hold_back)
    assert sorted(statuses.values()) == [200, 201]
    assert ledger_count(app) == 1
    run_jobs()
    assert board(app) == {alice: 15}
