"""the people's and the interests' rollups keep days too; each person's set of interests as one value

Revision ID: d9f4a6b8c0e3
Revises: c8e3f5a7b9d2
Create Date: 2026-12-04 17:30:00.000000

A day's figures by interest, its top advocates and its matrix of interests by tag read
a day's kept rows, as a week's and a month's do, instead of grouping the day's rows of
thousands of people by their interests. The rows of ``period`` 'day' are filled here:
the people's from ``rollup_employee_daily`` (summed over teams) and from the shares
(the local day worked out as revision 0019 works it out, with its helpers), the
interests' from the people's, as revision 0020 fills its weeks and months.

``employees.interests_key`` holds the ids of the interests a person has chosen, sorted
and comma-separated (as ``scoring.analytics.interests_key`` writes them): the figures
by interest count the people taking part by their set of interests in one pass,
instead of joining everyone's choices with themselves.
"""

from datetime import timedelta
from importlib.util import module_from_spec, spec_from_file_location
from pathlib import Path

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "d9f4a6b8c0e3"
down_revision = "c8e3f5a7b9d2"
branch_labels = None
depends_on = None

TABLES = (
    "rollup_person_periods",
    "rollup_interest_periods",
    "rollup_sharer_tags",
    "rollup_interest_tags",
)


def upgrade():
    with op.batch_alter_table("employees") as batch:
        batch.add_column(sa.Column("interests_key", sa.Text(), server_default="", nullable=False))
    _fill_keys()
    earlier = _revision("0019_analytics_rollups.py")
    counters = earlier.COUNTERS
    names = ", ".join(counters)
    sums = ", ".join(f"sum({name})" for name in counters)
    nonzero = " OR ".join(f"sum({name}) <> 0" for name in counters)
    op.execute(
        f"INSERT INTO rollup_person_periods (period, starts_on, employee_id, {names}) "
        f"SELECT 'day', day, employee_id, {sums} FROM rollup_employee_daily "
        f"GROUP BY day, employee_id HAVING {nonzero} ORDER BY day, employee_id"
    )
    people = ", ".join(f"sum(p.{name})" for name in counters)
    op.execute(
        f"INSERT INTO rollup_interest_periods (period, starts_on, interest_id, {names}, active) "
        f"SELECT 'day', p.starts_on, i.interest_id, {people}, "
        "sum(CASE WHEN p.shares > 0 THEN 1 ELSE 0 END) FROM rollup_person_periods p "
        "JOIN employee_interests i ON i.employee_id = p.employee_id WHERE p.period = 'day' "
        "GROUP BY p.starts_on, i.interest_id "
        f"HAVING {nonzero.replace('sum(', 'sum(p.')} "
        "OR sum(CASE WHEN p.shares > 0 THEN 1 ELSE 0 END) <> 0 "
        "ORDER BY p.starts_on, i.interest_id"
    )
    _fill_tags(earlier)


def downgrade():
    for table in TABLES:
        op.execute(f"DELETE FROM {table} WHERE period = 'day'")
    with op.batch_alter_table("employees") as batch:
        batch.drop_column("interests_key")


def _fill_keys():
    bind = op.get_bind()
    chosen = {}
    rows = "SELECT employee_id, interest_id FROM employee_interests"
    for employee_id, interest_id in bind.execute(sa.text(rows)):
        chosen.setdefault(employee_id, []).append(interest_id)
    keys = [
        {"person": person, "key": ",".join(str(i) for i in sorted(set(interests)))}
        for person, interests in sorted(chosen.items())
    ]
    if keys:
        update = "UPDATE employees SET interests_key = :key WHERE id = :person"
        bind.execute(sa.text(update), keys)


def _revision(filename):
    """An earlier revision's module (no later change edits a revision), not a copy."""
    path = Path(__file__).with_name(filename)
    spec = spec_from_file_location(path.stem, path)
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fill_tags(earlier):
    bind = op.get_bind()
    first, last = bind.execute(sa.text("SELECT min(created_at), max(created_at) FROM shares")).one()
    if first is None:
        return
    offsets = earlier._offsets(
        earlier._zone(bind), earlier._instant(first), earlier._instant(last) + timedelta(days=1)
    )
    day = earlier._local_date(bind.dialect.name == "postgresql", offsets)
    op.execute(
        "INSERT INTO rollup_sharer_tags "
        "(period, starts_on, employee_id, tag, shares, clicks_on_shares) "
        "SELECT 'day', starts_on, employee_id, tag, count(*), sum(counted_clicks) "
        f"FROM (SELECT {day.format('shares.created_at')} AS starts_on, shares.employee_id, "
        "content_tags.tag, shares.counted_clicks FROM shares "
        "JOIN content_tags ON content_tags.content_id = shares.content_id) AS each_share "
        "GROUP BY starts_on, employee_id, tag ORDER BY starts_on, employee_id, tag"
    )
    op.execute(
        "INSERT INTO rollup_interest_tags "
        "(period, starts_on, interest_id, tag, shares, clicks_on_shares, sharers) "
        "SELECT 'day', r.starts_on, i.interest_id, r.tag, sum(r.shares), "
        "sum(r.clicks_on_shares), count(*) FROM rollup_sharer_tags r "
        "JOIN employee_interests i ON i.employee_id = r.employee_id WHERE r.period = 'day' "
        "GROUP BY r.starts_on, i.interest_id, r.tag "
        "ORDER BY r.starts_on, i.interest_id, r.tag"
    )
