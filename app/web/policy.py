"""HR pages for the guidelines in the product: the sharing policy (disclosure, caps, and
per network share points and the assumptions of earned-media value) and the taboo
topics with a box to test a text."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from app.auth import requires_role
from app.errors import ChorusError
from app.extensions import db
from app.models import Role
from app.schemas.fields import load
from app.schemas.policy import (
    NetworkPolicySchema,
    SharePolicySchema,
    TabooCheckSchema,
    TabooTopicSchema,
    TabooTopicUpdateSchema,
)
from app.services import policy, taboo
from app.web.pages import form_failed, me, optional_int
from scoring import media_value
from scoring.vocabulary import CHANNEL_LABELS, Channel

bp = Blueprint("policy", __name__)

# What each cap is for, in the words the page uses.
CAP_EXPLANATIONS = {
    "per_day": (
        "Shares per person per day",
        "Protects your colleagues' networks: their contacts see a few good posts, not a stream.",
    ),
    "per_week": (
        "Shares per person per week",
        "Keeps sharing a habit rather than a campaign burst that tires their audience.",
    ),
    "per_channel_per_day": (
        "Shares per person per network per day",
        "One network is one audience: two posts a day there is plenty.",
    ),
    "per_content": (
        "Shares of the same item per person",
        "Sharing the same story again mostly reaches the same people again.",
    ),
    "min_spacing_minutes": (
        "Minutes between two shares",
        "Posts in a row look automated and bury each other in the timeline.",
    ),
}


# Sharing policy --------------------------------------------------------------------


def _policy_values(row) -> dict[str, Any]:
    values = {"disclosure": row.disclosure, "utm_medium": row.utm_medium}
    for field in policy.CAP_FIELDS:
        value = getattr(row, field)
        values[field] = "" if value is None else value
    return values


# The assumptions of earned-media value, as the page labels them.
ASSUMPTION_LABELS = {
    "cpm_cents": "Cost per 1,000 impressions (cents)",
    "cpc_cents": "Cost per click (cents)",
    "seen_percent": "Audience that sees a post (%)",
}


def _policy_context() -> dict[str, Any]:
    return {
        "caps": CAP_EXPLANATIONS,
        "network_policies": policy.network_policies(),
        "channel_labels": CHANNEL_LABELS,
        "assumptions": {
            name: (ASSUMPTION_LABELS[name], low, high)
            for name, (low, high) in policy.ASSUMPTION_COLUMNS.items()
        },
        "defaults": {
            channel: policy.assumption_values(media_value.DEFAULTS[channel]) for channel in Channel
        },
    }


@bp.route("/sharing-policy", methods=["GET", "POST"])
@requires_role(Role.HR)
def sharing_policy():
    current = policy.share_policy()
    if request.method == "GET":
        values = _policy_values(current)
        return render_template(
            "policy/sharing.html", values=values, errors={}, network_errors={}, **_policy_context()
        )
    form: dict[str, Any] = {
        "disclosure": request.form.get("disclosure", "").strip(),
        "utm_medium": request.form.get("utm_medium", "").strip(),
    }
    for field in policy.CAP_FIELDS:
        form[field] = optional_int(request.form.get(field))  # empty: switched off
    try:
        changes = load(SharePolicySchema(), form)
        policy.update_share_policy(me(), changes)
    except ChorusError as exc:
        return form_failed(exc, "policy/sharing.html", network_errors={}, **_policy_context())
    flash("The sharing policy is saved; it applies to the next share.", "success")
    return redirect(url_for("policy.sharing_policy"))


@bp.post("/sharing-policy/networks/<channel>")
@requires_role(Role.HR)
def network_policy(channel: str):
    try:
        chosen = Channel(channel)
    except ValueError:
        abort(404)
    form: dict[str, Any] = {
        "share_points": request.form.get("share_points") == "on",
        "note": request.form.get("note", "").strip() or None,
    }
    for field in policy.ASSUMPTION_FIELDS:
        form[field] = optional_int(request.form.get(field))  # all empty: the defaults
    try:
        data = load(NetworkPolicySchema(), form)
        policy.set_network_policy(
            me(),
            chosen,
            share_points=data["share_points"],
            note=data["note"],
            assumptions=policy.assumptions_given(data),
        )
    except ChorusError as exc:
        db.session.rollback()
        page = render_template(
            "policy/sharing.html",
            values=_policy_values(policy.share_policy()),
            errors={},
            network_errors={chosen: exc.errors or {"note": [exc.message]}},
            network_values={chosen: form},
            error_message=exc.message,
            **_policy_context(),
        )
        return page, exc.status
    state = "earn share points" if data["share_points"] else "earn no share points"
    value = "your assumptions" if policy.assumptions_given(data) else "the default assumptions"
    flash(
        f"Shares on {CHANNEL_LABELS[chosen]} {state} now. Their earned-media value is "
        f"estimated with {value}.",
        "success",
    )
    return redirect(url_for("policy.sharing_policy"))


# Taboo topics ----------------------------------------------------------------------


def _lines(name: str) -> list[str]:
    return [line.strip() for line in request.form.get(name, "").splitlines() if line.strip()]


def _topic_form() -> dict[str, Any]:
    return {
        "name": request.form.get("name", ""),
        "explanation": request.form.get("explanation", ""),
        "phrases": _lines("phrases"),
        "patterns": _lines("patterns"),
        "active": request.form.get("active") == "on",
    }


def _render_topics(status: int = 200, **context: Any):
    context.setdefault("errors", {})
    context.setdefault("values", {"active": True})
    context.setdefault("test_values", {})
    context.setdefault("test_errors", {})
    return render_template("policy/taboo.html", topics=taboo.all_topics(), **context), status


@bp.get("/taboo-topics")
@requires_role(Role.HR)
def taboo_topics():
    return _render_topics()


@bp.post("/taboo-topics")
@requires_role(Role.HR)
def create_topic():
    try:
        data = load(TabooTopicSchema(), _topic_form())
        topic = taboo.create_topic(me(), data)
    except ChorusError as exc:
        db.session.rollback()
        return _render_topics(
            exc.status, errors=exc.errors, error_message=exc.message, values=request.form
        )
    flash(f"Taboo topic “{topic.name}” added.", "success")
    return redirect(url_for("policy.taboo_topics"))


@bp.post("/taboo-topics/test")
@requires_role(Role.HR)
def test_text():
    """Which topics a text touches; changes nothing, so the answer is the page itself."""
    form = {"text": request.form.get("text", "")}
    try:
        data = load(TabooCheckSchema(), form)
    except ChorusError as exc:
        return _render_topics(exc.status, test_errors=exc.errors, test_values=form)
    hits = taboo.check_text(data["text"])
    return _render_topics(test_values=form, hits=hits, tested=True)


@bp.route("/taboo-topics/<int:topic_id>", methods=["GET", "POST"])
@requires_role(Role.HR)
def edit_topic(topic_id: int):
    topic = taboo.get_topic(topic_id)
    if request.method == "GET":
        values = {
            "name": topic.name,
            "explanation": topic.explanation,
            "phrases": "\n".join(topic.phrases),
            "patterns": "\n".join(topic.patterns),
            "active": topic.active,
        }
        return render_template("policy/taboo_edit.html", topic=topic, values=values, errors={})
    try:
        changes = load(TabooTopicUpdateSchema(), _topic_form())
        taboo.update_topic(me(), topic, changes)
    except ChorusError as exc:
        values = {**request.form, "active": request.form.get("active") == "on"}
        return form_failed(exc, "policy/taboo_edit.html", topic=topic, values=values)
    flash(f"Taboo topic “{topic.name}” saved.", "success")
    return redirect(url_for("policy.taboo_topics"))


@bp.post("/taboo-topics/<int:topic_id>/delete")
@requires_role(Role.HR)
def delete_topic(topic_id: int):
    topic = taboo.get_topic(topic_id)
    name = topic.name
    taboo.delete_topic(me(), topic)
    flash(f"Taboo topic “{name}” deleted.", "success")
    return redirect(url_for("policy.taboo_topics"))
