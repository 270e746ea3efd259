"""Admins register webhook endpoints of other systems, pick their events, rotate their
secrets, test them, and read their delivery log."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from app.auth import requires_role
from app.errors import ChorusError, Conflict
from app.extensions import db
from app.models import Role, WebhookEndpoint
from app.schemas.fields import load
from app.schemas.webhook_endpoints import (
    RotateSecretSchema,
    WebhookEndpointChangeSchema,
    WebhookEndpointSchema,
)
from app.services import webhook_endpoints as service
from app.web.pages import form_failed, me
from scoring.chat import masked
from scoring.delivery import State
from scoring.webhooks import EVENT_WORDS

bp = Blueprint("webhook_pages", __name__, url_prefix="/admin")

LOG_LENGTH = 50
OVERLAPS = {0: "none: the old secret stops now", 24: "a day", 72: "three days", 168: "a week"}
# Pages that show a secret are never cached by the browser.
NO_STORE = {"Cache-Control": "no-store"}


def _context(**context: Any) -> dict:
    return {"events": EVENT_WORDS, "masked": masked, "overlaps": OVERLAPS, **context}


@bp.get("/webhooks")
@requires_role(Role.ADMIN)
def endpoints():
    return render_template(
        "admin/webhooks.html", **_context(endpoints=service.endpoints(), values={}, errors={})
    )


@bp.post("/webhooks")
@requires_role(Role.ADMIN)
def register():
    entered = {
        "name": request.form.get("name", ""),
        "url": request.form.get("url", ""),
        "events": request.form.getlist("events"),
    }
    try:
        endpoint, secret = service.register(me(), load(WebhookEndpointSchema(), entered))
    except ChorusError as exc:
        return form_failed(exc, "admin/webhooks.html", **_context(endpoints=service.endpoints()))
    # The secret is in this answer only: shown once, never redirected to.
    return _detail(endpoint, 201, new_secret=secret)


def _detail(endpoint: WebhookEndpoint, status: int = 200, **context: Any):
    state = request.args.get("state")
    shown = State(state) if state in (State.FAILED, State.PENDING, State.SENT) else None
    log = db.session.scalars(service.deliveries(endpoint, shown).limit(LOG_LENGTH)).all()
    context.setdefault("values", {})
    context.setdefault("errors", {})
    page = render_template(
        "admin/webhook.html",
        **_context(endpoint=endpoint, log=log, shown=shown, event_type=service.event_type),
        **context,
    )
    return page, status, NO_STORE


@bp.get("/webhooks/<int:endpoint_id>")
@requires_role(Role.ADMIN)
def detail(endpoint_id: int):
    return _detail(service.get_endpoint(endpoint_id))


@bp.post("/webhooks/<int:endpoint_id>")
@requires_role(Role.ADMIN)
def change(endpoint_id: int):
    """New name and events, a new address, or turning it off or on."""
    endpoint = service.get_endpoint(endpoint_id)
    entered: dict[str, Any] = {}
    if "name" in request.form:
        entered["name"] = request.form["name"]
        entered["events"] = request.form.getlist("events")
    if request.form.get("url", "").strip():
        entered["url"] = request.form["url"]
    if request.form.get("enabled") in ("0", "1"):
        entered["enabled"] = request.form["enabled"] == "1"
    try:
        service.change(me(), endpoint, load(WebhookEndpointChangeSchema(), entered))
    except ChorusError as exc:
        db.session.rollback()
        return _detail(
            service.get_endpoint(endpoint_id),
            exc.status,
            errors=exc.errors,
            error_message=exc.message,
            values=request.form,
        )
    state = "off" if endpoint.disabled_at else "on"
    flash(f"{endpoint.name} is saved, and {state}.", "success")
    return redirect(url_for("webhook_pages.detail", endpoint_id=endpoint_id))


@bp.post("/webhooks/<int:endpoint_id>/rotate")
@requires_role(Role.ADMIN)
def rotate(endpoint_id: int):
    endpoint = service.get_endpoint(endpoint_id)
    try:
        data = load(RotateSecretSchema(), {"overlap_hours": request.form.get("overlap_hours")})
        secret = service.rotate_secret(me(), endpoint, timedelta(hours=data["overlap_hours"]))
    except ChorusError as exc:
        db.session.rollback()
        return _detail(endpoint, exc.status, errors=exc.errors, error_message=exc.message)
    return _detail(endpoint, new_secret=secret)


@bp.post("/webhooks/<int:endpoint_id>/test")
@requires_role(Role.ADMIN)
def test(endpoint_id: int):
    endpoint = service.get_endpoint(endpoint_id)
    delivered, answer = service.send_test(endpoint)
    if delivered:
        flash(f"{endpoint.name} took the test ({answer}).", "success")
    else:
        flash(f"{endpoint.name} did not take the test: {answer}", "error")
    return redirect(url_for("webhook_pages.detail", endpoint_id=endpoint_id))


@bp.post("/webhooks/<int:endpoint_id>/remove")
@requires_role(Role.ADMIN)
def remove(endpoint_id: int):
    endpoint = service.get_endpoint(endpoint_id)
    name = endpoint.name
    service.remove(me(), endpoint)
    flash(f"{name} is removed; nothing more is delivered to it.", "success")
    return redirect(url_for("webhook_pages.endpoints"))


@bp.post("/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/retry")
@requires_role(Role.ADMIN)
def retry(endpoint_id: int, delivery_id: int):
    try:
        service.retry(me(), service.get_endpoint(endpoint_id), delivery_id)
    except Conflict as exc:  # sent meanwhile, or sent again already
        flash(exc.message, "error")
    else:
        flash("It goes out again within seconds.", "success")
    return redirect(url_for("webhook_pages.detail", endpoint_id=endpoint_id, state="failed"))
