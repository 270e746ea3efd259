"""marshmallow schemas at the edge: what the API and the page forms accept and return.

Input schemas check shape and types and reject unknown fields; the services check what
needs the database (unique names, known ids, role rules). Page forms load through the
same schemas, so a field is validated the same way whichever door it comes in by.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import Schema, ValidationError, fields, validate
from werkzeug.datastructures import FileStorage

from app.errors import InvalidInput
from app.models import Role
from scoring.participation import Network, Presence, board_name


def _time_zone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError("Unknown time zone; use an IANA name like Europe/Berlin.") from exc


def load(schema: Schema, data) -> dict:
    """Validate input for a page form or a script; problems become one InvalidInput."""
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise InvalidInput("Some fields need attention.", errors=exc.messages_dict) from exc


# Teams and interests ---------------------------------------------------------------


class TeamSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    member_count = fields.Function(lambda team: len(team.members), dump_only=True)


class InterestSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=80))


# Employees -------------------------------------------------------------------------


class TeamRefSchema(Schema):
    id = fields.Integer()
    name = fields.String()


class EmployeeSchema(Schema):
    """An employee as HR and admins see them in the directory."""

    id = fields.Integer(dump_only=True)
    email = fields.Email(required=True, validate=validate.Length(max=254))
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    role = fields.Enum(Role, by_value=True, load_default=Role.EMPLOYEE)
    team_id = fields.Integer(allow_none=True, load_default=None, load_only=True)
    team = fields.Nested(TeamRefSchema, dump_only=True, allow_none=True)
    active = fields.Boolean(dump_only=True)
    participating = fields.Boolean(dump_only=True)
    opted_in_at = fields.DateTime(dump_only=True)
    last_sign_in_at = fields.DateTime(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    erased_at = fields.DateTime(dump_only=True)


class EmployeeUpdateSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=120))
    role = fields.Enum(Role, by_value=True)
    team_id = fields.Integer(allow_none=True)
    active = fields.Boolean()


class EmployeeQuerySchema(Schema):
    q = fields.String(validate=validate.Length(max=120), metadata={"description": "name or e-mail"})
    team_id = fields.Integer()
    role = fields.Enum(Role, by_value=True)


class CsvTextField(fields.Field):
    """An uploaded file, read as UTF-8 text (a byte-order mark is dropped)."""

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        if not isinstance(value, FileStorage) or not value.filename:
            raise ValidationError("Upload a CSV file.")
        try:
            return value.read().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ValidationError("The file is not UTF-8 text; save it as CSV (UTF-8).") from exc


class CsvImportSchema(Schema):
    """multipart/form-data with the people CSV in the field ``file``."""

    file = CsvTextField(
        required=True,
        metadata={
            "type": "string",
            "format": "binary",
            "description": "UTF-8 CSV with a header row: email, name, team, role",
        },
    )


class ImportReportSchema(Schema):
    created = fields.Integer()
    updated = fields.Integer()
    teams_created = fields.List(fields.String())
    rejected = fields.List(fields.Dict(), metadata={"description": '[{"line", "reason"}]'})


# Me: profile and participation -----------------------------------------------------


class NetworkSchema(Schema):
    network = fields.Enum(Network, by_value=True, required=True)
    handle = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=120))
    audience_size = fields.Integer(
        allow_none=True, load_default=None, validate=validate.Range(min=0, max=100_000_000)
    )


class NetworksSchema(Schema):
    networks = fields.List(fields.Nested(NetworkSchema), required=True)


class InterestIdsSchema(Schema):
    interest_ids = fields.List(fields.Integer(), required=True)


class PresenceSchema(Schema):
    presence = fields.Enum(Presence, by_value=True, required=True)
    pseudonym = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=40))


class OptInSchema(Schema):
    guidelines_version_id = fields.Integer(required=True)


class EraseSchema(Schema):
    confirm_email = fields.String(
        required=True, metadata={"description": "the account's e-mail, typed again"}
    )


class ProfileSchema(Schema):
    """The signed-in employee's own view of themselves."""

    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    role = fields.Enum(Role, by_value=True)
    team = fields.Nested(TeamRefSchema, allow_none=True)
    participating = fields.Boolean()
    opted_in_at = fields.DateTime(allow_none=True)
    guidelines_version_id = fields.Integer(allow_none=True)
    presence = fields.Enum(Presence, by_value=True)
    pseudonym = fields.String(allow_none=True)
    shown_on_boards_as = fields.Function(
        lambda e: board_name(e.presence, e.name, e.pseudonym) if e.participating else None
    )
    networks = fields.List(fields.Nested(NetworkSchema))
    interests = fields.List(fields.Nested(InterestSchema))


# Guidelines ------------------------------------------------------------------------


class GuidelinesSchema(Schema):
    id = fields.Integer(dump_only=True)
    body = fields.String(required=True, validate=validate.Length(min=20, max=50_000))
    contact_name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    contact_email = fields.Email(required=True)
    created_at = fields.DateTime(dump_only=True)


# Company settings ------------------------------------------------------------------


class CompanySettingsSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=120))
    time_zone = fields.String(validate=_time_zone)
    week_start = fields.Integer(
        validate=validate.Range(min=0, max=6), metadata={"description": "0 = Monday … 6 = Sunday"}
    )
    min_group_size = fields.Integer(validate=validate.Range(min=1, max=1000))


# API tokens and audit --------------------------------------------------------------


class ApiTokenSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=80))
    owner_id = fields.Integer(load_default=None, metadata={"description": "defaults to the caller"})
    prefix = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    last_used_at = fields.DateTime(dump_only=True)
    revoked_at = fields.DateTime(dump_only=True)


class NewApiTokenSchema(ApiTokenSchema):
    token = fields.String(
        dump_only=True, metadata={"description": "the secret; shown only in this answer"}
    )


class AuditEntrySchema(Schema):
    id = fields.Integer()
    created_at = fields.DateTime()
    actor_id = fields.Integer(allow_none=True)
    action = fields.String()
    target_type = fields.String(allow_none=True)
    target_id = fields.Integer(allow_none=True)
    details = fields.Dict()
