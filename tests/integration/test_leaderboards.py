"""What people see on the boards: names as chosen, own points always, windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.boards import board_key
from app.errors import InvalidInput, NotFound
from app.extensions import db
from app.jobs import rebuild_boards as rebuild_boards_job
from app.models import Role
from app.schemas.leaderboards import BoardViewSchema, board_view_json
from app.services import ledger, participation, people
from app.services import rules as rules_service
from app.services.leaderboards import Scope, Viewer, store, view_board
from app.services.scoring import apply_pending_lines, score_pending_events
from scoring.participation import Presence
from scoring.vocabulary import Channel, EventKind
from scoring.windows import Window
from tests.conftest import sql_statements
from tests.factories import CompanySettingsFactory, EmployeeFactory, EventFactory, TeamFactory

OCTOBER = datetime(2026, 10, 14, 9, tzinfo=UTC)


@pytest.fixture
def company(ctx):
    CompanySettingsFactory(time_zone="Europe/Berlin")
    rules_service.install_default_rules(effective_at=OCTOBER - timedelta(days=60))
    db.session.commit()


def earn(employee, clicks: int, at: datetime) -> None:
    for i in range(clicks):
        EventFactory(
            kind=EventKind.CLICK,
            employee_id=employee.id,
            team_id=employee.team_id,
            occurred_at=at + timedelta(minutes=i),
            channel=Channel.X,
            natural_key=f"click:{employee.id}:{at.isoformat()}:{i}",
        )


def settle():
    score_pending_events()
    db.session.commit()
    apply_pending_lines(store())
    db.session.commit()


def test_names_follow_each_persons_choice_and_ties_rank_equal(company):
    team = TeamFactory()
    named = EmployeeFactory(opted_in=True, team=team, name="Lena Hoffmann")
    masked = EmployeeFactory(
        opted_in=True, team=team, presence=Presence.PSEUDONYM, pseudonym="Wind Rider"
    )
    third = EmployeeFactory(opted_in=True, team=team, name="Jonas Becker")
    now = datetime.now(UTC) - timedelta(hours=1)
    earn(named, 3, now)
    earn(masked, 3, now + timedelta(minutes=10))
    earn(third, 1, now)
    settle()
    view = view_board(third, Scope.COMPANY, Window.ALL_TIME)
    assert [(r.rank, r.name, r.points, r.is_me) for r in view.rows] == [
        (1, "Lena Hoffmann", 3, False),
        (1, "Wind Rider", 3, False),
        (3, "Jonas Becker", 1, True),
    ]
    assert (view.my_rank, view.my_points, view.size) == (3, 1, 3)
    team_view = view_board(third, Scope.TEAM, Window.ALL_TIME)
    assert team_view.team.id == team.id
    assert team_view.size == 3


def test_names_are_kept_beside_the_boards_and_follow_every_change(app, company):
    lena = EmployeeFactory(opted_in=True, name="Lena Hoffmann")
    jonas = EmployeeFactory(opted_in=True, name="Jonas Becker")
    now = datetime.now(UTC) - timedelta(hours=1)
    earn(lena, 2, now)
    earn(jonas, 1, now)
    settle()
    reader = Viewer(jonas.id, jonas.team_id)

    def shown() -> list[str]:
        return [row.name for row in view_board(reader, Scope.COMPANY, Window.ALL_TIME).rows]

    assert shown() == ["Lena Hoffmann", "Jonas Becker"]  # read from the database, kept
    with sql_statements(app) as statements:
        assert shown() == ["Lena Hoffmann", "Jonas Becker"]
    assert statements == []

    people.update_employee(None, lena, {"name": "Lena Schmidt"})
    db.session.commit()
    assert store().view(board_key("company", "all"), names=True).names[lena.id] == "Lena Schmidt"
    participation.update_presence(jonas, Presence.PSEUDONYM, "Quiet Fox")
    db.session.commit()
    assert shown() == ["Lena Schmidt", "Quiet Fox"]
    participation.update_presence(jonas, Presence.HIDDEN, None)
    db.session.commit()
    assert jonas.id not in store().view(board_key("company", "all"), names=True).names


def test_a_hidden_person_sees_their_own_points_but_is_not_ranked(company):
    shown, hidden = EmployeeFactory(opted_in=True), EmployeeFactory(opted_in=True)
    hidden.presence = Presence.HIDDEN
    db.session.commit()
    now = datetime.now(UTC) - timedelta(hours=1)
    earn(shown, 1, now)
    earn(hidden, 4, now)
    settle()
    view = view_board(hidden, Scope.COMPANY, Window.ALL_TIME)
    assert [r.rank for r in view.rows] == [1]
    assert (view.my_rank, view.my_points, view.on_board) == (None, 4, False)


def test_finished_windows_stay_readable(company):
    alice = EmployeeFactory(opted_in=True)
    earn(alice, 2, OCTOBER)
    settle()
    october = view_board(alice, Scope.COMPANY, Window.MONTH, period="2026-10")
    assert (october.window_key, october.my_points, october.my_rank) == ("2026-10", 2, 1)
    week = view_board(alice, Scope.COMPANY, Window.WEEK, period="w2026-10-12")
    assert week.my_points == 2
    assert view_board(alice, Scope.COMPANY, Window.MONTH, period="2026-11").my_points == 0


def test_around_me_starts_half_a_page_above(company):
    people = [EmployeeFactory(opted_in=True) for _ in range(8)]
    now = datetime.now(UTC) - timedelta(hours=2)
    for i, person in enumerate(people):
        earn(person, 8 - i, now)
    settle()
    view = view_board(people[6], Scope.COMPANY, Window.ALL_TIME, limit=4, around_me=True)
    assert [r.rank for r in view.rows] == [5, 6, 7, 8]
    assert view.offset == 4


@pytest.mark.parametrize(
    ("arguments", "error", "field"),
    [
        ({"limit": 0}, InvalidInput, "limit"),
        ({"limit": 101}, InvalidInput, "limit"),
        ({"offset": -1}, InvalidInput, "offset"),
        ({"period": "October"}, InvalidInput, "period"),
        ({"window": Window.DAY}, InvalidInput, "window"),
    ],
)
def test_bad_requests_name_the_field(company, arguments, error, field):
    alice = EmployeeFactory(opted_in=True)
    window = arguments.pop("window", Window.MONTH)
    with pytest.raises(error) as caught:
        view_board(alice, Scope.COMPANY, window, **arguments)
    assert field in caught.value.errors


def test_a_team_board_needs_a_team(company):
    loner = EmployeeFactory(opted_in=True, team=None)
    with pytest.raises(NotFound):
        view_board(loner, Scope.TEAM, Window.ALL_TIME)


@pytest.mark.parametrize(
    ("scope", "window"), [(Scope.COMPANY, Window.ALL_TIME), (Scope.TEAM, Window.MONTH)]
)
def test_the_board_json_is_what_its_schema_documents(company, scope, window):
    team = TeamFactory(name="Red")
    alice = EmployeeFactory(opted_in=True, team=team)
    earn(alice, 2, datetime.now(UTC) - timedelta(hours=1))
    settle()
    view = view_board(alice, scope, window)
    assert board_view_json(view) == BoardViewSchema().dump(view)


def test_points_taken_off_this_week_for_last_weeks_work_rebuild_and_return_alike(company, run_jobs):
    """A week board below zero: shown live, rebuilt the same, restored the same."""
    admin = EmployeeFactory(role=Role.ADMIN)
    alice, bob = EmployeeFactory(opted_in=True), EmployeeFactory(opted_in=True)
    earn(alice, 3, datetime.now(UTC) - timedelta(days=8))
    earn(bob, 1, datetime.now(UTC) - timedelta(hours=1))
    settle()
    ledger.adjust_points(admin, alice, -2, "Duplicate clicks last week", "dup-1")
    db.session.commit()
    settle()
    week = view_board(bob, Scope.COMPANY, Window.WEEK)
    assert [(r.rank, r.points, r.is_me) for r in week.rows] == [(1, 1, True), (2, -2, False)]
    boards = store()
    live = {key: boards.scores(key) for key in boards.board_keys()}

    assert rebuild_boards_job() > 0
    assert {key: boards.scores(key) for key in boards.board_keys()} == live

    participation.update_presence(alice, Presence.HIDDEN, None)
    db.session.commit()
    run_jobs()
    assert view_board(alice, Scope.COMPANY, Window.WEEK).my_rank is None
    participation.update_presence(alice, Presence.NAMED, None)
    db.session.commit()
    run_jobs()
    assert {key: boards.scores(key) for key in boards.board_keys()} == live
    assert view_board(alice, Scope.COMPANY, Window.WEEK).my_points == -2
