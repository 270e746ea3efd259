"""marshmallow schemas at the edge: what the API and the page forms accept and return.

Input schemas check shape and types and reject unknown fields; the services check what
needs the database (unique names, known ids, role rules). Page forms load through the
same schemas, so a field is validated the same way whichever door it comes in by.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import Schema, ValidationError, fields, pre_dump, validate, validates_schema
from werkzeug.datastructures import FileStorage

from app.errors import InvalidInput
from app.models import ContentStatus, LineKind, RedemptionState, Role, utcnow
from scoring.engine import version_in_force
from scoring.participation import Network, Presence, board_name
from scoring.vocabulary import Channel, EventKind, ReferralStage
from scoring.windows import Window

# Field types every schema uses ------------------------------------------------------
# Bounds at the edge, in one place: a value the database or the clock cannot hold is a 422
# naming its field, never a driver's overflow deep in a request.

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
    id = Integer(dump_only=True)
    name = String(required=True, validate=Length(min=1, max=120))
    member_count = fields.Function(lambda team: len(team.members), dump_only=True)


class InterestSchema(Schema):
    id = Integer(dump_only=True)
    name = String(required=True, validate=Length(min=1, max=80))


# Employees -------------------------------------------------------------------------


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


# Me: profile and participation -----------------------------------------------------


class NetworkSchema(Schema):
    network = fields.Enum(Network, by_value=True, required=True)
    handle = String(allow_none=True, load_default=None, validate=Length(max=120))
    audience_size = Integer(
        allow_none=True, load_default=None, validate=validate.Range(min=0, max=100_000_000)
    )


class NetworksSchema(Schema):
    networks = fields.List(fields.Nested(NetworkSchema), required=True)


class InterestIdsSchema(Schema):
    interest_ids = fields.List(Integer(), required=True)


class PresenceSchema(Schema):
    presence = fields.Enum(Presence, by_value=True, required=True)
    pseudonym = String(allow_none=True, load_default=None, validate=Length(max=40))


class OptInSchema(Schema):
    guidelines_version_id = Integer(required=True)


class EraseSchema(Schema):
    confirm_email = String(
        required=True, metadata={"description": "the account's e-mail, typed again"}
    )


class ProfileSchema(Schema):
    """The signed-in employee's own view of themselves."""

    id = Integer()
    email = String()
    name = String()
    role = fields.Enum(Role, by_value=True)
    team = fields.Nested(TeamRefSchema, allow_none=True)
    participating = fields.Boolean()
    opted_in_at = fields.DateTime(allow_none=True)
    guidelines_version_id = Integer(allow_none=True)
    presence = fields.Enum(Presence, by_value=True)
    pseudonym = String(allow_none=True)
    shown_on_boards_as = fields.Function(
        lambda e: board_name(e.presence, e.name, e.pseudonym) if e.participating else None
    )
    networks = fields.List(fields.Nested(NetworkSchema))
    interests = fields.List(fields.Nested(InterestSchema))


# Guidelines ------------------------------------------------------------------------


class GuidelinesSchema(Schema):
    id = Integer(dump_only=True)
    body = String(required=True, validate=Length(min=20, max=50_000))
    contact_name = String(required=True, validate=Length(min=1, max=120))
    contact_email = Email(required=True)
    created_at = fields.DateTime(dump_only=True)


# Company settings ------------------------------------------------------------------


class CompanySettingsSchema(Schema):
    name = String(validate=Length(min=1, max=120))
    time_zone = String(validate=_time_zone)
    week_start = Integer(
        validate=validate.Range(min=0, max=6), metadata={"description": "0 = Monday … 6 = Sunday"}
    )
    min_group_size = Integer(validate=validate.Range(min=1, max=1000))


# API tokens and audit --------------------------------------------------------------


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


# Referrals -------------------------------------------------------------------------

STAGE_NAMES = [stage.value for stage in ReferralStage]


class ReferralProgrammeSchema(Schema):
    id = Integer(dump_only=True)
    name = String(required=True, validate=Length(min=1, max=120))
    content_tag = String(
        required=True,
        validate=Length(min=1, max=60),
        metadata={"description": 'content carrying this tag counts, e.g. "job" for job ads'},
    )
    stages = fields.List(
        String(validate=validate.OneOf(STAGE_NAMES)),
        load_default=lambda: list(STAGE_NAMES),
        validate=Length(min=1),
        metadata={"description": "the stages that award points; default all"},
    )
    attribution_days = Integer(
        load_default=90,
        validate=validate.Range(min=1, max=3650),
        metadata={"description": "how long after the last click a stage is attributed"},
    )
    active = fields.Boolean(load_default=True)
    created_at = fields.DateTime(dump_only=True)


class ReferralProgrammeUpdateSchema(Schema):
    name = String(validate=Length(min=1, max=120))
    content_tag = String(validate=Length(min=1, max=60))
    stages = fields.List(String(validate=validate.OneOf(STAGE_NAMES)), validate=Length(min=1))
    attribution_days = Integer(validate=validate.Range(min=1, max=3650))
    active = fields.Boolean()


def webhook_url(integration) -> str:
    from app.urls import base_url

    return f"{base_url()}/api/v1/webhooks/ats/{integration.id}"


class IntegrationSchema(Schema):
    id = Integer(dump_only=True)
    name = String(required=True, validate=Length(min=1, max=120))
    secret_starts_with = fields.Function(lambda i: i.secret[:10], dump_only=True)
    webhook_url = fields.Function(webhook_url, dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    last_used_at = fields.DateTime(dump_only=True, allow_none=True)
    revoked_at = fields.DateTime(dump_only=True, allow_none=True)


class NewIntegrationSchema(IntegrationSchema):
    secret = String(
        dump_only=True, metadata={"description": "the signing secret; shown only in this answer"}
    )


class ReferralStageSchema(Schema):
    """A candidate reaching a stage, as HR records it by hand."""

    ref = String(
        required=True,
        validate=Length(min=1, max=64),
        metadata={"description": "the referral code the tracked link carried (?ref=)"},
    )
    candidate_id = String(
        required=True,
        validate=Length(min=1, max=200),
        metadata={"description": "the ATS's candidate id; stored only as a keyed hash"},
    )
    stage = fields.Enum(ReferralStage, by_value=True, required=True)
    occurred_at = AwareDateTime(
        load_default=None,
        metadata={"description": "ISO 8601 with a zone; default now; not in the future"},
    )


class WebhookDeliverySchema(ReferralStageSchema):
    """The ATS's delivery; fields Chorus does not know are ignored."""

    class Meta:
        unknown = "exclude"


class ReferralReceiptSchema(Schema):
    id = Integer()
    ref = String(attribute="ref_code")
    stage = fields.Enum(ReferralStage, by_value=True)
    outcome = String(
        metadata={"description": "awarded, backwards (nothing awarded) or unattributed"}
    )
    reason = String(
        allow_none=True,
        metadata={
            "description": "why nothing was awarded: unknown_code, no_programme, "
            "stage_not_awarded, outside_window, owner_not_participating, "
            "earlier_than_recorded"
        },
    )
    occurred_at = fields.DateTime()
    received_at = fields.DateTime()


def _referrer(referral) -> str | None:
    share = referral.share
    return share.employee.name if share is not None and share.employee.participating else None


class ReferralSchema(ReferralReceiptSchema):
    share_id = Integer(allow_none=True)
    programme_id = Integer(allow_none=True)
    integration_id = Integer(allow_none=True)
    recorded_by_id = Integer(allow_none=True)
    content_title = fields.Function(
        lambda r: r.share.content.title if r.share is not None else None
    )
    referrer = fields.Function(
        _referrer, metadata={"description": "who shared the link; only while they take part"}
    )


# Content hub, taboo topics, sharing policy and inbound feeds -----------------------


def _image_url(item) -> str | None:
    from flask import url_for

    if not item.image_filename:
        return None
    return url_for("content.media", filename=item.image_filename)


def _destination_problem(item) -> str | None:
    from app.services.content import allowed_domain_names, destination_problem

    return destination_problem(item.destination_url, allowed_domain_names())


class ShareTemplateSchema(Schema):
    id = Integer(dump_only=True)
    channel = fields.Enum(Channel, by_value=True, required=True)
    text = String(
        required=True,
        validate=Length(min=1, max=5000),
        metadata={"description": "checked by the taboo guard and the channel's length limit"},
    )
    position = Integer(dump_only=True)


class ShareTemplateUpdateSchema(Schema):
    channel = fields.Enum(Channel, by_value=True)
    text = String(validate=Length(min=1, max=5000))


class ContentInputSchema(Schema):
    """A new content item. The destination must be on the allow-list; share texts pass
    the taboo guard and the channel's length limit."""

    title = String(required=True, validate=Length(min=1, max=200))
    summary = String(load_default="", validate=Length(max=5000))
    destination_url = String(
        required=True,
        validate=Length(min=1, max=2000),
        metadata={"description": "http(s) on an allowed domain; fixed once published"},
    )
    image_credit = String(allow_none=True, load_default=None, validate=Length(max=200))
    image_rights_confirmed = fields.Boolean(load_default=False)
    campaign_hashtag = String(
        allow_none=True,
        load_default=None,
        validate=Length(max=60),
        metadata={"description": "one word starting with #"},
    )
    featured = fields.Boolean(load_default=False)
    valid_from = AwareDateTime(allow_none=True, load_default=None)
    valid_until = AwareDateTime(allow_none=True, load_default=None)
    tags = fields.List(
        String(validate=Length(max=60)),
        load_default=list,
        metadata={"description": "lowercased, trimmed and deduplicated"},
    )
    team_ids = fields.List(
        Integer(), load_default=list, metadata={"description": "empty: every team"}
    )
    interest_ids = fields.List(
        Integer(), load_default=list, metadata={"description": "empty: everyone"}
    )
    templates = fields.List(
        fields.Nested(ShareTemplateSchema),
        load_default=list,
        metadata={"description": "the share texts; replaces all of them"},
    )


class ContentUpdateSchema(Schema):
    title = String(validate=Length(min=1, max=200))
    summary = String(validate=Length(max=5000))
    destination_url = String(validate=Length(min=1, max=2000))
    image_credit = String(allow_none=True, validate=Length(max=200))
    image_rights_confirmed = fields.Boolean()
    campaign_hashtag = String(allow_none=True, validate=Length(max=60))
    featured = fields.Boolean()
    valid_from = AwareDateTime(allow_none=True)
    valid_until = AwareDateTime(allow_none=True)
    tags = fields.List(String(validate=Length(max=60)))
    team_ids = fields.List(Integer())
    interest_ids = fields.List(Integer())
    templates = fields.List(fields.Nested(ShareTemplateSchema))


class ContentItemSchema(Schema):
    id = Integer()
    title = String()
    summary = String()
    destination_url = String()
    destination_problem = fields.Function(
        _destination_problem,
        metadata={"description": "why the destination would not pass now (null: it does)"},
    )
    image_url = fields.Function(_image_url)
    image_credit = String(allow_none=True)
    image_rights_confirmed = fields.Boolean()
    campaign_hashtag = String(allow_none=True)
    featured = fields.Boolean()
    status = fields.Enum(ContentStatus, by_value=True)
    valid_from = fields.DateTime(allow_none=True)
    valid_until = fields.DateTime(allow_none=True)
    tags = fields.List(String(), attribute="tag_names")
    team_ids = fields.Function(lambda item: [t.id for t in item.target_teams])
    interest_ids = fields.Function(lambda item: [i.id for i in item.target_interests])
    templates = fields.List(fields.Nested(ShareTemplateSchema))
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    published_at = fields.DateTime(allow_none=True)


class ContentQuerySchema(Schema):
    status = fields.Enum(ContentStatus, by_value=True)
    q = String(validate=Length(max=120), metadata={"description": "title or summary"})
    tag = String(validate=Length(max=60))


class ImageFileField(fields.Field):
    """An uploaded file's bytes; the service checks type (by content) and size."""

    def _deserialize(self, value, attr, data, **kwargs) -> bytes:
        if not isinstance(value, FileStorage) or not value.filename:
            raise ValidationError("Upload an image file.")
        return value.read()


class ImageFileSchema(Schema):
    """multipart/form-data with the image in the field ``file``."""

    file = ImageFileField(
        required=True,
        metadata={"type": "string", "format": "binary", "description": "PNG, JPEG or WebP, 2 MB"},
    )


class AllowedDomainSchema(Schema):
    id = Integer(dump_only=True)
    domain = String(
        required=True,
        validate=Length(min=1, max=253),
        metadata={"description": "a host name such as example.com; subdomains are included"},
    )
    created_at = fields.DateTime(dump_only=True)


class TabooTopicSchema(Schema):
    id = Integer(dump_only=True)
    name = String(required=True, validate=Length(min=1, max=120))
    explanation = String(
        required=True,
        validate=Length(min=1, max=2000),
        metadata={"description": "shown to the employee whose text touches the topic"},
    )
    phrases = fields.List(
        String(validate=Length(max=200)),
        load_default=list,
        metadata={"description": "matched as whole words, ignoring case"},
    )
    patterns = fields.List(
        String(validate=Length(max=200)),
        load_default=list,
        metadata={"description": "regular expressions, ignoring case"},
    )
    active = fields.Boolean(load_default=True)


class TabooTopicUpdateSchema(Schema):
    name = String(validate=Length(min=1, max=120))
    explanation = String(validate=Length(min=1, max=2000))
    phrases = fields.List(String(validate=Length(max=200)))
    patterns = fields.List(String(validate=Length(max=200)))
    active = fields.Boolean()


class TabooCheckSchema(Schema):
    text = String(required=True, validate=Length(max=10_000))


class TabooHitSchema(Schema):
    topic = String()
    explanation = String()
    matched = String()


class TabooCheckResultSchema(Schema):
    ok = fields.Boolean()
    hits = fields.List(fields.Nested(TabooHitSchema))


def _cap(description: str, maximum: int = 10_000) -> fields.Integer:
    return Integer(
        allow_none=True,
        validate=validate.Range(min=1, max=maximum),
        metadata={"description": f"{description}; null switches it off"},
    )


class SharePolicySchema(Schema):
    """Disclosure, UTM medium and the share caps that protect employees' networks."""

    disclosure = String(
        validate=[
            Length(min=2, max=60),
            validate.Regexp(r"^#\w+$", error="One word starting with #, such as #employee."),
        ],
        metadata={"description": "added to every share text, e.g. #employee"},
    )
    utm_medium = String(
        validate=[
            Length(min=1, max=60),
            validate.Regexp(
                r"^[A-Za-z0-9._-]+$", error="Letters, digits, dots, dashes and underscores only."
            ),
        ]
    )
    per_day = _cap("shares per employee per day")
    per_week = _cap("shares per employee per week")
    per_channel_per_day = _cap("shares per employee per network per day")
    per_content = _cap("shares of one item per employee")
    min_spacing_minutes = _cap("minutes between two shares", maximum=10_080)
    updated_at = fields.DateTime(
        dump_only=True, allow_none=True, metadata={"description": "null until HR changes it"}
    )


class NetworkPolicySchema(Schema):
    channel = fields.Enum(Channel, by_value=True, dump_only=True)
    share_points = fields.Boolean(
        required=True, metadata={"description": "false: shares there earn no points"}
    )
    note = String(allow_none=True, load_default=None, validate=Length(max=300))


class InboundFeedSchema(Schema):
    id = Integer(dump_only=True)
    name = String(required=True, validate=Length(min=1, max=120))
    url = String(
        required=True,
        validate=Length(min=1, max=2000),
        metadata={"description": "http(s) address of an RSS or Atom feed"},
    )
    active = fields.Boolean(load_default=True)
    created_at = fields.DateTime(dump_only=True)
    last_fetched_at = fields.DateTime(dump_only=True, allow_none=True)
    last_error = String(dump_only=True, allow_none=True)
    last_error_at = fields.DateTime(dump_only=True, allow_none=True)


class InboundFeedUpdateSchema(Schema):
    name = String(validate=Length(min=1, max=120))
    url = String(validate=Length(min=1, max=2000))
    active = fields.Boolean()


class FetchRequestedSchema(Schema):
    queued = fields.Boolean(metadata={"description": "false: an import is queued already"})


# Feed and shares -------------------------------------------------------------------


def _feed_image_url(entry) -> str | None:
    from flask import current_app, url_for

    filename = entry["item"].image_filename
    if not filename or "content.media" not in current_app.view_functions:
        return None
    return url_for("content.media", filename=filename)


class FeedTemplateSchema(Schema):
    id = Integer()
    channel = fields.Enum(Channel, by_value=True)
    text = String()


class FeedItemSchema(Schema):
    """A content item as an employee sees it in their feed."""

    id = Integer(attribute="item.id")
    title = String(attribute="item.title")
    summary = String(attribute="item.summary")
    destination_url = String(attribute="item.destination_url")
    image_url = fields.Function(_feed_image_url, allow_none=True)
    image_credit = String(attribute="item.image_credit", allow_none=True)
    campaign_hashtag = String(attribute="item.campaign_hashtag", allow_none=True)
    featured = fields.Boolean(attribute="item.featured")
    tags = fields.List(String(), attribute="item.tag_names")
    valid_until = fields.DateTime(attribute="item.valid_until", allow_none=True)
    published_at = fields.DateTime(attribute="item.published_at", allow_none=True)
    templates = fields.List(fields.Nested(FeedTemplateSchema), attribute="item.templates")
    shared_on = fields.List(
        fields.Enum(Channel, by_value=True),
        metadata={"description": "the channels you shared this item on, oldest first"},
    )
    shares_left = Integer(
        allow_none=True,
        metadata={"description": "how often you may still share this item (null: no limit)"},
    )


class AllowanceSchema(Schema):
    """What the share caps leave you now; null where HR switched a cap off."""

    today_left = Integer(allow_none=True)
    week_left = Integer(allow_none=True)
    per_channel_left = fields.Dict(keys=String(), values=Integer(allow_none=True))
    next_allowed_at = fields.DateTime(
        allow_none=True, metadata={"description": "set when no share is possible right now"}
    )
    blocked_by = String(
        allow_none=True, metadata={"description": "the cap that blocks a share right now"}
    )


class ShareCreateSchema(Schema):
    content_id = Integer(required=True, strict=True)
    channel = fields.Enum(Channel, by_value=True, required=True)
    template_id = Integer(
        allow_none=True,
        load_default=None,
        strict=True,
        metadata={"description": "the item's share text to start from (default: the first)"},
    )
    text = String(
        allow_none=True,
        load_default=None,
        validate=Length(max=3000),
        metadata={
            "description": "your edited text; the disclosure and the campaign hashtag are "
            "added when missing"
        },
    )


class ShareFormSchema(ShareCreateSchema):
    """The share dialog's form: the item comes from the page's address."""

    class Meta:
        exclude = ("content_id",)

    template_id = Integer(allow_none=True, load_default=None)


class ClickCountsSchema(Schema):
    human = Integer(metadata={"description": "counted: one per visitor and day"})
    filtered = Integer(metadata={"description": "bots, link previews and your own"})
    bot = Integer()
    self_clicks = Integer(data_key="self")


class ShareSchema(Schema):
    id = Integer(attribute="share.id")
    content_id = Integer(attribute="share.content_id")
    content_title = String(attribute="share.content.title")
    channel = fields.Enum(Channel, by_value=True, attribute="share.channel")
    text = String(attribute="share.text")
    ref_code = String(attribute="share.ref_code")
    created_at = fields.DateTime(attribute="share.created_at")
    link = String(metadata={"description": "the tracked link to post"})
    intent_url = String(
        allow_none=True,
        metadata={"description": "the network's share dialog, prefilled; null for Instagram"},
    )
    clicks = fields.Nested(ClickCountsSchema)
    referrals = fields.Dict(
        keys=String(),
        values=Integer(),
        metadata={"description": "awarded referral stages reached through this share"},
    )


# Points, rules and leaderboards ----------------------------------------------------

BOARD_WINDOW_NAMES = ("week", "month", "all_time")
# Far below the board's encodable maximum (scoring.ranking.MAX_POINTS), so that no single
# rule or correction can push a board member out of the exact range.
MAX_RULE_POINTS = 100_000
MAX_VESTING_DAYS = 3650
# Far beyond any company's headcount, and exact in the board script's Lua numbers.
MAX_BOARD_OFFSET = 1_000_000


class BalanceSchema(Schema):
    lifetime = Integer(metadata={"description": "everything earned: what ranks use"})
    spendable = Integer(metadata={"description": "what rewards can be paid from"})
    vested = Integer(metadata={"description": "earned and past any holding period"})
    pending = Integer(metadata={"description": "earned, still in a holding period"})
    spent = Integer(metadata={"description": "paid for fulfilled rewards"})
    held = Integer(
        metadata={"description": "held by pending and approved redemptions until decided"}
    )


class LedgerLineSchema(Schema):
    """One line of the ledger: what was earned or corrected, and why."""

    id = Integer()
    employee_id = Integer()
    points = Integer()
    reason = String(metadata={"description": "why did I get this?"})
    kind = fields.Enum(
        LineKind,
        by_value=True,
        metadata={"description": "award (a rule matched), compensation or adjustment"},
    )
    capped = fields.Boolean(metadata={"description": "a rule's cap cut the points"})
    occurred_at = fields.DateTime()
    vests_at = fields.DateTime(
        allow_none=True, metadata={"description": "spendable from then; null: at once"}
    )
    rule_id = fields.Function(
        lambda line: line.rule_version.rule_id if line.rule_version else None, allow_none=True
    )
    rule_name = fields.Function(
        lambda line: line.rule_version.rule.name if line.rule_version else None, allow_none=True
    )
    rule_version = fields.Function(
        lambda line: line.rule_version.version if line.rule_version else None, allow_none=True
    )
    created_at = fields.DateTime()


class BoardQuerySchema(Schema):
    window = String(load_default="week", validate=validate.OneOf(BOARD_WINDOW_NAMES))
    period = String(
        load_default=None,
        validate=Length(min=1, max=20),
        metadata={
            "description": 'a finished window, e.g. "2026-10" (month) or "w2026-10-26" '
            "(the week starting that day); default the current one"
        },
    )
    offset = Integer(
        load_default=0,
        validate=validate.Range(min=0, max=MAX_BOARD_OFFSET),
        metadata={"description": "rows to skip from the top"},
    )
    limit = Integer(load_default=20, validate=validate.Range(min=1, max=100))
    around_me = fields.Boolean(
        load_default=False,
        metadata={"description": "the page around your own rank (ignores offset when on it)"},
    )


class BoardRowSchema(Schema):
    rank = Integer()
    name = String(metadata={"description": "the name or pseudonym each person chose"})
    points = Integer()
    is_me = fields.Boolean()


class BoardStandingSchema(Schema):
    rank = Integer(allow_none=True, metadata={"description": "null: not on this board"})
    points = Integer(metadata={"description": "your own, even when hidden"})
    on_board = fields.Boolean()


class BoardViewSchema(Schema):
    scope = String(metadata={"description": "company or team"})
    team = fields.Nested(TeamRefSchema, allow_none=True)
    window = String()
    period = String(metadata={"description": "the window's key"})
    starts_at = fields.DateTime(allow_none=True)
    ends_at = fields.DateTime(allow_none=True, metadata={"description": "exclusive"})
    size = Integer(metadata={"description": "people on the board"})
    offset = Integer()
    rows = fields.List(fields.Nested(BoardRowSchema))
    me = fields.Nested(BoardStandingSchema)

    @pre_dump
    def _from_view(self, view, **kwargs) -> dict:
        """A ``leaderboards.BoardView``, with the viewer's standing as one object."""
        if isinstance(view, dict):
            return view
        return {
            "scope": view.scope,
            "team": view.team,
            "window": view.window,
            "period": view.window_key,
            "starts_at": view.starts_at,
            "ends_at": view.ends_at,
            "size": view.size,
            "offset": view.offset,
            "rows": view.rows,
            "me": {"rank": view.my_rank, "points": view.my_points, "on_board": view.on_board},
        }


def board_view_json(view) -> dict:
    """What ``BoardViewSchema`` dumps, built directly: boards are read far more often
    than anything else, and marshmallow's per-field work would be most of a read's
    cost. The schema documents the shape; a test holds the two equal."""
    return {
        "scope": view.scope.value,
        "team": None if view.team is None else {"id": view.team.id, "name": view.team.name},
        "window": view.window.value,
        "period": view.window_key,
        "starts_at": None if view.starts_at is None else view.starts_at.isoformat(),
        "ends_at": None if view.ends_at is None else view.ends_at.isoformat(),
        "size": view.size,
        "offset": view.offset,
        "rows": [
            {"rank": r.rank, "name": r.name, "points": r.points, "is_me": r.is_me}
            for r in view.rows
        ],
        "me": {"rank": view.my_rank, "points": view.my_points, "on_board": view.on_board},
    }


class RuleVersionSchema(Schema):
    id = Integer()
    version = Integer()
    event_kind = fields.Enum(EventKind, by_value=True)
    points = Integer()
    channels = fields.List(String(), allow_none=True)
    tags = fields.List(String(), allow_none=True)
    team_ids = fields.List(Integer(), allow_none=True)
    campaign = String(allow_none=True)
    cap = Integer(allow_none=True)
    cap_window = fields.Enum(Window, by_value=True)
    vesting_days = Integer()
    valid_from = fields.DateTime()
    valid_until = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


class RuleSchema(Schema):
    id = Integer()
    name = String()
    description = String()
    created_at = fields.DateTime()
    event_kind = fields.Enum(EventKind, by_value=True, allow_none=True)
    current = fields.Nested(
        RuleVersionSchema, allow_none=True, metadata={"description": "in force now"}
    )
    retired = fields.Boolean(metadata={"description": "no version is open any more"})
    versions = fields.List(fields.Nested(RuleVersionSchema))

    @pre_dump
    def _with_current(self, rule, **kwargs) -> dict:
        if isinstance(rule, dict):
            return rule
        return {
            "id": rule.id,
            "name": rule.name,
            "description": rule.description,
            "created_at": rule.created_at,
            "event_kind": rule.versions[-1].event_kind if rule.versions else None,
            "current": version_in_force(rule.versions, utcnow()),
            "retired": all(v.valid_until is not None for v in rule.versions),
            "versions": rule.versions,
        }


class RuleTermsSchema(Schema):
    """What a rule version awards and when; a field left out keeps what the rule has (or
    the default for a new rule), ``null`` in a condition means "any"."""

    points = Integer(strict=True, validate=validate.Range(min=0, max=MAX_RULE_POINTS))
    channels = fields.List(
        fields.Enum(Channel, by_value=True),
        allow_none=True,
        validate=Length(min=1),
        metadata={"description": "only these networks; null: any"},
    )
    tags = fields.List(
        String(validate=Length(min=1, max=60)),
        allow_none=True,
        validate=Length(min=1),
        metadata={"description": "content with at least one of these tags; null: any"},
    )
    team_ids = fields.List(
        Integer(strict=True),
        allow_none=True,
        validate=Length(min=1),
        metadata={"description": "people in these teams when it happened; null: any"},
    )
    campaign = String(
        allow_none=True,
        validate=Length(min=1, max=60),
        metadata={"description": "content of this campaign hashtag; null: any"},
    )
    cap = Integer(
        strict=True,
        allow_none=True,
        validate=validate.Range(min=0),
        metadata={"description": "most points per person per cap_window; null: no cap"},
    )
    cap_window = fields.Enum(Window, by_value=True)
    vesting_days = Integer(
        strict=True,
        validate=validate.Range(min=0, max=MAX_VESTING_DAYS),
        metadata={"description": "days before the points can be spent"},
    )


RULE_TERMS = tuple(RuleTermsSchema._declared_fields)


class RuleCreateSchema(RuleTermsSchema):
    name = String(required=True, validate=Length(min=1, max=120))
    description = String(load_default="", validate=Length(max=2000))
    event_kind = fields.Enum(EventKind, by_value=True, required=True)
    points = Integer(
        required=True, strict=True, validate=validate.Range(min=0, max=MAX_RULE_POINTS)
    )
    effective_at = AwareDateTime(
        load_default=None, metadata={"description": "ISO 8601 with a zone; default now"}
    )


class RuleEditSchema(RuleTermsSchema):
    effective_at = AwareDateTime(
        load_default=None,
        metadata={
            "description": "when the new version starts (default now); in the past, "
            "events already scored need a recalculation"
        },
    )

    @validates_schema
    def _changes_something(self, data: dict, **kwargs) -> None:
        if not any(name in data for name in RULE_TERMS):
            raise ValidationError(f"Change at least one of: {', '.join(RULE_TERMS)}.")


class RuleRetireSchema(Schema):
    effective_at = AwareDateTime(
        load_default=None, metadata={"description": "when the rule stops; default now"}
    )


class RuleChangeSchema(Schema):
    """A rule after an edit or retirement, and whether scored events need replaying."""

    rule = fields.Nested(RuleSchema)
    version = fields.Nested(
        RuleVersionSchema,
        allow_none=True,
        metadata={"description": "the new version (after an edit) or the one closed"},
    )
    recalculation_needed = fields.Boolean(
        metadata={"description": "the change takes effect before now: recalculate since then"}
    )
    recalculate_since = fields.DateTime(allow_none=True)


class RulePreviewQuerySchema(RuleTermsSchema):
    since = AwareDateTime(load_default=None, metadata={"description": "default 7 days ago"})
    until = AwareDateTime(load_default=None, metadata={"description": "default now"})

    @validates_schema
    def _ordered(self, data: dict, **kwargs) -> None:
        if data.get("since") and data.get("until") and data["since"] >= data["until"]:
            raise ValidationError("since must be before until.", "until")


class PreviewSchema(Schema):
    since = fields.DateTime()
    until = fields.DateTime()
    events = Integer(metadata={"description": "events in the period"})
    current_points = Integer(metadata={"description": "what the rule gave"})
    proposed_points = Integer(metadata={"description": "what it would have given"})
    employees = Integer(metadata={"description": "people whose points would change"})


class ReferralBonusSchema(Schema):
    stage = fields.Enum(ReferralStage, by_value=True)
    points = Integer(allow_none=True, metadata={"description": "in force now"})
    vesting_days = Integer(allow_none=True)
    rule = fields.Nested(
        RuleSchema, allow_none=True, metadata={"description": "null: no rule awards this stage"}
    )


class ReferralBonusEditSchema(Schema):
    points = Integer(
        required=True, strict=True, validate=validate.Range(min=0, max=MAX_RULE_POINTS)
    )
    vesting_days = Integer(
        required=True, strict=True, validate=validate.Range(min=0, max=MAX_VESTING_DAYS)
    )
    effective_at = AwareDateTime(
        load_default=None, metadata={"description": "ISO 8601 with a zone; default now"}
    )


class AdjustmentSchema(Schema):
    points = Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=-MAX_RULE_POINTS, max=MAX_RULE_POINTS),
        metadata={"description": "added (or, negative, taken off); never below a total of 0"},
    )
    reason = String(
        required=True,
        validate=Length(min=1, max=300),
        metadata={"description": "the employee reads it in their ledger"},
    )
    adjustment_id = String(
        required=True,
        validate=Length(min=1, max=100),
        metadata={"description": "your idempotency key: sending it again changes nothing"},
    )


class RecalculateSchema(Schema):
    since = AwareDateTime(
        required=True,
        metadata={"description": "replay events from then under the rules as they stand"},
    )


class JobQueuedSchema(Schema):
    job_id = String()


# Points pages ----------------------------------------------------------------------
# The page forms post text: numbers are parsed (not strict) and times are the company's
# wall clock (no zone), read in the company's time zone by the page.


class RuleFormSchema(RuleTermsSchema):
    event_kind = fields.Enum(EventKind, by_value=True, required=True)
    points = Integer(required=True, validate=validate.Range(min=0, max=MAX_RULE_POINTS))
    team_ids = fields.List(Integer(), allow_none=True, validate=Length(min=1))
    cap = Integer(allow_none=True, validate=validate.Range(min=0, max=MAX_RULE_POINTS))
    cap_window = fields.Enum(Window, by_value=True, required=True)
    vesting_days = Integer(load_default=0, validate=validate.Range(min=0, max=MAX_VESTING_DAYS))
    effective_at = NaiveDateTime(load_default=None)


class NewRuleFormSchema(RuleFormSchema):
    name = String(required=True, validate=Length(min=1, max=120))
    description = String(load_default="", validate=Length(max=2000))


ReferralBonusFormSchema = Schema.from_dict(
    {
        f"{field}_{stage.value}": Integer(required=True, validate=validate.Range(0, top))
        for stage in ReferralStage
        for field, top in (("points", MAX_RULE_POINTS), ("vesting_days", MAX_VESTING_DAYS))
    },
    name="ReferralBonusFormSchema",
)


class AdjustmentFormSchema(AdjustmentSchema):
    email = Email(required=True, validate=Length(max=254))
    points = Integer(
        required=True, validate=validate.Range(min=-MAX_RULE_POINTS, max=MAX_RULE_POINTS)
    )


class RecalculationFormSchema(Schema):
    since = NaiveDateTime(required=True)
    request_id = String(
        required=True, validate=validate.Regexp(r"^[0-9a-f]{16,64}$", error="Reload the page.")
    )


class BoardPageSchema(BoardQuerySchema):
    scope = String(load_default="company", validate=validate.OneOf(("company", "team")))
    view = String(load_default=None, validate=validate.OneOf(("top", "around")))


# Rewards ---------------------------------------------------------------------------

MAX_REWARD_COST = 1_000_000


class RewardSchema(Schema):
    id = Integer(dump_only=True)
    name = String(required=True, validate=Length(min=1, max=120))
    description = String(load_default="", validate=Length(max=2000))
    cost = Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=0, max=MAX_REWARD_COST),
        metadata={"description": "points; redemptions made before a change keep their cost"},
    )
    stock = Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(min=0),
        metadata={"description": "units left; null: unlimited"},
    )
    per_person_limit = Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(min=1),
        metadata={"description": "redemptions per person, rejected and cancelled not counted"},
    )
    active = fields.Boolean(load_default=True, metadata={"description": "in the catalogue"})
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class RewardUpdateSchema(Schema):
    name = String(validate=Length(min=1, max=120))
    description = String(validate=Length(max=2000))
    cost = Integer(strict=True, validate=validate.Range(min=0, max=MAX_REWARD_COST))
    stock = Integer(allow_none=True, strict=True, validate=validate.Range(min=0))
    per_person_limit = Integer(allow_none=True, strict=True, validate=validate.Range(min=1))
    active = fields.Boolean()


class CatalogueRewardSchema(Schema):
    """A reward in the catalogue, with whether the caller may redeem it now."""

    id = Integer(attribute="reward.id")
    name = String(attribute="reward.name")
    description = String(attribute="reward.description")
    cost = Integer(attribute="reward.cost")
    stock = Integer(attribute="reward.stock", allow_none=True)
    per_person_limit = Integer(attribute="reward.per_person_limit", allow_none=True)
    redeemed_by_me = Integer(attribute="redeemed")
    available = fields.Boolean(attribute="check.allowed")
    unavailable_reason = String(
        attribute="check.refusal",
        allow_none=True,
        metadata={"description": "retired, stock, limit or balance; null when available"},
    )
    message = String(attribute="check.message", metadata={"description": "why not"})


class CatalogueSchema(Schema):
    spendable = Integer(metadata={"description": "what the caller can spend now"})
    rewards = fields.List(fields.Nested(CatalogueRewardSchema))


class RedeemSchema(Schema):
    reward_id = Integer(required=True, strict=True)
    idempotency_key = String(
        required=True,
        validate=Length(min=1, max=100),
        metadata={"description": "your key: the same again answers with the first redemption"},
    )


class RedemptionSchema(Schema):
    id = Integer()
    employee_id = Integer()
    employee_name = fields.Function(lambda r: r.employee.name)
    reward_id = Integer()
    reward_name = String(attribute="reward.name")
    points = Integer(metadata={"description": "the cost when it was redeemed"})
    state = fields.Enum(
        RedemptionState,
        by_value=True,
        metadata={"description": "pending, approved, fulfilled, rejected or cancelled"},
    )
    created_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)
    decision_note = String(allow_none=True, metadata={"description": "HR's words"})


class RedemptionQuerySchema(Schema):
    state = fields.Enum(RedemptionState, by_value=True, load_default=RedemptionState.PENDING)


class DecisionSchema(Schema):
    note = String(
        load_default=None,
        allow_none=True,
        validate=Length(max=300),
        metadata={"description": "for the employee, e.g. where to pick it up"},
    )


class RejectionSchema(Schema):
    reason = String(
        required=True,
        validate=Length(min=1, max=300),
        metadata={"description": "the employee reads it"},
    )


class RewardFormSchema(RewardSchema):
    """The page form: numbers arrive as text and an empty field means none."""

    cost = Integer(required=True, validate=validate.Range(min=0, max=MAX_REWARD_COST))
    stock = Integer(load_default=None, allow_none=True, validate=validate.Range(min=0))
    per_person_limit = Integer(load_default=None, allow_none=True, validate=validate.Range(min=1))
