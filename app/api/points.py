"""Points: your balance and ledger, and the admin's corrections (adjustments,
recalculation, rebuilding the boards)."""

from __future__ import annotations

import uuid

from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.api.support import api_blueprint, caller, paginate_select
from app.auth import requires_role
from app.db import get_or_404
from app.errors import InvalidInput
from app.extensions import after_commit
from app.models import Employee, LedgerLine, Role, RuleVersion, utcnow
from app.queue import enqueue
from app.schemas.points import (
    AdjustmentSchema,
    BalanceSchema,
    JobQueuedSchema,
    LedgerLineSchema,
    RecalculateSchema,
)
from app.services import ledger

bp = api_blueprint("points", "", "Your points and their reasons; corrections by admins.")

# Long enough for a rebuild from a million ledger lines on a small machine.
JOB_TIMEOUT = 1800


@bp.route("/me/points")
class MyPoints(MethodView):
    @requires_role(Role.EMPLOYEE)
    @bp.response(200, BalanceSchema)
    def get(self) -> ledger.Balance:
        """Your points: lifetime (what ranks use) and spendable (vested)"""
        return ledger.balance(caller().id)


@bp.route("/me/ledger")
class MyLedger(MethodView):
    @requires_role(Role.EMPLOYEE)
    @bp.response(200, LedgerLineSchema(many=True))
    @bp.paginate()
    def get(self, pagination_parameters: PaginationParameters) -> list[LedgerLine]:
        """Your ledger, newest first: every line says why"""
        lines = (
            select(LedgerLine)
            .where(LedgerLine.employee_id == caller().id)
            .options(selectinload(LedgerLine.rule_version).selectinload(RuleVersion.rule))
            .order_by(LedgerLine.id.desc())
        )
        return paginate_select(lines, pagination_parameters)


@bp.route("/employees/<int:employee_id>/adjustments")
class Adjustments(MethodView):
    @requires_role(Role.ADMIN)
    @bp.arguments(AdjustmentSchema)
    @bp.response(201, LedgerLineSchema)
    @bp.alt_response(
        200, schema=LedgerLineSchema, success=True, description="This adjustment_id was sent before"
    )
    @bp.alt_response(404, response="NOT_FOUND")
    @bp.alt_response(
        409, response="CONFLICT", description="The adjustment_id was used for another adjustment"
    )
    def post(self, data: dict, employee_id: int) -> tuple[LedgerLine, int]:
        """Correct someone's points, with a reason they will read

        A line of its own in the ledger and in the audit log; the boards follow within
        seconds. ``adjustment_id`` is your idempotency key: the same adjustment sent
        again answers 200 with the first line and changes nothing.
        """
        employee = get_or_404(Employee, employee_id)
        line, created = ledger.record_adjustment(
            caller(), employee, data["points"], data["reason"], data["adjustment_id"]
        )
        if created:
            after_commit(_settle_soon)
        return line, 201 if created else 200


def _settle_soon() -> None:
    enqueue(
        "app.jobs.settle_points",
        job_id=f"settle-points-{uuid.uuid4().hex}",
        queue_name="scoring",
        retries=0,  # the clock runs it again within seconds anyway
    )


@bp.route("/points/recalculate")
class Recalculation(MethodView):
    @requires_role(Role.ADMIN)
    @bp.arguments(RecalculateSchema)
    @bp.response(202, JobQueuedSchema)
    def post(self, data: dict) -> dict:
        """Replay scored events from a date under the rules as they now stand

        Writes compensating lines where the ledger differs, then the boards catch up;
        run again, it writes nothing new. Runs in the background.
        """
        since = data["since"]
        if since > utcnow():
            raise InvalidInput("Recalculate from a moment in the past.", field="since")
        job_id = f"recalculate-points-{uuid.uuid4().hex}"
        enqueue(
            "app.jobs.recalculate_points",
            since.isoformat(),
            caller().id,
            job_id=job_id,
            queue_name="scoring",
            timeout=JOB_TIMEOUT,
        )
        return {"job_id": job_id}


@bp.route("/points/rebuild")
class Rebuild(MethodView):
    @requires_role(Role.ADMIN)
    @bp.response(202, JobQueuedSchema)
    def post(self) -> dict:
        """Rebuild every leaderboard from the ledger, in the background"""
        job_id = f"rebuild-boards-{uuid.uuid4().hex}"
        enqueue("app.jobs.rebuild_boards", job_id=job_id, queue_name="scoring", timeout=JOB_TIMEOUT)
        return {"job_id": job_id}
