"""My points (balance and the ledger with reasons) and the admin's points tools:
adjustments, a recalculation from a date and a rebuild of every board."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.serializers import JSONSerializer
from sqlalchemy import exists, select

from app.auth import requires_role
from app.errors import ChorusError, InvalidInput
from app.extensions import db, get_redis
from app.models import LedgerLine, Role, utcnow
from app.queue import enqueue
from app.schemas.fields import load
from app.schemas.points import AdjustmentFormSchema, RecalculationFormSchema
from app.services import ledger, people
from app.services.calendar import company_calendar
from app.web.pages import me, optional_int
from scoring.participation import Presence
from scoring.windows import Window

bp = Blueprint("points_pages", __name__)

HISTORY_PAGE_SIZE = 25
WINDOW_WORDS = {
    Window.DAY: "per day",
    Window.WEEK: "per week",
    Window.MONTH: "per month",
    Window.ALL_TIME: "in all",
}
JOB_LABELS = {
    "app.jobs.recalculate_points": "Recalculation",
    "app.jobs.rebuild_boards": "Rebuild of all boards",
}


def new_form_key() -> str:
    """A key generated into a form, so that sending the same form twice is one action."""
    return secrets.token_hex(16)


def local_datetime(value: datetime) -> datetime:
    """A wall-clock time typed on a page (no zone) read in the company's time zone."""
    zone, _week_start = company_calendar()
    return value.replace(tzinfo=zone) if value.tzinfo is None else value


# My points -------------------------------------------------------------------------


@bp.get("/me/points")
@requires_role(Role.EMPLOYEE)
def my_points():
    employee = me()
    before = request.args.get("before", type=int)
    lines = ledger.history(employee.id, limit=HISTORY_PAGE_SIZE + 1, before_id=before)
    older = len(lines) > HISTORY_PAGE_SIZE
    lines = lines[:HISTORY_PAGE_SIZE]
    has_any = bool(lines) or bool(
        db.session.scalar(select(exists().where(LedgerLine.employee_id == employee.id)))
    )
    now = utcnow()
    return render_template(
        "points/mine.html",
        employee=employee,
        balance=ledger.balance(employee.id, now),
        vesting=ledger.vesting_schedule(employee.id, now),
        lines=lines,
        has_any=has_any,
        first_page=before is None,
        older_than=lines[-1].id if older else None,
        hidden=employee.presence is Presence.HIDDEN,
        WINDOW_WORDS=WINDOW_WORDS,
        now=now,
    )


# Admin: adjustments, recalculation, rebuild ----------------------------------------


def _job_status(job_id: str | None) -> dict[str, Any] | None:
    """What became of a job this page enqueued: queued, started, finished or failed."""
    if not job_id or len(job_id) > 120:
        return None
    try:
        job = Job.fetch(job_id, connection=get_redis(), serializer=JSONSerializer)
    except NoSuchJobError:
        return {"id": job_id, "label": "Job", "status": "gone", "result": None}
    status = job.get_status(refresh=False)
    return {
        "id": job_id,
        "label": JOB_LABELS.get(job.func_name, "Job"),
        "status": getattr(status, "value", status) or "unknown",
        "result": job.return_value() if status == "finished" else None,
        "since": job.args[0] if job.func_name == "app.jobs.recalculate_points" else None,
    }


def _render_admin(status: int = 200, **context: Any):
    for form in ("adjust", "recalculate", "rebuild"):
        context.setdefault(f"{form}_values", {})
        context.setdefault(f"{form}_errors", {})
    context["adjust_values"].setdefault("adjustment_id", new_form_key())
    context["recalculate_values"].setdefault("request_id", new_form_key())
    context["rebuild_values"].setdefault("request_id", new_form_key())
    context.setdefault("job", _job_status(request.args.get("job")))
    return render_template("points/admin.html", **context), status


@bp.get("/admin/points")
@requires_role(Role.ADMIN)
def admin():
    return _render_admin()


def _failed(exc: ChorusError, form: str):
    db.session.rollback()
    return _render_admin(
        exc.status,
        error_message=exc.message,
        **{f"{form}_errors": exc.errors, f"{form}_values": request.form.to_dict()},
    )


@bp.post("/admin/points/adjust")
@requires_role(Role.ADMIN)
def adjust():
    form = {
        "email": request.form.get("email", "").strip(),
        "points": optional_int(request.form.get("points")),
        "reason": request.form.get("reason", "").strip(),
        "adjustment_id": request.form.get("adjustment_id", ""),
    }
    try:
        data = load(AdjustmentFormSchema(), {k: v for k, v in form.items() if v is not None})
        employee = people.find_employee_by_email(data["email"])
        if employee is None or employee.erased_at is not None:
            raise InvalidInput("Nobody in the directory has this e-mail.", field="email")
        line = ledger.adjust_points(
            me(), employee, data["points"], data["reason"], data["adjustment_id"]
        )
    except ChorusError as exc:
        return _failed(exc, "adjust")
    flash(
        f"{line.points:+d} point{'' if abs(line.points) == 1 else 's'} for {employee.name}: "
        f"{line.reason}. "
        "Their boards follow within seconds.",
        "success",
    )
    return redirect(url_for("points_pages.admin"))


@bp.post("/admin/points/recalculate")
@requires_role(Role.ADMIN)
def recalculate():
    form = {
        "since": request.form.get("since", "").strip() or None,
        "request_id": request.form.get("request_id", ""),
    }
    try:
        data = load(RecalculationFormSchema(), {k: v for k, v in form.items() if v is not None})
        since = local_datetime(data["since"])
        if since > utcnow():
            raise InvalidInput("Recalculate from a time in the past.", field="since")
    except ChorusError as exc:
        return _failed(exc, "recalculate")
    # The form's key makes the job id: the same form sent twice queues one job.
    job_id = f"recalculate-points-{data['request_id']}"
    enqueue(
        "app.jobs.recalculate_points",
        since.isoformat(),
        me().id,
        job_id=job_id,
        queue_name="scoring",
        timeout=1800,
    )
    flash(
        f"Recalculation from {since:%d %b %Y, %H:%M} is queued: "
        "compensating lines first, then the boards.",
        "success",
    )
    return redirect(url_for("points_pages.admin", job=job_id))


@bp.post("/admin/points/rebuild")
@requires_role(Role.ADMIN)
def rebuild():
    request_id = request.form.get("request_id", "")
    try:
        load(RecalculationFormSchema(only=("request_id",)), {"request_id": request_id})
    except ChorusError as exc:
        return _failed(exc, "rebuild")
    job_id = f"rebuild-boards-{request_id}"
    enqueue("app.jobs.rebuild_boards", job_id=job_id, queue_name="scoring", timeout=1800)
    flash("A rebuild of every board from the ledger is queued.", "success")
    return redirect(url_for("points_pages.admin", job=job_id))
