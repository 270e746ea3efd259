"""Names unique whatever their case, judged by the database: two requests that pass the
service's check at the same moment cannot both store "Straße" and "STRASSE"."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import column, event, func, insert, select, table
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import Conflict
from app.extensions import db
from app.models import (
    Employee,
    Interest,
    Presence,
    ReferralProgramme,
    Reward,
    ScoringRule,
    TabooTopic,
    Team,
)
from app.services import participation, people, redemptions, referrals, rules, taboo
from scoring.vocabulary import EventKind
from tests import factories

# The revision before the one that added the name keys.
BEFORE_NAME_KEYS = "6a1d3c9e5b70"


def _employee_named(name: str) -> Employee:
    return db.session.scalars(select(Employee).where(Employee.name == name)).one()


# What each request does, and the name column it stores.
WRITERS = {
    "team": (Team.name, lambda name: people.create_team(None, name)),
    "interest": (Interest.name, lambda name: people.create_interest(None, name)),
    "reward": (
        Reward.name,
        lambda name: redemptions.create_reward(None, {"name": name, "cost": 5}),
    ),
    "taboo topic": (
        TabooTopic.name,
        lambda name: taboo.create_topic(
            None, {"name": name, "explanation": "Not ours to say.", "phrases": ["merger"]}
        ),
    ),
    "scoring rule": (
        ScoringRule.name,
        lambda name: rules.create_rule(None, name=name, event_kind=EventKind.SHARE, points=1),
    ),
    "referral programme": (
        ReferralProgramme.name,
        lambda name: referrals.create_programme(None, name=name, content_tag="jobs"),
    ),
    # Each request renames its own employee: the one created under the same name.
    "pseudonym": (
        Employee.pseudonym,
        lambda name: participation.update_presence(_employee_named(name), Presence.PSEUDONYM, name),
    ),
}


@contextmanager
def checks_pass_together():
    """Hold each request's first write until every request has passed its name check,
    as when they arrive at the same moment: both then insert, and only the database's
    constraint stands between them."""
    barrier = threading.Barrier(2, timeout=20)
    held = threading.local()

    def wait_for_the_other(session, _flush_context, _instances):
        if not getattr(held, "done", False):
            held.done = True
            barrier.wait()

    event.listen(Session, "before_flush", wait_for_the_other)
    try:
        yield
    finally:
        event.remove(Session, "before_flush", wait_for_the_other)


def _request(app, write, name: str) -> str:
    with app.app_context():
        try:
            write(name)
            db.session.commit()
            return "stored"
        except Conflict as refusal:
            db.session.rollback()
            return str(refusal.status)
        finally:
            db.session.remove()


@pytest.mark.parametrize("kind", list(WRITERS))
@pytest.mark.parametrize("names", [("Straße", "STRASSE"), ("Team", "team")])
def test_two_requests_at_once_store_one_name(app, kind, names):
    name_column, write = WRITERS[kind]
    if kind == "pseudonym":
        with app.app_context():
            for name in names:
                factories.EmployeeFactory(name=name, opted_in=True)
            db.session.commit()
    with checks_pass_together(), ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(lambda name: _request(app, write, name), names))
    assert sorted(outcomes) == ["409", "stored"]
    with app.app_context():
        stored = db.session.scalars(select(name_column).where(name_column.is_not(None))).all()
    assert len(stored) == 1
    assert stored[0] in names


def test_renaming_onto_a_name_taken_meanwhile_answers_409(app):
    with app.app_context():
        sales, ops = factories.TeamFactory(name="Sales"), factories.TeamFactory(name="Ops")
        db.session.commit()
        ids = sales.id, ops.id

    def rename(team_id: int, name: str) -> str:
        return _request(
            app, lambda new: people.rename_team(None, db.session.get(Team, team_id), new), name
        )

    with checks_pass_together(), ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(rename, ids, ["Straße", "STRASSE"]))
    assert sorted(outcomes) == ["409", "stored"]
    with app.app_context():
        names = db.session.scalars(select(Team.name)).all()
    assert sorted(names) in (["Ops", "Straße"], ["STRASSE", "Sales"])


def test_another_integrity_error_is_not_a_name_clash(ctx):
    factories.EmployeeFactory(email="taken@example.com")
    employee = factories.EmployeeFactory(opted_in=True)
    employee.email = "taken@example.com"
    with db.session.no_autoflush, pytest.raises(IntegrityError, match="email"):
        participation.update_presence(employee, Presence.PSEUDONYM, "Fuchs")


def test_the_migration_keys_existing_names_and_suffixes_later_clashes(app):
    """Rows stored before the keys existed may clash by case: the oldest keeps the plain
    key, later ones a suffixed one, and the constraint holds from then on."""
    with app.app_context():
        db.session.remove()
        downgrade(revision=BEFORE_NAME_KEYS)
        teams = table("teams", column("id"), column("name"), column("created_at"))
        employees = table(
            "employees",
            *(column(c) for c in ("id", "email", "name", "role", "active", "created_at")),
            *(column(c) for c in ("login_nonce", "presence", "pseudonym")),
        )
        now = datetime(2026, 11, 1, tzinfo=UTC)
        with db.engine.begin() as connection:
            connection.execute(
                insert(teams),
                [
                    {"id": 1, "name": "Straße", "created_at": now},
                    {"id": 2, "name": "Sales", "created_at": now},
                    {"id": 3, "name": "STRASSE", "created_at": now},
                    {"id": 4, "name": "strasse", "created_at": now},
                ],
            )
            connection.execute(
                insert(employees),
                [
                    {
                        "id": n,
                        "email": f"p{n}@example.com",
                        "name": f"Person {n}",
                        "role": "employee",
                        "active": True,
                        "created_at": now,
                        "login_nonce": f"nonce{n}",
                        "presence": "pseudonym" if pseudonym else "named",
                        "pseudonym": pseudonym,
                    }
                    for n, pseudonym in ((1, None), (2, "Fuchs"), (3, "FUCHS"), (4, None))
                ],
            )
        try:
            upgrade()
            keys = dict(db.session.execute(select(Team.id, Team.name_key)).all())
            assert keys == {1: "strasse", 2: "sales", 3: "strasse #3", 4: "strasse #4"}
            pseudonyms = dict(db.session.execute(select(Employee.id, Employee.pseudonym_key)).all())
            assert pseudonyms == {1: None, 2: "fuchs", 3: "fuchs #3", 4: None}
            # Names are left as they were; a new clash is refused.
            assert db.session.scalar(select(func.count()).select_from(Team)) == 4
            with pytest.raises(Conflict):
                people.create_team(None, "STRAßE")
        finally:
            db.session.rollback()
            db.session.remove()
            upgrade()  # whatever failed above, later tests get the whole schema


def test_an_erased_pseudonym_is_free_for_someone_else(ctx):
    fuchs = factories.EmployeeFactory(opted_in=True)
    participation.update_presence(fuchs, Presence.PSEUDONYM, "Fuchs")
    db.session.commit()
    participation.erase_employee(None, fuchs)
    db.session.commit()
    assert fuchs.pseudonym_key is None
    other = factories.EmployeeFactory(opted_in=True)
    participation.update_presence(other, Presence.PSEUDONYM, "FUCHS")
    db.session.commit()
    assert other.pseudonym_key == "fuchs"


def test_a_renamed_team_frees_its_old_name(ctx):
    team = people.create_team(None, "Straße")
    people.rename_team(None, team, "Vertrieb")
    db.session.commit()
    assert team.name_key == "vertrieb"
    assert people.create_team(None, "STRASSE").name_key == "strasse"
