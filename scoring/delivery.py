"""Delivery: the life of a message in the outbox, and what an answer means for it.

A message is written ``PENDING`` in the transaction of what caused it. A worker claims
it (``SENDING``) with a conditional move that only one worker can win, so a message is
sent at most once even when workers race; then it is ``SENT``, back to ``PENDING`` for
a later try, or ``FAILED``. A message the person's weekly budget held back is
``FOLDED`` until a digest carries it (``DIGESTED``); one whose person no longer wants
it when its turn comes (opted out, turned it off) is ``CANCELLED``. Admins may send a
failed one again.

Only a transient answer earns another try (429, a 5xx, a lost connection, an SMTP
4xx), with exponential back-off and jitter, never sooner than ``Retry-After`` asks.
403, 404 and 410 say the destination is gone or forbids us: it is disabled (no more
tries for anything sent there) until an admin repairs it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum


class State(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    FOLDED = "folded"
    DIGESTED = "digested"
    CANCELLED = "cancelled"


# target -> the states a message may move there from.
MOVES: dict[State, frozenset[State]] = {
    State.SENDING: frozenset({State.PENDING}),
    State.SENT: frozenset({State.SENDING}),
    State.PENDING: frozenset({State.SENDING, State.FAILED}),  # a retry, or an admin's
    State.FAILED: frozenset({State.SENDING}),
    State.DIGESTED: frozenset({State.FOLDED}),
    State.CANCELLED: frozenset({State.PENDING, State.SENDING, State.FOLDED}),
}


def sources(target: State) -> frozenset[State]:
    """The states a message may move to ``target`` from."""
    return MOVES.get(target, frozenset())


class Verdict(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # transient: try again later
    GIVE_UP = "give_up"  # this message cannot go; others to the destination may
    DISABLE = "disable"  # the destination is gone or forbids us


GONE = frozenset({403, 404, 410})


def http_verdict(status: int | None) -> Verdict:
    """What an HTTP answer means; None is a network error (no answer)."""
    if status is None or status == 429 or status >= 500:
        return Verdict.RETRY
    if 200 <= status < 300:
        return Verdict.SENT
    if status in GONE:
        return Verdict.DISABLE
    return Verdict.GIVE_UP


def smtp_verdict(code: int | None) -> Verdict:
    """What an SMTP reply code means; None is a network error."""
    if code is None or 400 <= code < 500:
        return Verdict.RETRY
    if 200 <= code < 400:
        return Verdict.SENT
    return Verdict.GIVE_UP


MAX_ATTEMPTS = 8
FIRST_DELAY = timedelta(seconds=30)
LONGEST_DELAY = timedelta(hours=6)
LONGEST_RETRY_AFTER = timedelta(days=1)  # a destination asking for longer is given up on


def retry_at(
    attempts: int, now: datetime, jitter: float, retry_after: float | None = None
) -> datetime | None:
    """When to try again after ``attempts`` tries, None once they are used up (or the
    destination asks for more than a day). The delay doubles from ``FIRST_DELAY`` up to
    ``LONGEST_DELAY``, and ``jitter`` (0 <= jitter < 1, random) picks it in its upper
    half, so that messages that failed together do not come back together; a
    ``Retry-After`` of more seconds wins."""
    if attempts >= MAX_ATTEMPTS:
        return None
    backoff = min(LONGEST_DELAY, FIRST_DELAY * 2 ** max(attempts - 1, 0))
    delay = backoff * (0.5 + jitter / 2)
    if retry_after is not None:
        asked = timedelta(seconds=max(retry_after, 0))
        if asked > LONGEST_RETRY_AFTER:
            return None
        delay = max(delay, asked)
    return now + delay


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """A Retry-After header in seconds from ``now``: delta-seconds or an HTTP date;
    None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return max((moment - now).total_seconds(), 0.0)
