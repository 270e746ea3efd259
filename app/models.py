"""The database schema. Models hold data and tiny derived properties; logic lives in
``app/services`` and the pure packages ``scoring`` and ``rewards``."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    DateTime,
    Enum,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from app.extensions import db
from scoring.participation import Network, Presence, is_participating


def utcnow() -> datetime:
    return datetime.now(UTC)


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


class Team(db.Model):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    members: Mapped[list[Employee]] = relationship(back_populates="team")


employee_interests = Table(
    "employee_interests",
    db.metadata,
    Column("employee_id", ForeignKey("employees.id", ondelete="CASCADE"), primary_key=True),
    Column("interest_id", ForeignKey("interests.id", ondelete="CASCADE"), primary_key=True),
)


class Interest(db.Model):
    """A topic or persona HR curates ("Engineering", "Careers", "Sales"); employees pick
    theirs and content is targeted at them."""

    __tablename__ = "interests"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)


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

    # Participation: nothing about an employee is tracked before opted_in_at is set.
    opted_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    guidelines_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("guideline_versions.id", ondelete="SET NULL")
    )
    presence: Mapped[Presence] = mapped_column(_enum(Presence, "presence"), default=Presence.NAMED)
    pseudonym: Mapped[str | None] = mapped_column(String(40), unique=True)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

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
