"""Chat mentions against a real database and a loopback receiver: nobody is mentioned
without asking; the person's team's channel that takes mentions gets the post (the
company's when the team has none); Slack needs the member ID, Teams mentions by e-mail;
mentions count against the weekly budget and wait for quiet hours; one turned off
before its turn is not posted; badges found by the scoring pipeline are mentioned."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.jobs import deliver_outbox
from app.models import OutboxMessage, utcnow
from app.services import announcements, mentions, notifications
from app.services.notifications import Told
from scoring.chat import Provider
from scoring.notifications import DEFAULT_PREFERENCES, Channel, Kind
from tests.factories import ChatDestinationFactory, EmployeeFactory, TeamFactory

NO_QUIET = replace(DEFAULT_PREFERENCES, quiet_from=None, quiet_until=None)
SLACK_ID = "U012AB3CDE"


def wants_mentions(team=None, preferences=NO_QUIET, kinds=(Kind.BADGE_EARNED,), **attributes):
    person = EmployeeFactory(opted_in=True, team=team, **attributes)
    notifications.set_choices(person, {(kind, Channel.CHAT): True for kind in kinds})
    notifications.set_preferences(person, preferences)
    return person


def badge(person, key="badge:1:bronze:all") -> Told:
    return Told(person.id, Kind.BADGE_EARNED, key=key, title="You earned Storyteller (bronze)")


def mentioned() -> list[tuple[int, int]]:
    rows = db.session.execute(
        select(OutboxMessage.employee_id, OutboxMessage.destination_id)
        .where(OutboxMessage.destination_id.is_not(None))
        .order_by(OutboxMessage.id)
    )
    return [tuple(row) for row in rows]


def test_nobody_is_mentioned_without_asking_and_no_channel_without_the_admins_leave(ctx):
    team = TeamFactory()
    ChatDestinationFactory(team=team, post_mentions=True, provider=Provider.TEAMS)
    quiet_one = EmployeeFactory(opted_in=True, team=team)
    assert mentions.mention([badge(quiet_one)]) == 0
    asked = wants_mentions(team=TeamFactory())
    ChatDestinationFactory(team=asked.team, provider=Provider.TEAMS)  # takes no mentions
    assert mentions.mention([badge(asked)]) == 0
    # Kinds that are nobody else's business are never posted, whatever is chosen.
    private = Told(asked.id, Kind.REDEMPTION_DECIDED, key="r:1", title="Your reward")
    assert mentions.mention([private]) == 0
    assert mentioned() == []


def test_the_team_channel_first_then_the_company_and_slack_needs_the_member_id(ctx):
    sales, support = TeamFactory(name="Sales"), TeamFactory(name="Support")
    company = ChatDestinationFactory(post_mentions=True, provider=Provider.TEAMS)
    sales_slack = ChatDestinationFactory(team=sales, post_mentions=True)
    lena = wants_mentions(team=sales, preferences=replace(NO_QUIET, slack_member_id=SLACK_ID))
    tom = wants_mentions(team=sales)  # no member ID: Slack cannot name him
    ida = wants_mentions(team=support)  # her team has no channel: the company's
    assert mentions.mention([badge(lena), badge(tom), badge(ida)]) == 2
    assert mentioned() == [(lena.id, sales_slack.id), (ida.id, company.id)]
    assert mentions.mention([badge(lena)]) == 0  # told again: nothing new


def test_a_mention_arrives_naming_the_person_in_slack_and_teams(app, receiver):
    with app.app_context():
        team = TeamFactory()
        ChatDestinationFactory(team=team, post_mentions=True, url=receiver.url + "/slack")
        ChatDestinationFactory(
            team=team, post_mentions=True, provider=Provider.TEAMS, url=receiver.url + "/teams"
        )
        lena = wants_mentions(
            team=team,
            name="Lena Hoffmann",
            email="lena@example.com",
            preferences=replace(NO_QUIET, slack_member_id=SLACK_ID),
        )
        mentions.mention([badge(lena)])
        db.session.commit()
        assert deliver_outbox()["sent"] == 2
    posted = {r.path: r.json for r in receiver.requests}
    assert posted["/slack"]["text"].startswith(f"<@{SLACK_ID}> You earned Storyteller")
    card = posted["/teams"]["attachments"][0]["content"]
    assert card["body"][1]["text"] == "<at>Lena Hoffmann</at>"
    assert card["msteams"]["entities"] == [
        {
            "type": "mention",
            "text": "<at>Lena Hoffmann</at>",
            "mentioned": {"id": "lena@example.com", "name": "Lena Hoffmann"},
        }
    ]


def test_mentions_count_against_the_budget_and_wait_for_quiet_hours(ctx):
    team = TeamFactory()
    ChatDestinationFactory(team=team, post_mentions=True, provider=Provider.TEAMS)
    thrifty = wants_mentions(team=team, preferences=replace(NO_QUIET, weekly_budget=1))
    told = [badge(thrifty, key="badge:1"), badge(thrifty, key="badge:2")]
    assert mentions.mention(told) == 1
    night_owl = wants_mentions(
        team=team, preferences=replace(NO_QUIET, quiet_from=0, quiet_until=0)
    )
    always_quiet = wants_mentions(
        team=team, preferences=replace(NO_QUIET, quiet_from=0, quiet_until=23, time_zone="UTC")
    )
    now = utcnow().replace(hour=3)
    mentions.mention([badge(night_owl), badge(always_quiet)], now)
    due = dict(
        db.session.execute(
            select(OutboxMessage.employee_id, OutboxMessage.next_attempt_at).where(
                OutboxMessage.employee_id.in_([night_owl.id, always_quiet.id])
            )
        ).all()
    )
    assert due[night_owl.id] == now  # 0 to 0: no quiet hours
    assert due[always_quiet.id] == now.replace(hour=23, minute=0, second=0, microsecond=0)


def test_a_mention_turned_off_before_its_turn_is_not_posted(app, receiver):
    with app.app_context():
        team = TeamFactory()
        ChatDestinationFactory(
            team=team, post_mentions=True, provider=Provider.TEAMS, url=receiver.url + "/t"
        )
        shy = wants_mentions(team=team)
        announcements.announce([badge(shy)])  # the inbox and the mention, as jobs tell
        notifications.set_choices(shy, {(Kind.BADGE_EARNED, Channel.CHAT): False})
        db.session.commit()
        assert deliver_outbox() == {"failed_stuck": 0, "cancelled": 1}
    assert receiver.requests == []


def test_a_badge_found_by_the_pipeline_is_mentioned(ctx, run_jobs):
    from app.queue import enqueue
    from app.services import badges
    from tests.factories import CompanySettingsFactory, EventFactory
    from tests.integration.test_badge_jobs import SHARES

    CompanySettingsFactory()
    team = TeamFactory()
    channel = ChatDestinationFactory(team=team, post_mentions=True, provider=Provider.TEAMS)
    badges.create_badge(None, SHARES)
    proud = wants_mentions(team=team)
    for n in range(2):
        EventFactory(employee_id=proud.id, occurred_at=utcnow() - timedelta(hours=n + 1))
    db.session.commit()
    enqueue("app.jobs.evaluate_badges", str(proud.id), job_id="evaluate-now")
    run_jobs()
    db.session.rollback()
    assert mentioned() == [(proud.id, channel.id)]
