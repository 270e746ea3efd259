"""analytics rollups: counters per local day by content item, channel and team, and by person; spells of taking part; kept headcounts

Revision ID: b7d2e4f8a9c1
Revises: d4e8b2f6a1c3
Create Date: 2026-12-03 09:00:00.000000

``rollup_content_daily`` (day, content item, channel, team), ``rollup_employee_daily``
(day, person, team) and ``rollup_team_daily`` (day, team: the people's summed), and per
week and month ``rollup_content_periods`` and ``rollup_employee_periods``, count
shares made, counted clicks received, counted clicks on the day's shares, attributed
referral stages reached, points and potential reach, per company-local day, team 0 standing for no team. They are filled here from the raw rows, as ``flask
rebuild-rollups`` does: the local day worked out with plain date arithmetic from the
company time zone's offsets, the same on SQLite and PostgreSQL. Only rows with a
counter other than 0 are kept. Both are stored in key order on SQLite (WITHOUT ROWID);
derived rows, they have no foreign keys and no index beyond their key.

Shares keep the audience their sharer declared on the network (what potential reach adds
up; history takes the audience declared now) and their counted clicks; network policies
gain the assumptions of earned-media value (None: the defaults).

``participation_spells`` records who took part when, and in which team; history
before this migration is not known, so each person taking part now gets one open
spell from their opt-in, in their current team. ``headcounts`` keeps the headcount of
finished periods: the clock's job fills it from the spells.
"""
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d2e4f8a9c1'
down_revision = 'd4e8b2f6a1c3'
branch_labels = None
depends_on = None

COUNTERS = (
    'shares', 'clicks', 'clicks_on_shares', 'applied', 'interviewed', 'hired', 'points', 'reach',
)
ASSUMPTIONS = (
    'cpm_low_cents', 'cpm_high_cents', 'cpc_low_cents', 'cpc_high_cents',
    'seen_low_percent', 'seen_high_percent',
)
CHANNELS = ('linkedin', 'x', 'facebook', 'xing', 'instagram', 'email')


def _counters():
    # A writer names only the counters it moves: the others start at 0.
    return [
        sa.Column(
            name,
            sa.BigInteger() if name in ('points', 'reach') else sa.Integer(),
            server_default='0',
            nullable=False,
        )
        for name in COUNTERS
    ]


def upgrade():
    with op.batch_alter_table('shares') as batch:
        batch.add_column(sa.Column('audience', sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column('counted_clicks', sa.Integer(), server_default='0', nullable=False)
        )
        batch.create_index('ix_shares_created_at', ['created_at'])
    with op.batch_alter_table('network_policies') as batch:
        for name in ASSUMPTIONS:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=True))
    # Audiences at share time were not kept: the audience declared now stands in.
    op.execute(
        'UPDATE shares SET audience = (SELECT audience_size FROM employee_networks '
        'WHERE employee_networks.employee_id = shares.employee_id '
        'AND employee_networks.network = shares.channel)'
    )
    op.execute(
        "UPDATE shares SET counted_clicks = (SELECT count(*) FROM click_records "
        "WHERE click_records.share_id = shares.id AND click_records.kind = 'human')"
    )
    op.create_table('rollup_content_daily',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('content_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.Enum(*CHANNELS, name='channel', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    *_counters(),
    sa.PrimaryKeyConstraint('day', 'content_id', 'channel', 'team_id', name=op.f('pk_rollup_content_daily')),
    sqlite_with_rowid=False,
    )
    op.create_table('rollup_employee_daily',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    *_counters(),
    sa.PrimaryKeyConstraint('day', 'employee_id', 'team_id', name=op.f('pk_rollup_employee_daily')),
    sqlite_with_rowid=False,
    )
    op.create_table('rollup_team_daily',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    *_counters(),
    sa.PrimaryKeyConstraint('day', 'team_id', name=op.f('pk_rollup_team_daily')),
    sqlite_with_rowid=False,
    )
    op.create_table('rollup_content_periods',
    sa.Column('period', sa.Enum('day', 'week', 'month', name='period', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('content_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.Enum(*CHANNELS, name='channel', native_enum=False, create_constraint=True, length=20), nullable=False),
    *_counters(),
    sa.PrimaryKeyConstraint('period', 'starts_on', 'content_id', 'channel', name=op.f('pk_rollup_content_periods')),
    sqlite_with_rowid=False,
    )
    op.create_table('rollup_employee_periods',
    sa.Column('period', sa.Enum('day', 'week', 'month', name='period', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    *_counters(),
    sa.PrimaryKeyConstraint('period', 'starts_on', 'employee_id', 'team_id', name=op.f('pk_rollup_employee_periods')),
    sqlite_with_rowid=False,
    )
    op.create_table('participation_spells',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_participation_spells_employee_id_employees'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_participation_spells_team_id_teams'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participation_spells'))
    )
    op.create_index(
        'ix_participation_spells_open',
        'participation_spells',
        ['employee_id'],
        unique=True,
        postgresql_where=sa.text('ended_at IS NULL'),
        sqlite_where=sa.text('ended_at IS NULL'),
    )
    op.create_index('ix_participation_spells_started_at', 'participation_spells', ['started_at'])
    op.create_table('headcounts',
    sa.Column('period', sa.Enum('day', 'week', 'month', name='period', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('people', sa.Integer(), nullable=False),
    sa.Column('active', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('period', 'starts_on', 'team_id', name=op.f('pk_headcounts')),
    sqlite_with_rowid=False,
    )

    op.execute(
        'INSERT INTO participation_spells (employee_id, team_id, started_at) '
        'SELECT id, team_id, opted_in_at FROM employees '
        'WHERE opted_in_at IS NOT NULL AND active AND erased_at IS NULL'
    )
    _fill_rollups()
    names = ', '.join(COUNTERS)
    op.execute(
        f'INSERT INTO rollup_team_daily (day, team_id, {names}) '
        f'SELECT day, team_id, {", ".join(f"sum({c})" for c in COUNTERS)} '
        'FROM rollup_employee_daily GROUP BY day, team_id '
        f'HAVING {" OR ".join(f"sum({c}) <> 0" for c in COUNTERS)}'
    )
    _fill_periods()


def downgrade():
    with op.batch_alter_table('network_policies') as batch:
        for name in ASSUMPTIONS:
            batch.drop_column(name)
    with op.batch_alter_table('shares') as batch:
        batch.drop_index('ix_shares_created_at')
        batch.drop_column('counted_clicks')
        batch.drop_column('audience')
    op.drop_table('headcounts')
    op.drop_index('ix_participation_spells_started_at', table_name='participation_spells')
    op.drop_index('ix_participation_spells_open', table_name='participation_spells')
    op.drop_table('participation_spells')
    op.drop_table('rollup_employee_periods')
    op.drop_table('rollup_content_periods')
    op.drop_table('rollup_team_daily')
    op.drop_table('rollup_employee_daily')
    op.drop_table('rollup_content_daily')


# Filling the rollups from the raw rows (as they stand at this revision) --------------


def _zone(bind):
    name = bind.execute(sa.text('SELECT time_zone FROM company_settings LIMIT 1')).scalar()
    if name is None:
        from flask import current_app

        name = current_app.config.get('COMPANY_TIME_ZONE', 'Europe/Berlin')
    return ZoneInfo(name)


def _offsets(zone, since, until):
    """(the instant it starts, the offset in seconds) of each of the zone's offsets
    from UTC between two instants."""
    def offset(moment):
        return int(moment.astimezone(zone).utcoffset().total_seconds())

    spans = [(since, offset(since))]
    before = since
    while before < until:
        after = min(before + timedelta(hours=6), until)
        if offset(after) != spans[-1][1]:
            low, high = int(before.timestamp()), int(after.timestamp())
            while high - low > 1:
                middle = (low + high) // 2
                if offset(datetime.fromtimestamp(middle, UTC)) == spans[-1][1]:
                    low = middle
                else:
                    high = middle
            changed = datetime.fromtimestamp(high, UTC)
            spans.append((changed, offset(changed)))
        before = after
    return spans


def _local_date(postgres, offsets):
    """SQL for the local date of a UTC time column named ``{}``."""
    def shifted(seconds):
        if postgres:
            return f"CAST(timezone('UTC', {{0}}) + INTERVAL '{seconds} seconds' AS DATE)"
        return f"date({{0}}, '{seconds:+d} seconds')"

    def instant(moment):
        if postgres:
            return f"'{moment.isoformat()}'::timestamptz"
        return f"'{moment:%Y-%m-%d %H:%M:%S.%f}'"

    if len(offsets) == 1:
        return shifted(offsets[0][1])
    branches = ' '.join(
        f'WHEN {{0}} >= {instant(start)} THEN {shifted(seconds)}'
        for start, seconds in reversed(offsets[1:])
    )
    return f'CASE {branches} ELSE {shifted(offsets[0][1])} END'


def _fill_rollups():
    bind = op.get_bind()
    postgres = bind.dialect.name == 'postgresql'
    columns = ('shares.created_at', 'click_records.occurred_at', 'referrals.occurred_at',
               'ledger_lines.occurred_at')
    bounds = [
        bind.execute(sa.text(f'SELECT min({c}), max({c}) FROM {c.split(".")[0]}')).one()
        for c in columns
    ]
    values = [_instant(v) for pair in bounds for v in pair if v is not None]
    if not values:
        return
    offsets = _offsets(_zone(bind), min(values), max(values) + timedelta(days=1))
    day = _local_date(postgres, offsets).format
    for table, dimensions, line_dimensions, line_source in (
        (
            'rollup_content_daily',
            ('content_id', 'channel'),
            ('events.content_id', 'events.channel'),
            'ledger_lines JOIN events ON events.id = ledger_lines.event_id '
            'WHERE events.content_id IS NOT NULL AND events.channel IS NOT NULL '
            'AND ledger_lines.points <> 0',
        ),
        (
            'rollup_employee_daily',
            ('employee_id',),
            ('ledger_lines.employee_id',),
            'ledger_lines WHERE ledger_lines.points <> 0',
        ),
    ):
        keys = ('day', *dimensions, 'team_id')

        def source(when, sharer, team, counted, rest):
            values = (day(when), *sharer, team, *counted)
            named = ', '.join(f'{v} AS {n}' for v, n in zip(values, keys + COUNTERS))
            return f'SELECT {named} FROM {rest}'

        sharer = [f'shares.{d}' for d in dimensions]
        team = 'coalesce(shares.team_id, 0)'
        clicks = (
            "click_records JOIN shares ON shares.id = click_records.share_id "
            "WHERE click_records.kind = 'human'"
        )
        stages = [
            f"CASE WHEN referrals.stage = '{stage}' THEN 1 ELSE 0 END"
            for stage in ('applied', 'interviewed', 'hired')
        ]
        sources = ' UNION ALL '.join((
            source(
                'shares.created_at', sharer, team,
                (1, 0, 0, 0, 0, 0, 0, 'coalesce(shares.audience, 0)'), 'shares',
            ),
            source('click_records.occurred_at', sharer, team, (0, 1, 0, 0, 0, 0, 0, 0), clicks),
            source('shares.created_at', sharer, team, (0, 0, 1, 0, 0, 0, 0, 0), clicks),
            source(
                'referrals.occurred_at', sharer, team, (0, 0, 0, *stages, 0, 0),
                "referrals JOIN shares ON shares.id = referrals.share_id "
                "WHERE referrals.outcome = 'awarded'",
            ),
            source(
                'ledger_lines.occurred_at', line_dimensions, 'coalesce(ledger_lines.team_id, 0)',
                (0, 0, 0, 0, 0, 0, 'ledger_lines.points', 0), line_source,
            ),
        ))
        names = ', '.join(keys + COUNTERS)
        sums = ', '.join(f'sum({c})' for c in COUNTERS)
        nonzero = ' OR '.join(f'sum({c}) <> 0' for c in COUNTERS)
        op.execute(
            f'INSERT INTO {table} ({names}) '
            f'SELECT {", ".join(keys)}, {sums} FROM ({sources}) AS raw '
            f'GROUP BY {", ".join(keys)} HAVING {nonzero}'
        )


def _fill_periods():
    """Weeks (from the company's first weekday) and months summed from the days."""
    bind = op.get_bind()
    postgres = bind.dialect.name == 'postgresql'
    week_start = bind.execute(sa.text('SELECT week_start FROM company_settings LIMIT 1')).scalar()
    week_start = week_start or 0
    if postgres:
        starts = {
            'week': f"day - ((CAST(extract(isodow FROM day) AS INTEGER) - 1 - {week_start} + 7) % 7)",
            'month': "CAST(date_trunc('month', day) AS DATE)",
        }
    else:
        starts = {
            'week': f"date(day, '-' || ((CAST(strftime('%w', day) AS INTEGER) + 13 - {week_start}) % 7) || ' days')",
            'month': "date(day, 'start of month')",
        }
    sums = ', '.join(f'sum({c})' for c in COUNTERS)
    nonzero = ' OR '.join(f'sum({c}) <> 0' for c in COUNTERS)
    for table, daily, key in (
        ('rollup_content_periods', 'rollup_content_daily', 'content_id, channel'),
        ('rollup_employee_periods', 'rollup_employee_daily', 'employee_id, team_id'),
    ):
        for period, start in starts.items():
            op.execute(
                f'INSERT INTO {table} (period, starts_on, {key}, {", ".join(COUNTERS)}) '
                f"SELECT '{period}', {start}, {key}, {sums} FROM {daily} "
                f'GROUP BY {start}, {key} HAVING {nonzero}'
            )


def _instant(value):
    if isinstance(value, str):  # SQLite hands back its text
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
