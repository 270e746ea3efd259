"""The database schema. Models hold data and tiny derived properties; logic lives in
``app/services`` and the pure packages ``scoring`` and ``rewards``."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from sqlalchemy.types import TypeDecorator

from app.extensions import db
from app.sealed import Sealed
from rewards.funding import FundingState, PledgeState
from rewards.redemptions import Kind as RewardKind
from rewards.redemptions import State as RedemptionState
from scoring.analytics import Period
from scoring.badges import Level as BadgeLevel
from scoring.challenges import ChallengeState, Metric, Mode, ScopeKind
from scoring.chat import Provider as ChatProvider
from scoring.clicks import ClickKind
from scoring.delivery import State as DeliveryState
from scoring.names import name_key as fold_name
from scoring.notifications import Channel as NotificationChannel
from scoring.notifications import Digest
from scoring.notifications import Kind as NotificationKind
from scoring.participation import Network, Presence, is_participating
from scoring.referrals import ReferralOutcome
from scoring.vocabulary import Channel, EventKind, ReferralStage
from scoring.windows import Window


def utcnow() -> datetime:
    return datetime.now(UTC)


class UniqueName:
    """A name unique whatever its case. ``name_key`` holds the name's case fold
    (``app.services.names``) and carries the unique constraint, so the database refuses
    "STRASSE" beside "Straße" even when two requests pass the service's check at once."""

    @validates("name")
    def _set_name_key(self, _attribute: str, name: str) -> str:
        self.name_key = fold_name(name)
        return name


def new_login_nonce() -> str:
    return secrets.token_hex(16)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every database (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given; use an aware UTC datetime")
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def _enum(enum_cls: type[StrEnum], name: str) -> Enum:
    # Stored as plain strings with a CHECK constraint: portable and easy to migrate.
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda cls: [member.value for member in cls],
    )


class Role(StrEnum):
    """Roles in increasing power; each includes what the ones before it may do."""

    EMPLOYEE = "employee"
    TEAM_LEAD = "team_lead"
    HR = "hr"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def includes(self, other: Role) -> bool:
        return self.rank >= other.rank


class CompanySettings(db.Model):
    """The single row of company-wide settings."""

    __tablename__ = "company_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    time_zone: Mapped[str] = mapped_column(String(64), default="Europe/Berlin")
    # 0 = Monday … 6 = Sunday, as in datetime.weekday().
    week_start: Mapped[int] = mapped_column(Integer, default=0)
    # Team aggregates are shown only for groups at least this large.
    min_group_size: Mapped[int] = mapped_column(Integer, default=5)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint("week_start BETWEEN 0 AND 6", name="week_start_range"),
        CheckConstraint("min_group_size >= 1", name="min_group_size_positive"),
    )


class Team(UniqueName, db.Model):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    name_key: Mapped[str] = mapped_column(Text, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    members: Mapped[list[Employee]] = relationship(back_populates="team")


employee_interests = Table(
    "employee_interests",
    db.metadata,
    Column("employee_id", ForeignKey("employees.id", ondelete="CASCADE"), primary_key=True),
    Column("interest_id", ForeignKey("interests.id", ondelete="CASCADE"), primary_key=True),
)


class Interest(UniqueName, db.Model):
    """A topic or persona HR curates ("Engineering", "Careers", "Sales"); employees pick
    theirs and content is targeted at them."""

    __tablename__ = "interests"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    name_key: Mapped[str] = mapped_column(Text, unique=True)


class GuidelineVersion(db.Model):
    """Social-media guidelines. Each edit is a new version; opt-in records which one the
    employee accepted."""

    __tablename__ = "guideline_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    contact_name: Mapped[str] = mapped_column(String(120))
    contact_email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # use_alter: employees and guideline_versions refer to each other.
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL", use_alter=True)
    )


class Employee(UserMixin, db.Model):
    __tablename__ = "employees"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"), default=Role.EMPLOYEE)
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), index=True
    )
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Rotated on every sign-in: a sign-in link carries it, so each link works once.
    login_nonce: Mapped[str] = mapped_column(String(32), default=new_login_nonce)
    # Carried in sessions and remember cookies and raised at sign-out, so that copies of
    # them stop working on the server too (``app.auth``).
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    # Participation: nothing about an employee is tracked before opted_in_at is set.
    opted_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    guidelines_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("guideline_versions.id", ondelete="SET NULL")
    )
    presence: Mapped[Presence] = mapped_column(_enum(Presence, "presence"), default=Presence.NAMED)
    pseudonym: Mapped[str | None] = mapped_column(String(40))
    # Unique whatever its case, like the names of ``UniqueName``; NULLs do not collide.
    pseudonym_key: Mapped[str | None] = mapped_column(Text, unique=True)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The interests chosen (``scoring.analytics.interests_key``), kept with every change
    # of them by ``app.services.rollups``: the figures by interest count people by
    # their set of interests in one pass over the people taking part. Read by those
    # queries only, so not loaded with the person.
    interests_key: Mapped[str] = mapped_column(Text, server_default="", deferred=True)

    team: Mapped[Team | None] = relationship(back_populates="members")
    networks: Mapped[list[EmployeeNetwork]] = relationship(
        back_populates="employee", cascade="all, delete-orphan", order_by="EmployeeNetwork.network"
    )
    interests: Mapped[list[Interest]] = relationship(
        secondary=employee_interests, order_by="Interest.name"
    )
    accepted_guidelines: Mapped[GuidelineVersion | None] = relationship(
        foreign_keys=[guidelines_version_id]
    )

    @validates("pseudonym")
    def _set_pseudonym_key(self, _attribute: str, pseudonym: str | None) -> str | None:
        self.pseudonym_key = None if pseudonym is None else fold_name(pseudonym)
        return pseudonym

    def get_id(self) -> str:  # Flask-Login: what sessions and remember cookies hold
        return f"{self.id}:{self.session_epoch}"

    @property
    def is_active(self) -> bool:  # Flask-Login: deactivated or erased people cannot sign in
        return self.active and self.erased_at is None

    @property
    def participating(self) -> bool:
        return is_participating(self.opted_in_at, self.is_active)

    def has_role(self, role: Role) -> bool:
        return self.role.includes(role)


class EmployeeNetwork(db.Model):
    """A network the employee connected, with the audience they declare (optional)."""

    __tablename__ = "employee_networks"
    __table_args__ = (
        UniqueConstraint("employee_id", "network"),
        CheckConstraint("audience_size IS NULL OR audience_size >= 0", name="audience_size"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"))
    network: Mapped[Network] = mapped_column(_enum(Network, "network"))
    handle: Mapped[str | None] = mapped_column(String(120))
    audience_size: Mapped[int | None] = mapped_column(Integer)

    employee: Mapped[Employee] = relationship(back_populates="networks")


class ApiToken(db.Model):
    """A bearer token for integrations. Only a SHA-256 of the secret is stored; the
    token acts with its owner's role."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    owner_id: Mapped[int] = mapped_column(
        ForeignKey("employees.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    owner: Mapped[Employee] = relationship()


class AuditEntry(db.Model):
    """Append-only record of administrative and consent actions."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(String(60))
    target_type: Mapped[str | None] = mapped_column(String(40))
    target_id: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor: Mapped[Employee | None] = relationship()


# Sharing and tracking --------------------------------------------------------------


class ContentStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class SharePolicy(db.Model):
    """The single row of HR's sharing rules: disclosure, UTM medium and share caps.
    A cap of NULL is switched off."""

    __tablename__ = "share_policy"

    id: Mapped[int] = mapped_column(primary_key=True)
    disclosure: Mapped[str] = mapped_column(String(60), default="#employee")
    utm_medium: Mapped[str] = mapped_column(String(60), default="employee_advocacy")
    per_day: Mapped[int | None] = mapped_column(Integer, default=3)
    per_week: Mapped[int | None] = mapped_column(Integer, default=10)
    per_channel_per_day: Mapped[int | None] = mapped_column(Integer, default=2)
    per_content: Mapped[int | None] = mapped_column(Integer, default=2)
    min_spacing_minutes: Mapped[int | None] = mapped_column(Integer, default=30)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint(
            "coalesce(per_day, 1) >= 1 AND coalesce(per_week, 1) >= 1"
            " AND coalesce(per_channel_per_day, 1) >= 1 AND coalesce(per_content, 1) >= 1"
            " AND coalesce(min_spacing_minutes, 0) >= 0",
            name="caps_positive",
        ),
    )


class NetworkPolicy(db.Model):
    """Per channel: whether sharing there earns points (some networks' terms forbid
    rewarding posts; clicks and referrals still count)."""

    __tablename__ = "network_policies"

    channel: Mapped[Channel] = mapped_column(_enum(Channel, "channel"), primary_key=True)
    share_points: Mapped[bool] = mapped_column(default=True)
    note: Mapped[str | None] = mapped_column(String(300))
    # The assumptions of earned-media value, as ranges (``scoring.media_value``): cost
    # per thousand impressions and per click in cents, and the percentage of an
    # audience that sees a post. None: the defaults there.
    cpm_low_cents: Mapped[int | None] = mapped_column(Integer)
    cpm_high_cents: Mapped[int | None] = mapped_column(Integer)
    cpc_low_cents: Mapped[int | None] = mapped_column(Integer)
    cpc_high_cents: Mapped[int | None] = mapped_column(Integer)
    seen_low_percent: Mapped[int | None] = mapped_column(Integer)
    seen_high_percent: Mapped[int | None] = mapped_column(Integer)


class AllowedDomain(db.Model):
    """Destinations must be on one of these domains (or a subdomain of one)."""

    __tablename__ = "allowed_domains"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String(253), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


content_teams = Table(
    "content_teams",
    db.metadata,
    Column("content_id", ForeignKey("content_items.id", ondelete="CASCADE"), primary_key=True),
    Column("team_id", ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
)

content_interests = Table(
    "content_interests",
    db.metadata,
    Column("content_id", ForeignKey("content_items.id", ondelete="CASCADE"), primary_key=True),
    Column("interest_id", ForeignKey("interests.id", ondelete="CASCADE"), primary_key=True),
)


class ContentItem(db.Model):
    """Something employees can share. The destination is fixed here, on an allowed
    domain; nothing in a click can change it."""

    __tablename__ = "content_items"
    __table_args__ = (
        CheckConstraint("image_filename IS NULL OR image_rights_confirmed", name="image_rights"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    destination_url: Mapped[str] = mapped_column(String(2000))
    image_filename: Mapped[str | None] = mapped_column(String(80))
    image_credit: Mapped[str | None] = mapped_column(String(200))
    image_rights_confirmed: Mapped[bool] = mapped_column(default=False)
    campaign_hashtag: Mapped[str | None] = mapped_column(String(60))
    featured: Mapped[bool] = mapped_column(default=False)
    status: Mapped[ContentStatus] = mapped_column(
        _enum(ContentStatus, "content_status"), default=ContentStatus.DRAFT, index=True
    )
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    tags: Mapped[list[ContentTag]] = relationship(
        cascade="all, delete-orphan", order_by="ContentTag.tag"
    )
    templates: Mapped[list[ShareTemplate]] = relationship(
        cascade="all, delete-orphan", order_by="(ShareTemplate.channel, ShareTemplate.position)"
    )
    target_teams: Mapped[list[Team]] = relationship(secondary=content_teams, order_by="Team.name")
    target_interests: Mapped[list[Interest]] = relationship(
        secondary=content_interests, order_by="Interest.name"
    )

    @property
    def tag_names(self) -> list[str]:
        return [t.tag for t in self.tags]


class ContentTag(db.Model):
    __tablename__ = "content_tags"

    content_id: Mapped[int] = mapped_column(
        ForeignKey("content_items.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(60), primary_key=True, index=True)


class ShareTemplate(db.Model):
    """A ready share text for one channel; an item may have several per channel."""

    __tablename__ = "share_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    content_id: Mapped[int] = mapped_column(
        ForeignKey("content_items.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "channel"))
    text: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)


class TabooTopic(UniqueName, db.Model):
    """Something not to post about, with the words that give it away and why."""

    __tablename__ = "taboo_topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    name_key: Mapped[str] = mapped_column(Text, unique=True)
    explanation: Mapped[str] = mapped_column(Text)
    phrases: Mapped[list[str]] = mapped_column(JSON, default=list)
    patterns: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)


class InboundFeed(db.Model):
    """An RSS or Atom feed whose new entries become draft content for HR to review."""

    __tablename__ = "inbound_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    url: Mapped[str] = mapped_column(String(2000), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    etag: Mapped[str | None] = mapped_column(String(200))
    modified: Mapped[str | None] = mapped_column(String(100))


class FeedEntry(db.Model):
    """An entry seen in a feed, so that it is imported once."""

    __tablename__ = "feed_entries"
    __table_args__ = (UniqueConstraint("feed_id", "guid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("inbound_feeds.id", ondelete="CASCADE"))
    guid: Mapped[str] = mapped_column(String(500))
    content_id: Mapped[int | None] = mapped_column(
        ForeignKey("content_items.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Share(db.Model):
    """One share by an employee, the origin of a tracked link and a referral code."""

    __tablename__ = "shares"
    __table_args__ = (
        db.Index("ix_shares_employee_created", "employee_id", "created_at"),
        # Analytics read a period's shares (reach, the persona x tag matrix).
        db.Index("ix_shares_created_at", "created_at"),
        # A deleted share's id must never come back: its tracked links are out there.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"))
    content_id: Mapped[int] = mapped_column(
        ForeignKey("content_items.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "channel"))
    text: Mapped[str] = mapped_column(Text)
    # The employee put the text in their own words: it differs from the template beyond
    # small edits (``scoring.sharing``). A condition scoring rules can reward.
    own_words: Mapped[bool] = mapped_column(default=False, server_default=false())
    ref_code: Mapped[str] = mapped_column(String(16), unique=True)
    # The team at share time: points follow the team the employee was in then.
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The audience the employee declared on this network when sharing (None: not
    # declared, or e-mail): what potential reach adds up.
    audience: Mapped[int | None] = mapped_column(Integer)
    # Counted clicks on this share so far (people's clicks, once per visitor and day):
    # kept by the click worker with the rollups and rebuilt with them.
    counted_clicks: Mapped[int] = mapped_column(Integer, server_default="0")

    employee: Mapped[Employee] = relationship()
    content: Mapped[ContentItem] = relationship()


class ClickRecord(db.Model):
    """A click on a tracked link, at most one per link, visitor, day and kind. The
    visitor is an HMAC of address and user agent under a daily secret: no address is
    kept, and visitors cannot be followed from one day to the next."""

    __tablename__ = "click_records"
    __table_args__ = (UniqueConstraint("share_id", "visitor", "day", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    share_id: Mapped[int] = mapped_column(ForeignKey("shares.id", ondelete="CASCADE"))
    visitor: Mapped[str] = mapped_column(String(32))
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[ClickKind] = mapped_column(_enum(ClickKind, "click_kind"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Kept for bots only, so an auditor can see what was filtered out.
    user_agent: Mapped[str | None] = mapped_column(String(300))


class ReferralProgramme(UniqueName, db.Model):
    """Which content counts for referrals (items tagged ``content_tag``), which stages
    award, and how long after a click an application is attributed."""

    __tablename__ = "referral_programmes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    name_key: Mapped[str] = mapped_column(Text, unique=True)
    content_tag: Mapped[str] = mapped_column(String(60))
    stages: Mapped[list[str]] = mapped_column(JSON, default=lambda: list(ReferralStage))
    attribution_days: Mapped[int] = mapped_column(Integer, default=90)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (CheckConstraint("attribution_days >= 1", name="attribution_days"),)


class Integration(db.Model):
    """An applicant-tracking system that posts signed referral webhooks. The secret is
    shown once; it is kept, sealed (``app.sealed``), because verifying an HMAC needs it."""

    __tablename__ = "integrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique among active integrations only (checked by the service): a revoked one
    # keeps its name for the record while its replacement takes it.
    name: Mapped[str] = mapped_column(String(120))
    secret: Mapped[str] = mapped_column(Sealed)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Referral(db.Model):
    """A candidate reaching a stage, as the ATS (or HR by hand) reported it."""

    __tablename__ = "referrals"
    __table_args__ = (UniqueConstraint("candidate_hash", "stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_hash: Mapped[str] = mapped_column(String(64))
    stage: Mapped[ReferralStage] = mapped_column(_enum(ReferralStage, "referral_stage"))
    ref_code: Mapped[str] = mapped_column(String(64))
    share_id: Mapped[int | None] = mapped_column(ForeignKey("shares.id", ondelete="SET NULL"))
    programme_id: Mapped[int | None] = mapped_column(
        ForeignKey("referral_programmes.id", ondelete="SET NULL")
    )
    integration_id: Mapped[int | None] = mapped_column(
        ForeignKey("integrations.id", ondelete="SET NULL")
    )
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL")
    )
    outcome: Mapped[ReferralOutcome] = mapped_column(_enum(ReferralOutcome, "referral_outcome"))
    # Why nothing was awarded (unknown_code, outside_window, ...); NULL when awarded.
    reason: Mapped[str | None] = mapped_column(String(40))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    share: Mapped[Share | None] = relationship()


class Event(db.Model):
    """Something that may earn points, exactly once: the natural key is unique
    (share:<id>, click:<share>:<visitor>:<day>, referral:<candidate>:<stage>)."""

    __tablename__ = "events"
    __table_args__ = (
        db.Index("ix_events_employee_occurred", "employee_id", "occurred_at"),
        # Badges count one kind of a person's events since a date (app.services.badges).
        db.Index("ix_events_employee_kind_occurred", "employee_id", "kind", "occurred_at"),
        # The scoring queue, in the order events are scored. Partial, so that a scored
        # event leaves it rather than being indexed again under its new value.
        db.Index(
            "ix_events_unscored",
            "occurred_at",
            "id",
            postgresql_where=text("scored_at IS NULL"),
            sqlite_where=text("scored_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[EventKind] = mapped_column(_enum(EventKind, "event_kind"))
    natural_key: Mapped[str] = mapped_column(String(200), unique=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"))
    # The team when it happened: points go there, whatever the employee's team later.
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    share_id: Mapped[int | None] = mapped_column(ForeignKey("shares.id", ondelete="SET NULL"))
    content_id: Mapped[int | None] = mapped_column(
        ForeignKey("content_items.id", ondelete="SET NULL")
    )
    channel: Mapped[Channel | None] = mapped_column(_enum(Channel, "channel"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Set when the scoring pipeline has turned the event into ledger lines.
    scored_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# Points ----------------------------------------------------------------------------


class LineKind(StrEnum):
    AWARD = "award"  # a rule matched an event
    COMPENSATION = "compensation"  # a recalculation corrects earlier awards
    ADJUSTMENT = "adjustment"  # an admin's correction, with a reason
    PRIZE = "prize"  # a challenge's bonus points: never counts toward a challenge
    LESSON = "lesson"  # points for finishing a lesson, once per person and lesson


class ScoringRule(UniqueName, db.Model):
    """A rule's identity; what it awards lives in its versions."""

    __tablename__ = "scoring_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    name_key: Mapped[str] = mapped_column(Text, unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    versions: Mapped[list[RuleVersion]] = relationship(
        back_populates="rule", order_by="RuleVersion.version", cascade="all, delete-orphan"
    )


class RuleVersion(db.Model):
    """What a rule awards from ``valid_from`` on. An edit closes the current version at
    its effective time and opens the next; versions are never changed afterwards, so a
    ledger line always points at exactly what produced it. NULL conditions match all."""

    __tablename__ = "rule_versions"
    __table_args__ = (
        UniqueConstraint("rule_id", "version"),
        CheckConstraint("points >= 0", name="points_not_negative"),
        CheckConstraint("cap IS NULL OR cap >= 0", name="cap_not_negative"),
        CheckConstraint("vesting_days >= 0", name="vesting_days_not_negative"),
        CheckConstraint("valid_until IS NULL OR valid_until > valid_from", name="valid_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("scoring_rules.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    event_kind: Mapped[EventKind] = mapped_column(_enum(EventKind, "event_kind"))
    points: Mapped[int] = mapped_column(Integer)
    channels: Mapped[list[str] | None] = mapped_column(JSON)
    tags: Mapped[list[str] | None] = mapped_column(JSON)
    team_ids: Mapped[list[int] | None] = mapped_column(JSON)
    campaign: Mapped[str | None] = mapped_column(String(60))
    # True: only shares in the employee's own words (and their clicks) match.
    own_words: Mapped[bool | None] = mapped_column()
    cap: Mapped[int | None] = mapped_column(Integer)
    cap_window: Mapped[Window] = mapped_column(_enum(Window, "cap_window"), default=Window.ALL_TIME)
    vesting_days: Mapped[int] = mapped_column(Integer, default=0)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    rule: Mapped[ScoringRule] = relationship(back_populates="versions")


class LedgerLine(db.Model):
    """The truth about points: append-only. ``line_key`` makes every write idempotent
    (award:<event>:<rule>, recalc:<run>:<event>:<rule>, adjust:<id>); corrections are new
    lines, never edits. Balances and boards are projections of these rows."""

    __tablename__ = "ledger_lines"
    __table_args__ = (
        db.Index("ix_ledger_lines_employee_occurred", "employee_id", "occurred_at"),
        # Badges sum a person's points up to a time from the index alone (app.services.badges).
        db.Index(
            "ix_ledger_lines_employee_occurred_points", "employee_id", "occurred_at", "points"
        ),
        # Lines waiting for the boards, in id order; an applied line leaves the index.
        db.Index(
            "ix_ledger_lines_unapplied",
            "id",
            postgresql_where=text("NOT boards_applied"),
            sqlite_where=text("boards_applied = 0"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    line_key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[LineKind] = mapped_column(_enum(LineKind, "line_kind"))
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"))
    # The team when the event happened: boards credit it, whatever happens later.
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="SET NULL"), index=True
    )
    rule_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("rule_versions.id", ondelete="SET NULL")
    )
    points: Mapped[int] = mapped_column(Integer)
    capped: Mapped[bool] = mapped_column(default=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Referral points may vest after a holding period before they can be spent.
    vests_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(300))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    boards_applied: Mapped[bool] = mapped_column(default=False)

    rule_version: Mapped[RuleVersion | None] = relationship()


class CapUsage(db.Model):
    """Points one employee has earned from one rule in one cap window: updated in the
    same transaction as the ledger lines it counts."""

    __tablename__ = "cap_usage"

    employee_id: Mapped[int] = mapped_column(
        ForeignKey("employees.id", ondelete="CASCADE"), primary_key=True
    )
    rule_id: Mapped[int] = mapped_column(
        ForeignKey("scoring_rules.id", ondelete="CASCADE"), primary_key=True
    )
    window_key: Mapped[str] = mapped_column(String(20), primary_key=True)
    used: Mapped[int] = mapped_column(Integer, default=0)


# Rewards ---------------------------------------------------------------------------


class Reward(UniqueName, db.Model):
    """Something non-monetary employees can spend points on. Retired, never deleted:
    redemptions keep pointing at it."""

    __tablename__ = "rewards"
    __table_args__ = (
        CheckConstraint("cost >= 0", name="cost_not_negative"),
        CheckConstraint("stock IS NULL OR stock >= 0", name="stock_not_negative"),
        CheckConstraint(
            "per_person_limit IS NULL OR per_person_limit >= 1", name="per_person_limit_positive"
        ),
        CheckConstraint(
            "available_from IS NULL OR available_until IS NULL "
            "OR available_until >= available_from",
            name="reward_window_ordered",
        ),
        CheckConstraint(
            "kind != 'donation' OR charity_name IS NOT NULL", name="donation_names_charity"
        ),
        CheckConstraint(
            "image_filename IS NULL OR image_rights_confirmed", name="reward_image_rights"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    name_key: Mapped[str] = mapped_column(Text, unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    cost: Mapped[int] = mapped_column(Integer)
    kind: Mapped[RewardKind] = mapped_column(
        _enum(RewardKind, "reward_kind"),
        default=RewardKind.EXPERIENCE,
        server_default=RewardKind.EXPERIENCE.value,
    )
    # A donation goes to this charity in the employee's name.
    charity_name: Mapped[str | None] = mapped_column(String(120))
    # Days the reward can be redeemed, both included; NULL leaves that side open.
    available_from: Mapped[date | None] = mapped_column(Date)
    available_until: Mapped[date | None] = mapped_column(Date)
    # False: a redemption is approved at once, in the transaction that makes it.
    needs_approval: Mapped[bool] = mapped_column(default=True, server_default=true())
    # How the reward is treated for tax: HR's own note, never shown to employees.
    tax_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    image_filename: Mapped[str | None] = mapped_column(String(80))
    image_credit: Mapped[str | None] = mapped_column(String(200))
    image_rights_confirmed: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Units left (a redemption takes one, a refund gives it back); NULL: unlimited.
    stock: Mapped[int | None] = mapped_column(Integer)
    # Redemptions per person over all time, rejected and cancelled ones not counted.
    per_person_limit: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Redemption(db.Model):
    """An employee spending points on a reward. Its points hold the cost when it was
    made; while pending or approved they are held, once fulfilled spent, and rejected or
    cancelled they count no more. Spending never writes to the ledger, so it never
    touches lifetime points or the boards."""

    __tablename__ = "redemptions"
    __table_args__ = (
        # The client's idempotency key: the same request again finds this row.
        UniqueConstraint("employee_id", "idempotency_key"),
        CheckConstraint("points >= 0", name="points_not_negative"),
        db.Index("ix_redemptions_employee_state", "employee_id", "state"),
        db.Index("ix_redemptions_state_created", "state", "created_at"),
        # The decisions the mail job has yet to tell: small, since a row leaves it once
        # its employee is told.
        db.Index(
            "ix_redemptions_untold",
            "id",
            postgresql_where=text("notified_state IS NULL"),
            sqlite_where=text("notified_state IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"))
    reward_id: Mapped[int] = mapped_column(ForeignKey("rewards.id"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(100))
    points: Mapped[int] = mapped_column(Integer)
    state: Mapped[RedemptionState] = mapped_column(
        _enum(RedemptionState, "redemption_state"), default=RedemptionState.PENDING
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The last move after the request: who made it, when, and why (shown to the employee).
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL")
    )
    decision_note: Mapped[str | None] = mapped_column(String(300))
    # The state the employee knows of: the one they asked for or cancelled to, or the
    # decision last mailed to them. None: a decision waits to be told (the mail job
    # sweeps those up, and marks each told before its mail goes out).
    notified_state: Mapped[RedemptionState | None] = mapped_column(
        _enum(RedemptionState, "notified_state")
    )

    employee: Mapped[Employee] = relationship(foreign_keys=[employee_id])
    reward: Mapped[Reward] = relationship()
    decided_by: Mapped[Employee | None] = relationship(foreign_keys=[decided_by_id])


class TeamFunding(db.Model):
    """A team collecting its members' pledged points for a team reward. One open
    funding per reward and team; settled only when fully funded, refunded when the
    reward's window closes first."""

    __tablename__ = "team_fundings"
    __table_args__ = (
        db.Index(
            "uq_team_fundings_open",
            "reward_id",
            "team_id",
            unique=True,
            postgresql_where=text("state = 'open'"),
            sqlite_where=text("state = 'open'"),
        ),
        CheckConstraint("target > 0", name="funding_target_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reward_id: Mapped[int] = mapped_column(ForeignKey("rewards.id"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    # The reward's cost when the funding opened: a later price change does not move it.
    target: Mapped[int] = mapped_column(Integer)
    state: Mapped[FundingState] = mapped_column(
        _enum(FundingState, "funding_state"), default=FundingState.OPEN
    )
    opened_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    reward: Mapped[Reward] = relationship()
    team: Mapped[Team] = relationship()
    pledges: Mapped[list[Pledge]] = relationship(back_populates="funding", order_by="Pledge.id")


class Pledge(db.Model):
    """Points one member puts toward their team's funding: held like a pending
    redemption, spent when the funding is complete, refunded when it is not."""

    __tablename__ = "pledges"
    __table_args__ = (
        UniqueConstraint("employee_id", "idempotency_key"),
        CheckConstraint("points > 0", name="pledge_points_positive"),
        db.Index("ix_pledges_employee_state", "employee_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    funding_id: Mapped[int] = mapped_column(
        ForeignKey("team_fundings.id", ondelete="CASCADE"), index=True
    )
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"))
    idempotency_key: Mapped[str] = mapped_column(String(100))
    points: Mapped[int] = mapped_column(Integer)
    state: Mapped[PledgeState] = mapped_column(
        _enum(PledgeState, "pledge_state"), default=PledgeState.HELD
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    funding: Mapped[TeamFunding] = relationship(back_populates="pledges")
    employee: Mapped[Employee] = relationship()


# Challenges ------------------------------------------------------------------------

challenge_teams = Table(
    "challenge_teams",
    db.metadata,
    Column("challenge_id", ForeignKey("challenges.id", ondelete="CASCADE"), primary_key=True),
    Column("team_id", ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
)


class Challenge(db.Model):
    """A time-boxed contest (``scoring.challenges``): a team lead's for their own team,
    or HR's for the company, chosen teams, or team against team. Its state moves
    open -> frozen -> settled (or cancelled) by conditional UPDATE only."""

    __tablename__ = "challenges"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="challenge_ends_after_start"),
        CheckConstraint("freeze_hours >= 0", name="freeze_hours_not_negative"),
        CheckConstraint("lateness_hours >= 0", name="lateness_hours_not_negative"),
        CheckConstraint("minimum >= 0", name="minimum_not_negative"),
        CheckConstraint("target IS NULL OR target > 0", name="target_positive"),
        CheckConstraint("state != 'settled' OR digest IS NOT NULL", name="settled_has_digest"),
        db.Index("ix_challenges_state_ends", "state", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    organiser_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL")
    )
    scope: Mapped[ScopeKind] = mapped_column(_enum(ScopeKind, "challenge_scope"))
    mode: Mapped[Mode] = mapped_column(_enum(Mode, "challenge_mode"), default=Mode.INDIVIDUAL)
    metric: Mapped[Metric] = mapped_column(_enum(Metric, "challenge_metric"))
    # Filters: an empty list counts any content, tag or network.
    content_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    freeze_hours: Mapped[int] = mapped_column(Integer, default=0)
    lateness_hours: Mapped[int] = mapped_column(Integer, default=24)
    minimum: Mapped[int] = mapped_column(Integer, default=0)
    target: Mapped[int | None] = mapped_column(Integer)
    # [{"kind": "badge"|"points"|"reward", "value": int, "place": int|null}]
    prizes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    state: Mapped[ChallengeState] = mapped_column(
        _enum(ChallengeState, "challenge_state"), default=ChallengeState.OPEN
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Settlement: when, and the SHA-256 of the canonical standings it wrote.
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    digest: Mapped[str | None] = mapped_column(String(64))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL")
    )
    # When its start, "ends tomorrow" and its results were told (``app.services.
    # challenge_notices``): set with the telling, so each sweep skips what is done.
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ending_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    results_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organiser: Mapped[Employee | None] = relationship(foreign_keys=[organiser_id])
    teams: Mapped[list[Team]] = relationship(secondary=challenge_teams, order_by="Team.name")


class ChallengePlacing(db.Model):
    """A settled line of a challenge's standings: a person, or a team in team mode.
    Written once, under the primary key; the challenge's digest seals them."""

    __tablename__ = "challenge_placings"
    __table_args__ = (db.Index("ix_challenge_placings_rank", "challenge_id", "rank"),)

    challenge_id: Mapped[int] = mapped_column(
        ForeignKey("challenges.id", ondelete="CASCADE"), primary_key=True
    )
    entrant_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # employee or team
    rank: Mapped[int] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(Integer)
    # The exact score (points per active member in team mode) as a fraction.
    score_numerator: Mapped[int] = mapped_column(Integer)
    score_denominator: Mapped[int] = mapped_column(Integer, default=1)
    active_members: Mapped[int] = mapped_column(Integer, default=1)
    qualified: Mapped[bool] = mapped_column(default=False)


class ChallengeAward(db.Model):
    """One prize for one employee, written once under its award key
    (``scoring.keys``): settling twice, late or on two workers gives it once."""

    __tablename__ = "challenge_awards"

    id: Mapped[int] = mapped_column(primary_key=True)
    award_key: Mapped[str] = mapped_column(String(120), unique=True)
    challenge_id: Mapped[int] = mapped_column(
        ForeignKey("challenges.id", ondelete="CASCADE"), index=True
    )
    employee_id: Mapped[int] = mapped_column(
        ForeignKey("employees.id", ondelete="CASCADE"), index=True
    )
    prize_kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[int] = mapped_column(Integer)
    place: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChallengeDecline(db.Model):
    """An employee who chose not to take part in one challenge: left off its board,
    out of its team counts, and free to change their mind."""

    __tablename__ = "challenge_declines"

    challenge_id: Mapped[int] = mapped_column(
        ForeignKey("challenges.id", ondelete="CASCADE"), primary_key=True
    )
    employee_id: Mapped[int] = mapped_column(
        ForeignKey("employees.id", ondelete="CASCADE"), primary_key=True
    )
    declined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# Badges ----------------------------------------------------------------------------


class Badge(UniqueName, db.Model):
    """A badge as HR defines it: ``definition`` is the plain dict ``scoring.badges``
    parses. ``slug`` is its stable id: renaming or new thresholds never re-award."""

    __tablename__ = "badges"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    name_key: Mapped[str] = mapped_column(Text, unique=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class BadgeGrant(db.Model):
    """A badge level earned: unique per employee, badge, level and period, dated when the
    threshold was crossed. Never taken back. ``quiet``: backfill, announced to no one."""

    __tablename__ = "badge_grants"
    __table_args__ = (
        UniqueConstraint("badge_id", "employee_id", "level", "period"),
        db.Index("ix_badge_grants_employee_granted", "employee_id", "granted_at"),
        # What the evaluation after a scoring batch reads of the people it touched.
        db.Index("ix_badge_grants_employee_badge", "employee_id", "badge_id", "level", "period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    badge_id: Mapped[int] = mapped_column(ForeignKey("badges.id", ondelete="CASCADE"))
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"))
    level: Mapped[BadgeLevel] = mapped_column(_enum(BadgeLevel, "badge_level"))
    period: Mapped[str] = mapped_column(String(40))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    quiet: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    badge: Mapped[Badge] = relationship()


class BadgeTally(db.Model):
    """A person's running total of one thing the count badges measure: events recorded
    (``fact`` is the event kind), points gained (``points``: ledger lines that add
    points, reversals left out) and lessons finished (``lesson``). The database keeps
    them itself, by triggers on those tables (migration 0010), in the transaction that
    writes the row. So after a scoring batch the badges read a person's totals instead
    of counting their whole history, and a tally always equals the count over the rows
    (``badge_history.counted_tallies``). On SQLite the rows are stored in key order,
    without a rowid (migration 0011).

    ``next_level_at`` is the tally's gate (``scoring.badges.next_level_at``, migration
    0013): below it, no count badge measured by this tally alone has a level to give the
    person. The evaluation after a scoring batch writes it, under the ``gates_version``
    of the badges it was worked out from, and looks only at tallies that reached it or
    whose version is not the badges' current one (0: not worked out yet)."""

    __tablename__ = "badge_tallies"
    __table_args__ = {"sqlite_with_rowid": False}

    employee_id: Mapped[int] = mapped_column(
        ForeignKey("employees.id", ondelete="CASCADE"), primary_key=True
    )
    fact: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)
    next_level_at: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    gates_version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


# Lessons ---------------------------------------------------------------------------


class Lesson(db.Model):
    """A short lesson HR publishes: text, an image and a few quiz questions. Finishing
    it earns its points once (a ledger line of its own kind) and counts for badges."""

    __tablename__ = "lessons"
    __table_args__ = (
        CheckConstraint("points >= 0", name="lesson_points_not_negative"),
        CheckConstraint(
            "image_filename IS NULL OR image_rights_confirmed", name="lesson_image_rights"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    summary: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    image_filename: Mapped[str | None] = mapped_column(String(80))
    image_credit: Mapped[str | None] = mapped_column(String(200))
    image_rights_confirmed: Mapped[bool] = mapped_column(default=False)
    # [{"question": str, "choices": [str, ...], "answer": int}]
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    points: Mapped[int] = mapped_column(Integer, default=0)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retired: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class LessonCompletion(db.Model):
    """Someone finished a lesson (answered its quiz right): once per person and lesson."""

    __tablename__ = "lesson_completions"

    lesson_id: Mapped[int] = mapped_column(
        ForeignKey("lessons.id", ondelete="CASCADE"), primary_key=True
    )
    employee_id: Mapped[int] = mapped_column(
        ForeignKey("employees.id", ondelete="CASCADE"), primary_key=True
    )
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# Notifications ---------------------------------------------------------------------


class Notification(db.Model):
    """Something told to one person in their inbox: a badge earned, a decision on a
    redemption. Written in the transaction of what caused it,
    once per ``key`` (what it is about, as "badge_grant:12"), so a job that runs twice
    tells nobody twice. The words are kept as they were when it was written."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("employee_id", "key"),
        db.Index("ix_notifications_employee_id_id", "employee_id", "id"),
        # The unread count in every page's navigation reads only unread rows.
        db.Index(
            "ix_notifications_unread",
            "employee_id",
            postgresql_where=text("read_at IS NULL"),
            sqlite_where=text("read_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"))
    kind: Mapped[NotificationKind] = mapped_column(_enum(NotificationKind, "notification_kind"))
    key: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(String(500), default="")
    link: Mapped[str | None] = mapped_column(String(300))  # a path inside Chorus
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NotificationChoice(db.Model):
    """A person's own choice for one kind of notification on one channel; what they
    have not chosen follows ``scoring.notifications.DEFAULT_CHANNELS``."""

    __tablename__ = "notification_choices"

    employee_id: Mapped[int] = mapped_column(
        ForeignKey("employees.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[NotificationKind] = mapped_column(
        _enum(NotificationKind, "notification_kind"), primary_key=True
    )
    channel: Mapped[NotificationChannel] = mapped_column(
        _enum(NotificationChannel, "notification_channel"), primary_key=True
    )
    enabled: Mapped[bool] = mapped_column()


class NotificationSettings(db.Model):
    """How often and when mail may reach a person; no row means the defaults
    (``scoring.notifications.DEFAULT_PREFERENCES``), so that a gentler default reaches
    everyone who never chose."""

    __tablename__ = "notification_settings"
    __table_args__ = (
        CheckConstraint("digest_hour BETWEEN 0 AND 23", name="digest_hour_range"),
        CheckConstraint(
            "(quiet_from IS NULL OR quiet_from BETWEEN 0 AND 23)"
            " AND (quiet_until IS NULL OR quiet_until BETWEEN 0 AND 23)",
            name="quiet_hours_range",
        ),
        CheckConstraint("weekly_budget BETWEEN 0 AND 20", name="weekly_budget_range"),
    )

    employee_id: Mapped[int] = mapped_column(
        ForeignKey("employees.id", ondelete="CASCADE"), primary_key=True
    )
    digest: Mapped[Digest] = mapped_column(_enum(Digest, "digest"), default=Digest.WEEKLY)
    digest_hour: Mapped[int] = mapped_column(Integer, default=9)
    time_zone: Mapped[str | None] = mapped_column(String(64))  # None: the company's
    quiet_from: Mapped[int | None] = mapped_column(Integer, default=19)
    quiet_until: Mapped[int | None] = mapped_column(Integer, default=8)
    weekly_budget: Mapped[int] = mapped_column(Integer, default=3)
    slack_member_id: Mapped[str | None] = mapped_column(String(32))  # for chat mentions


class ChatDestination(db.Model):
    """A Slack or Teams channel an admin connected by its incoming-webhook address: the
    company's, or one team's. The address is a secret: kept sealed (``app.sealed``), and
    pages and the API show it only masked (``scoring.chat.masked``). A channel that
    answers it is gone (403, 404, 410) is disabled until an admin gives a new address or
    enables it again."""

    __tablename__ = "chat_destinations"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[ChatProvider] = mapped_column(_enum(ChatProvider, "chat_provider"))
    name: Mapped[str] = mapped_column(String(80))  # how admins know it, e.g. "#sales"
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), index=True
    )  # None: the company's channel
    url: Mapped[str] = mapped_column(Sealed)
    post_content: Mapped[bool] = mapped_column(default=True)
    # The game: challenges starting and settled, the week's top of its board.
    post_game: Mapped[bool] = mapped_column(default=True)
    # Posts mentioning people of its audience who asked for it (a badge, a result).
    post_mentions: Mapped[bool] = mapped_column(default=False, server_default=false())
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    team: Mapped[Team | None] = relationship()


class WebhookEndpoint(db.Model):
    """An address of another system (the intranet, BI, HR) that admins registered to
    receive events, signed per the Standard Webhooks specification
    (``scoring.webhooks``). The secret is shown once; it is kept, sealed (``app.sealed``),
    because signing needs it. After a rotation the previous secret signs too until
    ``previous_until``. An endpoint that answers it is gone (403, 404, 410) is disabled
    like a chat channel."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    url: Mapped[str] = mapped_column(String(500))
    # The event types it receives, separated by spaces (``scoring.webhooks.Event``).
    events: Mapped[str] = mapped_column(String(200))
    secret: Mapped[str] = mapped_column(Sealed)
    previous_secret: Mapped[str | None] = mapped_column(Sealed)
    previous_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def event_types(self) -> list[str]:
        return self.events.split()


# Whom a message goes to: a person (a mail), a chat channel (a post), both (a post in
# the channel mentioning the person), or a webhook endpoint alone.
ONE_RECIPIENT = (
    "(endpoint_id IS NULL AND (employee_id IS NOT NULL OR destination_id IS NOT NULL))"
    " OR (endpoint_id IS NOT NULL AND employee_id IS NULL AND destination_id IS NULL)"
)


class OutboxMessage(db.Model):
    """A mail, a chat post or a webhook delivery, written in the transaction of what caused it once
    per ``key`` and drained by the workers (``scoring.delivery`` has its life). The
    payload is JSON: what the message says, rendered when it is sent."""

    __tablename__ = "outbox"
    __table_args__ = (
        # What the workers look for: only messages waiting to go.
        db.Index(
            "ix_outbox_due",
            "next_attempt_at",
            postgresql_where=text("state = 'pending'"),
            sqlite_where=text("state = 'pending'"),
        ),
        # A person's messages: the budget's count, the digest's folded ones.
        db.Index("ix_outbox_employee_created", "employee_id", "created_at"),
        db.Index("ix_outbox_state_id", "state", "id"),
        db.Index("ix_outbox_destination_id", "destination_id"),
        db.Index("ix_outbox_endpoint_id", "endpoint_id"),
        CheckConstraint(ONE_RECIPIENT, name="one_recipient"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    # A mail to a person, a post to a chat channel (mentioning a person when both are
    # set) or a delivery to a webhook endpoint (``ONE_RECIPIENT``).
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"))
    destination_id: Mapped[int | None] = mapped_column(
        ForeignKey("chat_destinations.id", ondelete="CASCADE")
    )
    endpoint_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    kind: Mapped[NotificationKind] = mapped_column(_enum(NotificationKind, "outbox_kind"))
    payload: Mapped[str] = mapped_column(Text)
    state: Mapped[DeliveryState] = mapped_column(
        _enum(DeliveryState, "delivery_state"), default=DeliveryState.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(300))
    # The HTTP status of the last answer (chat, webhooks); None: none came, or a mail.
    last_status: Mapped[int | None] = mapped_column(Integer)


# Intranet feed and widget ----------------------------------------------------------


class IntranetLink(db.Model):
    """A secret address under which the intranet reads the content to share: an Atom
    feed and an embeddable widget, for the whole company (``team_id`` null) or one
    team. Only a SHA-256 of the secret is stored; revoking it answers 404 at once."""

    __tablename__ = "intranet_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    # A deleted team takes its links along: they must never widen to the company.
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), index=True
    )
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(8))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    team: Mapped[Team | None] = relationship()
    created_by: Mapped[Employee | None] = relationship()

    @property
    def team_name(self) -> str | None:
        return self.team.name if self.team else None

    @property
    def created_by_name(self) -> str | None:
        return self.created_by.name if self.created_by else None


# Analytics -------------------------------------------------------------------------
# Counters per company-local day, kept in the transactions that write the raw rows they
# count (``app.services.rollups``) and rebuilt from those rows at will. Teams are keyed
# as the raw row recorded them, 0 standing for no team (``scoring.analytics.NO_TEAM``);
# a deleted team's rows join those of no team, as its raw rows do. Derived rows: no
# foreign keys (the raw rows have theirs, and a check would cost every write) and no
# index beyond the key, which leads with the day, as the figures' periods do.


class RollupCounters:
    """The counters every rollup keeps (``scoring.analytics.COUNTERS``)."""

    shares: Mapped[int] = mapped_column(Integer, server_default="0")
    clicks: Mapped[int] = mapped_column(Integer, server_default="0")
    clicks_on_shares: Mapped[int] = mapped_column(Integer, server_default="0")
    applied: Mapped[int] = mapped_column(Integer, server_default="0")
    interviewed: Mapped[int] = mapped_column(Integer, server_default="0")
    hired: Mapped[int] = mapped_column(Integer, server_default="0")
    points: Mapped[int] = mapped_column(BigInteger, server_default="0")
    reach: Mapped[int] = mapped_column(BigInteger, server_default="0")


class RollupContentDaily(RollupCounters, db.Model):
    """What one content item did on one channel, per day and team (the sharer's team
    when the share was made): shares made that day, counted clicks received that day,
    counted clicks on that day's shares whenever they came, referral stages reached
    that day, and the points of the ledger lines of that day's events about the item."""

    __tablename__ = "rollup_content_daily"
    __table_args__ = {"sqlite_with_rowid": False}

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    content_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "channel"), primary_key=True)
    team_id: Mapped[int] = mapped_column(Integer, primary_key=True)


class RollupEmployeeDaily(RollupCounters, db.Model):
    """What one person did per day and team, counted as ``RollupContentDaily`` counts
    it; ``points`` holds every ledger line of theirs (adjustments, prizes and lessons
    too). An erased person's rows stay, under the anonymous id, like their ledger."""

    __tablename__ = "rollup_employee_daily"
    __table_args__ = {"sqlite_with_rowid": False}

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    employee_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(Integer, primary_key=True)


class RollupTeamDaily(RollupCounters, db.Model):
    """What one team (0: no team) did per day: ``RollupEmployeeDaily`` summed over its
    people, so that figures over months read a few rows a day."""

    __tablename__ = "rollup_team_daily"
    __table_args__ = {"sqlite_with_rowid": False}

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    team_id: Mapped[int] = mapped_column(Integer, primary_key=True)


class RollupContentPeriod(RollupCounters, db.Model):
    """``RollupContentDaily`` summed per week and month (company-local, weeks from the
    company's first weekday) and over teams: what a period's figures by item and
    network read. Kept by the same writers, rebuilt from the daily rows."""

    __tablename__ = "rollup_content_periods"
    __table_args__ = {"sqlite_with_rowid": False}

    period: Mapped[Period] = mapped_column(_enum(Period, "period"), primary_key=True)
    starts_on: Mapped[date] = mapped_column(Date, primary_key=True)
    content_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "channel"), primary_key=True)


class RollupEmployeePeriod(RollupCounters, db.Model):
    """``RollupEmployeeDaily`` summed per week and month: what a period's figures by
    person and interest, and its active advocates per team, read."""

    __tablename__ = "rollup_employee_periods"
    __table_args__ = {"sqlite_with_rowid": False}

    period: Mapped[Period] = mapped_column(_enum(Period, "period"), primary_key=True)
    starts_on: Mapped[date] = mapped_column(Date, primary_key=True)
    employee_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(Integer, primary_key=True)


class RollupPersonPeriod(RollupCounters, db.Model):
    """``RollupEmployeeDaily`` and ``RollupEmployeePeriod`` summed over teams: one row
    per person and day, week or month, what the top advocates read in the order of an
    index, and what ``RollupInterestPeriod`` is made from."""

    __tablename__ = "rollup_person_periods"
    __table_args__ = (
        db.Index("ix_rollup_person_periods_clicks", "period", "starts_on", "clicks", "shares"),
        {"sqlite_with_rowid": False},
    )

    period: Mapped[Period] = mapped_column(_enum(Period, "period"), primary_key=True)
    starts_on: Mapped[date] = mapped_column(Date, primary_key=True)
    employee_id: Mapped[int] = mapped_column(Integer, primary_key=True)


class RollupInterestPeriod(RollupCounters, db.Model):
    """Per day, week and month, ``RollupPersonPeriod`` summed over the people who have
    chosen each interest now, and ``active``: how many of them shared in the period.
    A person's new or dropped interest moves their rows in or out."""

    __tablename__ = "rollup_interest_periods"
    __table_args__ = {"sqlite_with_rowid": False}

    period: Mapped[Period] = mapped_column(_enum(Period, "period"), primary_key=True)
    starts_on: Mapped[date] = mapped_column(Date, primary_key=True)
    interest_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    active: Mapped[int] = mapped_column(Integer, server_default="0")


class TagCounters:
    """The counters the tag rollups keep (``scoring.analytics.TAG_COUNTERS``)."""

    shares: Mapped[int] = mapped_column(Integer, server_default="0")
    clicks_on_shares: Mapped[int] = mapped_column(Integer, server_default="0")


class RollupSharerTag(TagCounters, db.Model):
    """Per day, week and month, each person's shares of content with each tag (the tags an
    item has now) and the counted clicks those shares drew: a row says the person
    shared the tag in the period. What ``RollupInterestTag`` is made from."""

    __tablename__ = "rollup_sharer_tags"
    __table_args__ = {"sqlite_with_rowid": False}

    period: Mapped[Period] = mapped_column(_enum(Period, "period"), primary_key=True)
    starts_on: Mapped[date] = mapped_column(Date, primary_key=True)
    employee_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tag: Mapped[str] = mapped_column(String(60), primary_key=True)


class RollupInterestTag(TagCounters, db.Model):
    """Per day, week and month, interest x tag: ``RollupSharerTag`` summed over the people
    who have chosen each interest now, and how many of them shared the tag (what the
    matrix shows and withholds by). A person's new or dropped interest moves their
    rows in or out."""

    __tablename__ = "rollup_interest_tags"
    __table_args__ = {"sqlite_with_rowid": False}

    period: Mapped[Period] = mapped_column(_enum(Period, "period"), primary_key=True)
    starts_on: Mapped[date] = mapped_column(Date, primary_key=True)
    interest_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tag: Mapped[str] = mapped_column(String(60), primary_key=True)
    sharers: Mapped[int] = mapped_column(Integer, server_default="0")


class ParticipationSpell(db.Model):
    """A time someone took part (opted in, active, not erased), in one team: written as
    it starts and ends (``app.services.headcounts``), never rewritten, so headcounts of
    past periods do not drift. At most one open spell per person."""

    __tablename__ = "participation_spells"
    __table_args__ = (
        db.Index(
            "ix_participation_spells_open",
            "employee_id",
            unique=True,
            postgresql_where=text("ended_at IS NULL"),
            sqlite_where=text("ended_at IS NULL"),
        ),
        db.Index("ix_participation_spells_started_at", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Headcount(db.Model):
    """How many people took part at any time in a finished day, week or month (starting
    on ``starts_on``, company-local), per team (0: no team) and for the whole company
    (-1, ``scoring.analytics.WHOLE_COMPANY``, kept for every period even when 0): worked
    out from the spells once the period is over, and kept; ``active``: how many of them
    shared in it (from the rollups), kept with it."""

    __tablename__ = "headcounts"
    __table_args__ = {"sqlite_with_rowid": False}

    period: Mapped[Period] = mapped_column(_enum(Period, "period"), primary_key=True)
    starts_on: Mapped[date] = mapped_column(Date, primary_key=True)
    team_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    people: Mapped[int] = mapped_column(Integer)
    active: Mapped[int] = mapped_column(Integer, server_default="0")
