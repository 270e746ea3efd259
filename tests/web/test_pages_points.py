"""My points (balance, pending points, the ledger with reasons) and the admin's points
tools: adjustments, recalculation and rebuilds through the real queue."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.boards import BoardStore, board_key
from app.extensions import db, get_redis
from app.models import AuditEntry, Employee, LedgerLine, LineKind, Role, utcnow
from app.queue import queue
from app.services import rules as rules_service
from scoring.participation import Presence
from scoring.vocabulary import Channel, EventKind
from tests.conftest import csrf_token
from tests.factories import EmployeeFactory, EventFactory
from tests.web.points_pages_support import count, give, install_company, settle


def _post(client, path: str, data: dict):
    return client.post(path, data={"csrf_token": csrf_token(client, "/me"), **data})


def _shares(employee_id: int, n: int, start) -> None:
    for i in range(n):
        EventFactory(
            kind=EventKind.SHARE,
            employee_id=employee_id,
            occurred_at=start + timedelta(minutes=i),
            channel=Channel.LINKEDIN,
            natural_key=f"share:{employee_id}:{i}",
        )


# My points -------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.TEAM_LEAD, Role.HR, Role.ADMIN])
def test_my_points_renders_for_everyone_signed_in(app, client, login, role):
    with app.app_context():
        install_company()
    login(role, opted_in=True)
    response = client.get("/me/points")
    assert response.status_code == 200
    assert 'aria-current="page">My points' in response.get_data(as_text=True)


def test_my_points_explain_every_line(app, client, login):
    me = login(Role.EMPLOYEE, opted_in=True)
    with app.app_context():
        install_company()
        start = utcnow().replace(microsecond=0) - timedelta(hours=3)
        _shares(me.id, 4, start)  # 5 + 5 + 5, then the cap of 15 a day
        EventFactory(
            kind=EventKind.REFERRAL_HIRED,
            employee_id=me.id,
            occurred_at=start + timedelta(hours=1),
            natural_key="referral:abc:hired",
        )
        settle()
        give(me, 7, reason="Trade-fair week bonus")
        db.session.commit()
    page = client.get("/me/points").get_data(as_text=True)

    assert re.search(r'data-points="lifetime">222<', page)  # 15 + 200 + 7
    assert re.search(r'data-points="spendable">22<', page)
    assert re.search(r'data-points="pending">200<', page)
    assert "200 points become spendable on" in page
    assert "never your rank" in page
    assert page.count('class="ledger-line') == 6
    assert page.count("capped: 15 per day") == 1
    assert "rule “Sharing”, version 1" in page
    assert "rule “Referral: hired”, version 1" in page
    assert "Trade-fair week bonus" in page
    assert "by an admin" in page
    # Newest first: the adjustment was written last.
    assert page.index("Trade-fair week bonus") < page.index("Sharing")


def test_my_points_are_paged_newest_first(app, client, login):
    me = login(Role.EMPLOYEE, opted_in=True)
    with app.app_context():
        for n in range(30):
            give(me, 1, reason=f"Line {n:02}")
    page = client.get("/me/points").get_data(as_text=True)
    assert page.count('class="ledger-line') == 25
    assert page.index("Line 29") < page.index("Line 05")
    older = re.search(r'href="(/me/points\?before=\d+)"', page).group(1)
    page = client.get(older).get_data(as_text=True)
    assert page.count('class="ledger-line') == 5
    assert "Line 04" in page
    assert "Line 05" not in page
    assert "← Newest" in page


def test_hidden_and_opted_out_people_still_see_their_points(app, client, login):
    me = login(Role.EMPLOYEE, presence=Presence.HIDDEN, opted_in=True)
    with app.app_context():
        give(me, 12, reason="Hidden but counted")
    page = client.get("/me/points").get_data(as_text=True)
    assert re.search(r'data-points="lifetime">12<', page)
    assert "You chose to be hidden" in page
    with app.app_context():
        employee = db.session.get(Employee, me.id)
        employee.opted_in_at = None
        db.session.commit()
    page = client.get("/me/points").get_data(as_text=True)
    assert "Hidden but counted" in page
    assert "You do not take part at the moment" in page


def test_someone_who_never_opted_in_gets_an_explanation(app, client, login):
    login(Role.EMPLOYEE)
    page = client.get("/me/points").get_data(as_text=True)
    assert "You do not take part yet" in page
    assert 'href="/guidelines"' in page
    assert "data-points" not in page


# Admin: adjustments ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.EMPLOYEE, 403), (Role.TEAM_LEAD, 403), (Role.HR, 403), (Role.ADMIN, 200)],
)
def test_points_admin_is_for_admins(app, client, login, role, status):
    login(role)
    assert client.get("/admin/points").status_code == status
    with app.app_context():
        target = EmployeeFactory(email="target@example.com", opted_in=True).id
    response = _post(
        client,
        "/admin/points/adjust",
        {"email": "target@example.com", "points": "5", "reason": "x", "adjustment_id": "a" * 32},
    )
    assert response.status_code == (302 if status == 200 else 403)
    with app.app_context():
        lines = db.session.scalars(select(LedgerLine).where(LedgerLine.employee_id == target))
        assert len(list(lines)) == (1 if status == 200 else 0)


def test_admin_adjusts_points_once_even_when_the_form_is_sent_twice(app, client, login, run_jobs):
    login(Role.ADMIN)
    with app.app_context():
        install_company()
        target = EmployeeFactory(email="lena@example.com", name="Lena H", opted_in=True).id
    page = client.get("/admin/points").get_data(as_text=True)
    key = re.search(r'name="adjustment_id" value="([0-9a-f]{32})"', page).group(1)
    form = {
        "email": "Lena@Example.com",
        "points": "40",
        "reason": "Fair booth",
        "adjustment_id": key,
    }
    first = _post(client, "/admin/points/adjust", form)
    second = _post(client, "/admin/points/adjust", form)
    assert first.status_code == second.status_code == 302
    assert "+40 points for Lena H: Fair booth." in client.get("/admin/points").get_data(
        as_text=True
    )
    with app.app_context():
        lines = list(db.session.scalars(select(LedgerLine).where(LedgerLine.employee_id == target)))
        assert [(line.kind, line.points, line.reason) for line in lines] == [
            (LineKind.ADJUSTMENT, 40, "Fair booth")
        ]
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "ledger.adjust"))
        settle()
        standing = BoardStore(get_redis()).standing(board_key("company", "all"), target)
        assert (standing.rank, standing.points) == (1, 40)
    # A fresh form has a fresh key.
    assert key not in client.get("/admin/points").get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "status", "field", "problem"),
    [
        ({"email": "", "points": "5", "reason": "r"}, 422, "email", "Not a valid email"),
        ({"email": "nobody@example.com", "points": "5", "reason": "r"}, 422, "email", "Nobody"),
        ({"email": "lena@example.com", "points": "", "reason": "r"}, 422, "points", "required"),
        (
            {"email": "lena@example.com", "points": "x", "reason": "r"},
            422,
            "points",
            "valid integer",
        ),
        (
            {"email": "lena@example.com", "points": "0", "reason": "r"},
            422,
            "points",
            "other than 0",
        ),
        (
            {"email": "lena@example.com", "points": "-11", "reason": "r"},
            422,
            "points",
            "below zero",
        ),
        (
            {"email": "lena@example.com", "points": "5", "reason": ""},
            422,
            "reason",
            "cannot be empty",
        ),
        (
            {"email": "lena@example.com", "points": "5", "reason": "r" * 301},
            422,
            "reason",
            "At most 300 characters",
        ),
        (
            {"email": "lena@example.com", "points": "5", "reason": "r", "adjustment_id": ""},
            422,
            "adjustment_id",
            "Length|required",
        ),
    ],
)
def test_bad_adjustments_change_nothing(app, client, login, data, status, field, problem):
    login(Role.ADMIN)
    with app.app_context():
        give(EmployeeFactory(email="lena@example.com", opted_in=True), 10)
        before = count(LedgerLine), count(AuditEntry)
    response = _post(client, "/admin/points/adjust", {"adjustment_id": "b" * 32, **data})
    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page or field == "adjustment_id"
    assert re.search(problem, page)
    assert 'value="lena@example.com"' in page or data.get("email") != "lena@example.com"
    with app.app_context():
        assert (count(LedgerLine), count(AuditEntry)) == before


def test_a_reused_adjustment_key_for_another_change_is_refused(app, client, login):
    login(Role.ADMIN)
    with app.app_context():
        EmployeeFactory(email="lena@example.com", opted_in=True)
    form = {"email": "lena@example.com", "points": "5", "reason": "r", "adjustment_id": "c" * 32}
    assert _post(client, "/admin/points/adjust", form).status_code == 302
    response = _post(client, "/admin/points/adjust", {**form, "points": "6"})
    assert response.status_code == 409
    with app.app_context():
        assert count(LedgerLine) == 1


@pytest.mark.parametrize(
    "path", ["/admin/points/adjust", "/admin/points/recalculate", "/admin/points/rebuild"]
)
def test_forms_without_csrf_are_refused(app, client, login, path):
    login(Role.ADMIN)
    with app.app_context():
        EmployeeFactory(email="lena@example.com", opted_in=True)
    data = {"email": "lena@example.com", "points": "5", "reason": "r", "adjustment_id": "d" * 32}
    data |= {"since": "2026-01-01T00:00", "request_id": "e" * 32}
    response = client.post(path, data=data)
    assert response.status_code == 400
    with app.app_context():
        assert count(LedgerLine) == 0
        assert queue("scoring").count == 0


# Admin: recalculation and rebuild --------------------------------------------------


def test_recalculation_is_queued_once_and_writes_compensations(app, client, login, run_jobs):
    admin = login(Role.ADMIN)
    with app.app_context():
        install_company()
        lena = EmployeeFactory(opted_in=True).id
        _shares(lena, 2, utcnow() - timedelta(hours=2))
        settle()
        rule = db.session.scalar(
            select(rules_service.ScoringRule).where(rules_service.ScoringRule.name == "Sharing")
        )
        rules_service.edit_rule(None, rule, {"points": 8}, utcnow() - timedelta(hours=3))
        db.session.commit()
    page = client.get("/admin/points").get_data(as_text=True)
    key = re.search(r'name="request_id" value="([0-9a-f]{32})"', page).group(1)
    since = (utcnow() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    first = _post(client, "/admin/points/recalculate", {"since": since, "request_id": key})
    second = _post(client, "/admin/points/recalculate", {"since": since, "request_id": key})
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == f"/admin/points?job=recalculate-points-{key}"
    with app.app_context():
        assert queue("scoring").count == 1  # the double submit queued one job
    page = client.get(first.headers["Location"]).get_data(as_text=True)
    assert "Recalculation" in page
    assert "queued" in page
    run_jobs()
    page = client.get(first.headers["Location"]).get_data(as_text=True)
    assert 'data-job-status="finished"' in page
    assert "(2 corrections)" in page
    with app.app_context():
        lines = db.session.scalars(
            select(LedgerLine).where(LedgerLine.kind == LineKind.COMPENSATION)
        ).all()
        assert sorted(line.points for line in lines) == [2, 3]  # 8 + 7: the cap of 15 a day
        assert all(line.created_by_id is None for line in lines)
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "ledger.recalculate")
        )
        assert entry.actor_id == admin.id
        standing = BoardStore(get_redis()).standing(board_key("company", "all"), lena)
        assert standing.points == 15


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"since": ""}, "required"),
        ({"since": "yesterday"}, "Not a valid datetime"),
        ({"since": "2026-02-30T10:00"}, "Not a valid datetime"),
        ({"since": "2999-01-01T00:00"}, "in the past"),
        ({"request_id": "not hex"}, "Reload the page"),
    ],
)
def test_bad_recalculations_queue_nothing(app, client, login, data, problem):
    login(Role.ADMIN)
    form = {"since": "2026-01-01T00:00", "request_id": "f" * 32, **data}
    response = _post(client, "/admin/points/recalculate", form)
    assert response.status_code == 422
    assert problem in response.get_data(as_text=True)
    with app.app_context():
        assert queue("scoring").count == 0


def test_rebuild_is_queued_and_runs(app, client, login, run_jobs):
    login(Role.ADMIN)
    with app.app_context():
        install_company()
        lena = EmployeeFactory(opted_in=True)
        give(lena, 9)
        settle()
        get_redis().delete(board_key("company", "all"))
        lena_id = lena.id
    page = client.get("/admin/points").get_data(as_text=True)
    key = re.findall(r'name="request_id" value="([0-9a-f]{32})"', page)[-1]
    response = _post(client, "/admin/points/rebuild", {"request_id": key})
    assert response.status_code == 302
    assert "Rebuild of all boards" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    with app.app_context():
        assert queue("scoring").count == 1
    run_jobs()
    with app.app_context():
        assert BoardStore(get_redis()).standing(board_key("company", "all"), lena_id).points == 9
    assert _post(client, "/admin/points/rebuild", {"request_id": "x"}).status_code == 422
