"""Notifications: what Chorus tells whom, and on which channel.

An in-app notification is a row in the person's inbox, written in the transaction of
what caused it (a badge earned, a decision on a redemption, a referral's stage) or by a
clock job (a challenge's start, last day and results; the week in short) under a
natural key, so a job that runs twice tells nobody twice. E-mail goes out for the
kinds that offer it (``OFFERED``).

Each person decides per kind and channel; what they have not decided follows
``DEFAULT_CHANNELS``, which keeps the defaults gentle: the inbox for everything, no
other channel unless the person turns it on. Nothing is written for anyone who does
not take part (not opted in, opted out, deactivated, erased).

Mail is gentle by default too (``Preferences``): a weekly digest of new content at nine
in the morning of the person's own time zone, nothing in their quiet hours (a message
due then waits for their end), and at most a few single messages a week; what the
budget holds back goes with the next digest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from scoring.vocabulary import ReferralStage


class Kind(StrEnum):
    # Values are stored in VARCHAR(20) columns with CHECK constraints: a new kind needs
    # a migration that widens them.
    BADGE_EARNED = "badge_earned"
    REDEMPTION_DECIDED = "redemption_decided"
    CHALLENGE_STARTED = "challenge_started"
    CHALLENGE_ENDING = "challenge_ending"
    CHALLENGE_RESULTS = "challenge_results"
    REFERRAL_STAGE = "referral_stage"
    YOUR_WEEK = "your_week"
    # New content to share, with whatever the budget held back. Its frequency, not an
    # on/off per channel, says whether and when it comes.
    DIGEST = "digest"
    # A chat channel's post about new content (to a channel, never to a person).
    NEW_CONTENT = "new_content"
    # To admins: a chat channel answered that it is gone, and was disabled.
    CHAT_DISABLED = "chat_disabled"
    # A chat channel's post of last week's top of its board.
    TOP_OF_WEEK = "top_of_week"
    # A delivery to another system's webhook endpoint (``scoring.webhooks``).
    WEBHOOK = "webhook"
    # To admins: a webhook endpoint answered that it is gone, and was disabled.
    WEBHOOK_DISABLED = "webhook_disabled"


class Channel(StrEnum):
    IN_APP = "in_app"
    EMAIL = "email"
    # A post that mentions the person in their team's (or the company's) chat channel,
    # where an admin let the channel take mentions: for news worth celebrating only.
    CHAT = "chat"


# The channels each kind can go out on.
BOTH = frozenset({Channel.IN_APP, Channel.EMAIL})
INBOX = frozenset({Channel.IN_APP})

OFFERED: dict[Kind, frozenset[Channel]] = {
    Kind.BADGE_EARNED: frozenset({Channel.IN_APP, Channel.CHAT}),
    Kind.REDEMPTION_DECIDED: BOTH,
    Kind.CHALLENGE_STARTED: BOTH,
    Kind.CHALLENGE_ENDING: BOTH,
    Kind.CHALLENGE_RESULTS: BOTH | {Channel.CHAT},
    Kind.REFERRAL_STAGE: BOTH,
    Kind.YOUR_WEEK: BOTH,
    Kind.DIGEST: frozenset(),
    Kind.NEW_CONTENT: frozenset(),
    Kind.TOP_OF_WEEK: frozenset(),
    Kind.CHAT_DISABLED: BOTH,
    Kind.WEBHOOK: frozenset(),
    Kind.WEBHOOK_DISABLED: BOTH,
}

# What a person gets when they have not decided: every kind in the inbox. Mail only
# where the person waits on the news: a decision on a reward they asked for, and how a
# candidate they referred is getting on (rare, and about their own act). Challenges and
# the weekly summary reach many people at once and are not awaited: inbox only. A chat
# mention shows the person to their colleagues: never without their choosing it.
DEFAULT_CHANNELS: dict[Kind, frozenset[Channel]] = {
    Kind.BADGE_EARNED: INBOX,
    Kind.REDEMPTION_DECIDED: BOTH,
    Kind.CHALLENGE_STARTED: INBOX,
    Kind.CHALLENGE_ENDING: INBOX,
    Kind.CHALLENGE_RESULTS: INBOX,
    Kind.REFERRAL_STAGE: BOTH,
    Kind.YOUR_WEEK: INBOX,
    Kind.DIGEST: frozenset(),
    Kind.NEW_CONTENT: frozenset(),
    Kind.TOP_OF_WEEK: frozenset(),
    Kind.CHAT_DISABLED: INBOX,
    Kind.WEBHOOK: frozenset(),
    Kind.WEBHOOK_DISABLED: INBOX,
}

KIND_LABELS: dict[Kind, str] = {
    Kind.BADGE_EARNED: "A badge you earned",
    Kind.REDEMPTION_DECIDED: "A decision on a reward you redeemed",
    Kind.CHALLENGE_STARTED: "A challenge you are in starts",
    Kind.CHALLENGE_ENDING: "A challenge you are in ends tomorrow",
    Kind.CHALLENGE_RESULTS: "Your result in a challenge",
    Kind.REFERRAL_STAGE: "Someone you referred moved on",
    Kind.YOUR_WEEK: "Your week, in short",
    Kind.DIGEST: "New content to share",
    Kind.NEW_CONTENT: "New content, posted to a chat channel",
    Kind.TOP_OF_WEEK: "Last week's top, posted to a chat channel",
    Kind.CHAT_DISABLED: "A chat channel that stopped answering (admins)",
    Kind.WEBHOOK: "An event delivered to a webhook endpoint",
    Kind.WEBHOOK_DISABLED: "A webhook endpoint that stopped answering (admins)",
}

CHANNEL_LABELS: dict[Channel, str] = {
    Channel.IN_APP: "In Chorus",
    Channel.EMAIL: "E-mail",
    Channel.CHAT: "Chat mention",
}


# Kinds only admins are told of.
ADMIN_KINDS = frozenset({Kind.CHAT_DISABLED, Kind.WEBHOOK_DISABLED})
# Kinds only chat channels and webhook endpoints get: never an inbox row, never a
# person's choice.
CHANNEL_KINDS = frozenset({Kind.NEW_CONTENT, Kind.TOP_OF_WEEK, Kind.WEBHOOK})


def offered(admin: bool = False) -> list[tuple[Kind, Channel]]:
    """Every (kind, channel) a person can turn on or off, in the order pages list them;
    the admins' kinds only for an admin."""
    return [
        (kind, channel)
        for kind in Kind
        for channel in Channel
        if channel in OFFERED[kind] and (admin or kind not in ADMIN_KINDS)
    ]


def channels_for(
    kind: Kind, choices: Mapping[tuple[Kind, Channel], bool], participating: bool
) -> frozenset[Channel]:
    """The channels a notification of ``kind`` goes out on for a person with these
    ``choices`` ((kind, channel) -> on or off; anything missing follows the default):
    none for someone who does not take part."""
    if not participating:
        return frozenset()
    return frozenset(
        channel
        for channel in OFFERED[kind]
        if choices.get((kind, channel), channel in DEFAULT_CHANNELS[kind])
    )


# Digests and the rhythm of mail ----------------------------------------------------


class Digest(StrEnum):
    OFF = "off"
    DAILY = "daily"  # Monday to Friday
    WEEKLY = "weekly"  # on the company's first weekday
    TWICE_WEEKLY = "twice_weekly"  # on the first weekday and three days later


DIGEST_LABELS: dict[Digest, str] = {
    Digest.OFF: "Never",
    Digest.DAILY: "Every working day",
    Digest.WEEKLY: "Once a week",
    Digest.TWICE_WEEKLY: "Twice a week",
}

BUDGET_MAX = 20  # single messages a week at most, whatever a person asks for


@dataclass(frozen=True)
class Preferences:
    """How often and when mail and chat mentions may reach a person. Hours are whole
    local hours, 0-23; quiet hours run from ``quiet_from`` to ``quiet_until`` (across
    midnight when the first is later), none when either is None. ``time_zone`` None
    follows the company's. ``weekly_budget`` counts single messages (mails and chat
    mentions, not digests) in seven days."""

    digest: Digest = Digest.WEEKLY
    digest_hour: int = 9
    time_zone: str | None = None
    quiet_from: int | None = 19
    quiet_until: int | None = 8
    weekly_budget: int = 3
    # How Slack knows the person (their member ID, U…), for chat mentions; Teams
    # mentions by the work e-mail and needs nothing.
    slack_member_id: str | None = None


DEFAULT_PREFERENCES = Preferences()


@cache
def time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def zone_of(preferences: Preferences, company_zone: ZoneInfo) -> ZoneInfo:
    return ZoneInfo(preferences.time_zone) if preferences.time_zone else company_zone


@cache
def digest_days(digest: Digest, week_start: int) -> frozenset[int]:
    """The local weekdays (0 = Monday) a digest of this frequency goes out on."""
    if digest is Digest.DAILY:
        return frozenset(range(5))
    if digest is Digest.WEEKLY:
        return frozenset({week_start})
    if digest is Digest.TWICE_WEEKLY:
        return frozenset({week_start, (week_start + 3) % 7})
    return frozenset()


def digest_due(
    preferences: Preferences,
    zone: ZoneInfo,
    week_start: int,
    now: datetime,
    last_digest_at: datetime | None,
) -> bool:
    """Whether a digest is due for this person ``now``: a day of their frequency, their
    hour of it in their own time zone, and none sent on that local day yet."""
    local = now.astimezone(zone)
    return (
        local.weekday() in digest_days(preferences.digest, week_start)
        and local.hour == preferences.digest_hour
        and (last_digest_at is None or last_digest_at.astimezone(zone).date() != local.date())
    )


def is_quiet(preferences: Preferences, local_hour: int) -> bool:
    start, end = preferences.quiet_from, preferences.quiet_until
    if start is None or end is None or start == end:
        return False
    if start < end:
        return start <= local_hour < end
    return local_hour >= start or local_hour < end


def deliver_at(preferences: Preferences, zone: ZoneInfo, now: datetime) -> datetime:
    """The first moment from ``now`` outside the person's quiet hours, in UTC."""
    local = now.astimezone(zone)
    if not is_quiet(preferences, local.hour):
        return now
    end_day: date = local.date()
    if local.hour >= preferences.quiet_until:  # quiet until tomorrow morning
        end_day += timedelta(days=1)
    end = datetime.combine(end_day, time(preferences.quiet_until), tzinfo=zone)
    return end.astimezone(UTC)


def within_budget(preferences: Preferences, sent_in_week: int) -> bool:
    """Whether one more single message fits the person's weekly budget; the rest wait
    for the next digest."""
    return sent_in_week < preferences.weekly_budget


# What a digest carries ---------------------------------------------------------------

DIGEST_LOOKBACK = timedelta(days=14)  # a digest never reaches further back
DIGEST_ITEMS = 8  # items listed in a digest; the rest are counted


@dataclass(frozen=True)
class Candidate:
    """A published, current item, with whom it is aimed at (none: everyone)."""

    id: int
    published_at: datetime
    teams: frozenset[int] = frozenset()
    interests: frozenset[int] = frozenset()


def is_meant_for(item: Candidate, team_id: int | None, interests: frozenset[int]) -> bool:
    """The feed's targeting (``app.services.feed.meant_for``): aimed at everyone, at
    the person's team, or at one of their interests."""
    if not item.teams and not item.interests:
        return True
    return (team_id is not None and team_id in item.teams) or bool(item.interests & interests)


def digest_items(
    candidates: list[Candidate],
    team_id: int | None,
    interests: frozenset[int],
    shared: frozenset[int],
    since: datetime,
) -> tuple[list[int], int]:
    """The items a person's digest lists and how many more there are, from
    ``candidates`` newest first: meant for them, published after ``since`` (their last
    digest, or their last look at the feed) and not shared by them yet."""
    fresh = []
    for item in candidates:
        if item.published_at <= since:
            break  # newest first: the rest are older still
        if item.id not in shared and is_meant_for(item, team_id, interests):
            fresh.append(item.id)
    return fresh[:DIGEST_ITEMS], max(len(fresh) - DIGEST_ITEMS, 0)


# Challenges --------------------------------------------------------------------------

ENDING_NOTICE = timedelta(hours=24)  # "ends tomorrow" comes this long before the end
ENDING_SHORTEST = timedelta(days=2)  # a shorter challenge is all "ending soon": no notice


def started_due(starts_at: datetime, ends_at: datetime, now: datetime) -> bool:
    """Whether a challenge's start is told now: it has begun and not ended (one that
    ended before anyone told of it gets its results instead)."""
    return starts_at <= now < ends_at


def ending_due(starts_at: datetime, ends_at: datetime, now: datetime) -> bool:
    """Whether "ends tomorrow" is told now: within the last day, of a challenge that
    lasts two days or more."""
    return ends_at - starts_at >= ENDING_SHORTEST and ends_at - ENDING_NOTICE <= now < ends_at


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def amount(total: int, unit: str) -> str:
    """``unit`` is plural ("shares", "counted clicks"): one of them drops the s."""
    return f"{total} {unit[:-1] if total == 1 and unit.endswith('s') else unit}"


def standing_words(rank: int | None, total: int, unit: str, of: int) -> str:
    """A person's standing in a sentence; a rank only when the board shows them one."""
    have = amount(total, unit)
    if rank is None:
        return f"You have {have} so far."
    return f"You are {ordinal(rank)} of {of} with {have}."


def result_words(
    rank: int, of: int, total: int, unit: str, qualified: bool, minimum: int, team: bool
) -> str:
    """A settled placing in a sentence."""
    who = "Your team" if team else "You"
    text = f"{who} finished {ordinal(rank)} of {of} with {amount(total, unit)}."
    if minimum and not qualified:
        text += f" The minimum for a prize was {minimum}."
    return text


# Your week ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Week:
    """What a person did in one company week, and their all-time rank before and after
    it (None: not on the board, or not known)."""

    points: int = 0
    shares: int = 0
    clicks: int = 0
    rank_before: int | None = None
    rank_after: int | None = None
    ranks_known: bool = False


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def week_words(week: Week) -> str | None:
    """The weekly summary's words, or None for someone who did nothing that week (no
    points, shares nor counted clicks): a place lost while away is no reason to write."""
    said = []
    if week.shares:
        said.append(_count(week.shares, "share", "shares"))
    if week.clicks:
        said.append(_count(week.clicks, "counted click", "counted clicks"))
    if week.points:
        said.append(_count(week.points, "point", "points"))
    if not said:
        return None
    text = f"Last week: {', '.join(said)}."
    if week.ranks_known and week.rank_after is not None:
        if week.rank_before is None:
            text += f" You are on the company board now, {ordinal(week.rank_after)}."
        elif week.rank_before != week.rank_after:
            places = week.rank_before - week.rank_after
            way = "up" if places > 0 else "down"
            text += (
                f" You moved {way} {_count(abs(places), 'place', 'places')} on the company"
                f" board, to {ordinal(week.rank_after)}."
            )
        else:
            text += f" You kept your place on the company board, {ordinal(week.rank_after)}."
    return text


WEEK_TOLD_WITHIN = timedelta(hours=6)  # after the week began; later, the week is old news


def week_due(week_began: datetime, now: datetime) -> bool:
    """Whether last week's summary is told now: early in the new week, so that a clock
    that was down a while still sends it, and one back days later does not."""
    return week_began <= now < week_began + WEEK_TOLD_WITHIN


# Referrals ---------------------------------------------------------------------------

# What the referrer is told, never naming the candidate.
REFERRAL_WORDS: dict[ReferralStage, str] = {
    ReferralStage.APPLIED: "Someone you referred applied",
    ReferralStage.INTERVIEWED: "Someone you referred was invited to an interview",
    ReferralStage.HIRED: "Someone you referred was hired",
}
