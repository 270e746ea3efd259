"""The query of the analytics pages: which breakdown, which period, which team."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from app.schemas.fields import Integer, String
from scoring.analytics import Period

# The breakdowns HR reads, in the order of the page's tabs (the service's table names).
DIMENSIONS = ("time", "content", "network", "team", "persona", "advocates", "matrix")


class AnalyticsPageSchema(Schema):
    class Meta:
        unknown = EXCLUDE  # a shared link may carry more (utm_…); what is read is checked

    show = String(load_default="time", validate=validate.OneOf(DIMENSIONS))
    period = String(
        load_default=Period.MONTH.value, validate=validate.OneOf([p.value for p in Period])
    )
    start = fields.Date(
        load_default=None,
        error_messages={"invalid": "Give a date as YYYY-MM-DD."},
        metadata={"description": "a day in the period; default today"},
    )
    team_id = Integer(load_default=None, validate=validate.Range(min=1))
