"""HR's sharing policy: disclosure, UTM medium, share caps and per-network rules."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.extensions import after_commit, db
from app.models import Employee, NetworkPolicy, SharePolicy
from app.services import audit, click_capture
from app.services.single_row import single_row, update_single_row
from scoring.sharing import ShareCaps
from scoring.vocabulary import Channel

CAP_FIELDS = ("per_day", "per_week", "per_channel_per_day", "per_content", "min_spacing_minutes")


def share_policy() -> SharePolicy:
    """The policy row; until HR changes it, an unsaved row with gentle defaults
    (``single_row``)."""
    return single_row(
        SharePolicy,
        disclosure="#employee",
        utm_medium="employee_advocacy",
        per_day=3,
        per_week=10,
        per_channel_per_day=2,
        per_content=2,
        min_spacing_minutes=30,
    )


def update_share_policy(actor: Employee, changes: dict) -> SharePolicy:
    policy = share_policy()
    if changes.get("utm_medium", policy.utm_medium) != policy.utm_medium:
        after_commit(click_capture.forget_destinations)  # every cached link carries the medium
    return update_single_row(policy, actor, "share_policy.update", changes)


def share_caps(policy: SharePolicy | None = None) -> ShareCaps:
    policy = policy or share_policy()
    spacing = policy.min_spacing_minutes
    return ShareCaps(
        per_day=policy.per_day,
        per_week=policy.per_week,
        per_channel_per_day=policy.per_channel_per_day,
        per_content=policy.per_content,
        min_spacing=timedelta(minutes=spacing) if spacing else None,
    )


def network_policies() -> dict[Channel, NetworkPolicy]:
    """One policy per channel; channels HR never touched earn share points."""
    stored = {p.channel: p for p in db.session.scalars(select(NetworkPolicy))}
    return {
        channel: stored.get(channel) or NetworkPolicy(channel=channel, share_points=True)
        for channel in Channel
    }


def share_points_enabled(channel: Channel) -> bool:
    return network_policies()[channel].share_points


def set_network_policy(
    actor: Employee, channel: Channel, *, share_points: bool, note: str | None = None
) -> NetworkPolicy:
    policy = db.session.get(NetworkPolicy, channel)
    if policy is None:
        policy = NetworkPolicy(channel=channel)
        db.session.add(policy)
    policy.share_points = share_points
    policy.note = (note or "").strip() or None
    audit.record(
        actor, "network_policy.update", None, channel=channel.value, share_points=share_points
    )
    return policy
