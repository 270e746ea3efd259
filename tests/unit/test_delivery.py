"""A message's life in the outbox and what an answer means for it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scoring.delivery import (
    FIRST_DELAY,
    LONGEST_DELAY,
    MAX_ATTEMPTS,
    MOVES,
    State,
    Verdict,
    http_verdict,
    retry_at,
    smtp_verdict,
    sources,
)

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        (200, Verdict.SENT),
        (204, Verdict.SENT),
        (None, Verdict.RETRY),  # no answer
        (429, Verdict.RETRY),
        (500, Verdict.RETRY),
        (503, Verdict.RETRY),
        (403, Verdict.DISABLE),
        (404, Verdict.DISABLE),
        (410, Verdict.DISABLE),
        (400, Verdict.GIVE_UP),
        (413, Verdict.GIVE_UP),
        (301, Verdict.GIVE_UP),
    ],
)
def test_http_answers(status, verdict):
    assert http_verdict(status) is verdict


@pytest.mark.parametrize(
    ("code", "verdict"),
    [(250, Verdict.SENT), (None, Verdict.RETRY), (421, Verdict.RETRY), (451, Verdict.RETRY),
     (550, Verdict.GIVE_UP), (554, Verdict.GIVE_UP)],
)  # fmt: skip
def test_smtp_answers(code, verdict):
    assert smtp_verdict(code) is verdict


def test_back_off_doubles_within_its_jitter_up_to_the_longest_delay():
    for attempts in range(1, MAX_ATTEMPTS):
        backoff = min(LONGEST_DELAY, FIRST_DELAY * 2 ** (attempts - 1))
        low, high = retry_at(attempts, NOW, 0.0), retry_at(attempts, NOW, 0.999)
        assert low - NOW == backoff / 2
        assert backoff / 2 < high - NOW < backoff
    assert retry_at(2, NOW, 0.5) - NOW > retry_at(1, NOW, 0.5) - NOW


def test_retry_after_is_honoured_when_longer_and_back_off_wins_when_shorter():
    assert retry_at(1, NOW, 0.0, retry_after=120) == NOW + timedelta(seconds=120)
    assert retry_at(1, NOW, 0.0, retry_after=1) == NOW + FIRST_DELAY / 2
    assert retry_at(1, NOW, 0.0, retry_after=3 * 86400) is None  # too long: give up


def test_tries_run_out():
    assert retry_at(MAX_ATTEMPTS - 1, NOW, 0.5) is not None
    assert retry_at(MAX_ATTEMPTS, NOW, 0.5) is None


def test_a_message_is_sent_only_from_a_claim_and_claimed_only_while_pending():
    assert sources(State.SENDING) == {State.PENDING}
    assert sources(State.SENT) == {State.SENDING}
    # Nothing leaves SENT, DIGESTED or CANCELLED: they are final.
    final = {State.SENT, State.DIGESTED, State.CANCELLED}
    assert not any(final & allowed for allowed in MOVES.values())
    # Only a failed message goes back to waiting besides a retry after a claim.
    assert sources(State.PENDING) == {State.SENDING, State.FAILED}
