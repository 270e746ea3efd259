"""Sharing through the service: who may share what, the taboo guard, the disclosure,
share caps counted in the company's time zone, the SHARE event, and double submits."""

from __future__ import annotations

import contextlib
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.errors import Conflict, InvalidInput, NotFound
from app.extensions import db
from app.models import ContentStatus, Employee, Event, Share, SharePolicy
from app.services import feed, sharing
from app.services.calendar import company_calendar
from app.services.policy import share_policy
from scoring.vocabulary import Channel, EventKind
from tests.factories import (
    CompanySettingsFactory,
    ContentItemFactory,
    EmployeeFactory,
    InterestFactory,
    NetworkPolicyFactory,
    ShareFactory,
    SharePolicyFactory,
    ShareTemplateFactory,
    TabooTopicFactory,
    TeamFactory,
)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def advocate(ctx) -> Employee:
    return EmployeeFactory(opted_in=True)


@pytest.fixture
def item(ctx):
    item = ContentItemFactory(campaign_hashtag="#GreenGrid")
    ShareTemplateFactory(content_id=item.id, channel=Channel.LINKEDIN, text="We built this.")
    ShareTemplateFactory(content_id=item.id, channel=Channel.X, text="Shipped it!")
    return item


def test_a_share_gets_a_ref_code_the_team_and_its_event(advocate, item):
    share = sharing.create_share(advocate, content_id=item.id, channel=Channel.LINKEDIN)
    db.session.commit()
    assert share.text == "We built this. #employee #GreenGrid"
    assert share.team_id == advocate.team_id
    assert len(share.ref_code) == 10
    assert share.ref_code.isalnum()
    event = db.session.scalar(select(Event))
    assert (event.kind, event.natural_key, event.employee_id) == (
        EventKind.SHARE,
        f"share:{share.id}",
        advocate.id,
    )
    assert (event.team_id, event.share_id, event.content_id, event.channel) == (
        advocate.team_id,
        share.id,
        item.id,
        Channel.LINKEDIN,
    )
    assert event.details == {"share_points": True}


def test_the_team_is_the_one_at_share_time(advocate, item):
    share = sharing.create_share(advocate, content_id=item.id, channel=Channel.X)
    db.session.commit()
    first_team = advocate.team_id
    advocate.team = TeamFactory()
    db.session.commit()
    assert db.session.get(Share, share.id).team_id == first_team


def test_share_points_follow_the_network_policy(advocate, item):
    NetworkPolicyFactory(channel=Channel.X, share_points=False)
    sharing.create_share(advocate, content_id=item.id, channel=Channel.X)
    assert db.session.scalar(select(Event.details)) == {"share_points": False}


@pytest.mark.parametrize(
    ("text", "final"),
    [
        ("My own words", "My own words #employee #GreenGrid"),
        ("  #employee first, then words  ", "#employee first, then words #GreenGrid"),
        ("Shouting #EMPLOYEE #greengrid", "Shouting #EMPLOYEE #greengrid"),
        # Look-alikes do not count as the disclosure.
        ("I am an #employees fan", "I am an #employees fan #employee #GreenGrid"),
        ("# employee and #GreenGridX", "# employee and #GreenGridX #employee #GreenGrid"),
        ("", "We built this. #employee #GreenGrid"),  # empty: HR's text
    ],
)
def test_disclosure_and_hashtag_are_always_there(advocate, item, text, final):
    share = sharing.create_share(advocate, content_id=item.id, channel=Channel.LINKEDIN, text=text)
    assert share.text == final


def test_without_a_template_the_title_is_the_text(advocate, item):
    share = sharing.create_share(advocate, content_id=item.id, channel=Channel.XING)
    assert share.text == f"{item.title} #employee #GreenGrid"


def test_a_taboo_text_is_refused_with_the_explanation(advocate, item):
    TabooTopicFactory(
        name="Financial figures",
        explanation="Figures are published by Investor Relations only.",
        phrases=["quarterly revenue"],
    )
    with pytest.raises(InvalidInput) as refused:
        sharing.create_share(
            advocate,
            content_id=item.id,
            channel=Channel.LINKEDIN,
            text="Our Quarterly  Revenue doubled!",
        )
    assert refused.value.status == 422
    assert "Investor Relations" in refused.value.message
    assert refused.value.errors == {
        "text": [
            "Financial figures (“Quarterly  Revenue”): "
            "Figures are published by Investor Relations only."
        ]
    }
    db.session.rollback()
    assert count(Share) == 0
    assert count(Event) == 0


def test_hr_texts_pass_the_guard_too(advocate, item):
    TabooTopicFactory(name="Launches", explanation="Not announced yet.", phrases=["built"])
    with pytest.raises(InvalidInput):
        sharing.create_share(advocate, content_id=item.id, channel=Channel.LINKEDIN)


@pytest.mark.parametrize(
    ("template_of", "message"),
    [("other item", "no share text with that id"), ("x", "meant for X, not LinkedIn")],
)
def test_templates_must_belong_to_the_item_and_channel(advocate, item, template_of, message):
    if template_of == "other item":
        template_id = ShareTemplateFactory(content_id=ContentItemFactory().id).id
    else:
        template_id = next(t.id for t in item.templates if t.channel == Channel.X)
    with pytest.raises(InvalidInput, match=message) as refused:
        sharing.create_share(
            advocate, content_id=item.id, channel=Channel.LINKEDIN, template_id=template_id
        )
    assert list(refused.value.errors) == ["template_id"]


def test_only_participating_employees_share(ctx, item):
    for person in (
        EmployeeFactory(),
        EmployeeFactory(opted_in=True, active=False),
    ):
        with pytest.raises(Conflict, match="opt in"):
            sharing.create_share(person, content_id=item.id, channel=Channel.X)
    assert count(Share) == 0


def test_an_opt_out_in_another_tab_is_seen(advocate, item):
    db.session.execute(
        Employee.__table__.update()
        .where(Employee.id == advocate.id)
        .values(opted_in_at=None)
        .execution_options(synchronize_session=False)
    )
    with pytest.raises(Conflict):
        sharing.create_share(advocate, content_id=item.id, channel=Channel.X)


NOW = datetime(2025, 5, 14, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "change",
    [
        {"status": ContentStatus.DRAFT, "published_at": None},
        {"status": ContentStatus.ARCHIVED},
        {"valid_from": NOW + timedelta(seconds=1)},
        {"valid_until": NOW},
        {"valid_until": NOW - timedelta(days=1)},
        {"target_teams": "another"},
        {"target_interests": "another"},
    ],
    ids=lambda c: next(iter(c)),
)
def test_only_items_meant_for_them_now(advocate, change):
    if change.get("target_teams") == "another":
        change = {"target_teams": [TeamFactory()]}
    if change.get("target_interests") == "another":
        change = {"target_interests": [InterestFactory()]}
    item = ContentItemFactory(**change)
    with pytest.raises(NotFound):
        sharing.create_share(advocate, content_id=item.id, channel=Channel.X, now=NOW)
    assert feed.feed_select(advocate, NOW).where() is not None
    assert item.id not in [i.id for i in db.session.scalars(feed.feed_select(advocate, NOW))]


def test_targeting_by_team_or_interest(advocate):
    interest = InterestFactory()
    advocate.interests.append(interest)
    db.session.commit()
    mine = [
        ContentItemFactory(title="everyone"),
        ContentItemFactory(title="team", target_teams=[advocate.team, TeamFactory()]),
        ContentItemFactory(title="interest", target_interests=[interest]),
        ContentItemFactory(
            title="team or interest", target_teams=[TeamFactory()], target_interests=[interest]
        ),
        ContentItemFactory(
            title="current",
            valid_from=NOW - timedelta(days=1),
            valid_until=NOW + timedelta(seconds=1),
        ),
    ]
    ContentItemFactory(title="other team", target_teams=[TeamFactory()])
    ContentItemFactory(title="other interest", target_interests=[InterestFactory()])
    titles = {i.title for i in db.session.scalars(feed.feed_select(advocate, NOW))}
    assert titles == {i.title for i in mine}


def test_the_feed_lists_featured_first_then_newest(advocate):
    day = timedelta(days=1)
    ContentItemFactory(title="old", published_at=NOW - 3 * day)
    ContentItemFactory(title="new", published_at=NOW - day)
    ContentItemFactory(title="featured old", featured=True, published_at=NOW - 5 * day)
    ContentItemFactory(title="featured new", featured=True, published_at=NOW - 2 * day)
    titles = [i.title for i in db.session.scalars(feed.feed_select(advocate, NOW))]
    assert titles == ["featured new", "featured old", "new", "old"]


def _policy(**caps) -> None:
    values = {
        "per_day": None,
        "per_week": None,
        "per_channel_per_day": None,
        "per_content": None,
        "min_spacing_minutes": None,
    }
    SharePolicyFactory(**{**values, **caps})


NEW_YORK = ZoneInfo("America/New_York")


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK).astimezone(UTC)


# Wednesday 14 May 2025 in New York; the company's weeks start on Sunday.
@pytest.mark.parametrize(
    ("caps", "prior", "now", "channel", "cap", "next_allowed_at", "status"),
    [
        (
            {"per_day": 2},
            [(ny(2025, 5, 14, 0, 0), Channel.X), (ny(2025, 5, 14, 9), Channel.X)],
            ny(2025, 5, 14, 23, 59, 59),
            Channel.LINKEDIN,
            "per_day",
            ny(2025, 5, 15),
            429,
        ),
        (
            {"per_week": 2},
            [(ny(2025, 5, 11, 0, 0), Channel.X), (ny(2025, 5, 13, 9), Channel.X)],
            ny(2025, 5, 17, 23, 59, 59),  # Saturday night: the week's last second
            Channel.LINKEDIN,
            "per_week",
            ny(2025, 5, 18),
            429,
        ),
        (
            {"per_channel_per_day": 1},
            [(ny(2025, 5, 14, 8), Channel.LINKEDIN)],
            ny(2025, 5, 14, 20),
            Channel.LINKEDIN,
            "per_channel_per_day",
            ny(2025, 5, 15),
            429,
        ),
        (
            {"min_spacing_minutes": 45},
            [(ny(2025, 5, 14, 8), Channel.X)],
            ny(2025, 5, 14, 8, 44, 59),
            Channel.LINKEDIN,
            "min_spacing",
            ny(2025, 5, 14, 8, 45),
            429,
        ),
        (
            {"per_content": 1},
            [(ny(2024, 1, 2, 8), Channel.X)],  # long ago, same item
            ny(2025, 5, 14, 8),
            Channel.LINKEDIN,
            "per_content",
            None,
            409,
        ),
    ],
    ids=["per_day", "per_week", "per_channel_per_day", "min_spacing", "per_content"],
)
def test_each_cap_refuses_and_says_when(
    advocate, caps, prior, now, channel, cap, next_allowed_at, status
):
    CompanySettingsFactory(time_zone="America/New_York", week_start=6)
    _policy(**caps)
    item = ContentItemFactory(published_at=None)
    other = ContentItemFactory(published_at=None)
    for at, on in prior:
        ShareFactory(
            employee=advocate,
            content=item if cap == "per_content" else other,
            channel=on,
            created_at=at,
        )
    with pytest.raises(sharing.ShareCapReached) as refused:
        sharing.create_share(advocate, content_id=item.id, channel=channel, now=now)
    assert (refused.value.cap, refused.value.next_allowed_at, refused.value.status) == (
        cap,
        next_allowed_at,
        status,
    )
    if next_allowed_at is not None:
        local = next_allowed_at.astimezone(NEW_YORK).strftime("%A %d %B %Y, %H:%M")
        assert f"{local} (America/New_York)" in refused.value.message
        # A second later (or at the boundary), the same share goes out.
        db.session.rollback()
        share = sharing.create_share(
            advocate, content_id=item.id, channel=channel, now=next_allowed_at
        )
        assert share.id


def test_only_the_windows_are_loaded(advocate):
    CompanySettingsFactory(time_zone="Europe/Berlin")
    item, other = ContentItemFactory(), ContentItemFactory()
    ShareFactory(employee=advocate, content=other, created_at=NOW - timedelta(days=30))
    ShareFactory(employee=advocate, content=item, created_at=NOW - timedelta(days=300))
    ShareFactory(employee=advocate, content=other, created_at=NOW - timedelta(hours=1))
    ShareFactory(content=other, created_at=NOW - timedelta(hours=1))  # someone else
    caps = sharing.policy.share_caps()
    zone, first = company_calendar()
    loaded = feed.prior_shares(advocate.id, caps, NOW, zone, first, item.id)
    assert sorted(s.at for s in loaded) == [NOW - timedelta(days=300), NOW - timedelta(hours=1)]


def test_allowance_says_what_is_left(advocate):
    CompanySettingsFactory(time_zone="Europe/Berlin")
    _policy(per_day=3, per_week=5, per_channel_per_day=2, per_content=2, min_spacing_minutes=30)
    item = ContentItemFactory()
    ShareFactory(employee=advocate, content=item, channel=Channel.X, created_at=NOW)
    ShareFactory(employee=advocate, channel=Channel.X, created_at=NOW - timedelta(minutes=5))
    ShareFactory(employee=advocate, channel=Channel.X, created_at=NOW - timedelta(days=2))
    allowance = feed.allowance(advocate, NOW + timedelta(minutes=10), [item.id])
    assert (allowance.today_left, allowance.week_left) == (1, 2)
    assert allowance.per_channel_left[Channel.X] == 0
    assert allowance.per_channel_left[Channel.LINKEDIN] == 2
    assert (allowance.blocked_by, allowance.next_allowed_at) == (
        "min_spacing",
        NOW + timedelta(minutes=30),
    )
    assert allowance.item_left(item.id) == 1
    later = feed.allowance(advocate, NOW + timedelta(hours=1))
    assert (later.blocked_by, later.next_allowed_at) == (None, None)


def test_two_fast_clicks_cannot_both_pass_a_cap_of_one(app, advocate, item, monkeypatch):
    _policy(per_day=1)
    CompanySettingsFactory()  # reading settings must not be what serialises the two
    employee_id, item_id = advocate.id, item.id
    db.session.commit()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    # Both requests count the caps before either inserts, unless the lock makes the
    # second wait: then the first gives up waiting for it after a second.
    counted = threading.Barrier(2)
    count_prior = feed.prior_shares

    def prior_shares_then_wait(*args, **kwargs):
        found = count_prior(*args, **kwargs)
        with contextlib.suppress(threading.BrokenBarrierError):
            counted.wait(timeout=1)
        return found

    monkeypatch.setattr(feed, "prior_shares", prior_shares_then_wait)

    def click() -> None:
        with app.app_context():
            employee = db.session.get(Employee, employee_id)
            barrier.wait()
            try:
                sharing.create_share(employee, content_id=item_id, channel=Channel.X)
                db.session.commit()
                outcomes.append("shared")
            except sharing.ShareCapReached as exc:
                db.session.rollback()
                outcomes.append(exc.cap)

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["per_day", "shared"]
    db.session.expire_all()
    assert count(Share) == 1


def test_policy_defaults_are_gentle(advocate, item):
    sharing.create_share(advocate, content_id=item.id, channel=Channel.X)
    policy = share_policy()
    assert (policy.per_day, policy.per_week, policy.min_spacing_minutes) == (3, 10, 30)
    assert db.session.scalar(select(SharePolicy)) is None  # a share reads it, stores nothing
