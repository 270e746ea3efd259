"""Points: balances, the ledger, rules and their versions, referral bonuses,
adjustments and recalculations, for the API and the page forms.
"""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, pre_dump, validate, validates_schema

from app.models import LineKind, utcnow
from app.schemas.fields import AwareDateTime, Email, Integer, Length, NaiveDateTime, String
from scoring.engine import version_in_force
from scoring.vocabulary import Channel, EventKind, ReferralStage
from scoring.windows import Window

# Far below the board's encodable maximum (scoring.ranking.MAX_POINTS), so that no single
# rule or correction can push a board member out of the exact range.
MAX_RULE_POINTS = 100_000
MAX_VESTING_DAYS = 3650


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


class RuleVersionSchema(Schema):
    id = Integer()
    version = Integer()
    event_kind = fields.Enum(EventKind, by_value=True)
    points = Integer()
    channels = fields.List(String(), allow_none=True)
    tags = fields.List(String(), allow_none=True)
    team_ids = fields.List(Integer(), allow_none=True)
    campaign = String(allow_none=True)
    own_words = fields.Boolean(
        allow_none=True,
        metadata={"description": "true: only shares in the employee's own words; null: any"},
    )
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
    own_words = fields.Boolean(
        allow_none=True,
        metadata={
            "description": "true: only shares whose text the employee put in their own words "
            "(changed beyond the template), and clicks on them; null or false: any"
        },
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
