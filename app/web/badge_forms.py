"""The badge editor's form and the words the badge pages use.

HR fills one form for every criteria kind; ``definition_from_form`` keeps only the
fields the chosen kind uses and turns them into the plain dict ``scoring.badges``
parses. Problems are named by the form's fields (``bronze``, not ``levels.bronze``;
``slug``, not ``id``), so each message sits next to its input.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from app.errors import InvalidInput, describe_invalid_fields
from app.schemas.fields import SQL_INTEGER_MAX
from scoring.badges import (
    GRADED_LEVELS,
    MAX_GRACE_WEEKS,
    MAX_SLUG,
    Badge,
    BadgeDefinitionError,
    CriterionKind,
    Level,
    Measure,
    Progress,
)

KIND_LABELS = {
    CriterionKind.COUNT: "A count, with levels",
    CriterionKind.FIRST: "A first",
    CriterionKind.STREAK: "A weekly streak",
    CriterionKind.PLACING: "Challenge placings",
}
KIND_HINTS = {
    CriterionKind.COUNT: "How many shares, clicks, referral stages, hires, lessons or points, "
    "with a threshold for bronze, silver and gold.",
    CriterionKind.FIRST: "The first of something: earned once.",
    CriterionKind.STREAK: "A share in so many weeks in a row of the company calendar.",
    CriterionKind.PLACING: "A place this good or better in settled challenges.",
}
# What a measure counts, in words: "7 of 10 shares".
MEASURE_UNITS = {
    Measure.SHARES: ("share", "shares"),
    Measure.CLICKS: ("counted click", "counted clicks"),
    Measure.REFERRAL_STAGES: ("referral stage", "referral stages"),
    Measure.HIRES: ("hire", "hires"),
    Measure.POINTS: ("point", "points"),
    Measure.LESSONS: ("lesson finished", "lessons finished"),
}
MEASURE_LABELS = {measure: plural.capitalize() for measure, (_, plural) in MEASURE_UNITS.items()}
LEVEL_LABELS = {
    Level.ONCE: "Earned",
    Level.BRONZE: "Bronze",
    Level.SILVER: "Silver",
    Level.GOLD: "Gold",
}

NUMBER_FIELDS = ("bronze", "silver", "gold", "grace_weeks", "top")
TEXT_FIELDS = ("slug", "name", "description", "kind", "measure", *NUMBER_FIELDS)
TICKED_FIELDS = ("per_challenge", "active")
# The definition's field names where the form calls them otherwise.
FORM_NAMES = {"id": "slug", **{f"levels.{level.value}": level.value for level in GRADED_LEVELS}}
LONGEST_NUMBER = 10  # digits: more cannot be a threshold anyone reaches


def entered(form: Mapping[str, str]) -> dict[str, Any]:
    """The form's values as typed, to check and to show again."""
    values: dict[str, Any] = {name: (form.get(name) or "").strip() for name in TEXT_FIELDS}
    values.update({name: form.get(name) == "on" for name in TICKED_FIELDS})
    return values


def blank_values() -> dict[str, Any]:
    """A new badge's form: a count of shares, active."""
    values: dict[str, Any] = dict.fromkeys(TEXT_FIELDS, "")
    values.update(kind=CriterionKind.COUNT.value, measure=Measure.SHARES.value, active=True)
    values["per_challenge"] = False
    return values


def values_of(definition: Mapping[str, Any], slug: str, active: bool) -> dict[str, Any]:
    """A stored definition in the shape the form posts it."""
    values = blank_values()
    values.update(
        slug=slug,
        name=definition.get("name", ""),
        description=definition.get("description", ""),
        kind=definition.get("kind", ""),
        measure=definition.get("measure", ""),
        per_challenge=bool(definition.get("per_challenge", False)),
        active=active,
    )
    for name in ("grace_weeks", "top"):
        if name in definition:
            values[name] = str(definition[name])
    for level, threshold in (definition.get("levels") or {}).items():
        values[level] = str(threshold)
    return values


def slug_from(name: str) -> str:
    """A slug made from a badge's name: "Först share!" -> "forst-share"."""
    folded = unicodedata.normalize("NFKD", name.replace("ß", "ss"))
    plain = folded.encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")
    return slug[:MAX_SLUG].rstrip("-")


def definition_from_form(values: Mapping[str, Any], slug: str | None = None) -> dict[str, Any]:
    """The definition dict for ``scoring.badges.parse_badge``: only the fields the kind
    uses. ``slug``: the stored one when editing (the form cannot change it); new badges
    take the form's, or one made from the name. Numbers that are not whole numbers
    raise ``InvalidInput`` naming their field; the rest is ``parse_badge``'s to judge."""
    errors: dict[str, list[str]] = {}
    if not (values.get("name") or "").strip():
        errors["name"] = ["Give the badge a name."]  # before the slug made from it
    if slug is None:
        slug = values.get("slug") or slug_from(values.get("name") or "")
        if not slug and (values.get("name") or "").strip():
            errors["slug"] = ["Give a slug: lowercase letters, digits and single dashes."]
    data: dict[str, Any] = {
        "id": slug,
        "name": values.get("name") or "",
        "description": values.get("description") or "",
        "kind": values.get("kind") or "",
    }
    kind = values.get("kind")
    if kind in (CriterionKind.COUNT, CriterionKind.FIRST):
        data["measure"] = values.get("measure") or ""
    if kind == CriterionKind.STREAK:
        weeks = _number(values, "grace_weeks", errors)
        data["grace_weeks"] = 0 if weeks is None else weeks
    if kind == CriterionKind.PLACING:
        top = _number(values, "top", errors)
        if top is not None:
            data["top"] = top
        data["per_challenge"] = bool(values.get("per_challenge"))
    graded = kind in (CriterionKind.COUNT, CriterionKind.STREAK) or (
        kind == CriterionKind.PLACING and not values.get("per_challenge")
    )
    if graded:
        levels = {}
        for level in GRADED_LEVELS:
            threshold = _number(values, level.value, errors)
            if threshold is not None:
                levels[level.value] = threshold
        data["levels"] = levels
    if errors:
        raise InvalidInput(describe_invalid_fields(errors), errors=errors)
    return data


def _number(values: Mapping[str, Any], name: str, errors: dict[str, list[str]]) -> int | None:
    text = str(values.get(name) or "").strip()
    if not text:
        return None
    if not text.isdigit() or not text.isascii():
        errors[name] = ["Give a whole number, like 10."]
        return None
    if len(text) > LONGEST_NUMBER or int(text) > SQL_INTEGER_MAX:
        errors[name] = [f"Give a number of at most {SQL_INTEGER_MAX}."]
        return None
    return int(text)


def form_errors(errors: Mapping[str, Any] | None) -> dict[str, Any]:
    """A definition's problems under the form's field names."""
    found: dict[str, Any] = {}
    for name, messages in (errors or {}).items():
        name = str(name).removeprefix("definition.")
        if name == "levels" and isinstance(messages, Mapping):
            # The schema's {"levels": {"silver": {"value": [...]}}}: each under its input.
            found.update({str(level): inner for level, inner in messages.items()})
            continue
        found[FORM_NAMES.get(name, name)] = messages
    return found


def invalid_definition(exc: BadgeDefinitionError) -> InvalidInput:
    """``parse_badge``'s refusal as a page form's error."""
    field = FORM_NAMES.get(exc.field, exc.field)
    message = exc.message[:1].upper() + exc.message[1:]
    if not message.endswith("."):
        message += "."
    return InvalidInput(describe_invalid_fields({field: [message]}), errors={field: [message]})


# Words --------------------------------------------------------------------------


def unit(badge: Badge, count: int) -> str:
    """What the badge counts, for ``count`` of it: "shares", "weeks", "top-3 places"."""
    if badge.kind is CriterionKind.STREAK:
        return "week" if count == 1 else "weeks"
    if badge.kind is CriterionKind.PLACING:
        return f"top-{badge.top} place" + ("" if count == 1 else "s")
    singular, plural = MEASURE_UNITS[badge.measure] if badge.measure else ("time", "times")
    return singular if count == 1 else plural


def progress_words(badge: Badge, progress: Progress) -> str:
    """ "7 of 10 shares", or what is held once every level is."""
    if progress.threshold is None:
        return "Every level earned"
    current = max(progress.current, 0)
    return f"{current} of {progress.threshold} {unit(badge, progress.threshold)}"


def grace_choices() -> range:
    return range(MAX_GRACE_WEEKS + 1)
