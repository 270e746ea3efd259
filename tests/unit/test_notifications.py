"""Which channels a notification goes out on (defaults, a person's choices, taking
part), and the rhythm of mail: digest days and hours, quiet hours, the budget."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from scoring.notifications import (
    ADMIN_KINDS,
    CHANNEL_KINDS,
    DEFAULT_CHANNELS,
    DIGEST_ITEMS,
    KIND_LABELS,
    OFFERED,
    REFERRAL_WORDS,
    Candidate,
    Channel,
    Digest,
    Kind,
    Preferences,
    Week,
    channels_for,
    deliver_at,
    digest_days,
    digest_due,
    digest_items,
    ending_due,
    is_quiet,
    offered,
    ordinal,
    result_words,
    standing_words,
    started_due,
    week_due,
    week_words,
    within_budget,
)
from scoring.vocabulary import ReferralStage

BADGE, DECISION = Kind.BADGE_EARNED, Kind.REDEMPTION_DECIDED
IN_APP, EMAIL = Channel.IN_APP, Channel.EMAIL


@pytest.mark.parametrize(
    ("kind", "choices", "participating", "channels"),
    [
        # Nothing chosen: the defaults, gentle (the inbox; mail only for a decision).
        (BADGE, {}, True, {IN_APP}),
        (DECISION, {}, True, {IN_APP, EMAIL}),
        # A choice overrides the default for its own kind and channel only.
        (DECISION, {(DECISION, EMAIL): False}, True, {IN_APP}),
        (DECISION, {(BADGE, IN_APP): False}, True, {IN_APP, EMAIL}),
        (BADGE, {(BADGE, IN_APP): False}, True, set()),
        # A channel the kind does not offer stays off, whatever was stored.
        (BADGE, {(BADGE, EMAIL): True}, True, {IN_APP}),
        # Nobody who does not take part is told anything.
        (DECISION, {}, False, set()),
        (BADGE, {(BADGE, IN_APP): True}, False, set()),
    ],
)
def test_the_channels_follow_choices_over_defaults_and_only_for_people_taking_part(
    kind, choices, participating, channels
):
    assert channels_for(kind, choices, participating) == channels


def test_every_kind_told_to_people_offers_the_inbox_and_defaults_only_to_what_it_offers():
    for kind in Kind:
        # The digest comes by its frequency; some kinds go to chat channels only.
        told_to_people = kind is not Kind.DIGEST and kind not in CHANNEL_KINDS
        assert (IN_APP in OFFERED[kind]) is told_to_people
        assert DEFAULT_CHANNELS[kind] <= OFFERED[kind]


def test_the_admins_kinds_are_offered_to_admins_only():
    assert (Kind.CHAT_DISABLED, IN_APP) in offered(admin=True)
    assert all(kind not in ADMIN_KINDS for kind, _ in offered())


def test_the_digest_is_not_an_on_off_choice_but_a_frequency():
    assert Kind.DIGEST not in {kind for kind, _ in offered()}
    assert channels_for(Kind.DIGEST, {(Kind.DIGEST, EMAIL): True}, True) == frozenset()


# The rhythm of mail: digest days and hours in the person's own zone --------------

BERLIN, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")
MONDAY = 0


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "now", "due"),
    [
        # 08:00 in Berlin on Monday 2 March 2026 is 07:00 UTC (winter time)...
        (BERLIN, "2026-03-02T07:00", True),
        (BERLIN, "2026-03-02T07:59", True),
        (BERLIN, "2026-03-02T08:00", False),
        (BERLIN, "2026-03-02T06:59", False),
        # ... and 06:00 UTC in summer time (Monday 6 July).
        (BERLIN, "2026-07-06T06:00", True),
        (BERLIN, "2026-07-06T07:00", False),
        # 08:00 in New York is 13:00 UTC in winter, 12:00 UTC in summer.
        (NEW_YORK, "2026-03-02T13:00", True),
        (NEW_YORK, "2026-03-02T07:00", False),
        (NEW_YORK, "2026-07-06T12:00", True),
        # 13:00 UTC on Sunday 8 March 2026 is 09:00 there (summer time began): a Sunday.
        (NEW_YORK, "2026-03-08T13:00", False),
    ],
)
def test_a_weekly_digest_is_due_at_the_persons_hour_of_their_own_zone(zone, now, due):
    weekly_at_eight = Preferences(digest=Digest.WEEKLY, digest_hour=8)
    assert digest_due(weekly_at_eight, zone, MONDAY, at(now), None) is due


def test_a_digest_is_due_once_a_local_day():
    weekly = Preferences(digest=Digest.WEEKLY, digest_hour=8)
    now = at("2026-03-02T13:30")
    assert digest_due(weekly, NEW_YORK, MONDAY, now, at("2026-03-02T13:00")) is False
    # The last one went the Monday before.
    assert digest_due(weekly, NEW_YORK, MONDAY, now, at("2026-02-23T13:00")) is True
    # 01:00 UTC Monday is still Sunday evening in New York: a different local day.
    assert digest_due(weekly, NEW_YORK, MONDAY, now, at("2026-03-02T01:00")) is True


@pytest.mark.parametrize(
    ("digest", "week_start", "days"),
    [
        (Digest.OFF, 0, set()),
        (Digest.DAILY, 0, {0, 1, 2, 3, 4}),
        (Digest.WEEKLY, 0, {0}),
        (Digest.WEEKLY, 6, {6}),
        (Digest.TWICE_WEEKLY, 0, {0, 3}),
        (Digest.TWICE_WEEKLY, 5, {5, 1}),
    ],
)
def test_digest_days_follow_the_frequency_and_the_company_week(digest, week_start, days):
    assert digest_days(digest, week_start) == days


def test_an_off_digest_is_never_due():
    off = Preferences(digest=Digest.OFF, digest_hour=8)
    assert not any(
        digest_due(off, BERLIN, MONDAY, at("2026-03-02T00:00") + timedelta(hours=h), None)
        for h in range(24 * 7)
    )


@pytest.mark.parametrize(
    ("quiet_from", "quiet_until", "quiet_hours"),
    [
        (19, 8, {19, 20, 21, 22, 23, 0, 1, 2, 3, 4, 5, 6, 7}),  # across midnight
        (12, 14, {12, 13}),
        (None, 8, set()),
        (8, 8, set()),
    ],
)
def test_quiet_hours(quiet_from, quiet_until, quiet_hours):
    preferences = Preferences(quiet_from=quiet_from, quiet_until=quiet_until)
    assert {h for h in range(24) if is_quiet(preferences, h)} == quiet_hours


def test_what_falls_due_in_quiet_hours_waits_for_their_end_in_the_persons_zone():
    quiet = Preferences(quiet_from=19, quiet_until=8)
    # 21:30 in Berlin (20:30 UTC): waits until 08:00 Berlin the next morning.
    assert deliver_at(quiet, BERLIN, at("2026-03-02T20:30")) == at("2026-03-03T07:00")
    # 05:00 in Berlin: until 08:00 the same morning.
    assert deliver_at(quiet, BERLIN, at("2026-03-03T04:00")) == at("2026-03-03T07:00")
    # Outside quiet hours: now.
    assert deliver_at(quiet, BERLIN, at("2026-03-03T10:00")) == at("2026-03-03T10:00")
    # Across the spring change (29 March 2026): 08:00 is 06:00 UTC that morning.
    assert deliver_at(quiet, BERLIN, at("2026-03-28T22:00")) == at("2026-03-29T06:00")


def test_the_weekly_budget():
    assert within_budget(Preferences(weekly_budget=3), 2)
    assert not within_budget(Preferences(weekly_budget=3), 3)
    assert not within_budget(Preferences(weekly_budget=0), 0)


# What a digest carries -------------------------------------------------------------

TEAM, OTHER_TEAM, INTEREST = 1, 2, 7


def test_a_digest_lists_what_is_meant_for_the_person_new_and_not_shared():
    since = at("2026-03-01T00:00")
    newer = [at("2026-03-01T12:00") - timedelta(minutes=m) for m in range(6)]
    candidates = [
        Candidate(1, newer[0]),  # everyone
        Candidate(2, newer[1], teams=frozenset({OTHER_TEAM})),  # another team only
        Candidate(3, newer[2], teams=frozenset({TEAM})),  # their team
        Candidate(4, newer[3], interests=frozenset({INTEREST})),  # their interest
        Candidate(5, newer[4]),  # shared already
        Candidate(6, at("2026-02-28T12:00")),  # before their last digest
    ]
    items, more = digest_items(candidates, TEAM, frozenset({INTEREST}), frozenset({5}), since)
    assert (items, more) == ([1, 3, 4], 0)
    # Someone without a team or interests gets what is meant for everyone.
    assert digest_items(candidates, None, frozenset(), frozenset(), since) == ([1, 5], 0)


def test_a_long_digest_lists_the_newest_and_counts_the_rest():
    since = at("2026-03-01T00:00")
    candidates = [Candidate(i, at("2026-03-02T00:00") - timedelta(minutes=i)) for i in range(1, 13)]
    assert digest_items(candidates, None, frozenset(), frozenset(), since) == (
        list(range(1, DIGEST_ITEMS + 1)),
        12 - DIGEST_ITEMS,
    )


# The kinds the clock tells --------------------------------------------------------

START = at("2026-12-01T09:00:00")


def test_mail_is_on_by_default_only_where_the_person_waits_on_the_news():
    by_mail = {kind for kind in Kind if EMAIL in DEFAULT_CHANNELS[kind]}
    assert by_mail == {Kind.REDEMPTION_DECIDED, Kind.REFERRAL_STAGE}
    assert all(len(kind.value) <= 20 for kind in Kind)  # the columns' width
    assert all(kind in KIND_LABELS for kind in Kind)


@pytest.mark.parametrize(
    ("now", "due"),
    [
        (START - timedelta(seconds=1), False),
        (START, True),
        (START + timedelta(days=6), True),
        (START + timedelta(days=7), False),  # over: its results are told instead
    ],
)
def test_a_start_is_told_between_the_start_and_the_end(now, due):
    assert started_due(START, START + timedelta(days=7), now) is due


@pytest.mark.parametrize(
    ("length", "before_end", "due"),
    [
        (timedelta(days=7), timedelta(hours=25), False),
        (timedelta(days=7), timedelta(hours=24), True),
        (timedelta(days=7), timedelta(minutes=1), True),
        (timedelta(days=7), timedelta(0), False),  # ended
        (timedelta(days=2), timedelta(hours=24), True),  # two days: just long enough
        (timedelta(days=2) - timedelta(seconds=1), timedelta(hours=3), False),
        (timedelta(hours=6), timedelta(hours=3), False),  # all of it is "ending soon"
    ],
)
def test_ends_tomorrow_is_due_in_the_last_day_of_a_challenge_of_two_days_or_more(
    length, before_end, due
):
    end = START + length
    assert ending_due(START, end, end - before_end) is due


@pytest.mark.parametrize(
    ("n", "words"),
    [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (12, "12th"), (13, "13th"),
     (21, "21st"), (22, "22nd"), (101, "101st"), (111, "111th")],
)  # fmt: skip
def test_ordinals(n, words):
    assert ordinal(n) == words


def test_standings_and_results_in_words():
    assert standing_words(3, 12, "shares", 40) == "You are 3rd of 40 with 12 shares."
    assert standing_words(None, 1, "counted clicks", 40) == "You have 1 counted click so far."
    assert result_words(1, 9, 1, "points", True, 0, False) == "You finished 1st of 9 with 1 point."
    assert result_words(2, 3, 4, "shares", False, 5, True) == (
        "Your team finished 2nd of 3 with 4 shares. The minimum for a prize was 5."
    )


@pytest.mark.parametrize(
    ("week", "words"),
    [
        (Week(), None),  # nothing done: nothing said
        (Week(rank_before=9, rank_after=4, ranks_known=True), None),  # moved while away
        (Week(points=1), "Last week: 1 point."),
        (Week(shares=2, clicks=1, points=30), "Last week: 2 shares, 1 counted click, 30 points."),
        (
            Week(points=5, rank_before=9, rank_after=4, ranks_known=True),
            "Last week: 5 points. You moved up 5 places on the company board, to 4th.",
        ),
        (
            Week(shares=1, rank_before=3, rank_after=4, ranks_known=True),
            "Last week: 1 share. You moved down 1 place on the company board, to 4th.",
        ),
        (
            Week(points=5, rank_before=2, rank_after=2, ranks_known=True),
            "Last week: 5 points. You kept your place on the company board, 2nd.",
        ),
        (
            Week(points=5, rank_before=None, rank_after=7, ranks_known=True),
            "Last week: 5 points. You are on the company board now, 7th.",
        ),
        # Ranks not known (a snapshot missing), or not on the board now (hidden): no claim.
        (Week(points=5, rank_before=9, rank_after=4), "Last week: 5 points."),
        (Week(points=5, rank_before=9, ranks_known=True), "Last week: 5 points."),
    ],
)
def test_what_your_week_says(week, words):
    assert week_words(week) == words


@pytest.mark.parametrize(
    ("after", "due"),
    [(timedelta(0), True), (timedelta(hours=5, minutes=59), True), (timedelta(hours=6), False),
     (-timedelta(seconds=1), False)],
)  # fmt: skip
def test_your_week_is_due_early_in_the_new_week(after, due):
    assert week_due(START, START + after) is due


def test_a_referral_stage_is_told_without_naming_anyone():
    assert set(REFERRAL_WORDS) == set(ReferralStage)
    assert all(words.startswith("Someone you referred") for words in REFERRAL_WORDS.values())
