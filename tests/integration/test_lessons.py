"""Lessons through the service, the real database and Redis: points once whatever the
retries, nothing tracked before opt-in, the points line reaches the boards through the
normal pipeline; and shares in the employee's own words, which a rule can reward."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.errors import Conflict, InvalidInput, NotFound
from app.extensions import db
from app.jobs import settle_points
from app.models import BadgeGrant, Employee, LedgerLine, Lesson, LessonCompletion, LineKind, Share
from app.queue import queue
from app.services import events, lessons, lessons_demo, sharing
from app.services import rules as rules_service
from app.services.scoring import apply_pending_lines, score_pending_events
from scoring.keys import lesson_line_key
from scoring.lessons import question_problems
from scoring.vocabulary import Channel, EventKind
from tests.factories import BadgeFactory, ContentItemFactory, EmployeeFactory, ShareTemplateFactory
from tests.integration.scoring_support import COMPANY, T0

QUESTIONS = [
    {"question": "Disclose?", "choices": ["Always", "Never"], "answer": 0},
    {"question": "Salaries?", "choices": ["Share them", "Keep them private"], "answer": 1},
]


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def published(points: int = 15, title: str = "Off-limits", age: int = 0) -> Lesson:
    lesson = lessons.create_lesson(None, {"title": title, "points": points, "questions": QUESTIONS})
    lessons.publish_lesson(None, lesson)
    lesson.published_at -= timedelta(days=age)
    db.session.flush()
    return lesson


@pytest.fixture
def alice(ctx) -> Employee:
    return EmployeeFactory(opted_in=True)


def test_a_pass_gives_points_once_and_they_reach_the_boards(store, alice):
    lesson = published()
    first = lessons.complete(alice, lesson, [0, 1])
    again = lessons.complete(alice, lesson, [0, 1])
    db.session.commit()
    assert (first.passed, first.first_time, first.points_awarded) == (True, True, 15)
    assert (again.passed, again.first_time, again.points_awarded) == (True, False, 0)
    line = db.session.scalar(select(LedgerLine))
    assert (line.kind, line.line_key, line.points, line.team_id, line.boards_applied) == (
        LineKind.LESSON,
        lesson_line_key(lesson.id, alice.id),
        15,
        alice.team_id,
        False,
    )
    assert count(LessonCompletion) == 1

    settle_points()  # the normal pipeline applies waiting lines
    db.session.expire_all()
    assert db.session.get(LedgerLine, line.id).boards_applied is True
    assert store.standing(COMPANY, alice.id).points == 15


def test_a_wrong_attempt_writes_nothing_and_says_what_was_right(ctx, alice):
    lesson = published()
    result = lessons.complete(alice, lesson, [0, 0])
    assert result.passed is False
    assert [(m.index, m.right_choice) for m in result.grade.mistakes] == [(1, "Keep them private")]
    assert result.completed_at is None
    assert count(LessonCompletion) == count(LedgerLine) == 0


def test_a_lesson_without_points_is_finished_without_a_line(ctx, alice):
    lesson = published(points=0)
    assert lessons.complete(alice, lesson, [0, 1]).first_time is True
    assert count(LessonCompletion) == 1
    assert count(LedgerLine) == 0


def test_points_raised_later_are_not_paid_to_those_who_finished(ctx, alice):
    lesson = published(points=0)
    lessons.complete(alice, lesson, [0, 1])
    lessons.update_lesson(None, lesson, {"points": 50})
    assert lessons.complete(alice, lesson, [0, 1]).points_awarded == 0
    assert count(LedgerLine) == 0


def test_nothing_is_tracked_before_opt_in(ctx):
    bob = EmployeeFactory()
    lesson = published()
    with pytest.raises(Conflict):
        lessons.complete(bob, lesson, [0, 1])
    assert count(LessonCompletion) == count(LedgerLine) == 0


def test_drafts_and_retired_lessons_cannot_be_finished(ctx, alice):
    draft = lessons.create_lesson(None, {"title": "Draft", "questions": QUESTIONS})
    retired = published(title="Old")
    lessons.retire_lesson(None, retired)
    for lesson in (draft, retired):
        with pytest.raises(NotFound):
            lessons.complete(alice, lesson, [0, 1])
    assert count(LessonCompletion) == 0


def test_bad_answers_are_refused_by_field(ctx, alice):
    lesson = published()
    with pytest.raises(InvalidInput) as refused:
        lessons.complete(alice, lesson, [0, 5])
    assert list(refused.value.errors) == ["answers.1"]


def test_new_for_lists_unfinished_open_lessons_newest_first(ctx, alice):
    oldest = published(title="Oldest", age=3)
    middle = published(title="Middle", age=2)
    newest = published(title="Newest", age=1)
    newer = published(title="Newer still")
    lessons.retire_lesson(None, newer)
    lessons.create_lesson(None, {"title": "Draft", "questions": QUESTIONS})
    assert lessons.new_for(alice) == [newest, middle, oldest]
    lessons.complete(alice, middle, [0, 1])
    assert lessons.new_for(alice) == [newest, oldest]
    assert lessons.new_for(alice, limit=1) == [newest]
    entries = lessons.lessons_for(alice)
    assert [(e.lesson.title, e.done) for e in entries] == [
        ("Newest", False),
        ("Middle", True),
        ("Oldest", False),
    ]


def test_two_submits_at_once_give_the_points_once(app, ctx):
    lesson = published()
    employee = EmployeeFactory(opted_in=True)
    db.session.commit()
    ids = (employee.id, lesson.id)
    results = []
    start = threading.Barrier(2)

    def submit() -> None:
        with app.app_context():
            start.wait()
            try:
                person = db.session.get(Employee, ids[0])
                result = lessons.complete(person, db.session.get(Lesson, ids[1]), [0, 1])
                db.session.commit()
                results.append(result.points_awarded)
            except Exception as exc:  # SQLite: the second writer may find the database busy
                db.session.rollback()
                results.append(type(exc).__name__)

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 15 in results
    assert sorted(r for r in results if isinstance(r, int)) in ([0, 15], [15])
    db.session.expire_all()
    lines = db.session.scalars(select(LedgerLine).where(LedgerLine.employee_id == ids[0])).all()
    assert [line.points for line in lines] == [15]


def test_the_demo_lessons_are_well_formed_and_added_once(ctx):
    for data in lessons_demo.DEMO_LESSONS:
        assert question_problems(data["questions"]) == {}
        assert 2 <= len(data["questions"]) <= 3
    now = T0 + timedelta(days=10)
    added = lessons_demo.add_demo_lessons(None, now)
    assert len(added) == 3
    assert all(lesson.published_at < now for lesson in added)
    assert lessons_demo.add_demo_lessons(None, now) == []
    assert count(Lesson) == 3


# Own words ---------------------------------------------------------------------------


@pytest.fixture
def wind_farm(ctx):
    item = ContentItemFactory()
    ShareTemplateFactory(
        content_id=item.id,
        channel=Channel.LINKEDIN,
        text="Three new wind farms this year, and our engineers are hiring.",
    )
    return item


def test_a_share_knows_whether_it_is_in_own_words(ctx, wind_farm):
    people = [EmployeeFactory(opted_in=True) for _ in range(3)]
    as_is = sharing.create_share(people[0], content_id=wind_farm.id, channel=Channel.LINKEDIN)
    typo = sharing.create_share(
        people[1],
        content_id=wind_farm.id,
        channel=Channel.LINKEDIN,
        text="Three new wind farms this year, and our engineers are hirng!",
    )
    own = sharing.create_share(
        people[2],
        content_id=wind_farm.id,
        channel=Channel.LINKEDIN,
        text="Three new wind farms this year. I helped plan the first one and I am proud "
        "of it: our engineers are hiring.",
    )
    assert [as_is.own_words, typo.own_words, own.own_words] == [False, False, True]


def test_a_rule_for_own_words_rewards_only_those_shares_and_their_clicks(store, wind_farm):
    rules_service.create_rule(
        None,
        name="Own words bonus",
        event_kind=EventKind.SHARE,
        points=7,
        own_words=True,
        effective_at=T0,
    )
    rules_service.create_rule(
        None,
        name="Clicks on own words",
        event_kind=EventKind.CLICK,
        points=2,
        own_words=True,
        effective_at=T0,
    )
    templated, rewritten = EmployeeFactory(opted_in=True), EmployeeFactory(opted_in=True)
    plain = sharing.create_share(templated, content_id=wind_farm.id, channel=Channel.LINKEDIN)
    own = sharing.create_share(
        rewritten,
        content_id=wind_farm.id,
        channel=Channel.LINKEDIN,
        text="We are hiring engineers for offshore wind. Ask me what it is like to work here!",
    )
    for share in (plain, own):
        events.record_event(
            EventKind.CLICK,
            f"click:{share.id}:test",
            employee_id=share.employee_id,
            occurred_at=share.created_at,
            team_id=share.team_id,
            share_id=share.id,
            content_id=share.content_id,
            channel=share.channel,
        )
    db.session.commit()
    score_pending_events()
    db.session.commit()
    apply_pending_lines(store)
    db.session.commit()
    lines = db.session.execute(
        select(LedgerLine.employee_id, LedgerLine.reason, LedgerLine.points).order_by(LedgerLine.id)
    ).all()
    bonus = {(e, r): p for e, r, p in lines if "own words" in r}
    assert bonus == {
        (rewritten.id, "Own words bonus: sharing content on LinkedIn, in your own words"): 7,
        (
            rewritten.id,
            "Clicks on own words: a unique click on your link on LinkedIn, in your own words",
        ): 2,
    }
    # Both still get the plain sharing rule's points.
    assert {e for e, r, _ in lines if r.startswith("Sharing:")} == {templated.id, rewritten.id}
    assert db.session.get(Share, own.id).own_words is True


def test_a_completion_queues_the_badge_job_which_grants_a_lessons_badge(ctx, alice, run_jobs):
    badge = BadgeFactory(
        slug="learner",
        name="Learner",
        definition={
            "id": "learner",
            "name": "Learner",
            "kind": "count",
            "measure": "lessons",
            "levels": {"bronze": 1, "silver": 3, "gold": 5},
        },
    )
    lesson = published(points=0)
    lessons.complete(alice, lesson, [0, 1])
    db.session.commit()  # the job is queued once the completion is committed
    run_jobs()
    db.session.expire_all()
    grants = db.session.scalars(select(BadgeGrant).where(BadgeGrant.badge_id == badge.id)).all()
    assert [(g.employee_id, g.level.value) for g in grants] == [(alice.id, "bronze")]


def test_a_wrong_attempt_queues_nothing(ctx, alice):
    lesson = published()
    lessons.complete(alice, lesson, [1, 1])
    db.session.commit()
    assert queue("default").count == 0
