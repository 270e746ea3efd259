"""RQ jobs: enqueued once per id, JSON-serialised, each run in its own app context."""

from __future__ import annotations

import json
import zlib

import pytest
from flask import g
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer
from sqlalchemy import func, select

from app.extensions import db, get_redis
from app.models import Team
from app.queue import enqueue, queue

RESULTS = "test:job-results"
HERE = __name__


# Jobs the worker runs by dotted name ---------------------------------------------------


def observe_context(tag: str) -> None:
    """Report what this job can see, then leave an uncommitted team and a mark on g."""
    seen = {
        "tag": tag,
        "g_marked": "job_mark" in g,
        "teams": db.session.scalar(select(func.count()).select_from(Team)),
    }
    get_redis().rpush(RESULTS, json.dumps(seen))
    g.job_mark = tag
    db.session.add(Team(name=f"uncommitted {tag}"))
    db.session.flush()


def commit_team(name: str) -> None:
    db.session.add(Team(name=name))
    db.session.commit()


def fail_after_writing(name: str) -> None:
    db.session.add(Team(name=name))
    db.session.flush()
    raise RuntimeError("boom")


def results() -> list[dict]:
    return [json.loads(item) for item in get_redis().lrange(RESULTS, 0, -1)]


# Tests ---------------------------------------------------------------------------------


def test_enqueue_is_idempotent_per_job_id(ctx, run_jobs):
    first = enqueue(f"{HERE}.observe_context", "a", job_id="job-once", queue_name="default")
    again = enqueue(f"{HERE}.observe_context", "a", job_id="job-once", queue_name="default")
    assert isinstance(first, Job)
    assert again is None
    assert queue("default").count == 1
    run_jobs()
    assert len(results()) == 1
    # Finished jobs are kept for a while, so a redelivery right after is still a no-op.
    assert enqueue(f"{HERE}.observe_context", "a", job_id="job-once") is None
    run_jobs()
    assert len(results()) == 1


def test_other_ids_are_other_jobs(ctx):
    for n in range(3):
        enqueue(f"{HERE}.observe_context", str(n), job_id=f"job-{n}")
    assert queue("default").count == 3


def test_jobs_are_stored_as_json(ctx):
    job = enqueue(f"{HERE}.commit_team", "Sales", job_id="json-job", queue_name="mail")
    raw = get_redis().hget(job.key, "data")
    assert json.loads(zlib.decompress(raw)) == [f"{HERE}.commit_team", None, ["Sales"], {}]
    fetched = Job.fetch("json-job", connection=get_redis(), serializer=JSONSerializer)
    assert fetched.args == ["Sales"]
    assert fetched.origin == "mail"
    assert fetched.timeout == 60
    assert fetched.retries_left == 3


def test_arguments_must_be_json(ctx):
    with pytest.raises(TypeError):
        enqueue(f"{HERE}.commit_team", object(), job_id="not-json")  # type: ignore[arg-type]
    assert queue("default").count == 0


def test_unknown_queue_is_refused(ctx):
    with pytest.raises(ValueError, match="unknown queue"):
        enqueue(f"{HERE}.commit_team", "x", job_id="x", queue_name="urgent")


def test_each_job_runs_in_its_own_app_context(ctx, run_jobs):
    for tag in ("one", "two", "three"):
        enqueue(f"{HERE}.observe_context", tag, job_id=f"ctx-{tag}")
    run_jobs()
    seen = results()
    assert [s["tag"] for s in seen] == ["one", "two", "three"]
    # Nothing carries over: neither g nor the previous job's uncommitted rows.
    assert all(not s["g_marked"] and s["teams"] == 0 for s in seen)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Team)) == 0
    assert "job_mark" not in g


def test_a_job_that_commits_keeps_its_work(ctx, run_jobs):
    enqueue(f"{HERE}.commit_team", "Committed", job_id="commit")
    run_jobs()
    db.session.rollback()
    assert db.session.scalar(select(Team.name)) == "Committed"


def test_a_failed_job_leaves_nothing_and_is_kept_for_inspection(ctx, run_jobs):
    job = enqueue(f"{HERE}.fail_after_writing", "Half", job_id="fails", retries=0)
    run_jobs()
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Team)) == 0
    assert job.get_status(refresh=True) == JobStatus.FAILED
    assert "fails" in queue("default").failed_job_registry.get_job_ids()


def test_a_failed_job_is_retried_later(ctx, run_jobs):
    job = enqueue(f"{HERE}.fail_after_writing", "Half", job_id="retried", retries=2)
    run_jobs()
    job.refresh()
    assert job.get_status() == JobStatus.SCHEDULED
    assert job.retries_left == 1
