"""Posting to chat channels through a real HTTP receiver on loopback: who gets a post
about new content, what it looks like, retries only on 429, 5xx and network errors
(not before Retry-After), channels turned off on 403/404/410 with the admins told, each
channel's rate, and the test button."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select, update

from app import jobs
from app.extensions import db
from app.jobs import deliver_outbox
from app.models import (
    AllowedDomain,
    ChatDestination,
    DeliveryState,
    Notification,
    OutboxMessage,
    Role,
    utcnow,
)
from app.services import challenge_settlement as settlement
from app.services import chat, content, rules
from scoring.challenges import ScopeKind
from scoring.chat import Provider
from scoring.notifications import Kind
from scoring.participation import Presence
from tests.factories import (
    AllowedDomainFactory,
    ChallengeFactory,
    ChatDestinationFactory,
    ContentItemFactory,
    EmployeeFactory,
    InterestFactory,
    TeamFactory,
)
from tests.integration.test_challenge_settlement import finished, history


@pytest.fixture
def company_rules(ctx):
    rules.install_default_rules(effective_at=utcnow() - timedelta(days=60))


def published(**attributes):
    if not db.session.scalar(select(AllowedDomain.id).limit(1)):
        AllowedDomainFactory(domain="example.com")
    item = ContentItemFactory(draft=True, **attributes)
    content.publish(EmployeeFactory(role=Role.HR), item)
    return item


def posts() -> list[tuple[int, str]]:
    rows = db.session.execute(
        select(OutboxMessage.destination_id, OutboxMessage.state).where(
            OutboxMessage.destination_id.is_not(None)
        )
    )
    return sorted((destination, state.value) for destination, state in rows)


def test_new_content_goes_to_the_channels_of_its_audience_once(ctx):
    sales, support = TeamFactory(name="Sales"), TeamFactory(name="Support")
    company = ChatDestinationFactory(name="#all")
    sales_channel = ChatDestinationFactory(name="#sales", team=sales)
    ChatDestinationFactory(name="#support", team=support)
    ChatDestinationFactory(name="#quiet", post_content=False)
    ChatDestinationFactory(name="#gone", disabled_at=utcnow())
    for_everyone = published()
    assert posts() == [(company.id, "pending")]
    # Published once more (archived, then again): nothing is posted twice.
    assert chat.post_new_content(for_everyone) == 0
    db.session.execute(update(OutboxMessage).values(state=DeliveryState.SENT))
    published(target_teams=[sales])
    published(target_interests=[InterestFactory()])
    assert posts() == [(company.id, "sent"), (sales_channel.id, "pending")]


def test_a_post_waits_until_its_item_becomes_valid(ctx):
    ChatDestinationFactory()
    later = utcnow() + timedelta(days=2)
    published(valid_from=later)
    assert db.session.scalar(select(OutboxMessage.next_attempt_at)) == later


def _queued_post(receiver, provider=Provider.SLACK, path="/hook", count=1) -> ChatDestination:
    destination = ChatDestinationFactory(provider=provider, url=receiver.url + path)
    for _ in range(count):
        published(title="We are hiring", summary="Backend engineers in Leipzig.")
    db.session.commit()
    return destination


def test_a_post_arrives_as_block_kit_with_a_share_button(app, receiver):
    with app.app_context():
        _queued_post(receiver)
        item_id = db.session.scalar(select(OutboxMessage.key)).split(":")[2]
        assert deliver_outbox() == {"failed_stuck": 0, "sent": 1}
    (request,) = receiver.requests
    assert request.path == "/hook"
    assert request.headers["Content-Type"] == "application/json"
    body = request.json
    assert body["text"].startswith("We are hiring")
    button = body["blocks"][2]["elements"][0]
    assert button["url"].endswith(f"/content/{item_id}/share")


def test_teams_gets_an_adaptive_card(app, receiver):
    with app.app_context():
        _queued_post(receiver, provider=Provider.TEAMS)
        deliver_outbox()
    card = receiver.requests[0].json["attachments"][0]["content"]
    assert card["type"] == "AdaptiveCard"
    assert card["body"][0]["text"] == "We are hiring"


def test_429_waits_at_least_its_retry_after_and_500_is_tried_again(app, receiver):
    receiver.answer(429, Retry_After="120")
    receiver.answer(500)
    with app.app_context():
        _queued_post(receiver, count=2)
        before = utcnow()
        assert deliver_outbox()["pending"] == 2
        waits = dict(
            db.session.execute(
                select(OutboxMessage.last_error, OutboxMessage.next_attempt_at)
            ).all()
        )
        (busy,) = [wait for error, wait in waits.items() if error.startswith("429")]
        (broken,) = [wait for error, wait in waits.items() if error.startswith("500")]
        assert busy >= before + timedelta(seconds=120)
        assert before + timedelta(seconds=14) <= broken < before + timedelta(seconds=31)
        db.session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
        db.session.commit()
        assert deliver_outbox()["sent"] == 2
    assert len(receiver.requests) == 4


def test_a_channel_that_is_gone_is_turned_off_and_the_admins_are_told(app, receiver):
    receiver.answer(410)
    with app.app_context():
        admin = EmployeeFactory(role=Role.ADMIN, opted_in=True)
        EmployeeFactory(role=Role.EMPLOYEE, opted_in=True)
        destination = _queued_post(receiver, count=2)
        assert deliver_outbox() == {"failed_stuck": 0, "failed": 1, "cancelled": 1}
        db.session.refresh(destination)
        assert destination.disabled_at is not None
        assert destination.disabled_reason.startswith("410")
        (told,) = db.session.scalars(select(Notification)).all()
        assert (told.employee_id, told.kind) == (admin.id, Kind.CHAT_DISABLED)
        assert destination.name in told.title
        # Nothing more goes to it until an admin repairs it.
        published()
        db.session.commit()
        assert deliver_outbox() == {"failed_stuck": 0}
    assert len(receiver.requests) == 1


def test_no_answer_is_tried_again(app):
    from tests.mail_server import free_port

    with app.app_context():
        ChatDestinationFactory(url=f"http://127.0.0.1:{free_port()}/hook")  # nobody listens
        published()
        db.session.commit()
        assert deliver_outbox()["pending"] == 1
        assert db.session.scalar(select(OutboxMessage.attempts)) == 1


def test_each_channel_gets_no_more_than_its_rate(app, receiver):
    with app.app_context():
        slack = ChatDestinationFactory(provider=Provider.SLACK, url=receiver.url + "/slack")
        teams = ChatDestinationFactory(provider=Provider.TEAMS, url=receiver.url + "/teams")
        for _ in range(5):
            published()
        db.session.commit()
        assert {slack.id, teams.id} == {d for d, _ in posts()}
        with time_machine.travel(utcnow() + timedelta(minutes=1), tick=False):
            deliver_outbox(seconds=1.0)  # the clock stands still: one second's worth
    paths = [r.path for r in receiver.requests]
    assert (paths.count("/slack"), paths.count("/teams")) == (1, 4)


def test_the_test_button_posts_now_and_says_what_the_provider_answered(app, receiver):
    receiver.answer(404)
    with app.app_context():
        destination = ChatDestinationFactory(url=receiver.url + "/hook")
        assert chat.send_test(destination) == (False, "404 Not Found: ok")
        assert destination.disabled_at is None  # a test turns nothing off
        delivered, answer = chat.send_test(destination)
        assert (delivered, answer) == (True, "200 OK")
    assert json.loads(receiver.requests[1].body)["text"].startswith("Chorus is connected")


# Challenges ---------------------------------------------------------------------------


def _payload(destination_id: int, kind: Kind) -> dict:
    return json.loads(
        db.session.scalar(
            select(OutboxMessage.payload).where(
                OutboxMessage.destination_id == destination_id, OutboxMessage.kind == kind
            )
        )
    )


def test_a_challenge_start_goes_to_the_channels_of_its_scope(ctx):
    ours, theirs = TeamFactory(), TeamFactory()
    company = ChatDestinationFactory(name="#all")
    our_channel = ChatDestinationFactory(name="#ours", team=ours)
    ChatDestinationFactory(name="#theirs", team=theirs)
    ChatDestinationFactory(name="#content-only", team=ours, post_game=False)
    ChallengeFactory(scope=ScopeKind.TEAMS, teams=[ours], title="Spring shares")
    assert jobs.tell_challenges()["started"] == 0  # nobody in scope takes part yet
    assert posts() == [(our_channel.id, "pending")]
    post = _payload(our_channel.id, Kind.CHALLENGE_STARTED)
    assert post["text"].startswith("Spring shares has started")
    assert post["blocks"][2]["elements"][0]["text"]["text"] == "See the challenge"
    ChallengeFactory(scope=ScopeKind.COMPANY, title="Autumn reach")
    jobs.tell_challenges()
    assert _payload(company.id, Kind.CHALLENGE_STARTED)["text"].startswith("Autumn reach")


def test_results_name_the_first_places_as_boards_do(ctx):
    company = ChatDestinationFactory(name="#all")
    c = finished(prizes=[])
    ann, _bob, hidden = history(c)
    ann.presence, ann.pseudonym = Presence.PSEUDONYM, "Blue Heron"
    db.session.commit()
    settlement.settle_challenge(c.id)
    db.session.commit()
    jobs.tell_challenges()
    section = _payload(company.id, Kind.CHALLENGE_RESULTS)["blocks"][1]["text"]["text"]
    assert section == "The first places:\n1. Blue Heron: 3 shares\n2. Bob: 1 share"
    assert "Ann" not in json.dumps(_payload(company.id, Kind.CHALLENGE_RESULTS))
    assert hidden.name not in section


def test_last_weeks_top_goes_to_the_company_and_team_channels_once(company_rules):
    from app.services import your_week
    from tests.integration.test_leaderboards import earn, settle

    sales = TeamFactory(name="Sales")
    company = ChatDestinationFactory(name="#all")
    sales_channel = ChatDestinationFactory(name="#sales", team=sales)
    ChatDestinationFactory(name="#content", post_game=False)
    assert your_week.post_tops(your_week._weeks(utcnow())[1] + timedelta(hours=1)) == 0
    _, began, _previous, previous_began = your_week._weeks(utcnow())
    at = previous_began + timedelta(days=1)
    named = EmployeeFactory(opted_in=True, team=sales, name="Lena Hoffmann")
    masked = EmployeeFactory(
        opted_in=True, team=sales, presence=Presence.PSEUDONYM, pseudonym="Wind Rider"
    )
    hidden = EmployeeFactory(opted_in=True, team=sales, presence=Presence.HIDDEN, name="Hid")
    for person, clicks in ((named, 3), (masked, 2), (hidden, 5)):
        earn(person, clicks, at)
    settle()
    now = began + timedelta(hours=1)
    assert your_week.post_tops(now) == 2
    assert your_week.post_tops(now) == 0  # once per channel and week
    assert your_week.post_tops(began + timedelta(days=2)) == 0  # late in the week: nothing
    lines = _payload(company.id, Kind.TOP_OF_WEEK)["blocks"][1]["text"]["text"]
    assert lines.splitlines()[1:] == ["1. Lena Hoffmann: 3 points", "2. Wind Rider: 2 points"]
    assert "Hid" not in json.dumps(_payload(company.id, Kind.TOP_OF_WEEK))
    team_post = _payload(sales_channel.id, Kind.TOP_OF_WEEK)
    assert team_post["blocks"][0]["text"]["text"] == "Last week's top in Sales"
