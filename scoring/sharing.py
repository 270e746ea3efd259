"""The rules of sharing: share caps that protect an employee's network, the
taboo-topic guard, the disclosure every share text carries, and whether a text is in
the employee's own words.

Pure functions over plain values; the adapter loads prior shares and settings and
stores what these decide.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from difflib import SequenceMatcher

from scoring.vocabulary import Channel
from scoring.windows import Window, window_end, window_start


def times(count: int) -> str:
    return "once" if count == 1 else f"{count} times"


# Share caps ------------------------------------------------------------------------


@dataclass(frozen=True)
class ShareCaps:
    """Limits HR sets; gentle by default. ``None`` switches a limit off."""

    per_day: int | None = 3
    per_week: int | None = 10
    per_channel_per_day: int | None = 2
    per_content: int | None = 2  # the same item, over all channels and all time
    min_spacing: timedelta | None = timedelta(minutes=30)


@dataclass(frozen=True)
class PriorShare:
    at: datetime
    channel: Channel
    content_id: int


@dataclass(frozen=True)
class CapRefusal:
    cap: str  # per_day, per_week, per_channel_per_day, per_content, min_spacing
    message: str
    next_allowed_at: datetime | None  # None: never again (per_content)


def check_share_caps(
    caps: ShareCaps,
    prior: Iterable[PriorShare],
    *,
    channel: Channel,
    content_id: int,
    now: datetime,
    zone: tzinfo,
    first_weekday: int = 0,
) -> CapRefusal | None:
    """None when the share may go out; otherwise which cap refuses it and when the
    next share is allowed. Day and week are calendar periods in the company's zone."""
    prior = sorted(prior, key=lambda s: s.at)
    today = window_start(Window.DAY, now, zone)
    this_week = window_start(Window.WEEK, now, zone, first_weekday)
    tomorrow = window_end(Window.DAY, now, zone)
    next_week = window_end(Window.WEEK, now, zone, first_weekday)

    if caps.per_content is not None:
        same_item = [s for s in prior if s.content_id == content_id]
        if len(same_item) >= caps.per_content:
            return CapRefusal(
                "per_content",
                f"You have shared this item {times(len(same_item))}, the most for one item.",
                None,
            )
    if caps.per_week is not None:
        this_weeks = [s for s in prior if s.at >= this_week]
        if len(this_weeks) >= caps.per_week:
            return CapRefusal(
                "per_week",
                f"You have shared {times(len(this_weeks))} this week, the weekly limit.",
                next_week,
            )
    if caps.per_day is not None:
        todays = [s for s in prior if s.at >= today]
        if len(todays) >= caps.per_day:
            return CapRefusal(
                "per_day", f"You have shared {times(len(todays))} today, the daily limit.", tomorrow
            )
    if caps.per_channel_per_day is not None:
        on_channel = [s for s in prior if s.at >= today and s.channel == channel]
        if len(on_channel) >= caps.per_channel_per_day:
            return CapRefusal(
                "per_channel_per_day",
                f"You have shared {times(len(on_channel))} on {channel.label} today, "
                "the daily limit for one network.",
                tomorrow,
            )
    if caps.min_spacing is not None and prior:
        earliest = prior[-1].at + caps.min_spacing
        if now < earliest:
            minutes = int(caps.min_spacing.total_seconds() // 60)
            return CapRefusal(
                "min_spacing",
                f"Leave at least {minutes} minute{'' if minutes == 1 else 's'} between two shares.",
                earliest,
            )
    return None


# Never the id of a real item: asks the caps about "another item" for the allowance.
NO_ITEM = -1


@dataclass(frozen=True)
class Allowance:
    """What the caps leave the employee now; None where a cap is switched off."""

    caps: ShareCaps
    today_left: int | None
    week_left: int | None
    per_channel_left: dict[Channel, int | None]
    # When the next share is possible if none is now (spacing, or the day or week is used up).
    next_allowed_at: datetime | None
    blocked_by: str | None
    per_item_counts: dict[int, int] = field(default_factory=dict)

    def item_left(self, content_id: int) -> int | None:
        if self.caps.per_content is None:
            return None
        return max(self.caps.per_content - self.per_item_counts.get(content_id, 0), 0)


def share_allowance(
    caps: ShareCaps,
    prior: Sequence[PriorShare],
    *,
    now: datetime,
    zone: tzinfo,
    first_weekday: int = 0,
    per_item_counts: dict[int, int] | None = None,
) -> Allowance:
    """What is left today, this week and per channel, and when the next share is
    possible if none is now. ``prior`` holds at least this week's shares (and those
    within the spacing); ``per_item_counts`` every share so far of the items shown."""
    today = window_start(Window.DAY, now, zone)
    this_week = window_start(Window.WEEK, now, zone, first_weekday)
    todays = [s for s in prior if s.at >= today]

    def left(cap: int | None, used: int) -> int | None:
        return None if cap is None else max(cap - used, 0)

    per_channel = {
        channel: left(caps.per_channel_per_day, sum(1 for s in todays if s.channel == channel))
        for channel in Channel
    }
    # The check, asked about an item not shared yet, says when the next share is
    # possible at all.
    refusal = check_share_caps(
        caps,
        prior,
        channel=_freest_channel(per_channel),
        content_id=NO_ITEM,
        now=now,
        zone=zone,
        first_weekday=first_weekday,
    )
    return Allowance(
        caps=caps,
        today_left=left(caps.per_day, len(todays)),
        week_left=left(caps.per_week, sum(1 for s in prior if s.at >= this_week)),
        per_channel_left=per_channel,
        next_allowed_at=refusal.next_allowed_at if refusal else None,
        blocked_by=refusal.cap if refusal else None,
        per_item_counts=per_item_counts or {},
    )


def _freest_channel(per_channel: dict[Channel, int | None]) -> Channel:
    return max(
        per_channel, key=lambda c: float("inf") if per_channel[c] is None else per_channel[c]
    )


# Taboo topics ----------------------------------------------------------------------


@dataclass(frozen=True)
class TabooTopic:
    name: str
    explanation: str
    phrases: Sequence[str] = ()  # matched as whole words, case-insensitively
    patterns: Sequence[str] = ()  # regular expressions, case-insensitive


@dataclass(frozen=True)
class TabooHit:
    topic: str
    explanation: str
    matched: str


def _phrase_pattern(phrase: str) -> str:
    words = [re.escape(word) for word in phrase.split()]
    return r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)"


def find_taboo(text: str, topics: Iterable[TabooTopic]) -> list[TabooHit]:
    """Every topic the text touches, with the words that matched."""
    hits = []
    for topic in topics:
        candidates = [_phrase_pattern(p) for p in topic.phrases if p.strip()]
        candidates += list(topic.patterns)
        for pattern in candidates:
            match = re.search(pattern, text, flags=re.IGNORECASE)
            if match:
                hits.append(TabooHit(topic.name, topic.explanation, match.group(0)))
                break
    return hits


def pattern_error(pattern: str) -> str | None:
    """Why a pattern HR typed is not a usable regular expression, or None."""
    try:
        re.compile(pattern)
    except re.error as exc:
        return str(exc)
    return None


# Disclosure ------------------------------------------------------------------------


def _tag_present(text: str, tag: str) -> bool:
    return re.search(r"(?<!\w)" + re.escape(tag) + r"(?!\w)", text, re.IGNORECASE) is not None


def with_disclosure(text: str, disclosure: str, hashtag: str | None = None) -> str:
    """The share text with the disclosure (e.g. #employee) and the campaign hashtag
    appended unless present: an employee can edit the text but not remove them."""
    text = text.strip()
    tags = [t.strip() for t in (disclosure, hashtag or "") if t and t.strip()]
    missing = [t for t in tags if not _tag_present(text, t)]
    return " ".join([text, *missing]) if missing else text


# Own words -------------------------------------------------------------------------

# A text is in the employee's own words when enough of its words are theirs: words that
# are new or replace the template's. Fixing a typo or two is not; a sentence of one's
# own is. A short template rewritten counts with fewer words when most of it changed.
OWN_WORDS_ENOUGH = 6  # own words that always count
OWN_WORDS_SOME = 3  # own words that count when the text is also mostly different
OWN_WORDS_SIMILARITY = 0.8  # word-sequence similarity below this is "mostly different"
_LINK = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_TAG = re.compile(r"(?<!\w)#\w+")
_WORD = re.compile(r"\w+(?:['\u2019]\w+)*")


def _words(text: str) -> list[str]:
    """Words compared: case, spacing, punctuation, links and hashtags left out (the
    disclosure and campaign tags are added anyway; a link is not words)."""
    return _WORD.findall(_TAG.sub(" ", _LINK.sub(" ", text or "")).casefold())


def own_word_count(template: str, text: str) -> tuple[int, float]:
    """How many of the text's words are the employee's own (new, or replacing the
    template's) and how similar the two word sequences are (1.0: the same)."""
    before, after = _words(template), _words(text)
    matcher = SequenceMatcher(None, before, after, autojunk=False)
    own = sum(j2 - j1 for tag, _i1, _i2, j1, j2 in matcher.get_opcodes() if tag != "equal")
    return own, matcher.ratio()


def in_own_words(template: str, text: str) -> bool:
    """The text changed beyond small edits: at least ``OWN_WORDS_ENOUGH`` words of the
    employee's own, or ``OWN_WORDS_SOME`` when the text is also mostly different from
    the template. Only taking words away (or emptying the text) is never own words."""
    own, similarity = own_word_count(template, text)
    return own >= OWN_WORDS_ENOUGH or (own >= OWN_WORDS_SOME and similarity < OWN_WORDS_SIMILARITY)
