"""A bounded fuzz pass over the whole API, driven by its own OpenAPI document.

schemathesis generates requests for every operation from /api/openapi.json and sends them
to the app in this process (WSGI, no server). Two properties must hold for every answer:
no server error (5xx), and the body matches what the document says for that status. The
pass runs once as an admin (bearer token: every role check passes, so the bodies reach
the services) and once anonymously (the public routes, and every 401).

It is derandomised (the same examples on every run, so a failure reproduces) and small:
FUZZ_EXAMPLES examples per operation, a few seconds per operation at most. Run it alone with
``.venv/bin/pytest -q tests/web/test_openapi_fuzz.py``; set FUZZ_EXAMPLES for a longer pass.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from app.extensions import db
from app.models import Role
from tests import factories
from tests.web.api_support import _new_employee as new_employee
from tests.web.api_support import issue_token

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
CHECKS = [not_a_server_error, response_schema_conformance]

FUZZ_SETTINGS = settings(
    max_examples=FUZZ_EXAMPLES,
    derandomize=True,  # the same examples every run: a failure in CI reproduces locally
    database=None,  # nothing written to .hypothesis/
    deadline=None,  # the first request of an operation warms caches; time is not the test
    suppress_health_check=list(HealthCheck),  # few, slow examples on purpose
)


def seed_rows(app: Flask) -> dict[str, int]:
    """One row of each kind a path names, so that generated requests reach the services
    and not only their 404s: path ids are drawn from these half of the time."""
    with app.app_context():
        content = factories.ContentItemFactory()
        template = factories.ShareTemplateFactory(content_id=content.id)
        redemption = factories.RedemptionFactory()
        share = factories.ShareFactory(content=content)
        employee = factories.EmployeeFactory(opted_in=True)
        rule = factories.RuleVersionFactory().rule
        ids = {
            "content_id": content.id,
            "template_id": template.id,
            "redemption_id": redemption.id,
            "reward_id": redemption.reward_id,
            "share_id": share.id,
            "employee_id": employee.id,
            "rule_id": rule.id,
            "team_id": employee.team_id,
            "interest_id": factories.InterestFactory().id,
            "topic_id": factories.TabooTopicFactory().id,
            "programme_id": factories.ReferralProgrammeFactory().id,
            "integration_id": factories.IntegrationFactory().id,
            "feed_id": factories.InboundFeedFactory().id,
            "domain_id": factories.AllowedDomainFactory().id,
            "token_id": factories.ApiTokenFactory(owner=employee).id,
            "badge_id": factories.BadgeFactory().id,
            "link_id": factories.IntranetLinkFactory().id,
        }
        db.session.commit()
    return ids


def _calls(cases, headers: dict[str, str], seeded: dict[str, int]):
    @FUZZ_SETTINGS
    @given(case=cases, on_seeded_rows=st.booleans())
    def call(case, on_seeded_rows: bool) -> None:
        if on_seeded_rows and isinstance(case.path_parameters, dict):
            for name in case.path_parameters:
                case.path_parameters[name] = seeded.get(name, case.path_parameters[name])
        case.call_and_validate(headers=headers, checks=CHECKS)

    return call


def fuzz(app: Flask, headers_for) -> list[str]:
    """Every operation of the document, valid and invalid requests; the failures found.

    schemathesis' pytest plugin (one test per operation) does not run under pytest 9, so
    the operations are walked here, each with a hypothesis test of its own.
    """
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    seeded = seed_rows(app)  # once: an operation that deletes one makes later ones 404
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        headers = headers_for()
        cases = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )

        try:
            _calls(cases, headers, seeded)()
        except (Exception, BaseExceptionGroup) as exc:  # every operation's, not the first
            failures.append(f"{operation.label}: {exc}")
    return failures


def report(failures: list[str]) -> None:
    if failures:
        pytest.fail(f"{len(failures)} operations failed:\n\n" + "\n\n".join(failures))


def test_the_api_as_an_admin(app: Flask):
    """A fresh admin per operation: an earlier one may have revoked its token or erased
    itself, which is allowed."""

    def admin_headers() -> dict[str, str]:
        token = issue_token(app, new_employee(app, Role.ADMIN, {}))
        return {"Authorization": f"Bearer {token}"}

    report(fuzz(app, admin_headers))


def test_the_api_anonymously(app: Flask):
    report(fuzz(app, dict))
