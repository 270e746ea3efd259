"""Analytics: which table and period to read, and what a table answers."""

from __future__ import annotations

from datetime import date

from marshmallow import Schema, ValidationError, fields, validate

from app.schemas.fields import SQL_INTEGER_MAX, Integer, String
from scoring.analytics import FIGURES, Cohort, Period

# Wider than any company's history and plans; a year far off is a typo, and the time
# table reaches a year back from the day, which must stay in Python's calendar.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)

# Figures the tables show beside those of ``scoring.analytics.FIGURES``.
MORE_FIGURES = {
    "value_low": (
        Cohort.SHARES_MADE,
        "earned-media value in cents, every assumption at its low end (network table)",
    ),
    "value_high": (
        Cohort.SHARES_MADE,
        "earned-media value in cents, every assumption at its high end (network table)",
    ),
    "sharers": (Cohort.SHARES_MADE, "people who made the shares (interest x tag table)"),
}


def _figures_described() -> str:
    every = {name: (figure.cohort, figure.meaning) for name, figure in FIGURES.items()}
    every.update(MORE_FIGURES)
    lines = [f"- `{name}` ({cohort.label}): {meaning}" for name, (cohort, meaning) in every.items()]
    return "The row's figures by column name; null where withheld or undefined.\n\n" + "\n".join(
        lines
    )


class Day(fields.Date):
    """An ISO date between FIRST_DAY and LAST_DAY."""

    default_error_messages = {
        "out_of_range": f"Give a day between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()}."
    }

    def _deserialize(self, value, attr, data, **kwargs) -> date:
        day = super()._deserialize(value, attr, data, **kwargs)
        if not FIRST_DAY <= day <= LAST_DAY:
            raise self.make_error("out_of_range")
        return day


class AnalyticsQuerySchema(Schema):
    period = String(
        load_default=Period.MONTH.value,
        validate=validate.OneOf([period.value for period in Period]),
        metadata={
            "description": "company-local days, weeks (from the company's first weekday) or months"
        },
    )
    day = Day(
        load_default=None,
        metadata={
            "description": f"a day inside the period wanted ({FIRST_DAY.isoformat()} to "
            f"{LAST_DAY.isoformat()}); default today, in the company's time zone"
        },
    )
    team_id = Integer(
        load_default=None,
        validate=validate.Range(min=1, max=SQL_INTEGER_MAX),
        metadata={
            "description": "one team's figures (the time table only); a team lead's own "
            "team when left out"
        },
    )


class AnalyticsColumnSchema(Schema):
    name = String()
    label = String()
    cohort = String(
        allow_none=True,
        metadata={
            "enum": [cohort.value for cohort in Cohort],
            "description": "what the figure counts from; null: not a figure (the row's label)",
        },
    )
    cohort_label = String(allow_none=True)
    meaning = String(metadata={"description": "what the figure counts; empty for the label"})


class FigureValue(fields.Raw):
    """A figure: a whole count or a rate, or null."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and not isinstance(value, int | float):
            raise ValidationError("Not a number.")
        return value


class AnalyticsRowSchema(Schema):
    key = String(metadata={"description": "stable: an ISO date, an id, a network, a place"})
    label = String()
    withheld = fields.Boolean(
        metadata={"description": "too few people: every figure of the row is null"}
    )
    values = fields.Dict(
        keys=String(),
        values=FigureValue(metadata={"type": ["number", "null"]}),
        metadata={"description": _figures_described()},
    )


class AnalyticsTableSchema(Schema):
    table = String()
    title = String()
    period = String(metadata={"enum": [period.value for period in Period]})
    start = fields.Date(metadata={"description": "the period's first day, company-local"})
    end = fields.Date(metadata={"description": "the first day after the period"})
    team_id = Integer(allow_none=True, metadata={"description": "null: the whole company"})
    minimum_group_size = Integer(
        metadata={"description": "figures of groups of fewer people are withheld"}
    )
    columns = fields.List(fields.Nested(AnalyticsColumnSchema))
    rows = fields.List(fields.Nested(AnalyticsRowSchema))
    notes = fields.List(String())


def table_json(table, selection, minimum_group_size: int) -> dict:
    """An ``analytics.Table`` of a ``Selection`` as ``AnalyticsTableSchema`` shows it."""
    return {
        "table": table.name,
        "title": table.title,
        "period": selection.period.value,
        "start": selection.start,
        "end": selection.end,
        "team_id": selection.team_id,
        "minimum_group_size": minimum_group_size,
        "columns": [
            {
                "name": column.name,
                "label": column.label,
                "cohort": column.cohort.value if column.cohort else None,
                "cohort_label": column.cohort.label if column.cohort else None,
                "meaning": column.meaning or MORE_FIGURES.get(column.name, (None, ""))[1],
            }
            for column in table.columns
        ],
        "rows": [
            {"key": row.key, "label": row.label, "withheld": row.withheld, "values": row.values}
            for row in table.rows
        ],
        "notes": table.notes,
    }
