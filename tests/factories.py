"""factory-boy factories, one per model, committing through the app's session."""

from __future__ import annotations

import factory
from factory.alchemy import SQLAlchemyModelFactory

from app.extensions import db
from app.models import (
    ApiToken,
    AuditEntry,
    CompanySettings,
    Employee,
    EmployeeNetwork,
    GuidelineVersion,
    Interest,
    Role,
    Team,
    utcnow,
)
from scoring.participation import Network, Presence


class BaseFactory(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"


class CompanySettingsFactory(BaseFactory):
    class Meta:
        model = CompanySettings

    name = "Example AG"
    time_zone = "Europe/Berlin"
    week_start = 0
    min_group_size = 5


class TeamFactory(BaseFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")


class InterestFactory(BaseFactory):
    class Meta:
        model = Interest

    name = factory.Sequence(lambda n: f"Interest {n}")


class EmployeeFactory(BaseFactory):
    class Meta:
        model = Employee

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    name = factory.Faker("name")
    role = Role.EMPLOYEE
    team = factory.SubFactory(TeamFactory)
    presence = Presence.NAMED
    active = True

    class Params:
        opted_in = factory.Trait(opted_in_at=factory.LazyFunction(utcnow))


class GuidelineVersionFactory(BaseFactory):
    class Meta:
        model = GuidelineVersion

    body = "Sharing is voluntary. Speak as yourself and keep secrets secret."
    contact_name = "Sabine Meyer"
    contact_email = "sabine.meyer@example.com"


class EmployeeNetworkFactory(BaseFactory):
    class Meta:
        model = EmployeeNetwork

    employee = factory.SubFactory(EmployeeFactory)
    network = Network.LINKEDIN
    handle = None
    audience_size = 300


class ApiTokenFactory(BaseFactory):
    class Meta:
        model = ApiToken

    name = factory.Sequence(lambda n: f"Integration {n}")
    token_hash = factory.Sequence(lambda n: f"{n:064x}")
    prefix = "chorus_xxxxx"
    owner = factory.SubFactory(EmployeeFactory, role=Role.ADMIN)


class AuditEntryFactory(BaseFactory):
    class Meta:
        model = AuditEntry

    action = "employee.update"
    actor = factory.SubFactory(EmployeeFactory, role=Role.HR)
    target_type = "employees"
    target_id = 1
    details = factory.LazyFunction(dict)
