"""The RQ queues and how work is put on them.

Below every service: services enqueue jobs by dotted name (``"app.jobs.…"``), so they
never import the job bodies, and ``app.jobs`` can import the services it runs.
"""

from __future__ import annotations

import logging

from rq import Queue, Retry
from rq.exceptions import DuplicateJobError
from rq.job import Job
from rq.serializers import JSONSerializer

from app.extensions import get_redis

log = logging.getLogger("chorus.queue")

# Named queues per workload, most urgent first: a worker serves them in this order.
QUEUES = ("mail", "scoring", "default")


def queue(name: str = "default") -> Queue:
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}")
    return Queue(name, connection=get_redis(), serializer=JSONSerializer)


def enqueue(
    function: str,
    *args: int | str,
    job_id: str,
    queue_name: str = "default",
    timeout: int = 60,
    retries: int = 3,
) -> Job | None:
    """Enqueue ``function`` (a dotted name) once per ``job_id``; a duplicate is a no-op."""
    try:
        return queue(queue_name).enqueue(
            function,
            *args,
            job_id=job_id,
            unique=True,
            job_timeout=timeout,
            result_ttl=3600,
            failure_ttl=7 * 24 * 3600,
            retry=Retry(max=retries, interval=[10, 60, 300][:retries]) if retries else None,
        )
    except DuplicateJobError:
        log.info("job %s is queued already", job_id)
        return None
