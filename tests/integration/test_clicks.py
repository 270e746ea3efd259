"""Clicks on tracked links, from the redirect's raw record in Redis to click records and
CLICK events: bots, previews and HEAD kept as bot, one counted click per visitor and
day, the owner's own clicks, opted-out owners, re-runs and crashed workers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import crawleruseragents
import pytest
from sqlalchemy import func, select

from app import jobs
from app.extensions import db, get_redis
from app.jobs import SCHEDULE
from app.links import make_token
from app.models import ClickKind, ClickRecord, Employee, Event, utcnow
from app.services import click_capture, clicks
from scoring.vocabulary import EventKind
from tests.conftest import sign_in
from tests.factories import CompanySettingsFactory, EmployeeFactory, ShareFactory, TeamFactory

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"


@pytest.fixture
def share(app):
    with app.app_context():
        CompanySettingsFactory(time_zone="Europe/Berlin")
        share = ShareFactory()
        return {"id": share.id, "token": make_token(share.id), "owner": share.employee_id}


def click(client, token: str, *, ua: str | None = BROWSER, ip: str = "203.0.113.5", head=False):
    headers = {} if ua is None else {"User-Agent": ua}
    open_ = client.head if head else client.get
    response = open_(f"/l/{token}", headers=headers, environ_base={"REMOTE_ADDR": ip})
    assert response.status_code == 302
    return response


def process(app, **options) -> dict:
    with app.app_context():
        return jobs.process_clicks(**options)


def records(app) -> list[tuple]:
    with app.app_context():
        rows = db.session.execute(
            select(ClickRecord.kind, ClickRecord.user_agent).order_by(ClickRecord.id)
        )
        return [tuple(row) for row in rows]


def click_events(app) -> list[Event]:
    with app.app_context():
        found = list(db.session.scalars(select(Event).where(Event.kind == EventKind.CLICK)))
        db.session.expunge_all()
        return found


def stream_length() -> int:
    return get_redis().xlen(clicks.STREAM)


def test_a_human_click_becomes_a_record_and_an_event(app, client, share):
    click(client, share["token"])
    with app.app_context():
        assert stream_length() == 1
    assert records(app) == []  # the worker has not run: the click waits in Redis
    assert process(app) == {"read": 1, "duplicate": 0, "recorded": 1, "events": 1}
    assert records(app) == [(ClickKind.HUMAN, None)]
    [event] = click_events(app)
    with app.app_context():
        record = db.session.scalar(select(ClickRecord))
        assert event.natural_key == f"click:{share['id']}:{record.visitor}:{record.day}"
        assert len(record.visitor) == 32
        int(record.visitor, 16)
        assert stream_length() == 0  # acknowledged and deleted after the commit
        assert get_redis().xpending(clicks.STREAM, clicks.GROUP)["pending"] == 0
    assert (event.employee_id, event.share_id) == (share["owner"], share["id"])


def test_points_go_to_the_team_of_the_share(app, client, share):
    with app.app_context():
        owner = db.session.get(Employee, share["owner"])
        share_team = owner.team_id
        owner.team = TeamFactory()
        db.session.commit()
    click(client, share["token"])
    process(app)
    assert click_events(app)[0].team_id == share_team


def test_the_same_visitor_twice_a_day_is_one_click(app, client, share):
    for _ in range(3):
        click(client, share["token"])
    click(client, share["token"], ip="198.51.100.7")  # someone else
    click(client, share["token"], ua=PHONE)  # same address, another device
    stats = process(app)
    assert (stats["read"], stats["recorded"], stats["events"], stats["duplicate"]) == (5, 3, 3, 2)
    assert records(app) == [(ClickKind.HUMAN, None)] * 3


def test_another_day_is_another_click(app, share):
    monday = datetime(2025, 5, 12, 21, 59, 59, tzinfo=UTC)  # 23:59:59 in Berlin
    with app.test_request_context():
        for moment in (monday, monday + timedelta(seconds=1), monday + timedelta(hours=1)):
            click_capture.record_raw_click(
                share["id"],
                client_ip="203.0.113.5",
                user_agent=BROWSER,
                head=False,
                session_user_id=None,
                now=moment,
            )
    assert process(app)["recorded"] == 2
    with app.app_context():
        days = db.session.execute(select(ClickRecord.day, ClickRecord.visitor)).all()
    assert sorted(str(day) for day, _ in days) == ["2025-05-12", "2025-05-13"]
    # The daily secret changes: one day's visitor cannot be followed into the next.
    assert days[0].visitor != days[1].visitor


BOTS = {
    "linkedin preview": "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "twitter card": "Twitterbot/1.0",
    "facebook preview": "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "slack unfurl": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "outlook safe links": "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0; Pro)",
    "proofpoint": "Mozilla/5.0 (compatible; Proofpoint URL Defense)",
    "google": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "script": "python-requests/2.32.3",
    "empty": "",
}


@pytest.mark.parametrize("user_agent", BOTS.values(), ids=BOTS.keys())
def test_bots_previews_and_scanners_are_kept_as_bot(app, client, share, user_agent):
    click(client, share["token"], ua=user_agent)
    assert process(app)["recorded"] == 1
    assert records(app) == [(ClickKind.BOT, user_agent)]
    assert click_events(app) == []


def test_a_head_request_is_a_bot_even_from_a_browser(app, client, share):
    response = click(client, share["token"], head=True)
    assert response.headers["Location"].startswith("https://")
    click(client, share["token"])  # the same browser's real visit still counts
    process(app)
    assert sorted(records(app)) == sorted([(ClickKind.BOT, BROWSER), (ClickKind.HUMAN, None)])
    assert len(click_events(app)) == 1


def test_the_owners_own_click_is_flagged_self(app, client, share):
    with app.app_context():
        sign_in(client, db.session.get(Employee, share["owner"]))
    click(client, share["token"])
    colleague = app.test_client()
    with app.app_context():
        sign_in(colleague, EmployeeFactory())
    click(colleague, share["token"], ip="198.51.100.9")
    process(app)
    assert sorted(records(app)) == sorted([(ClickKind.SELF, None), (ClickKind.HUMAN, None)])
    assert len(click_events(app)) == 1


@pytest.mark.parametrize("change", [{"opted_in_at": None}, {"active": False}])
def test_nobody_is_tracked_after_opting_out(app, client, share, change):
    with app.app_context():
        owner = db.session.get(Employee, share["owner"])
        for key, value in change.items():
            setattr(owner, key, value)
        db.session.commit()
    response = click(client, share["token"])  # the link still leads to the article
    assert "ref=" in response.headers["Location"]
    assert process(app)["not_participating"] == 1
    assert records(app) == []
    with app.app_context():
        assert stream_length() == 0  # acknowledged all the same


def test_running_twice_adds_nothing(app, client, share):
    click(client, share["token"])
    click(client, share["token"], ua=BOTS["slack unfurl"])
    first = process(app)
    assert first["recorded"] == 2
    assert process(app) == {}
    click(client, share["token"])  # the same visitor again, after the first run
    assert process(app)["duplicate"] == 1
    assert len(records(app)) == 2
    assert len(click_events(app)) == 1


def test_the_database_decides_when_redis_forgot(app, client, share):
    click(client, share["token"])
    process(app)
    with app.app_context():
        for key in get_redis().scan_iter("chorus:click-seen:*"):
            get_redis().delete(key)
    click(client, share["token"])
    stats = process(app)
    assert (stats["duplicate"], stats["recorded"], stats["events"]) == (0, 0, 0)
    assert len(records(app)) == 1


def test_stale_entries_of_a_crashed_worker_are_taken_over(app, client, share):
    click(client, share["token"])
    click(client, share["token"], ip="198.51.100.7")
    with app.app_context():
        connection = get_redis()
        clicks.ensure_group(connection)
        # A worker read them and died before acknowledging.
        taken = connection.xreadgroup(clicks.GROUP, "crashed", {clicks.STREAM: ">"}, count=10)
        assert len(taken[0][1]) == 2
    assert process(app) == {}  # not stale yet: the other worker may still be at it
    stats = process(app, min_idle_ms=0)
    assert (stats["reclaimed"], stats["recorded"]) == (2, 2)
    with app.app_context():
        assert get_redis().xpending(clicks.STREAM, clicks.GROUP)["pending"] == 0


def test_a_crash_between_the_redis_filter_and_the_commit_loses_nothing(app, client, share):
    click(client, share["token"])
    with app.app_context():
        connection = get_redis()
        clicks.ensure_group(connection)
        [(_, [(entry_id, fields)])] = connection.xreadgroup(
            clicks.GROUP, "crashed", {clicks.STREAM: ">"}, count=10
        )
        raw = clicks.RawClick.parse(entry_id, fields)
        # The crashed run had marked the click as seen, then died before its commit.
        key = clicks.seen_key(raw.share_id, raw.visitor, raw.day, ClickKind.HUMAN)
        connection.set(key, raw.entry_id)
    assert process(app, min_idle_ms=0)["recorded"] == 1


def test_no_address_reaches_redis(app, client, share):
    click(client, share["token"], ip="203.0.113.77")
    with app.app_context():
        [(_, fields)] = get_redis().xrange(clicks.STREAM)
        stored = b" ".join([*fields.keys(), *fields.values()])
        assert b"203.0.113.77" not in stored
        assert {k.decode() for k in fields} == {"s", "t", "d", "v", "ua", "h", "u"}


def test_a_long_user_agent_is_cut(app, client, share):
    click(client, share["token"], ua="Slackbot " + "x" * 1000)
    process(app)
    assert len(records(app)[0][1]) == clicks.USER_AGENT_LENGTH


def test_malformed_and_unknown_entries_are_dropped(app, share):
    with app.app_context():
        get_redis().xadd(clicks.STREAM, {"s": "not a number"})
        get_redis().xadd(
            clicks.STREAM,
            {"s": 999999, "t": 0, "d": "2025-05-12", "v": "0" * 32, "ua": BROWSER, "h": 0, "u": ""},
        )
    stats = process(app)
    assert (stats["malformed"], stats["unknown_share"]) == (1, 1)
    with app.app_context():
        assert stream_length() == 0


def test_the_clock_runs_the_job_every_few_seconds():
    [(queue, every)] = [(q, n) for f, q, n in SCHEDULE if f == "app.jobs.process_clicks"]
    assert queue == "default"
    assert 2 <= every <= 5


def test_the_job_runs_through_rq(app, client, share, run_jobs):
    from app.queue import enqueue

    click(client, share["token"])
    with app.app_context():
        enqueue("app.jobs.process_clicks", job_id="process-clicks-test")
    run_jobs()
    assert records(app) == [(ClickKind.HUMAN, None)]


def test_click_events_are_not_in_the_future(app, client, share):
    click(client, share["token"])
    process(app)
    assert click_events(app)[0].occurred_at <= utcnow()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ClickRecord)) == 1


def test_the_maintained_crawler_list_is_handed_to_the_core_whole():
    """The core's chunked search finds what the list's own matcher finds."""
    agents = [i for e in crawleruseragents.CRAWLER_USER_AGENTS_DATA for i in e.get("instances", [])]
    agents += [BROWSER, "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"]
    assert len(agents) > 1000
    assert [clicks._crawlers().matches(a) for a in agents] == [
        crawleruseragents.is_crawler(a) for a in agents
    ]
