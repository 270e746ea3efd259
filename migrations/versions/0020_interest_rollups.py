"""rollups per person and per interest: each person's week or month over teams and per tag, and the same per interest

Revision ID: c8e3f5a7b9d2
Revises: b7d2e4f8a9c1
Create Date: 2026-12-03 19:30:00.000000

``rollup_person_periods`` (week or month, its first day, person) is
``rollup_employee_periods`` summed over teams, with an index in the order the top
advocates are read; ``rollup_interest_periods`` (week or month, its first day,
interest) sums it over the people who have chosen the interest now, with how many of
them shared (``active``). ``rollup_sharer_tags`` (week or month, its first day, person,
tag) counts a person's shares of content with a tag (the tags items have now) and the
counted clicks those shares drew; ``rollup_interest_tags`` (week or month, its first
day, interest, tag) sums those over the people who have chosen the interest now, with
how many of them shared the tag. The figures by interest and the matrix of interests by
tag then read a period's few hundred cells instead of everyone's rows. They are filled
here: the people's from the weekly and monthly rollups and from the shares, the local
day worked out as revision 0019 works it out (its helpers, which no later change
edits), the interests' from the people's.
"""

from datetime import timedelta
from importlib.util import module_from_spec, spec_from_file_location
from pathlib import Path

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "c8e3f5a7b9d2"
down_revision = "b7d2e4f8a9c1"
branch_labels = None
depends_on = None


def _key(name, tag=True):
    columns = [
        sa.Column(
            "period",
            sa.Enum(
                "day",
                "week",
                "month",
                name="period",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column(name, sa.Integer(), nullable=False),
    ]
    if tag:
        columns.append(sa.Column("tag", sa.String(length=60), nullable=False))
    return columns


def _counter(name):
    return sa.Column(name, sa.Integer(), server_default="0", nullable=False)


def upgrade():
    earlier = _revision_0019()
    op.create_table(
        "rollup_person_periods",
        *_key("employee_id", tag=False),
        *earlier._counters(),
        sa.PrimaryKeyConstraint(
            "period", "starts_on", "employee_id", name=op.f("pk_rollup_person_periods")
        ),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_rollup_person_periods_clicks",
        "rollup_person_periods",
        ["period", "starts_on", "clicks", "shares"],
    )
    op.create_table(
        "rollup_interest_periods",
        *_key("interest_id", tag=False),
        *earlier._counters(),
        _counter("active"),
        sa.PrimaryKeyConstraint(
            "period", "starts_on", "interest_id", name=op.f("pk_rollup_interest_periods")
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "rollup_sharer_tags",
        *_key("employee_id"),
        _counter("shares"),
        _counter("clicks_on_shares"),
        sa.PrimaryKeyConstraint(
            "period", "starts_on", "employee_id", "tag", name=op.f("pk_rollup_sharer_tags")
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "rollup_interest_tags",
        *_key("interest_id"),
        _counter("shares"),
        _counter("clicks_on_shares"),
        _counter("sharers"),
        sa.PrimaryKeyConstraint(
            "period", "starts_on", "interest_id", "tag", name=op.f("pk_rollup_interest_tags")
        ),
        sqlite_with_rowid=False,
    )
    _fill(earlier)


def downgrade():
    op.drop_table("rollup_interest_tags")
    op.drop_table("rollup_sharer_tags")
    op.drop_table("rollup_interest_periods")
    op.drop_index("ix_rollup_person_periods_clicks", table_name="rollup_person_periods")
    op.drop_table("rollup_person_periods")


def _revision_0019():
    """Revision 0019's module: its counters, columns and local days (no later change
    edits a revision), not a copy of them."""
    path = Path(__file__).with_name("0019_analytics_rollups.py")
    spec = spec_from_file_location("revision_0019", path)
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fill(earlier):
    """The people's rows, the interests' made from them, then the tags'."""
    counters = earlier.COUNTERS
    names = ", ".join(counters)
    sums = ", ".join(f"sum({name})" for name in counters)
    nonzero = " OR ".join(f"sum({name}) <> 0" for name in counters)
    op.execute(
        f"INSERT INTO rollup_person_periods (period, starts_on, employee_id, {names}) "
        f"SELECT period, starts_on, employee_id, {sums} FROM rollup_employee_periods "
        f"GROUP BY period, starts_on, employee_id HAVING {nonzero} "
        "ORDER BY period, starts_on, employee_id"
    )
    people = ", ".join(f"sum(p.{name})" for name in counters)
    op.execute(
        f"INSERT INTO rollup_interest_periods (period, starts_on, interest_id, {names}, active) "
        f"SELECT p.period, p.starts_on, i.interest_id, {people}, "
        "sum(CASE WHEN p.shares > 0 THEN 1 ELSE 0 END) FROM rollup_person_periods p "
        "JOIN employee_interests i ON i.employee_id = p.employee_id "
        "GROUP BY p.period, p.starts_on, i.interest_id "
        f"HAVING {nonzero.replace('sum(', 'sum(p.')} "
        "OR sum(CASE WHEN p.shares > 0 THEN 1 ELSE 0 END) <> 0 "
        "ORDER BY p.period, p.starts_on, i.interest_id"
    )
    _fill_tags(earlier)


def _fill_tags(earlier):
    bind = op.get_bind()
    first, last = bind.execute(sa.text("SELECT min(created_at), max(created_at) FROM shares")).one()
    if first is None:
        return
    postgres = bind.dialect.name == "postgresql"
    offsets = earlier._offsets(
        earlier._zone(bind), earlier._instant(first), earlier._instant(last) + timedelta(days=1)
    )
    day = earlier._local_date(postgres, offsets).format("shares.created_at")
    week_start = bind.execute(sa.text("SELECT week_start FROM company_settings LIMIT 1")).scalar()
    week_start = week_start or 0
    if postgres:
        starts = {
            "week": f"({day}) - ((CAST(extract(isodow FROM {day}) AS INTEGER) - 1 - {week_start} + 7) % 7)",
            "month": f"CAST(date_trunc('month', {day}) AS DATE)",
        }
    else:
        starts = {
            "week": f"date({day}, '-' || ((CAST(strftime('%w', {day}) AS INTEGER) + 13 - {week_start}) % 7) || ' days')",
            "month": f"date({day}, 'start of month')",
        }
    for period, start in starts.items():
        op.execute(
            "INSERT INTO rollup_sharer_tags "
            "(period, starts_on, employee_id, tag, shares, clicks_on_shares) "
            f"SELECT '{period}', starts_on, employee_id, tag, count(*), sum(counted_clicks) "
            f"FROM (SELECT {start} AS starts_on, shares.employee_id, content_tags.tag, "
            "shares.counted_clicks FROM shares "
            "JOIN content_tags ON content_tags.content_id = shares.content_id) AS each_share "
            "GROUP BY starts_on, employee_id, tag ORDER BY starts_on, employee_id, tag"
        )
    op.execute(
        "INSERT INTO rollup_interest_tags "
        "(period, starts_on, interest_id, tag, shares, clicks_on_shares, sharers) "
        "SELECT r.period, r.starts_on, i.interest_id, r.tag, sum(r.shares), "
        "sum(r.clicks_on_shares), count(*) FROM rollup_sharer_tags r "
        "JOIN employee_interests i ON i.employee_id = r.employee_id "
        "GROUP BY r.period, r.starts_on, i.interest_id, r.tag "
        "ORDER BY r.period, r.starts_on, i.interest_id, r.tag"
    )
