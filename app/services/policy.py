"""HR's sharing policy: disclosure, UTM medium, share caps and per-network rules."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy import select

from app.errors import InvalidInput
from app.extensions import after_commit, db
from app.models import Employee, NetworkPolicy, SharePolicy
from app.services import audit, click_capture
from app.services.single_row import single_row, update_single_row
from scoring import media_value
from scoring.sharing import ShareCaps
from scoring.vocabulary import Channel

CAP_FIELDS = ("per_day", "per_week", "per_channel_per_day", "per_content", "min_spacing_minutes")
# Each range of ``media_value.Assumptions`` as a network policy's (low, high) columns.
ASSUMPTION_COLUMNS = {
    "cpm_cents": ("cpm_low_cents", "cpm_high_cents"),
    "cpc_cents": ("cpc_low_cents", "cpc_high_cents"),
    "seen_percent": ("seen_low_percent", "seen_high_percent"),
}
ASSUMPTION_FIELDS = tuple(column for pair in ASSUMPTION_COLUMNS.values() for column in pair)


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
    actor: Employee,
    channel: Channel,
    *,
    share_points: bool,
    note: str | None = None,
    assumptions: media_value.Assumptions | None = None,
) -> NetworkPolicy:
    """Set a network's policy whole; ``assumptions`` None: the defaults of earned-media
    value (``media_value.DEFAULTS``)."""
    policy = db.session.get(NetworkPolicy, channel)
    if policy is None:
        policy = NetworkPolicy(channel=channel)
        db.session.add(policy)
    policy.share_points = share_points
    policy.note = (note or "").strip() or None
    values = assumption_values(assumptions)
    for column, value in values.items():
        setattr(policy, column, value)
    audit.record(
        actor,
        "network_policy.update",
        None,
        channel=channel.value,
        share_points=share_points,
        **values,
    )
    return policy


def assumptions_given(values: Mapping[str, int | None]) -> media_value.Assumptions | None:
    """The assumptions of earned-media value in ``values`` (by column name): all six,
    checked, or none (None: the defaults). Anything between is a mistake, named."""
    given = {column: values.get(column) for column in ASSUMPTION_FIELDS}
    if all(value is None for value in given.values()):
        return None
    missing = [column for column, value in given.items() if value is None]
    if missing:
        problem = "Give all six assumptions, or none for the defaults."
        raise InvalidInput(problem, errors={column: [problem] for column in missing})
    assumptions = media_value.Assumptions(
        **{name: (given[low], given[high]) for name, (low, high) in ASSUMPTION_COLUMNS.items()}
    )
    problems = media_value.assumptions_problem(assumptions)
    if problems:
        errors = {
            column: [problem]
            for name, problem in problems.items()
            for column in ASSUMPTION_COLUMNS[name]
        }
        raise InvalidInput(
            "Some assumptions of earned-media value are out of range.", errors=errors
        )
    return assumptions


def assumption_values(assumptions: media_value.Assumptions | None) -> dict[str, int | None]:
    """Assumptions as a policy's columns (None: all None, the defaults)."""
    values: dict[str, int | None] = {}
    for name, (low, high) in ASSUMPTION_COLUMNS.items():
        ends = getattr(assumptions, name) if assumptions else (None, None)
        values[low], values[high] = ends
    return values
