"""The field types every schema uses, and ``load`` for page forms and scripts.

Bounds at the edge, in one place: a value the database or the clock cannot hold is a 422
naming its field, never a driver's overflow deep in a request. Every integer and text
field of every schema is one of these, and every moment read from input.
"""

from __future__ import annotations

from datetime import UTC, datetime

from marshmallow import Schema, ValidationError, fields, validate

from app.errors import InvalidInput

# marshmallow's own words for a missing field, once for every field of every schema.
fields.Field.default_error_messages["required"] = "This field is required."

# What every integer column holds: PostgreSQL's INTEGER is 32 bits (SQLite's, 64).
SQL_INTEGER_MAX = 2**31 - 1
SQL_INTEGER_MIN = -(2**31)


class Integer(fields.Integer):
    """An integer a SQL column can hold. Every integer field of every schema is one, and
    the OpenAPI document states the bound (apispec reads the Range)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.validators.insert(
            0,
            validate.Range(
                min=SQL_INTEGER_MIN,
                max=SQL_INTEGER_MAX,
                error="Must be a whole number between {min} and {max}.",
            ),
        )


class _TextWithoutNul:
    """PostgreSQL's text cannot hold the NUL character (SQLite's can): refuse it at the
    edge, on both databases alike."""

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise ValidationError("Text cannot hold the NUL character (\\0).")
        return text


class String(_TextWithoutNul, fields.String):
    """Text; every text field of every schema is one."""


class Email(_TextWithoutNul, fields.Email):
    """An e-mail address, as text without NUL."""


# Aware moments must be in this range once turned to UTC: Python's datetime ends at the
# years 1 and 9999, and days are added to moments (vesting, windows) after they are read.
EARLIEST_MOMENT = datetime(1900, 1, 1, tzinfo=UTC)
LATEST_MOMENT = datetime(9000, 1, 1, tzinfo=UTC)


class AwareDateTime(fields.AwareDateTime):
    """ISO 8601 with a zone, within EARLIEST_MOMENT and LATEST_MOMENT."""

    default_error_messages = {
        "out_of_range": "Give a moment between the years 1900 and 9000.",
    }

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            in_utc = moment.astimezone(UTC)
        except OverflowError as exc:  # "0001-01-01T00:00:00+14:00" is before the year 1
            raise self.make_error("out_of_range") from exc
        if not EARLIEST_MOMENT <= in_utc < LATEST_MOMENT:
            raise self.make_error("out_of_range")
        return moment


class NaiveDateTime(fields.NaiveDateTime):
    """A page form's wall-clock time (read in the company's zone later), within the same
    years as AwareDateTime, so that adding a zone cannot leave Python's range."""

    default_error_messages = {"out_of_range": AwareDateTime.default_error_messages["out_of_range"]}

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        if not EARLIEST_MOMENT.year <= moment.year < LATEST_MOMENT.year:
            raise self.make_error("out_of_range")
        return moment


class Length(validate.Length):
    """Length messages people read, for text and for lists."""

    def _format_error(self, value, message: str) -> str:
        text = isinstance(value, str)
        unit = "characters" if text else "items"
        if self.equal is not None:
            return f"Exactly {self.equal} {unit}."
        if self.min is not None and len(value) < self.min:
            if self.min == 1:
                return "This field cannot be empty." if text else "Give at least one."
            return f"At least {self.min} {unit}."
        return f"At most {self.max} {unit}."


def load(schema: Schema, data) -> dict:
    """Validate input for a page form or a script; problems become one InvalidInput."""
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise InvalidInput("Some fields need attention.", errors=exc.messages_dict) from exc
