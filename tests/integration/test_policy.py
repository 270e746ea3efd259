"""HR's guidelines in the product: taboo topics and the sharing policy, as services."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.errors import Conflict, InvalidInput
from app.extensions import db
from app.models import AuditEntry, NetworkPolicy, Role, SharePolicy, TabooTopic
from app.services import analytics, policy, taboo
from app.services.policy import ASSUMPTION_FIELDS
from scoring import media_value
from scoring.vocabulary import Channel
from tests.factories import EmployeeFactory, TabooTopicFactory

SEEN = {"seen_low_percent", "seen_high_percent"}


@pytest.fixture
def hr(ctx):
    return EmployeeFactory(role=Role.HR)


def topic_count() -> int:
    return db.session.scalar(select(func.count()).select_from(TabooTopic))


def test_create_a_topic_and_check_texts(hr):
    topic = taboo.create_topic(
        hr,
        {
            "name": "  Financial   figures ",
            "explanation": " Investor Relations publishes them first. ",
            "phrases": ["quarterly revenue", " Quarterly  Revenue ", "", "EBIT"],
            "patterns": [r"Q[1-4]\s+results", "  "],
        },
    )
    assert (topic.name, topic.explanation) == (
        "Financial figures",
        "Investor Relations publishes them first.",
    )
    assert topic.phrases == ["quarterly revenue", "EBIT"]
    assert topic.patterns == [r"Q[1-4]\s+results"]
    assert [h.matched for h in taboo.check_text("our Q2 results and ebit")] == ["ebit"]
    taboo.update_topic(hr, topic, {"active": False})
    assert taboo.check_text("our Q2 results") == []
    assert db.session.scalars(select(AuditEntry.action)).all() == [
        "taboo_topic.create",
        "taboo_topic.update",
    ]


@pytest.mark.parametrize(
    ("data", "field", "problem"),
    [
        ({"name": " "}, "name", "needs a name"),
        ({"explanation": "  "}, "explanation", "Explain why"),
        ({"phrases": [], "patterns": []}, "phrases", "at least one phrase or pattern"),
        ({"phrases": ["  "]}, "phrases", "at least one phrase or pattern"),
        ({"patterns": ["(unclosed"]}, "patterns", "Pattern 1 ((unclosed) is refused"),
        ({"patterns": ["ok", "[a-"]}, "patterns", "Pattern 2"),
        ({"patterns": ["a*"]}, "patterns", "matches an empty text"),
        ({"patterns": ["x" * 201]}, "patterns", "at most 200"),
        ({"name": "TAKEN"}, "name", "exists already"),
    ],
)
def test_bad_topics_are_refused(hr, data, field, problem):
    TabooTopicFactory(name="Taken")
    base = {"name": "Products", "explanation": "Wait for the launch.", "phrases": ["falcon"]}
    with pytest.raises((InvalidInput, Conflict)) as refused:
        taboo.create_topic(hr, {**base, **data})
    assert problem in refused.value.errors[field][0]
    db.session.rollback()
    assert topic_count() == 1


def test_updating_keeps_other_topics_names_unique(hr):
    first = TabooTopicFactory(name="One")
    TabooTopicFactory(name="Two")
    taboo.update_topic(hr, first, {"name": "ONE"})  # its own name in another case
    with pytest.raises(Conflict):
        taboo.update_topic(hr, first, {"name": "two"})


def test_share_policy_defaults_are_gentle(ctx):
    row = policy.share_policy()
    assert (row.disclosure, row.per_day, row.per_week, row.per_channel_per_day) == (
        "#employee",
        3,
        10,
        2,
    )
    assert (row.per_content, row.min_spacing_minutes) == (2, 30)
    assert db.session.scalar(select(func.count()).select_from(SharePolicy)) == 0  # not stored


def test_caps_can_be_switched_off(hr):
    policy.update_share_policy(hr, {"per_day": None, "min_spacing_minutes": None, "per_week": 5})
    caps = policy.share_caps()
    assert (caps.per_day, caps.min_spacing, caps.per_week) == (None, None, 5)


def test_network_policy(hr):
    assert all(policy.share_points_enabled(c) for c in Channel)
    policy.set_network_policy(hr, Channel.X, share_points=False, note="  Terms forbid rewards ")
    db.session.commit()
    assert not policy.share_points_enabled(Channel.X)
    assert db.session.get(NetworkPolicy, Channel.X).note == "Terms forbid rewards"
    policy.set_network_policy(hr, Channel.X, share_points=True, note="")
    assert policy.share_points_enabled(Channel.X)
    assert db.session.get(NetworkPolicy, Channel.X).note is None


def test_a_networks_value_assumptions_are_the_analytics(hr):
    own = media_value.Assumptions((1000, 2000), (100, 100), (10, 50))
    given = dict(zip(policy.ASSUMPTION_FIELDS, (1000, 2000, 100, 100, 10, 50), strict=True))
    assert policy.assumptions_given(given) == own
    assert policy.assumptions_given({}) is None
    policy.set_network_policy(hr, Channel.X, share_points=True, assumptions=own)
    db.session.commit()
    assert analytics.value_assumptions()[Channel.X] == own
    assert analytics.value_assumptions()[Channel.LINKEDIN] == media_value.DEFAULTS[Channel.LINKEDIN]
    policy.set_network_policy(hr, Channel.X, share_points=True)  # the defaults again
    assert analytics.value_assumptions()[Channel.X] == media_value.DEFAULTS[Channel.X]


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"cpm_low_cents": 1}, set(ASSUMPTION_FIELDS) - {"cpm_low_cents"}),
        (dict.fromkeys(ASSUMPTION_FIELDS, 7) | {"seen_low_percent": 8}, SEEN),
        (dict.fromkeys(ASSUMPTION_FIELDS, 101), SEEN),
        (dict.fromkeys(ASSUMPTION_FIELDS, -1), set(ASSUMPTION_FIELDS)),
    ],
)
def test_wrong_value_assumptions_are_named(ctx, values, named):
    with pytest.raises(InvalidInput) as caught:
        policy.assumptions_given(values)
    assert set(caught.value.errors) == named


def test_a_new_utm_medium_drops_cached_destinations_once_committed(ctx):
    from app.extensions import get_redis
    from app.services import click_capture as clicks

    hr = EmployeeFactory(role=Role.HR)
    redis = get_redis()
    redis.set(clicks.link_key(1), "https://www.example.com/?utm_medium=employee_advocacy")
    policy.update_share_policy(hr, {"utm_medium": "advocacy"})
    db.session.rollback()
    assert redis.exists(clicks.link_key(1))  # rolled back: the cache still holds
    policy.update_share_policy(hr, {"utm_medium": "advocacy"})
    db.session.commit()
    assert not redis.exists(clicks.link_key(1))
