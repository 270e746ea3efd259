"""What admins manage: company settings, API tokens and the audit log."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import Schema, ValidationError, fields, validate

from app.schemas.fields import Integer, Length, String


def _time_zone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError("Unknown time zone; use an IANA name like Europe/Berlin.") from exc


class CompanySettingsSchema(Schema):
    name = String(validate=Length(min=1, max=120))
    time_zone = String(validate=_time_zone)
    week_start = Integer(
        validate=validate.Range(min=0, max=6), metadata={"description": "0 = Monday … 6 = Sunday"}
    )
    min_group_size = Integer(validate=validate.Range(min=1, max=1000))


class ApiTokenSchema(Schema):
    id = Integer(dump_only=True)
    name = String(required=True, validate=Length(min=1, max=80))
    owner_id = Integer(load_default=None, metadata={"description": "defaults to the caller"})
    prefix = String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    last_used_at = fields.DateTime(dump_only=True, allow_none=True)
    revoked_at = fields.DateTime(dump_only=True, allow_none=True)


class NewApiTokenSchema(ApiTokenSchema):
    token = String(
        dump_only=True, metadata={"description": "the secret; shown only in this answer"}
    )


class AuditEntrySchema(Schema):
    id = Integer()
    created_at = fields.DateTime()
    actor_id = Integer(allow_none=True)
    action = String()
    target_type = String(allow_none=True)
    target_id = Integer(allow_none=True)
    details = fields.Dict()
