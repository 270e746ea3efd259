"""Teams, interests and the employee directory, with the people CSV import (HR)."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields
from werkzeug.datastructures import FileStorage

from app.models import Role
from app.schemas.fields import Email, Integer, Length, String


class TeamSchema(Schema):
    id = Integer(dump_only=True)
    name = String(required=True, validate=Length(min=1, max=120))
    member_count = fields.Function(lambda team: len(team.members), dump_only=True)


class InterestSchema(Schema):
    id = Integer(dump_only=True)
    name = String(required=True, validate=Length(min=1, max=80))


class TeamRefSchema(Schema):
    id = Integer()
    name = String()


class EmployeeSchema(Schema):
    """An employee as HR and admins see them in the directory."""

    id = Integer(dump_only=True)
    email = Email(required=True, validate=Length(max=254))
    name = String(required=True, validate=Length(min=1, max=120))
    role = fields.Enum(Role, by_value=True, load_default=Role.EMPLOYEE)
    team_id = Integer(allow_none=True, load_default=None, load_only=True)
    team = fields.Nested(TeamRefSchema, dump_only=True, allow_none=True)
    active = fields.Boolean(dump_only=True)
    participating = fields.Boolean(dump_only=True)
    opted_in_at = fields.DateTime(dump_only=True, allow_none=True)
    last_sign_in_at = fields.DateTime(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)
    erased_at = fields.DateTime(dump_only=True, allow_none=True)


class EmployeeUpdateSchema(Schema):
    name = String(validate=Length(min=1, max=120))
    role = fields.Enum(Role, by_value=True)
    team_id = Integer(allow_none=True)
    active = fields.Boolean()


class EmployeeQuerySchema(Schema):
    q = String(validate=Length(max=120), metadata={"description": "name or e-mail"})
    team_id = Integer()
    role = fields.Enum(Role, by_value=True)


class CsvTextField(fields.Field):
    """An uploaded file, read as UTF-8 text (a byte-order mark is dropped)."""

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        if not isinstance(value, FileStorage) or not value.filename:
            raise ValidationError("Upload a CSV file.")
        try:
            text = value.read().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ValidationError("The file is not UTF-8 text; save it as CSV (UTF-8).") from exc
        if "\x00" in text:
            raise ValidationError("The file holds NUL characters; save it as CSV (UTF-8).")
        return text


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


class ImportOptionsSchema(Schema):
    create_teams = fields.Boolean(
        load_default=False,
        metadata={"description": "create teams named in the file that do not exist yet"},
    )


class ImportReportSchema(Schema):
    created = Integer()
    updated = Integer()
    teams_created = fields.List(String())
    rejected = fields.List(fields.Dict(), metadata={"description": '[{"line", "reason"}]'})
