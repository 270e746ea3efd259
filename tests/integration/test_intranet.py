"""Intranet links: what each shows (the feed's targeting without a person), the secret
kept only as a hash, revocation at once, and when a link was last read."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.errors import InvalidInput
from app.extensions import db, get_redis
from app.models import AuditEntry, IntranetLink, Role, utcnow
from app.services import intranet
from tests.conftest import sql_statements
from tests.factories import (
    ContentItemFactory,
    EmployeeFactory,
    InterestFactory,
    TeamFactory,
)


@pytest.fixture
def catalogue(ctx):
    """One item of every kind of targeting and state, published an hour apart."""
    now = utcnow()
    sales, berlin = TeamFactory(name="Sales"), TeamFactory(name="Berlin")
    careers = InterestFactory(name="Careers")
    # Someone in Sales who chose Careers: their feed has the interest's item, a link's not.
    EmployeeFactory(team=sales, interests=[careers], opted_in=True)

    def item(title: str, hours_ago: int, **attributes):
        return ContentItemFactory(
            title=title, published_at=now - timedelta(hours=hours_ago), **attributes
        )

    return {
        "sales": sales,
        "berlin": berlin,
        "everyone": item("For everyone", 1),
        "for sales": item("For Sales", 2, target_teams=[sales]),
        "for berlin": item("For Berlin", 3, target_teams=[berlin]),
        "interest only": item("For Careers fans", 4, target_interests=[careers]),
        "sales and interest": item(
            "Sales or Careers", 5, target_teams=[sales], target_interests=[careers]
        ),
        "draft": item("A draft", 0, draft=True),
        "expired": item("Expired", 0, valid_until=now - timedelta(minutes=1)),
        "not yet": item("Not yet", 0, valid_from=now + timedelta(hours=1)),
        "old everyone": item("Older for everyone", 9),
    }


def _titles(link) -> list[str]:
    return [item.title for item in intranet.items_for(link, utcnow())]


def test_a_company_link_shows_what_is_aimed_at_everyone_newest_first(catalogue):
    hr = EmployeeFactory(role=Role.HR)
    link, _ = intranet.create_link(hr, None)
    assert _titles(link) == ["For everyone", "Older for everyone"]


def test_a_team_link_adds_what_is_aimed_at_the_team_and_never_interests_alone(catalogue):
    hr = EmployeeFactory(role=Role.HR)
    link, _ = intranet.create_link(hr, catalogue["sales"].id)
    assert _titles(link) == [
        "For everyone",
        "For Sales",
        "Sales or Careers",  # aimed at the team (and an interest): the team sees it
        "Older for everyone",
    ]
    other, _ = intranet.create_link(hr, catalogue["berlin"].id)
    assert _titles(other) == ["For everyone", "For Berlin", "Older for everyone"]


def test_the_list_is_limited(ctx):
    for n in range(5):
        ContentItemFactory(title=f"Story {n}", published_at=utcnow() - timedelta(minutes=n))
    link, _ = intranet.create_link(EmployeeFactory(role=Role.HR), None)
    shown = intranet.items_for(link, utcnow(), limit=3)
    assert [item.title for item in shown] == ["Story 0", "Story 1", "Story 2"]


def test_only_a_hash_of_the_secret_is_kept_and_it_opens_the_link(ctx):
    hr = EmployeeFactory(role=Role.HR)
    team = TeamFactory(name="Sales")
    link, secret = intranet.create_link(hr, team.id)
    db.session.commit()
    assert intranet.SECRET_PATTERN.fullmatch(secret)
    stored = db.session.scalar(select(IntranetLink))
    assert stored.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert stored.prefix == secret[: intranet.PREFIX_LENGTH]
    assert (stored.team_id, stored.created_by_id, stored.revoked_at) == (team.id, hr.id, None)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "intranet_link.create"))
    assert (entry.actor_id, entry.target_type, entry.target_id) == (
        hr.id,
        "intranet_links",
        link.id,
    )
    assert entry.details == {"team_id": team.id, "team": "Sales"}
    assert secret not in str(entry.details)
    assert intranet.find_link(secret) is link
    _, another = intranet.create_link(hr, None)
    assert another != secret


@pytest.mark.parametrize(
    "secret",
    ["", "x" * 43, "short", "x" * 44, "../../etc/passwd" + "x" * 27, "é" * 43],
    ids=["empty", "unknown", "short", "long", "path", "not-ascii"],
)
def test_a_secret_that_is_not_a_link_opens_nothing(ctx, secret):
    intranet.create_link(EmployeeFactory(role=Role.HR), None)
    db.session.commit()
    assert intranet.find_link(secret) is None


def test_a_malformed_secret_is_refused_without_a_query(app, ctx):
    with sql_statements(app) as statements:
        assert intranet.find_link("not a secret") is None
    assert statements == []


def test_a_revoked_link_opens_nothing_at_once_and_revoking_twice_changes_nothing(ctx):
    hr = EmployeeFactory(role=Role.HR)
    link, secret = intranet.create_link(hr, None)
    db.session.commit()
    intranet.revoke_link(hr, link)
    db.session.commit()
    assert link.revoked_at is not None
    assert intranet.find_link(secret) is None
    revoked_at = link.revoked_at
    intranet.revoke_link(hr, link)
    db.session.commit()
    assert link.revoked_at == revoked_at
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["intranet_link.create", "intranet_link.revoke"]


def test_a_deleted_teams_link_opens_nothing(ctx):
    from app.services import people

    hr = EmployeeFactory(role=Role.HR)
    team = TeamFactory()
    _, secret = intranet.create_link(hr, team.id)
    db.session.commit()
    people.delete_team(hr, team)
    db.session.commit()
    assert intranet.find_link(secret) is None  # never the company's list instead


def test_an_unknown_team_is_refused_and_nothing_is_written(ctx):
    hr = EmployeeFactory(role=Role.HR)
    with pytest.raises(InvalidInput) as refused:
        intranet.create_link(hr, 987654)
    assert refused.value.errors == {"team_id": ["No team with id 987654."]}
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(IntranetLink)) == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_the_last_read_is_kept_in_redis_per_link(ctx):
    hr = EmployeeFactory(role=Role.HR)
    first, _ = intranet.create_link(hr, None)
    second, _ = intranet.create_link(hr, None)
    assert intranet.last_read([first.id, second.id]) == {}
    moment = utcnow().replace(microsecond=0)
    intranet.note_read(first, moment)
    assert intranet.last_read([first.id, second.id]) == {first.id: moment}
    assert intranet.last_read([]) == {}
    get_redis().flushdb()  # lost with Redis: only "not known" then
    assert intranet.last_read([first.id]) == {}
