"""What is true about the workers: who is alive, which jobs were abandoned.

RQ keeps a worker in its registry until its maintenance runs (every ten minutes), so a
worker killed with -9 is still listed long after its last heartbeat; and a job whose
worker died mid-run is moved to the failed jobs, although for Chorus's scheduled jobs
the next run does the work again. Health reads these instead of the raw counts.
"""

from __future__ import annotations

import time
from datetime import timedelta

import redis
from rq import Worker
from rq.exceptions import AbandonedJobError
from rq.job import Job
from rq.utils import now

# A worker beats at least this often: the dequeue wait is the TTL less 15 s, and a job's
# own heartbeat thread (``app.jobs.AppWorker``) beats every JOB_HEARTBEAT seconds.
WORKER_TTL = 30
JOB_HEARTBEAT = 10
# Silent for longer than this, a worker is dead whatever the registry says.
LIVE_HEARTBEAT = timedelta(seconds=WORKER_TTL + 15)
ABANDONED_KEY = "chorus:jobs:abandoned:{}"  # sorted set per queue: job id -> when
ABANDONED_KEPT = 7 * 24 * 3600  # as long as RQ keeps failed jobs (``app.queue``)


def live_workers(connection: redis.Redis) -> list[Worker]:
    """Registered workers whose last heartbeat is recent."""
    cutoff = now() - LIVE_HEARTBEAT
    return [
        worker
        for worker in Worker.all(connection=connection)
        if worker.last_heartbeat is not None and worker.last_heartbeat >= cutoff
    ]


def record_abandoned(job: Job, exc_type, exc_value, traceback) -> bool:
    """An RQ exception handler: remember jobs abandoned by a dead worker, so that
    health tells them apart from jobs that failed. Returns True: other handlers run."""
    if exc_type is AbandonedJobError or isinstance(exc_value, AbandonedJobError):
        key = ABANDONED_KEY.format(job.origin)
        moment = time.time()
        with job.connection.pipeline() as pipeline:
            pipeline.zadd(key, {job.id: moment})
            pipeline.zremrangebyscore(key, 0, moment - ABANDONED_KEPT)
            pipeline.expire(key, ABANDONED_KEPT)
            pipeline.execute()
    return True


def abandoned_job_ids(connection: redis.Redis, queue_name: str, failed_key: str) -> list[str]:
    """Jobs in the queue's failed registry that were abandoned, not failed."""
    ids = connection.zrange(ABANDONED_KEY.format(queue_name), 0, -1)
    if not ids:
        return []
    with connection.pipeline(transaction=False) as pipeline:
        for job_id in ids:
            pipeline.zscore(failed_key, job_id)
        scores = pipeline.execute()
    return [job_id.decode() for job_id, score in zip(ids, scores, strict=True) if score is not None]
