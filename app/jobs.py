"""Background work through RQ.

Jobs are thin functions that take ids, enqueued by dotted name on named queues with
deterministic ids, JSON-serialised, with retries and timeouts. They may run twice:
correctness rests on database constraints, never on a job running once. The worker
runs each job in a fresh application context, so each has its own database session. The
services flush; a job commits, here, where its work ends (a batched job once per batch,
so that a crash loses nothing done).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from queue import SimpleQueue

import redis
from flask import Flask, current_app
from redis.client import Pipeline
from rq import Queue, SimpleWorker, worker_registration
from rq.job import Job
from rq.serializers import JSONSerializer

from app.boards import BoardStore
from app.db import on_postgresql
from app.extensions import db, get_redis
from app.leases import Lease
from app.mail import send_mail
from app.models import Employee, utcnow
from app.queue import QUEUES, enqueue
from app.services import (
    badges,
    challenge_notices,
    challenge_settlement,
    challenge_standings,
    chat,
    clicks,
    digests,
    headcounts,
    inbound_feeds,
    mails,
    outbox,
    redemptions,
    rollups,
    scoring,
    webhook_endpoints,
    your_week,
)
from app.services.home_ranks import ensure_snapshot
from app.services.ledger import recalculate
from app.services.scoring import (
    Busy,
    apply_pending_lines,
    ensure_boards_built,
    restore_member,
    score_pending_events,
    scoring_lock,
)
from app.services.sign_in import sign_in_url
from app.services.team_rewards import close_due as close_due_fundings
from app.worker_status import JOB_HEARTBEAT, WORKER_TTL, record_abandoned

log = logging.getLogger("chorus.jobs")


class AppWorker(SimpleWorker):
    """Runs jobs in this process (no fork per job), each inside its own app context.

    It beats often (``app.worker_status``), also while a job runs, so that health can
    tell a live worker from a dead one; and each beat registers it again, so that a
    Redis that was restarted empty or lost learns of it within seconds."""

    def __init__(self, *args, app: Flask, **kwargs):
        kwargs.setdefault("serializer", JSONSerializer)
        kwargs.setdefault("worker_ttl", WORKER_TTL)
        super().__init__(*args, **kwargs)
        self.app = app
        self.push_exc_handler(record_abandoned)

    def heartbeat(self, timeout: int | None = None, pipeline: Pipeline | None = None):
        super().heartbeat(timeout, pipeline)
        if self.birth_date is None:  # not registered yet: register_birth does it
            return
        connection = pipeline if pipeline is not None else self.connection
        # Idempotent: the same fields and set members as at birth.
        connection.hset(self.key, mapping={**self.serialize(), "state": self.get_state()})
        worker_registration.register(self, connection)

    def perform_job(self, job: Job, queue: Queue, *args, **kwargs) -> bool:
        # rq 3 passes an execution record too; pass through whatever this rq version sends.
        done = threading.Event()
        beating = threading.Thread(target=self._beat_until, args=(done,), daemon=True)
        beating.start()
        try:
            with self.app.app_context():
                return super().perform_job(job, queue, *args, **kwargs)
        finally:
            done.set()
            beating.join()

    def _beat_until(self, done: threading.Event) -> None:
        """A job runs in this process, so the worker's own loop does not beat meanwhile."""
        while not done.wait(JOB_HEARTBEAT):
            try:
                self.heartbeat(self.worker_ttl + 60)
            except redis.RedisError:
                log.warning("worker heartbeat failed", exc_info=True)


def make_worker(app: Flask, queue_names: tuple[str, ...] = QUEUES) -> AppWorker:
    connection = app.extensions["redis"]
    queues = [Queue(name, connection=connection, serializer=JSONSerializer) for name in queue_names]
    # Job ids only in the log: arguments may carry a sign-in nonce.
    return AppWorker(queues, connection=connection, app=app, log_job_description=False)


# The clock -------------------------------------------------------------------------

# (job, queue, every N seconds). Job ids are derived from the time slot, so several
# clocks (a redeploy overlapping, a second machine) still enqueue each run once.
SCHEDULE: list[tuple[str, str, int]] = [
    ("app.jobs.import_all_feeds", "default", 1800),
    # Raw clicks wait in a Redis stream; every few seconds they become records.
    ("app.jobs.process_clicks", "default", 3),
    # Events become points and the boards follow, a few seconds behind.
    ("app.jobs.settle_points", "scoring", 5),
    # Badges: a full pass once a day catches what the passes after scoring did not see.
    ("app.jobs.evaluate_all_badges", "default", 86400),
    # The home page's "since last week": ranks as each company week began, kept once a week
    # (a run finds them there and stops; after a Redis loss the next run writes them again).
    ("app.jobs.snapshot_home_ranks", "default", 600),
    # Team rewards whose window closed (or that were retired) give their pledges back.
    ("app.jobs.close_team_fundings", "default", 300),
    # Share challenges: live boards follow new events; freeze and settle when due.
    ("app.jobs.update_challenge_boards", "default", 10),
    ("app.jobs.settle_challenges", "default", 60),
    # What people in challenges are told (started, ends tomorrow, results), apart from
    # settlement so that it stays one quick transaction.
    ("app.jobs.tell_challenges", "default", 60),
    # "Your week": early in each company week, last week in short (once per person).
    ("app.jobs.tell_weeks", "default", 900),
    # Redemptions: whoever was not told of a decision yet hears of it (inbox, outbox).
    ("app.jobs.notify_redemptions", "mail", 5),
    # Mail: the outbox drains every few seconds; digests are composed every quarter of
    # an hour, so that each goes at its person's own hour (half-hour zones too).
    ("app.jobs.deliver_outbox", "mail", 5),
    ("app.jobs.compose_digests", "mail", 900),
    ("app.jobs.prune_outbox", "default", 86400),
    # Analytics: the headcount of each day, week and month that ended, kept.
    ("app.jobs.keep_headcounts", "default", 3600),
]


def enqueue_due(now: float, last_slots: dict[str, int]) -> list[str]:
    """Enqueue every scheduled job whose slot has come; returns the job ids."""
    enqueued = []
    for function, queue_name, every in SCHEDULE:
        slot = int(now // every)
        if last_slots.get(function) == slot:
            continue
        last_slots[function] = slot
        job_id = f"{function.rsplit('.', 1)[-1]}-{every}-{slot}".replace("_", "-")
        if enqueue(function, job_id=job_id, queue_name=queue_name, retries=0, timeout=every * 4):
            enqueued.append(job_id)
    return enqueued


def run_clock(app: Flask, stop: threading.Event, tick: float = 1.0) -> None:
    last_slots: dict[str, int] = {}
    while not stop.is_set():
        with app.app_context():
            try:
                enqueue_due(time.time(), last_slots)
            except Exception:  # a Redis hiccup must not stop the clock
                log.exception("clock: could not enqueue scheduled jobs")
        stop.wait(tick)


# Jobs ------------------------------------------------------------------------------


def send_sign_in_link(employee_id: int, nonce: str, next_path: str | None = None) -> None:
    """Mail a sign-in link. The link is made here, so no usable token waits in Redis;
    a link for a nonce that was used meanwhile is not sent."""
    employee = db.session.get(Employee, employee_id)
    if employee is None or not employee.is_active or employee.login_nonce != nonce:
        return
    minutes = current_app.config["SIGN_IN_LINK_MAX_AGE"] // 60
    send_mail(
        employee.email,
        "Your Chorus sign-in link",
        f"Hello {employee.name},\n\n"
        f"use this link to sign in to Chorus. It works once, for {minutes} minutes:\n\n"
        f"{sign_in_url(employee, next_path)}\n\n"
        "If you did not ask for it, you can ignore this mail.\n",
    )


# Inbound feeds ---------------------------------------------------------------------


def import_feed(feed_id: int) -> None:
    """Import one feed's new entries as drafts; a failure is kept on the feed."""
    try:
        inbound_feeds.import_feed(feed_id)
    finally:  # the drafts, or why there are none (a bug's note too, before RQ retries)
        db.session.commit()


def import_all_feeds() -> None:
    """Queue an import of every active feed (scheduled every 30 minutes)."""
    inbound_feeds.enqueue_all_feeds()


# Clicks ----------------------------------------------------------------------------


def process_clicks(**options: int) -> dict[str, int]:
    """Turn the raw clicks waiting in Redis into click records and CLICK events; the
    options are ``clicks.store_clicks``'s batch sizes."""
    stats: Counter = Counter()
    for _batch in clicks.store_clicks(stats, **options):
        db.session.commit()  # batch by batch: its entries leave the stream once stored
    return dict(stats)


# Points ----------------------------------------------------------------------------


def settle(store: BoardStore, max_batches: int = 50, lease: Lease | None = None) -> dict[str, int]:
    """Score up to ``max_batches`` batches of waiting events and bring the boards up to
    date; returns how many events and lines were handled. Every batch commits on its
    own, here: the services score and apply, and flush. The caller holds the scoring
    lock; once its ``lease`` is lost (this run stalled past it, so another may have
    started) no new batch is scored.

    On PostgreSQL the boards follow in a second thread with a session of its own: each
    scored batch, once committed, goes on the boards while the next one is scored.
    Scoring waits mostly on the database and the boards on Redis, so each step runs
    in the other's waits. SQLite has a single writer: there the boards follow after."""
    app = current_app._get_current_object()
    committed: SimpleQueue[bool] = SimpleQueue()  # True per scored batch, then False

    def follow() -> int:
        with app.app_context():
            ensure_boards_built(store)
            lines = 0
            while committed.get():
                lines += apply_pending_lines(store)
                db.session.commit()
            for _ in range(max_batches):  # whatever is left, added by others too
                applied = apply_pending_lines(store)
                db.session.commit()
                lines += applied
                if not applied:
                    break
            return lines

    events = 0
    with ThreadPoolExecutor(max_workers=1) as boards_side:
        following = boards_side.submit(follow) if on_postgresql() else None
        try:
            for _ in range(max_batches):
                if lease is not None and lease.lost:
                    break
                touched: dict[int, set[str]] = {}
                scored = score_pending_events(touched=touched)
                db.session.commit()
                if not scored:
                    break
                badges.evaluate_later(touched)  # a job of its own: scoring goes on
                events += scored
                committed.put(True)
        finally:
            committed.put(False)  # the boards finish what is committed, even after an error
        lines = following.result() if following else follow()
    return {"events": events, "lines": lines}


def settle_points(max_batches: int = 50, wait: float = 0) -> dict[str, int]:
    """Score waiting events into the ledger and bring the boards up to date.

    One at a time (a Redis lock): a second run finds the lock taken and leaves the work
    to the first, unless told to ``wait`` for it that many seconds. Each batch commits on
    its own, so a crash loses nothing done."""
    try:
        with scoring_lock(blocking_timeout=wait) as lease:
            return settle(BoardStore(get_redis()), max_batches, lease)
    except Busy:
        log.info("settle_points: another run holds the lock")
    return {"events": 0, "lines": 0}


def snapshot_home_ranks() -> bool:
    """Keep each board's ranks as this company week began, for the home page's "since
    last week"; True when it wrote them (they are derived from the ledger: nothing to
    commit)."""
    return ensure_snapshot()


def rebuild_boards() -> int:
    """Recompute every leaderboard from the ledger; returns the number of boards."""
    store = BoardStore(get_redis())
    with scoring_lock(blocking_timeout=120):
        count = scoring.rebuild_boards(store)
        while apply_pending_lines(store):
            db.session.commit()
        db.session.commit()
    return count


def recalculate_points(since: str, actor_id: int | None = None) -> int:
    """Replay events from ``since`` (ISO 8601) under today's rules: compensating
    lines, then the boards catch up. Run twice, the second run writes nothing."""
    actor = db.session.get(Employee, actor_id) if actor_id else None
    with scoring_lock(blocking_timeout=120):
        written = recalculate(actor, datetime.fromisoformat(since))
        db.session.commit()
    settle_points()
    return written


def sync_member_boards(employee_id: int) -> None:
    """Make someone's place on the boards match their choices: off every board when
    hidden or opted out, back with their points from the ledger otherwise."""
    with scoring_lock(blocking_timeout=60):
        restore_member(BoardStore(get_redis()), employee_id)


# Analytics -------------------------------------------------------------------------


def rebuild_rollups(since: str | None = None) -> dict[str, int]:
    """Recompute the analytics rollups from the raw rows and the kept headcounts from
    the spells (from ``since``, an ISO date, or all), in one transaction; returns the
    rows written per rollup table and the periods whose headcount was kept."""
    written = rollups.rebuild(date.fromisoformat(since) if since else None)
    db.session.commit()
    return written


def keep_headcounts() -> int:
    """Keep the headcount of every finished day, week and month not kept yet (hourly)."""
    kept = headcounts.keep_headcounts()
    db.session.commit()
    return kept


# Rewards ---------------------------------------------------------------------------


def notify_redemptions() -> int:
    """Tell each employee the decisions on their redemptions they were not told of yet
    (scheduled every few seconds); returns how many mails were queued. Each is
    committed with the mark that it was told, one at a time, so a run stopped halfway
    keeps what it did. Run twice or on two workers, a decision is told once (a
    conditional UPDATE marks it told first)."""
    queued = 0
    for redemption_id in redemptions.untold():
        queued += redemptions.notify_decision(redemption_id)
        db.session.commit()
    return queued


# Mail ------------------------------------------------------------------------------


SENDERS = {
    outbox.Route.MAIL: lambda message_id: outbox.send_claimed(message_id, render=mails.render),
    outbox.Route.CHAT: chat.send_post,
    outbox.Route.WEBHOOK: webhook_endpoints.send_delivery,
}


def deliver_outbox(seconds: float = 4.0) -> dict[str, int]:
    """Send what waits in the outbox, mail, chat posts and webhook deliveries, for up
    to ``seconds`` (the next run, seconds later, goes on). Each message is claimed and
    the claim committed before it is sent, so two workers never send one message
    twice; each destination within its rate (MAIL_PER_SECOND for the SMTP server, the
    provider's for a chat channel, WEBHOOK_PER_SECOND for an endpoint): a message over
    it waits for a later pass."""
    done: Counter = Counter(failed_stuck=outbox.give_up_stuck(utcnow()))
    db.session.commit()
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        waiting = outbox.due(utcnow())
        db.session.rollback()
        if not waiting:
            break
        sent_any = False
        for message in waiting:
            if time.monotonic() >= until:
                break
            if not outbox.may_send(message.rate_key, message.per_second):
                continue
            claimed = outbox.claim(message.id, utcnow())
            db.session.commit()
            if claimed:
                state = SENDERS[message.route](message.id)
                done[state.value] += 1
                db.session.commit()
                sent_any = True
        if not sent_any:  # every destination at its rate: the next second
            time.sleep(1 - time.time() % 1)
    return dict(done)


def prune_outbox() -> int:
    """Forget mail settled more than 90 days ago (daily)."""
    pruned = outbox.prune(utcnow())
    db.session.commit()
    return pruned


def compose_digests() -> int:
    """Write the digests due now (every quarter of an hour); returns how many."""
    written = 0
    for count in digests.compose_due(utcnow()):
        db.session.commit()
        written += count
    return written


def close_team_fundings() -> int:
    """Refund every open team funding whose reward window closed or whose reward was
    retired. Run twice or on two workers, the pledges are refunded once (conditional
    UPDATEs under the reward's lock)."""
    closed = close_due_fundings()
    db.session.commit()
    return closed


# Badges ----------------------------------------------------------------------------


def evaluate_badges(touched: str) -> int:
    """Grant what the people a scoring batch touched have earned, on the badges that
    count what they did (``badges.evaluate_later`` writes ``touched``); returns how
    many grants were new. Run twice, the second finds them."""
    added = badges.evaluate_employees(None, kinds=badges.parse_touched(touched))
    db.session.commit()
    return added


def evaluate_all_badges() -> int:
    """The nightly full pass over everyone taking part, a group at a time."""
    added = 0
    for count in badges.evaluate_everyone():
        db.session.commit()
        added += count
    return added


def backfill_badge(badge_id: int) -> int:
    """A new or edited badge, granted to everyone who already qualifies: dated at the
    real crossing, quiet when that is more than two days ago. Run twice, grants once."""
    badge = badges.find_badge(badge_id)
    added = 0
    if badge is not None:
        for count in badges.backfill(badge):
            db.session.commit()
            added += count
    return added


# Share challenges ------------------------------------------------------------------


def update_challenge_boards() -> dict[str, int]:
    """Bring every running challenge's live Redis board up to date from SQL."""
    done = challenge_standings.update_challenge_boards()
    db.session.rollback()  # read only: end the read transaction
    return done


def settle_challenge(challenge_id: int) -> bool:
    """Settle one challenge when due: placings, digest and prizes in one commit. Run
    twice, late, or on two workers at once, the prizes are written once."""
    try:
        done = challenge_settlement.settle_challenge(challenge_id)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return done


def settle_challenges() -> dict[str, int]:
    """The clock's sweep: freeze the challenges whose freeze began, then settle each one
    that is due, each in its own transaction (one failing does not hold the others)."""
    frozen = challenge_settlement.freeze_due()
    db.session.commit()
    settled = 0
    for challenge_id in challenge_settlement.settle_due():
        try:
            settled += settle_challenge(challenge_id)
        except Exception:
            log.exception("settle_challenges: challenge %s failed", challenge_id)
    return {"frozen": len(frozen), "settled": settled}


def tell_challenges() -> dict[str, int]:
    """The clock's sweep of what people in challenges are told: each challenge whose
    start, last day or results were not told yet, each in its own transaction with the
    mark that it was told (a run stopped halfway keeps what it did; run twice, each
    person is told once). Returns how many people were told of each."""
    done: Counter = Counter()
    steps = (
        ("started", challenge_notices.starts_to_tell, challenge_notices.tell_started),
        ("ending", challenge_notices.endings_to_tell, challenge_notices.tell_ending),
        ("results", challenge_notices.results_to_tell, challenge_notices.tell_results),
    )
    for name, due, tell in steps:
        for challenge_id in due():
            try:
                done[name] += tell(challenge_id)
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("tell_challenges: challenge %s (%s) failed", challenge_id, name)
    return dict(done)


def tell_weeks() -> int:
    """Last week in short, for each person who did something in it, and last week's top
    for the chat channels (every quarter of an hour; only early in the week does it
    find anything to do)."""
    told = 0
    for count in your_week.tell_weeks():
        db.session.commit()
        told += count
    your_week.post_tops()  # and last week's top to the chat channels
    db.session.commit()
    return told
