"""Sharing: an employee posts a content item on a channel through a tracked link.

The share is checked on the server whatever the page did: the employee takes part, the
item is published, current and meant for them, the text passes the taboo guard, and the
share caps allow it. The caps are counted with the employee's row locked, so two fast
clicks cannot both slip under a cap of one.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from sqlalchemy import func, select

from app.db import lock_row
from app.errors import ChorusError, InvalidInput, NotFound
from app.extensions import after_commit, db
from app.links import share_intent_url, tracked_link
from app.models import (
    ClickKind,
    ClickRecord,
    ContentItem,
    Employee,
    EmployeeNetwork,
    Referral,
    ReferralOutcome,
    Share,
    ShareTemplate,
)
from app.services import (
    click_capture,
    content,
    events,
    feed,
    policy,
    rollups,
    taboo,
    webhook_endpoints,
)
from app.services.calendar import company_calendar
from scoring.keys import share_event_key
from scoring.sharing import CapRefusal, check_share_caps, in_own_words, with_disclosure
from scoring.vocabulary import Channel, EventKind, ReferralStage
from scoring.webhooks import Event

REF_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: codes get read aloud
REF_LENGTH = 10
MAX_TEXT_LENGTH = 3000


class ShareCapReached(ChorusError):
    """A share cap refuses the share; says which and when the next one is allowed."""

    def __init__(self, refusal: CapRefusal, zone: tzinfo):
        when = refusal.next_allowed_at
        if when is None:
            message = refusal.message + " Pick another item."
        else:  # in the company's wall-clock time, as people read it
            local = when.astimezone(zone).strftime("%A %d %B %Y, %H:%M")
            message = refusal.message + f" Your next share is possible from {local} ({zone})."
        super().__init__(message, field="channel")
        self.cap = refusal.cap
        self.next_allowed_at = when.astimezone(UTC) if when else None
        # Never again (the item's own cap) is a conflict; later is "too many for now".
        self.status = 429 if when else 409


@dataclass(frozen=True)
class SharePackage:
    """What the employee needs to post: the link, the text, the network's dialog."""

    share: Share
    link: str
    intent_url: str | None


def shareable_item(employee: Employee, content_id: int, now: datetime) -> ContentItem:
    item = db.session.scalar(
        select(ContentItem).where(ContentItem.id == content_id, *feed.meant_for(employee, now))
    )
    if item is None:
        raise NotFound(f"No content item with id {content_id} in your feed.", field="content_id")
    return item


def _template(item: ContentItem, channel: Channel, template_id: int | None) -> ShareTemplate | None:
    if template_id is None:
        return next((t for t in item.templates if t.channel == channel), None)
    template = next((t for t in item.templates if t.id == template_id), None)
    if template is None:
        raise InvalidInput("This item has no share text with that id.", field="template_id")
    if template.channel != channel:
        raise InvalidInput(
            f"That share text is meant for {template.channel.label}, not {channel.label}.",
            field="template_id",
        )
    return template


def check_taboo(text: str) -> None:
    hits = taboo.check_text(text)
    if hits:
        raise InvalidInput(
            "The text touches a topic that is off-limits: " + hits[0].explanation,
            errors={"text": [f"{hit.topic} (“{hit.matched}”): {hit.explanation}" for hit in hits]},
        )


def check_length(channel: Channel, final_text: str) -> None:
    """The network's own limit, counted as HR's share texts are counted."""
    limit = content.CHANNEL_TEXT_LIMITS.get(channel)
    if limit is None:
        return
    length = content.posted_length(channel, final_text)
    if length > limit:
        name = channel.label
        link = " and link" if channel in content.LINK_ALLOWANCE else ""
        raise InvalidInput(
            f"Your text is {length} characters with the disclosure, hashtag{link}; "
            f"{name} allows {limit}. Shorten it by {length - limit}.",
            field="text",
        )


def _lock(employee: Employee) -> None:
    """Serialise this employee's shares until the commit (on SQLite: every writer)."""
    lock_row(Employee, employee.id)
    # What others changed before the lock (an opt-out in another tab) counts.
    db.session.refresh(employee, ["opted_in_at", "active", "erased_at", "team_id"])


def new_ref_code() -> str:
    while True:
        code = "".join(secrets.choice(REF_ALPHABET) for _ in range(REF_LENGTH))
        if db.session.scalar(select(Share.id).where(Share.ref_code == code)) is None:
            return code


def create_share(
    employee: Employee,
    *,
    content_id: int,
    channel: Channel,
    text: str | None = None,
    template_id: int | None = None,
    now: datetime | None = None,
) -> Share:
    """Create the share and its SHARE event (flushed, not committed)."""
    now = now or datetime.now(UTC)
    feed.require_participating(employee)
    _lock(employee)
    feed.require_participating(employee)
    item = shareable_item(employee, content_id, now)
    template = _template(item, channel, template_id)
    suggested = template.text if template else item.title
    text = (text or "").strip() or suggested
    if len(text) > MAX_TEXT_LENGTH:
        raise InvalidInput(f"Keep the text under {MAX_TEXT_LENGTH} characters.", field="text")
    check_taboo(text)
    final_text = with_disclosure(text, policy.share_policy().disclosure, item.campaign_hashtag)
    check_length(channel, final_text)

    caps = policy.share_caps()
    zone, first_weekday = company_calendar()
    prior = feed.prior_shares(employee.id, caps, now, zone, first_weekday, content_id)
    refusal = check_share_caps(
        caps,
        prior,
        channel=channel,
        content_id=item.id,
        now=now,
        zone=zone,
        first_weekday=first_weekday,
    )
    if refusal is not None:
        raise ShareCapReached(refusal, zone)

    return record_share(
        employee,
        item,
        channel,
        final_text,
        now,
        policy.share_points_enabled(channel),
        own_words=in_own_words(suggested, text),
    )


def _declared_audience(employee_id: int, channel: Channel) -> int | None:
    """The audience the employee declares on the channel's network (None: e-mail, or
    not declared): what the share adds to potential reach."""
    return db.session.scalar(
        select(EmployeeNetwork.audience_size).where(
            EmployeeNetwork.employee_id == employee_id,
            EmployeeNetwork.network == channel.value,
        )
    )


def record_share(
    employee: Employee,
    item: ContentItem,
    channel: Channel,
    text: str,
    at: datetime,
    share_points: bool,
    own_words: bool = False,
) -> Share:
    """Store a share, with the team of the moment, and its SHARE event, and count it
    in the analytics rollups. The checks (participation, caps, taboo topics,
    disclosure) and whether the text is in the employee's own words are the caller's."""
    share = Share(
        employee_id=employee.id,
        content_id=item.id,
        channel=channel,
        text=text,
        ref_code=new_ref_code(),
        team_id=employee.team_id,
        created_at=at,
        own_words=own_words,
        audience=_declared_audience(employee.id, channel),
    )
    db.session.add(share)
    db.session.flush()
    events.record_event(
        EventKind.SHARE,
        share_event_key(share.id),
        employee_id=employee.id,
        occurred_at=at,
        team_id=share.team_id,
        share_id=share.id,
        content_id=item.id,
        channel=channel,
        details={"share_points": share_points},
    )
    rollups.count_share(share)
    webhook_endpoints.emit(
        Event.SHARE_CREATED,
        [
            (
                str(share.id),
                {
                    "share_id": share.id,
                    "employee_id": employee.id,
                    "team_id": share.team_id,
                    "content_id": item.id,
                    "network": channel.value,
                    "created_at": at.isoformat(),
                },
            )
        ],
    )
    return share


def warm_link(share: Share) -> None:
    """Once the request commits, put the destination where the redirect finds it.
    (Before it, a rolled-back id could be handed to another share with a stale
    destination.)"""
    medium = policy.share_policy().utm_medium
    destination = click_capture.final_destination(share, share.content, medium)
    share_id = share.id
    after_commit(lambda: click_capture.cache_destination(share_id, destination))


def package(share: Share) -> SharePackage:
    link = tracked_link(share.id)
    intent = share_intent_url(
        share.channel, link=link, text=share.text, subject=share.content.title
    )
    return SharePackage(share, link, intent)


# Reading shares --------------------------------------------------------------------


def own_share(employee: Employee, share_id: int) -> Share:
    """One of the employee's shares; someone else's is as unknown as a missing one."""
    share = db.session.get(Share, share_id)
    if share is None or share.employee_id != employee.id:
        raise NotFound(f"You have no share with id {share_id}.", field="share_id")
    return share


def my_shares_select(employee: Employee):
    return (
        select(Share)
        .where(Share.employee_id == employee.id)
        .order_by(Share.created_at.desc(), Share.id.desc())
    )


@dataclass(frozen=True)
class ShareStats:
    human: int = 0
    bot: int = 0
    self_clicks: int = 0
    referrals: dict[str, int] | None = None

    @property
    def filtered(self) -> int:
        return self.bot + self.self_clicks

    @property
    def referral_total(self) -> int:
        return sum((self.referrals or {}).values())


def share_stats(share_ids: list[int]) -> dict[int, ShareStats]:
    """Counted (human) and filtered (bot, self) clicks and awarded referral stages."""
    if not share_ids:
        return {}
    clicks_by: dict[int, dict[ClickKind, int]] = defaultdict(dict)
    for share_id, kind, number in db.session.execute(
        select(ClickRecord.share_id, ClickRecord.kind, func.count())
        .where(ClickRecord.share_id.in_(share_ids))
        .group_by(ClickRecord.share_id, ClickRecord.kind)
    ):
        clicks_by[share_id][kind] = number
    referrals_by: dict[int, dict[str, int]] = defaultdict(dict)
    for share_id, stage, number in db.session.execute(
        select(Referral.share_id, Referral.stage, func.count())
        .where(Referral.share_id.in_(share_ids), Referral.outcome == ReferralOutcome.AWARDED)
        .group_by(Referral.share_id, Referral.stage)
    ):
        referrals_by[share_id][ReferralStage(stage).value] = number
    return {
        share_id: ShareStats(
            human=clicks_by[share_id].get(ClickKind.HUMAN, 0),
            bot=clicks_by[share_id].get(ClickKind.BOT, 0),
            self_clicks=clicks_by[share_id].get(ClickKind.SELF, 0),
            referrals={
                stage.value: referrals_by[share_id].get(stage.value, 0) for stage in ReferralStage
            },
        )
        for share_id in share_ids
    }
