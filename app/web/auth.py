"""Sign-in with a magic link, and sign-out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user

from app.auth import end_sessions, public
from app.errors import InvalidInput
from app.extensions import db, limiter
from app.services import sign_in as sign_in_service
from app.services.people import normalize_email

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only local paths: a sign-in link must never become an open redirect."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and "\\" not in target:
            return target
    return url_for("home.index")


def _email_key() -> str:
    return "sign-in:" + (request.form.get("email") or "").strip().lower()


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SIGN_IN_RATE_LIMIT"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["SIGN_IN_RATE_LIMIT"], methods=["POST"], key_func=_email_key
)
@public
def sign_in():
    next_url = _safe_next(request.values.get("next"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(next_url)
    if request.method == "GET":
        return render_template("auth/sign_in.html", next=next_url)
    email = request.form.get("email", "")
    try:
        email = normalize_email(email)
    except InvalidInput as exc:
        return render_template(
            "auth/sign_in.html", next=next_url, email=email, error=exc.message
        ), 422
    # The page they were sent here from comes along in the mail's link.
    on_to = next_url if next_url != url_for("home.index") and len(next_url) <= 500 else None
    sign_in_service.request_sign_in_link(email, on_to)
    return render_template("auth/link_sent.html", email=email)


@bp.get("/sign-in/<token>")
@public
def confirm_sign_in(token: str):
    """Show a button rather than signing in on GET: mail scanners open links, and a
    single-use link must not be spent by them."""
    try:
        employee = sign_in_service.check_sign_in_token(token)
    except InvalidInput as exc:
        return render_template("auth/link_invalid.html", message=exc.message), 400
    return render_template(
        "auth/confirm.html",
        token=token,
        employee=employee,
        next=_safe_next(request.args.get("next")),
    )


@bp.post("/sign-in/<token>")
@limiter.limit(lambda: current_app.config["SIGN_IN_RATE_LIMIT"])
@public
def complete_sign_in(token: str):
    try:
        employee = sign_in_service.consume_sign_in_token(token)
    except InvalidInput as exc:
        db.session.rollback()
        return render_template("auth/link_invalid.html", message=exc.message), 400
    # The session cookie and the remember cookie then last SESSION_LIFETIME alike.
    session.permanent = True
    login_user(employee, remember=True)
    flash(f"Welcome, {employee.name}.", "success")
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/sign-out")
@public
def sign_out():
    if current_user.is_authenticated:
        # Ends this session and every copy of it (and of the remember cookie) for good,
        # on every device: they all carry the same session epoch.
        end_sessions(current_user)
    logout_user()
    flash("You are signed out, on every device.", "info")
    return redirect(url_for("auth.sign_in"))
