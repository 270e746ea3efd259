"""The operators' ``flask`` commands."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.demo import DEMO_LOGINS
from app.extensions import db
from app.models import (
    AuditEntry,
    ContentItem,
    Employee,
    Event,
    LedgerLine,
    Redemption,
    Reward,
    Role,
    ScoringRule,
    Team,
)
from app.services import ledger
from app.services.people import find_employee_by_email
from app.services.sign_in import check_sign_in_token
from app.services.tokens import authenticate
from tests.factories import EmployeeFactory

LINK = re.compile(r"http://localhost/sign-in/(\S+)")


def links_in(output: str) -> list[str]:
    return LINK.findall(output)


def test_create_admin_prints_a_working_link(app, runner):
    result = runner.invoke(args=["create-admin", " Ada@Example.com", "--name", "Ada Admin"])
    assert result.exit_code == 0, result.output
    assert "ada@example.com is an admin" in result.output
    [token] = links_in(result.output)
    with app.app_context():
        admin = check_sign_in_token(token)
        assert (admin.email, admin.name, admin.role) == ("ada@example.com", "Ada Admin", Role.ADMIN)
        # A new installation starts with the default scoring rules, installed once.
        assert db.session.scalar(select(func.count()).select_from(ScoringRule)) == 5
    assert "Installed 5 default scoring rules" in result.output
    again = runner.invoke(args=["create-admin", "ada@example.com", "--name", "Ada Admin"])
    assert "default scoring rules" not in again.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ScoringRule)) == 5


def test_create_admin_again_promotes_and_reactivates(app, runner):
    with app.app_context():
        EmployeeFactory(email="ben@example.com", name="Ben", role=Role.EMPLOYEE, active=False)
    result = runner.invoke(args=["create-admin", "ben@example.com", "--name", "Ignored"])
    assert result.exit_code == 0, result.output
    [token] = links_in(result.output)
    with app.app_context():
        ben = check_sign_in_token(token)
        assert (ben.role, ben.active, ben.name) == (Role.ADMIN, True, "Ben")
        assert db.session.scalar(select(func.count()).select_from(Employee)) == 1
        assert db.session.scalar(select(AuditEntry.action)) == "employee.update"
    again = runner.invoke(args=["create-admin", "ben@example.com", "--name", "Ben"])
    assert again.exit_code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create-admin", "not-an-address", "--name", "X"], "Not a valid e-mail address"),
        (["create-admin", "x@example.com", "--name", " "], "A name is required"),
        (["sign-in-link", "nobody@example.com"], "No active employee"),
        (["create-token", "nobody@example.com", "--name", "x"], "No employee"),
        (["import-people", "/no/such/file.csv"], "does not exist"),
    ],
)
def test_commands_fail_clearly(runner, args, message):
    result = runner.invoke(args=args)
    assert result.exit_code != 0
    assert message in result.output


def test_sign_in_link_for_an_active_employee(app, runner):
    with app.app_context():
        EmployeeFactory(email="cara@example.com")
        EmployeeFactory(email="gone@example.com", active=False)
    result = runner.invoke(args=["sign-in-link", "CARA@example.com"])
    assert result.exit_code == 0
    [token] = links_in(result.output)
    with app.app_context():
        assert check_sign_in_token(token).email == "cara@example.com"
    refused = runner.invoke(args=["sign-in-link", "gone@example.com"])
    assert refused.exit_code == 1
    assert links_in(refused.output) == []


def test_import_people_reports_and_saves_good_rows(app, runner, tmp_path):
    csv_file = tmp_path / "people.csv"
    csv_file.write_text(
        "\ufeffemail,name,team,role\n"
        "dora@example.com,Dora Diaz,Sales,team_lead\n"
        "bad-address,Bad Row,Sales,\n"
        "emil@example.com,Emil Ek,Support,\n"
        "emil@example.com,Emil Twice,,\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["import-people", "--create-teams", str(csv_file)])
    assert result.exit_code == 1  # some rows were rejected
    assert "created 2, updated 0, new teams 2, rejected 2" in result.output
    assert "line 3: Not a valid e-mail address." in result.stderr
    assert "line 5: emil@example.com appears twice in the file." in result.stderr
    with app.app_context():
        assert find_employee_by_email("dora@example.com").role is Role.TEAM_LEAD
        assert sorted(db.session.scalars(select(Team.name))) == ["Sales", "Support"]

    csv_file.write_text("email,name\ndora@example.com,Dora D.\n", encoding="utf-8")
    clean = runner.invoke(args=["import-people", str(csv_file)])
    assert clean.exit_code == 0
    assert "created 0, updated 1, new teams 0, rejected 0" in clean.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"name,team\nDora,Sales\n", "missing: email"),
        ("email,name\nfrançois@example.com,François\n".encode("latin-1"), "not UTF-8"),
    ],
)
def test_import_people_refuses_unreadable_files(app, runner, tmp_path, content, message):
    csv_file = tmp_path / "people.csv"
    csv_file.write_bytes(content)
    result = runner.invoke(args=["import-people", str(csv_file)])
    assert result.exit_code == 1
    assert message in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Employee)) == 0


def test_create_token_prints_a_secret_that_authenticates(app, runner):
    with app.app_context():
        EmployeeFactory(email="ops@example.com", role=Role.HR)
    result = runner.invoke(args=["create-token", "ops@example.com", "--name", "ATS"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip()
    with app.app_context():
        assert authenticate(secret).email == "ops@example.com"


def test_seed_demo_loads_a_company_once(app, runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "Demo data loaded:" in result.output
    tokens = links_in(result.output)
    assert len(tokens) == len(DEMO_LOGINS) == 4
    with app.app_context():
        people = db.session.scalars(select(Employee)).all()
        assert 45 <= len(people) <= 60
        assert db.session.scalar(select(func.count()).select_from(Team)) == 7  # 5 of 10, 2 of 4
        assert {p.role for p in people} == set(Role)
        assert all(p.team_id is not None for p in people)
        assert any(p.participating for p in people)
        assert any(not p.participating for p in people)
        for role, token in zip(DEMO_LOGINS, tokens, strict=True):
            assert check_sign_in_token(token).role is Role(role)
        # The demo has a history: published content, shares, and points on the boards.
        assert db.session.scalar(select(func.count()).select_from(ContentItem)) >= 4
        assert db.session.scalar(select(func.count()).select_from(LedgerLine)) > 100
        assert (
            db.session.scalar(
                select(func.count()).select_from(Event).where(Event.scored_at.is_(None))
            )
            == 0
        )
        # Rewards, and redemptions in several states paid from real, sufficient balances.
        assert db.session.scalar(select(func.count()).select_from(Reward)) == 7  # one a team's
        redemptions = db.session.scalars(select(Redemption)).all()
        assert len({r.state for r in redemptions}) >= 3
        for person in {r.employee_id for r in redemptions}:
            balance = ledger.balance(person)
            assert balance.vested >= balance.spent + balance.held
        counts = (len(people), db.session.scalar(select(func.count()).select_from(AuditEntry)))

    again = runner.invoke(args=["seed-demo", "--no-links"])
    assert again.exit_code == 0
    assert "Demo data was there already." in again.output
    assert links_in(again.output) == []
    with app.app_context():
        assert (
            db.session.scalar(select(func.count()).select_from(Employee)),
            db.session.scalar(select(func.count()).select_from(AuditEntry)),
        ) == counts
