"""Taking part: guidelines, opt-in/out, the profile, export and erasure."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.errors import Conflict, InvalidInput
from app.extensions import db
from app.models import ApiToken, AuditEntry, EmployeeNetwork, Role, employee_interests
from app.services import participation, people
from app.services.sign_in import check_sign_in_token, make_sign_in_token
from app.services.tokens import authenticate, create_token
from scoring.participation import Network, Presence
from tests.factories import (
    EmployeeFactory,
    EmployeeNetworkFactory,
    GuidelineVersionFactory,
    InterestFactory,
)

BODY = "Sharing is voluntary. Speak as yourself and keep secrets secret."


def publish(actor=None, **overrides):
    values = {"body": BODY, "contact_name": "Sabine", "contact_email": "sabine@example.com"}
    return participation.publish_guidelines(actor, **{**values, **overrides})


# Guidelines --------------------------------------------------------------------------


def test_publish_guidelines_makes_a_new_current_version(ctx):
    hr = EmployeeFactory(role=Role.HR)
    first = publish(hr)
    second = publish(hr, body=BODY + " Updated.", contact_email=" Sabine@Example.com ")
    assert participation.current_guidelines() is second
    assert second.id > first.id
    assert second.contact_email == "sabine@example.com"
    assert second.created_by_id == hr.id


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"body": "too short"}, "body"),
        ({"body": "   " + "x" * 10 + "   "}, "body"),
        ({"body": None}, "body"),
        ({"contact_name": "  "}, "contact_name"),
        ({"contact_email": "nobody"}, "contact_email"),
    ],
)
def test_publish_guidelines_validates(ctx, overrides, field):
    with pytest.raises(InvalidInput) as info:
        publish(**overrides)
    assert list(info.value.errors) == [field]
    assert participation.current_guidelines() is None


# Opt-in and opt-out ------------------------------------------------------------------


def test_opt_in_needs_published_guidelines(ctx):
    employee = EmployeeFactory()
    with pytest.raises(Conflict):
        participation.opt_in(employee, None)
    assert not employee.participating


def test_opt_in_needs_the_current_version_and_opt_out_is_one_step(ctx):
    employee = EmployeeFactory()
    old = publish()
    current = publish(body=BODY + " Now with more rules.")
    with pytest.raises(Conflict) as info:
        participation.opt_in(employee, old.id)
    assert "guidelines_version_id" in info.value.errors
    assert employee.opted_in_at is None
    participation.opt_in(employee, current.id)
    assert employee.participating
    assert employee.guidelines_version_id == current.id
    opted_at = employee.opted_in_at
    participation.opt_in(employee, current.id)  # again: the first time stays
    assert employee.opted_in_at == opted_at
    participation.opt_out(employee)
    participation.opt_out(employee)  # harmless twice
    assert not employee.participating
    actions = list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions.count("participation.opt_out") == 1
    assert actions.count("participation.opt_in") == 2


# Presence ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("presence", "pseudonym", "stored"),
    [
        (Presence.NAMED, None, None),
        (Presence.PSEUDONYM, "  Blue Fox  ", "Blue Fox"),
        (Presence.PSEUDONYM, "Jörg-99.x", "Jörg-99.x"),
        (Presence.HIDDEN, "", None),
    ],
)
def test_update_presence(ctx, presence, pseudonym, stored):
    employee = EmployeeFactory(pseudonym="Old Name")
    participation.update_presence(employee, presence, pseudonym)
    assert (employee.presence, employee.pseudonym) == (presence, stored)


@pytest.mark.parametrize(
    ("pseudonym", "error"),
    [
        (None, InvalidInput),
        ("   ", InvalidInput),
        ("ab", InvalidInput),
        ("x" * 41, InvalidInput),
        ("<script>", InvalidInput),
        ("me@example.com", InvalidInput),
        ("TAKEN one", Conflict),
    ],
)
def test_update_presence_refuses_bad_pseudonyms(ctx, pseudonym, error):
    EmployeeFactory(presence=Presence.PSEUDONYM, pseudonym="Taken One")
    employee = EmployeeFactory()
    with pytest.raises(error) as info:
        participation.update_presence(employee, Presence.PSEUDONYM, pseudonym)
    assert "pseudonym" in info.value.errors
    assert employee.presence is Presence.NAMED


def test_keeping_ones_own_pseudonym_is_no_clash(ctx):
    employee = EmployeeFactory(presence=Presence.PSEUDONYM, pseudonym="Blue Fox")
    participation.update_presence(employee, Presence.PSEUDONYM, "blue fox")
    assert employee.pseudonym == "blue fox"


# Networks and interests --------------------------------------------------------------


def networks_of(employee) -> dict:
    db.session.flush()
    return {
        n.network: (n.handle, n.audience_size)
        for n in db.session.scalars(
            select(EmployeeNetwork).where(EmployeeNetwork.employee_id == employee.id)
        )
    }


def test_set_networks_replaces_updates_and_removes(ctx):
    employee = EmployeeFactory()
    participation.set_networks(
        employee,
        [
            {"network": "linkedin", "handle": " lena ", "audience_size": 300},
            {"network": Network.X, "handle": None},
        ],
    )
    assert networks_of(employee) == {Network.LINKEDIN: ("lena", 300), Network.X: (None, None)}
    participation.set_networks(
        employee,
        [{"network": "linkedin", "handle": "", "audience_size": 900}, {"network": "xing"}],
    )
    assert networks_of(employee) == {Network.LINKEDIN: (None, 900), Network.XING: (None, None)}
    participation.set_networks(employee, [])
    assert networks_of(employee) == {}


@pytest.mark.parametrize(
    "networks",
    [
        [{"network": "linkedin"}, {"network": "LinkedIn".lower()}],
        [{"network": "myspace"}],
        [{"handle": "no network"}],
        [{"network": "x", "audience_size": -1}],
    ],
    ids=["duplicate", "unknown", "missing", "negative-audience"],
)
def test_set_networks_refuses_bad_lists(ctx, networks):
    employee = EmployeeFactory()
    EmployeeNetworkFactory(employee=employee, network=Network.FACEBOOK)
    with pytest.raises(InvalidInput) as info:
        participation.set_networks(employee, networks)
    assert "networks" in info.value.errors
    assert set(networks_of(employee)) == {Network.FACEBOOK}


def test_set_interests(ctx):
    employee = EmployeeFactory()
    careers, events = InterestFactory(name="Careers"), InterestFactory(name="Events")
    participation.set_interests(employee, [events.id, careers.id, events.id])
    assert [i.name for i in employee.interests] == ["Careers", "Events"]
    with pytest.raises(InvalidInput) as info:
        participation.set_interests(employee, [careers.id, 424242])
    assert "424242" in info.value.message
    assert "interest_ids" in info.value.errors
    participation.set_interests(employee, [])
    assert employee.interests == []


# Export ------------------------------------------------------------------------------


def test_export_holds_my_data_and_nobody_elses(ctx):
    hr = EmployeeFactory(role=Role.HR, name="Hilde Hr", email="hilde@example.com")
    other = EmployeeFactory(name="Otto Other", email="otto@example.com", pseudonym="Otter")
    me = EmployeeFactory(name="Mia Me", email="mia@example.com")
    guidelines = publish(hr)
    participation.opt_in(me, guidelines.id)
    participation.opt_in(other, guidelines.id)
    participation.update_presence(me, Presence.PSEUDONYM, "Night Owl")
    participation.set_networks(me, [{"network": "xing", "handle": "mia", "audience_size": 42}])
    participation.set_interests(me, [InterestFactory(name="Careers").id])
    EmployeeNetworkFactory(employee=other, network=Network.X, handle="otto-handle")
    people.update_employee(hr, me, {"name": "Mia Meyer"})
    people.update_employee(hr, other, {"name": "Otto Otherson"})
    create_token(hr, me, "My script")
    db.session.commit()

    data = participation.export_personal_data(me)
    assert data["profile"]["email"] == "mia@example.com"
    assert data["profile"]["name"] == "Mia Meyer"
    assert data["profile"]["shown_on_boards_as"] == "Night Owl"
    assert data["profile"]["guidelines_version_id"] == guidelines.id
    assert data["networks"] == [{"network": "xing", "handle": "mia", "audience_size": 42}]
    assert data["interests"] == ["Careers"]
    assert [t["name"] for t in data["api_tokens"]] == ["My script"]
    assert "token_hash" not in json.dumps(data)
    actions = [(a["action"], a["by_me"]) for a in data["activity"]]
    assert ("participation.opt_in", True) in actions
    assert ("employee.update", False) in actions
    text = json.dumps(data)  # JSON-ready as it is
    for foreign in ("Otto", "otto", "Otter", "Hilde", "hilde", "Otherson"):
        assert foreign not in text


# Erasure -----------------------------------------------------------------------------


def test_erase_anonymises_and_blocks_sign_in(ctx):
    admin = EmployeeFactory(role=Role.ADMIN)
    employee = people.create_employee(admin, email="gone@example.com", name="Gone Person")
    people.update_employee(admin, employee, {"name": "Gone Person Jr"})
    guidelines = publish()
    participation.opt_in(employee, guidelines.id)
    participation.update_presence(employee, Presence.PSEUDONYM, "Ghost")
    participation.set_networks(employee, [{"network": "linkedin", "handle": "gone"}])
    participation.set_interests(employee, [InterestFactory().id])
    _token, secret = create_token(admin, employee, "script")
    db.session.commit()
    link = make_sign_in_token(employee)

    participation.erase_employee(employee, employee)
    db.session.commit()

    assert employee.email == f"erased-{employee.id}@erased.invalid"
    assert "Gone" not in employee.name
    assert (employee.pseudonym, employee.presence) == (None, Presence.HIDDEN)
    assert employee.opted_in_at is None
    assert employee.erased_at is not None
    assert employee.is_active is False
    assert not employee.participating
    assert db.session.scalar(select(func.count()).select_from(EmployeeNetwork)) == 0
    assert db.session.scalar(select(func.count()).select_from(employee_interests)) == 0
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0
    assert authenticate(secret) is None
    with pytest.raises(InvalidInput):
        check_sign_in_token(link)
    assert people.find_employee_by_email("gone@example.com") is None
    # The audit trail keeps what happened, not who it was.
    trail = json.dumps([e.details for e in db.session.scalars(select(AuditEntry))])
    assert "gone@example.com" not in trail
    assert "Gone Person" not in trail
    assert (
        db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "participation.erase")
        ).target_id
        == employee.id
    )

    erased_at = employee.erased_at
    participation.erase_employee(admin, employee)  # twice: nothing changes
    assert employee.erased_at == erased_at
    with pytest.raises(Conflict):
        people.update_employee(admin, employee, {"active": True})


def test_erasing_the_last_active_admin_is_refused(ctx):
    admin = EmployeeFactory(role=Role.ADMIN, name="Last Admin")
    EmployeeFactory(role=Role.ADMIN, active=False)
    with pytest.raises(Conflict):
        participation.erase_employee(admin, admin)
    assert admin.erased_at is None
    assert admin.name == "Last Admin"
    other = EmployeeFactory(role=Role.ADMIN)
    participation.erase_employee(other, admin)
    assert admin.erased_at is not None


def test_an_inactive_admin_can_be_erased(ctx):
    EmployeeFactory(role=Role.ADMIN)
    inactive = EmployeeFactory(role=Role.ADMIN, active=False)
    participation.erase_employee(None, inactive)
    assert inactive.erased_at is not None


def test_guidelines_stay_when_their_author_is_erased(ctx):
    EmployeeFactory(role=Role.ADMIN)
    hr = EmployeeFactory(role=Role.HR)
    version = GuidelineVersionFactory(created_by_id=hr.id)
    participation.erase_employee(None, hr)
    db.session.commit()
    assert participation.current_guidelines() is version


def test_export_holds_my_shares_and_points_and_erasure_removes_what_i_wrote(ctx):
    from app.models import LedgerLine, Share
    from tests.factories import LedgerLineFactory, ShareFactory

    me = EmployeeFactory(opted_in=True)
    other_share = ShareFactory(text="Someone else's words #employee")
    mine = ShareFactory(employee=me, text="My own words #employee")
    LedgerLineFactory(employee_id=me.id, points=7, reason="Welcome bonus")
    LedgerLineFactory(employee_id=other_share.employee_id, points=3, reason="Not mine")
    db.session.commit()

    data = participation.export_personal_data(me)
    assert [s["text"] for s in data["shares"]] == ["My own words #employee"]
    assert [(p["points"], p["reason"]) for p in data["points"]] == [(7, "Welcome bonus")]
    assert "Someone else" not in json.dumps(data)

    participation.erase_employee(None, me)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Share, mine.id).text == ""
    assert db.session.get(Share, other_share.id).text == "Someone else's words #employee"
    # The ledger stays consistent: points keep pointing at the anonymous row.
    assert db.session.scalar(select(LedgerLine.points).where(LedgerLine.employee_id == me.id)) == 7
