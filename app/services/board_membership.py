"""Whether and under which name someone stands on the boards, kept in step with their
choices. The directory (deactivating, renaming) and participation (presence, opting
in and out, erasure) both change it, so it sits below both."""

from __future__ import annotations

import time

from app.extensions import after_commit
from app.models import Employee
from app.queue import enqueue
from app.services.leaderboards import follow_name


def follow_on_boards(employee: Employee) -> None:
    """Once committed, the boards follow the employee's choice: off every board when
    hidden, opted out or deactivated, back with their points when they return, under
    the name they chose."""
    employee_id = employee.id
    follow_name(employee)

    def enqueue_sync() -> None:
        enqueue(
            "app.jobs.sync_member_boards",
            employee_id,
            job_id=f"sync-member-{employee_id}-{time.time_ns()}",
            queue_name="scoring",
        )

    after_commit(enqueue_sync)
