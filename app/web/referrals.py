"""Referral pages: programmes and recorded stages (HR), ATS integrations (admin)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.auth import requires_role
from app.db import get_or_404
from app.errors import ChorusError, InvalidInput
from app.extensions import db
from app.models import Integration, Referral, ReferralOutcome, ReferralProgramme, Role, Share
from app.schemas.fields import load
from app.schemas.referrals import (
    IntegrationSchema,
    ReferralProgrammeSchema,
    ReferralProgrammeUpdateSchema,
    ReferralStageSchema,
    webhook_url,
)
from app.services import referrals
from app.web.pages import company_zone as _company_zone
from app.web.pages import form_failed, me, optional_int, page_number
from scoring.referrals import REASON_TEXT
from scoring.vocabulary import ReferralStage

bp = Blueprint("referral_pages", __name__)

PAGE_SIZE = 25
OUTCOME_TEXT = {
    ReferralOutcome.AWARDED: "awarded",
    ReferralOutcome.BACKWARDS: "backwards: nothing awarded",
    ReferralOutcome.UNATTRIBUTED: "not attributed",
}


# Recorded stages -------------------------------------------------------------------


@bp.get("/referrals")
@requires_role(Role.HR)
def referral_list():
    newest_first = (
        select(Referral)
        .options(
            selectinload(Referral.share).selectinload(Share.employee),
            selectinload(Referral.share).selectinload(Share.content),
        )
        .order_by(Referral.received_at.desc(), Referral.id.desc())
    )
    page = db.paginate(newest_first, page=page_number(), per_page=PAGE_SIZE, error_out=False)
    return render_template(
        "referrals/list.html",
        page=page,
        outcome_text=OUTCOME_TEXT,
        reason_text=REASON_TEXT,
    )


def _local_iso(value: str) -> str | None:
    """A datetime-local field means the company's wall-clock time; the schema wants a
    zone. Anything unreadable goes to the schema as typed, which names the problem."""
    value = value.strip()
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return (moment if moment.tzinfo else moment.replace(tzinfo=_company_zone())).isoformat()


def _render_record(status: int = 200, **context: Any):
    context.setdefault("errors", {})
    context.setdefault("values", {})
    page = render_template("referrals/record.html", stages=list(ReferralStage), **context)
    return page, status


@bp.get("/referrals/record")
@requires_role(Role.HR)
def record_form():
    return _render_record()


@bp.post("/referrals/record")
@requires_role(Role.HR)
def record_stage():
    form = {
        "ref": request.form.get("ref", ""),
        "candidate_id": request.form.get("candidate_id", ""),
        "stage": request.form.get("stage", ""),
    }
    occurred_at = _local_iso(request.form.get("occurred_at", ""))
    if occurred_at is not None:
        form["occurred_at"] = occurred_at
    try:
        data = load(ReferralStageSchema(), form)
        result = referrals.record_stage(
            ref_code=data["ref"],
            candidate_id=data["candidate_id"],
            stage=data["stage"],
            occurred_at=data["occurred_at"],
            recorded_by=me(),
        )
    except ChorusError as exc:
        db.session.rollback()
        return _render_record(
            exc.status, errors=exc.errors, error_message=exc.message, values=request.form
        )
    referral = result.referral
    if not result.created:
        message = f"This candidate's {referral.stage.value} stage was recorded before; unchanged."
    elif result.reason:
        outcome = OUTCOME_TEXT[referral.outcome]
        message = f"Recorded ({outcome}): {REASON_TEXT[result.reason]}."
    else:
        message = f"Recorded: the {referral.stage.value} stage is awarded."
    flash(message, "success")
    return redirect(url_for("referral_pages.referral_list"))


# Programmes ------------------------------------------------------------------------


def _render_programmes(status: int = 200, **context: Any):
    rows = db.session.scalars(select(ReferralProgramme).order_by(ReferralProgramme.name))
    return render_template("referrals/programmes.html", programmes=list(rows), **context), status


@bp.get("/referrals/programmes")
@requires_role(Role.HR)
def programmes():
    return _render_programmes()


def _programme_form() -> dict[str, Any]:
    return {
        "name": request.form.get("name", ""),
        "content_tag": request.form.get("content_tag", ""),
        "stages": request.form.getlist("stages"),
        "attribution_days": optional_int(request.form.get("attribution_days")),
        "active": request.form.get("active") == "on",
    }


def _form_values(form: dict[str, Any]) -> dict[str, Any]:
    return {**form, "attribution_days": form["attribution_days"] or ""}


@bp.route("/referrals/programmes/new", methods=["GET", "POST"])
@requires_role(Role.HR)
def new_programme():
    context = {"stages": list(ReferralStage), "programme": None}
    if request.method == "GET":
        values = {
            "stages": [s.value for s in ReferralStage],
            "attribution_days": 90,
            "active": True,
        }
        return render_template("referrals/programme.html", values=values, errors={}, **context)
    form = _programme_form()
    try:
        if form["attribution_days"] is None:
            form.pop("attribution_days")  # empty: the default window
        data = load(ReferralProgrammeSchema(), form)
        programme = referrals.create_programme(me(), **data)
    except ChorusError as exc:
        values = _form_values({"attribution_days": None, **form})
        return form_failed(exc, "referrals/programme.html", values=values, **context)
    flash(f"The programme {programme.name} is set up.", "success")
    return redirect(url_for("referral_pages.programmes"))


@bp.route("/referrals/programmes/<int:programme_id>", methods=["GET", "POST"])
@requires_role(Role.HR)
def edit_programme(programme_id: int):
    programme = get_or_404(ReferralProgramme, programme_id)
    context = {"stages": list(ReferralStage), "programme": programme}
    if request.method == "GET":
        values = {
            "name": programme.name,
            "content_tag": programme.content_tag,
            "stages": list(programme.stages),
            "attribution_days": programme.attribution_days,
            "active": programme.active,
        }
        return render_template("referrals/programme.html", values=values, errors={}, **context)
    form = _programme_form()
    try:
        if form["attribution_days"] is None:
            missing = {"attribution_days": ["This field is required."]}
            raise InvalidInput("Some fields need attention.", errors=missing)
        changes = load(ReferralProgrammeUpdateSchema(), form)
        referrals.update_programme(me(), programme, changes)
    except ChorusError as exc:
        return form_failed(exc, "referrals/programme.html", values=_form_values(form), **context)
    flash(f"Saved the programme {programme.name}.", "success")
    return redirect(url_for("referral_pages.programmes"))


@bp.post("/referrals/programmes/<int:programme_id>/delete")
@requires_role(Role.HR)
def delete_programme(programme_id: int):
    programme = get_or_404(ReferralProgramme, programme_id)
    name = programme.name
    try:
        referrals.delete_programme(me(), programme)
    except ChorusError as exc:
        db.session.rollback()
        return _render_programmes(exc.status, error_message=exc.message)
    flash(f"The programme {name} is deleted.", "success")
    return redirect(url_for("referral_pages.programmes"))


# Integrations ----------------------------------------------------------------------


def _render_integrations(status: int = 200, **context: Any):
    rows = db.session.scalars(select(Integration).order_by(Integration.id.desc())).all()
    context.setdefault("errors", {})
    context.setdefault("values", {})
    page = render_template(
        "referrals/integrations.html",
        integrations=rows,
        webhook_url=webhook_url,
        **context,
    )
    return page, status, {"Cache-Control": "no-store"}


@bp.get("/admin/integrations")
@requires_role(Role.ADMIN)
def integrations():
    return _render_integrations()


@bp.post("/admin/integrations")
@requires_role(Role.ADMIN)
def create_integration():
    try:
        data = load(IntegrationSchema(), {"name": request.form.get("name", "")})
        integration, secret = referrals.create_integration(me(), data["name"])
    except ChorusError as exc:
        db.session.rollback()
        return _render_integrations(
            exc.status, errors=exc.errors, error_message=exc.message, values=request.form
        )
    # Like API tokens: the secret is in this answer only, never behind a redirect.
    return _render_integrations(201, new_integration=integration, new_secret=secret)


@bp.post("/admin/integrations/<int:integration_id>/revoke")
@requires_role(Role.ADMIN)
def revoke_integration(integration_id: int):
    integration = get_or_404(Integration, integration_id)
    name = integration.name
    referrals.revoke_integration(me(), integration)
    flash(f"The integration {name} is revoked; its deliveries are refused from now on.", "success")
    return redirect(url_for("referral_pages.integrations"))


@bp.post("/admin/integrations/<int:integration_id>/rotate")
@requires_role(Role.ADMIN)
def rotate_integration(integration_id: int):
    integration = get_or_404(Integration, integration_id)
    try:
        replacement, secret = referrals.rotate_integration(me(), integration)
    except ChorusError as exc:
        db.session.rollback()
        return _render_integrations(exc.status, error_message=exc.message)
    return _render_integrations(201, new_integration=replacement, new_secret=secret)
