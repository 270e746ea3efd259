"""Admin pages: company settings, API tokens and the audit log."""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app.auth import requires_role
from app.db import get_or_404
from app.errors import ChorusError, InvalidInput
from app.extensions import db
from app.models import ApiToken, AuditEntry, CompanySettings, Employee, Role
from app.schemas.admin import ApiTokenSchema, CompanySettingsSchema
from app.schemas.fields import load
from app.services import people, tokens
from app.web.pages import form_failed, me, optional_int, page_number

bp = Blueprint("admin", __name__, url_prefix="/admin")

AUDIT_PAGE_SIZE = 50
# What each audited action means, in words for the log page.
ACTIONS = {
    "company.update": "changed the company settings",
    "employee.create": "added a person",
    "employee.update": "edited a person",
    "employee.import": "imported people from CSV",
    "team.create": "created a team",
    "team.rename": "renamed a team",
    "team.delete": "deleted a team",
    "interest.create": "added an interest",
    "interest.delete": "deleted an interest",
    "guidelines.publish": "published guidelines",
    "participation.opt_in": "opted in",
    "participation.opt_out": "opted out",
    "participation.erase": "erased personal data",
    "token.create": "created an API token",
    "token.revoke": "revoked an API token",
    "outbox.retry": "sent a failed message again",
    "chat.connect": "connected a chat channel",
    "chat.change": "changed a chat channel",
    "chat.remove": "disconnected a chat channel",
    "webhook.register": "registered a webhook endpoint",
    "webhook.change": "changed a webhook endpoint",
    "webhook.rotate": "gave a webhook endpoint a new secret",
    "webhook.remove": "removed a webhook endpoint",
    "allowed_domain.add": "allowed a destination domain",
    "allowed_domain.remove": "removed an allowed domain",
    "content.create": "created content",
    "content.update": "edited content",
    "content.publish": "published content",
    "content.archive": "archived content",
    "content.delete": "deleted a draft",
    "content.template_add": "added a share text",
    "content.template_update": "edited a share text",
    "content.template_delete": "deleted a share text",
    "feed.create": "added an inbound feed",
    "feed.update": "edited an inbound feed",
    "feed.delete": "deleted an inbound feed",
    "intranet_link.create": "made an intranet link",
    "intranet_link.revoke": "revoked an intranet link",
    "taboo_topic.create": "added a taboo topic",
    "taboo_topic.update": "edited a taboo topic",
    "taboo_topic.delete": "deleted a taboo topic",
    "share_policy.update": "changed the sharing policy",
    "network_policy.update": "changed a network's policy",
    "referral_programme.create": "created a referral programme",
    "referral_programme.update": "edited a referral programme",
    "referral_programme.delete": "deleted a referral programme",
    "integration.create": "created an integration",
    "integration.revoke": "revoked an integration",
    "referral.record": "recorded a referral stage",
    "rule.create": "created a scoring rule",
    "rule.edit": "changed a scoring rule",
    "rule.retire": "retired a scoring rule",
    "ledger.adjust": "adjusted points",
    "ledger.recalculate": "recalculated points",
    "reward.create": "added a reward",
    "reward.update": "edited a reward",
    "reward.retire": "retired a reward",
    "reward.image": "set a reward's picture",
    "reward.image_remove": "removed a reward's picture",
    "redemption.approve": "approved a redemption",
    "redemption.reject": "rejected a redemption",
    "redemption.fulfil": "fulfilled a redemption",
    "pledge.create": "pledged points toward a team reward",
    "pledge.withdraw": "withdrew a pledge",
    "team_funding.funded": "completed a team reward's funding",
    "team_funding.refund": "refunded a team reward's pledges",
    "team_funding.fulfil": "handed over a team reward",
    "badge.create": "defined a badge",
    "badge.update": "edited a badge",
    "badge.retire": "retired a badge",
    "badge.activate": "brought a badge back",
    "challenge.create": "started a challenge",
    "challenge.update": "edited a challenge",
    "challenge.cancel": "cancelled a challenge",
    "lesson.create": "wrote a lesson",
    "lesson.update": "edited a lesson",
    "lesson.publish": "published a lesson",
    "lesson.retire": "retired a lesson",
    "lesson.image": "set a lesson's picture",
    "lesson.image_remove": "removed a lesson's picture",
}
TARGET_NAMES = {
    "employees": "person",
    "teams": "team",
    "interests": "interest",
    "guideline_versions": "guidelines version",
    "api_tokens": "API token",
    "outbox": "mail",
    "chat_destinations": "chat channel",
    "webhook_endpoints": "webhook endpoint",
    "company_settings": "company settings",
    "allowed_domains": "domain",
    "content_items": "content item",
    "share_templates": "share text",
    "inbound_feeds": "feed",
    "intranet_links": "intranet link",
    "taboo_topics": "taboo topic",
    "share_policy": "sharing policy",
    "referral_programmes": "referral programme",
    "integrations": "integration",
    "referrals": "referral",
    "scoring_rules": "scoring rule",
    "ledger_lines": "ledger line",
    "rewards": "reward",
    "redemptions": "redemption",
    "pledges": "pledge",
    "team_fundings": "team funding",
    "badges": "badge",
    "challenges": "challenge",
    "lessons": "lesson",
}


# Company settings ------------------------------------------------------------------


@bp.route("/settings", methods=["GET", "POST"])
@requires_role(Role.ADMIN)
def settings():
    context = {"time_zones": sorted(available_timezones())}
    if request.method == "GET":
        # Read without creating the row: a GET changes nothing.
        row = db.session.scalar(select(CompanySettings).limit(1))
        values: dict[str, Any] = {
            "name": row.name if row else current_app.config["COMPANY_NAME"],
            "time_zone": row.time_zone if row else current_app.config["COMPANY_TIME_ZONE"],
            "week_start": row.week_start if row else 0,
            "min_group_size": row.min_group_size if row else 5,
        }
        return render_template("admin/settings.html", values=values, errors={}, **context)
    form = {
        "name": request.form.get("name", ""),
        "time_zone": request.form.get("time_zone", "").strip(),
        "week_start": optional_int(request.form.get("week_start")),
        "min_group_size": optional_int(request.form.get("min_group_size")),
    }
    try:
        missing = {k: ["This field is required."] for k, v in form.items() if v in (None, "")}
        if missing:
            raise InvalidInput("Some fields need attention.", errors=missing)
        changes = load(CompanySettingsSchema(), form)
        changes["name"] = changes["name"].strip()
        people.update_company_settings(me(), changes)
    except ChorusError as exc:
        return form_failed(exc, "admin/settings.html", **context)
    flash("Company settings saved.", "success")
    return redirect(url_for("admin.settings"))


# API tokens ------------------------------------------------------------------------


def _render_tokens(status: int = 200, **context: Any):
    rows = db.session.scalars(select(ApiToken).order_by(ApiToken.id.desc())).all()
    context.setdefault("errors", {})
    context.setdefault("values", {})
    page = render_template("admin/tokens.html", tokens=rows, **context)
    return page, status, {"Cache-Control": "no-store"}


@bp.get("/tokens")
@requires_role(Role.ADMIN)
def api_tokens():
    return _render_tokens()


@bp.post("/tokens")
@requires_role(Role.ADMIN)
def create_token():
    owner_email = request.form.get("owner_email", "").strip()
    try:
        owner = me()
        if owner_email:
            owner = people.find_employee_by_email(owner_email)
            if owner is None:
                raise InvalidInput("Nobody in the directory has this e-mail.", field="owner_email")
        data = load(ApiTokenSchema(), {"name": request.form.get("name", ""), "owner_id": owner.id})
        token, secret = tokens.create_token(me(), owner, data["name"])
    except ChorusError as exc:
        db.session.rollback()
        if "owner_id" in exc.errors:
            exc.errors["owner_email"] = exc.errors.pop("owner_id")
        return _render_tokens(
            exc.status, errors=exc.errors, error_message=exc.message, values=request.form
        )
    # The secret exists only in this answer: it is not stored, so it cannot be redirected
    # to or shown again (no-store keeps it out of the browser cache too).
    return _render_tokens(201, new_token=token, new_secret=secret)


@bp.post("/tokens/<int:token_id>/revoke")
@requires_role(Role.ADMIN)
def revoke_token(token_id: int):
    token = get_or_404(ApiToken, token_id)
    tokens.revoke_token(me(), token)
    flash(f"The token {token.name} is revoked; calls with it are refused from now on.", "success")
    return redirect(url_for("admin.api_tokens"))


# Audit log -------------------------------------------------------------------------


@bp.get("/audit")
@requires_role(Role.ADMIN)
def audit_log():
    page = db.paginate(
        select(AuditEntry).order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()),
        page=page_number(),
        per_page=AUDIT_PAGE_SIZE,
        error_out=False,
    )
    employee_ids = {e.target_id for e in page.items if e.target_type == "employees"}
    names = dict(
        db.session.execute(
            select(Employee.id, Employee.name).where(Employee.id.in_(employee_ids))
        ).all()
    )
    return render_template(
        "admin/audit.html",
        page=page,
        actions=ACTIONS,
        target_names=TARGET_NAMES,
        employee_names=names,
    )
