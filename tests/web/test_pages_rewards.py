"""Reward pages: the catalogue with the balance and one redemption per form, refusals in
words, my redemptions and cancelling; HR's catalogue editor and redemption queue."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Employee, Redemption, RedemptionState, Reward, RewardKind, Role
from app.services import ledger
from tests.conftest import csrf_token
from tests.factories import LedgerLineFactory, RedemptionFactory, RewardFactory
from tests.integration.test_content import png_bytes
from tests.web.points_pages_support import count


def _post(client, path: str, data: dict | None = None):
    return client.post(path, data={"csrf_token": csrf_token(client, "/me"), **(data or {})})


def _form_key(page: str, reward_id: int) -> str:
    form = page[page.index(f'action="/rewards/{reward_id}/redeem"') :]
    return re.search(r'name="idempotency_key" value="([0-9a-f]+)"', form).group(1)


@pytest.fixture
def funded(app, login):
    def make(points: int, role: Role = Role.EMPLOYEE):
        employee = login(role, opted_in=True)
        with app.app_context():
            LedgerLineFactory(employee_id=employee.id, points=points)
        return employee

    return make


def test_the_catalogue_shows_my_balance_and_a_double_submit_is_one_redemption(app, client, funded):
    me = funded(250)
    with app.app_context():
        hoodie = RewardFactory(name="Company hoodie", cost=100, stock=5).id
        RewardFactory(name="Extra day off", cost=400)
    page = client.get("/rewards").get_data(as_text=True)
    assert 'aria-current="page">Rewards' in page
    assert re.search(r'data-points="spendable">250<', page)
    assert "This reward costs 400 points; you can spend 250, so 150 more are needed." in page
    key = _form_key(page, hoodie)
    for _ in range(2):
        response = _post(client, f"/rewards/{hoodie}/redeem", {"idempotency_key": key})
        assert response.status_code == 302
        assert response.headers["Location"] == "/me/redemptions"
    mine = client.get("/me/redemptions").get_data(as_text=True)
    assert "You redeemed Company hoodie already; nothing changed." in mine
    assert 'data-state="pending"' in mine
    with app.app_context():
        assert count(Redemption) == 1
        assert ledger.balance(me.id).spendable == 150
        assert db.session.get(Reward, hoodie).stock == 4
    assert re.search(r'data-points="spendable">150<', client.get("/rewards").get_data(as_text=True))


def test_a_refusal_says_why_and_changes_nothing(app, client, funded):
    funded(50)
    with app.app_context():
        mug = RewardFactory(name="Mug", cost=60).id
    response = _post(client, f"/rewards/{mug}/redeem", {"idempotency_key": "k1"})
    assert response.status_code == 409
    assert "This reward costs 60 points; you can spend 50, so 10 more" in response.get_data(
        as_text=True
    )
    missing = _post(client, f"/rewards/{mug}/redeem", {"idempotency_key": " "})
    assert missing.status_code == 422
    assert _post(client, "/rewards/999999/redeem", {"idempotency_key": "k"}).status_code == 404
    with app.app_context():
        assert count(Redemption) == 0


def test_i_cancel_my_pending_redemption_and_get_the_points_back(app, client, funded):
    me = funded(100)
    with app.app_context():
        mine = RedemptionFactory(
            employee=db.session.get(Employee, me.id), reward=RewardFactory(cost=100)
        ).id
        others = RedemptionFactory().id
    page = client.get("/me/redemptions").get_data(as_text=True)
    assert re.search(r'data-points="spendable">0<', page)
    assert _post(client, f"/me/redemptions/{others}/cancel").status_code == 404
    response = _post(client, f"/me/redemptions/{mine}/cancel")
    assert response.status_code == 302
    page = client.get("/me/redemptions").get_data(as_text=True)
    assert "Cancelled: the 100 points are yours to spend again." in page
    assert "cancelled: points given back" in page
    assert _post(client, f"/me/redemptions/{mine}/cancel").status_code == 302  # no change
    with app.app_context():
        assert ledger.balance(me.id).spendable == 100


def test_hr_adds_edits_and_retires_rewards(app, client, login):
    login(Role.HR)
    bad = _post(client, "/rewards/new", {"name": "Lunch with the CEO", "cost": "-3"})
    assert bad.status_code == 422
    assert "Must be greater than or equal to 0" in bad.get_data(as_text=True)
    assert _post(client, "/rewards/new", {"name": "", "cost": "10"}).status_code == 422
    with app.app_context():
        assert count(Reward) == 0
    created = _post(
        client,
        "/rewards/new",
        {"name": "Lunch with the CEO", "cost": "500", "per_person_limit": "1", "active": "on"},
    )
    assert created.status_code == 302
    with app.app_context():
        lunch = db.session.scalar(select(Reward))
        assert (lunch.cost, lunch.stock, lunch.per_person_limit) == (500, None, 1)
        lunch_id = lunch.id
    form = client.get(f"/rewards/{lunch_id}/edit").get_data(as_text=True)
    assert 'value="Lunch with the CEO"' in form
    edited = _post(
        client,
        f"/rewards/{lunch_id}/edit",
        {"name": "Lunch with the CEO", "cost": "450", "stock": "4", "active": "on"},
    )
    assert edited.status_code == 302
    assert _post(client, f"/rewards/{lunch_id}/retire").status_code == 302
    page = client.get("/rewards/manage").get_data(as_text=True)
    assert "retired" in page
    with app.app_context():
        lunch = db.session.get(Reward, lunch_id)
        assert (lunch.cost, lunch.stock, lunch.per_person_limit, lunch.active) == (
            450,
            4,
            None,
            False,
        )
        actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
        assert actions == ["reward.create", "reward.update", "reward.retire"]


def test_hr_approves_fulfils_and_rejects_from_the_queue(app, client, login):
    login(Role.HR)
    with app.app_context():
        hoodie = RewardFactory(name="Company hoodie", stock=0)
        first = RedemptionFactory(reward=hoodie)
        second = RedemptionFactory(reward=hoodie)
        first_id, second_id, hoodie_id = first.id, second.id, hoodie.id
        first_name = first.employee.name
    page = client.get("/redemptions").get_data(as_text=True)
    assert first_name in page
    assert page.count('action="/redemptions/') == 4  # approve and reject, twice
    approved = _post(client, f"/redemptions/{first_id}/approve", {"note": "Size M"})
    assert approved.status_code == 302
    assert _post(client, f"/redemptions/{first_id}/fulfil").status_code == 302
    no_reason = _post(client, f"/redemptions/{second_id}/reject", {"reason": ""})
    assert no_reason.status_code == 422
    assert "Say why; the employee will read it." in no_reason.get_data(as_text=True)
    too_early = _post(client, f"/redemptions/{second_id}/fulfil")
    assert too_early.status_code == 409
    assert (
        _post(client, f"/redemptions/{second_id}/reject", {"reason": "Sold out"}).status_code == 302
    )
    with app.app_context():
        states = [db.session.get(Redemption, i).state for i in (first_id, second_id)]
        assert states == [RedemptionState.FULFILLED, RedemptionState.REJECTED]
        assert db.session.get(Reward, hoodie_id).stock == 1  # the rejected unit is back


def test_navigation_offers_rewards_to_everyone_and_the_tools_to_hr(client, login):
    login(Role.EMPLOYEE)
    nav = client.get("/me").get_data(as_text=True)
    assert 'href="/rewards"' in nav
    assert 'href="/redemptions"' not in nav
    login(Role.HR)
    page = client.get("/redemptions").get_data(as_text=True)
    nav = page[page.index('<nav class="nav"') : page.index("</nav>")]
    assert 'href="/rewards/manage"' in nav
    assert 'href="/redemptions" aria-current="page"' in nav


# Kinds, the window, approval at once, the image, the tax note ---------------------


def test_the_catalogue_shows_kind_charity_and_window_and_never_the_tax_note(app, client, funded):
    funded(500)
    today = date.today()
    with app.app_context():
        RewardFactory(
            name="Tree planting",
            cost=10,
            kind=RewardKind.DONATION,
            charity_name="Forests Now",
            needs_approval=False,
            tax_note="Secret tax words",
        )
        later = RewardFactory(
            name="Summer party", cost=20, available_from=today + timedelta(days=40)
        ).id
        over = RewardFactory(
            name="Winter fair", cost=30, available_until=today - timedelta(days=400)
        ).id
    page = client.get("/rewards").get_data(as_text=True)
    assert "Donation: to Forests Now, in your name" in page
    assert "approved at once" in page
    assert "Secret tax words" not in page
    start = today + timedelta(days=40)
    assert f"Not available yet: from {start.day} {start:%B %Y}." in page
    assert "No longer available: it was offered until" in page
    assert f'action="/rewards/{later}/redeem"' not in page
    refused = _post(client, f"/rewards/{over}/redeem", {"idempotency_key": "k1"})
    assert refused.status_code == 422
    assert "No longer available" in refused.get_data(as_text=True)
    assert "Secret tax words" not in client.get("/me/redemptions").get_data(as_text=True)
    with app.app_context():
        assert count(Redemption) == 0


def test_redeeming_a_reward_without_approval_says_it_is_approved(app, client, funded):
    funded(100)
    with app.app_context():
        mug = RewardFactory(name="Mug", cost=10, kind=RewardKind.SWAG, needs_approval=False).id
    done = _post(client, f"/rewards/{mug}/redeem", {"idempotency_key": "k1"})
    assert done.status_code == 302
    mine = client.get("/me/redemptions").get_data(as_text=True)
    assert "It is approved at once" in mine
    assert 'data-state="approved"' in mine


def test_hr_sets_kind_window_approval_tax_note_and_image_on_the_editor(app, client, login):
    login(Role.HR)
    base = {"name": "Tree planting", "cost": "50", "active": "on", "kind": "donation"}
    no_charity = _post(client, "/rewards/new", base)
    assert no_charity.status_code == 422
    assert "Name the charity the donation goes to." in no_charity.get_data(as_text=True)
    backwards = _post(
        client,
        "/rewards/new",
        {
            **base,
            "charity_name": "Forests",
            "available_from": "2027-05-02",
            "available_until": "2027-05-01",
        },
    )
    assert backwards.status_code == 422
    assert "The last day cannot come before the first." in backwards.get_data(as_text=True)
    fake = {**base, "charity_name": "Forests", "image": (io.BytesIO(b"GIF89a" * 4), "a.png")}
    bad_image = client.post("/rewards/new", data={"csrf_token": csrf_token(client, "/me"), **fake})
    assert bad_image.status_code == 422
    assert "Upload a PNG, JPEG or WebP image." in bad_image.get_data(as_text=True)
    no_rights = {**base, "charity_name": "Forests", "image": (io.BytesIO(png_bytes()), "a.png")}
    refused = client.post(
        "/rewards/new", data={"csrf_token": csrf_token(client, "/me"), **no_rights}
    )
    assert refused.status_code == 422
    with app.app_context():
        assert count(Reward) == 0
    good = {
        **base,
        "charity_name": "Forests Now",
        "available_from": "2027-05-01",
        "available_until": "2027-06-30",
        "tax_note": "Charitable gift",
        "image_credit": "Our studio",
        "image_rights_confirmed": "on",
        "image": (io.BytesIO(png_bytes()), "trees.png"),
    }
    created = client.post("/rewards/new", data={"csrf_token": csrf_token(client, "/me"), **good})
    assert created.status_code == 302
    with app.app_context():
        reward = db.session.scalar(select(Reward))
        assert (reward.kind, reward.charity_name, reward.needs_approval, reward.tax_note) == (
            RewardKind.DONATION,
            "Forests Now",
            False,
            "Charitable gift",
        )
        assert (reward.available_from, reward.available_until) == (
            date(2027, 5, 1),
            date(2027, 6, 30),
        )
        assert reward.image_filename.endswith(".png")
        reward_id = reward.id
    manage = client.get("/rewards/manage").get_data(as_text=True)
    assert "Donation: Forests Now" in manage
    assert "Charitable gift" in manage
    form = client.get(f"/rewards/{reward_id}/edit").get_data(as_text=True)
    assert 'value="2027-05-01"' in form
    assert "Remove the image" in form
    removed = _post(
        client,
        f"/rewards/{reward_id}/edit",
        {**base, "charity_name": "Forests Now", "needs_approval": "on", "remove_image": "on"},
    )
    assert removed.status_code == 302
    with app.app_context():
        reward = db.session.get(Reward, reward_id)
        assert (reward.image_filename, reward.needs_approval, reward.available_from) == (
            None,
            True,
            None,
        )
