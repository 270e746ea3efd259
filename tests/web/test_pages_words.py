"""Pages speak plainly: no field names of the API, counts with their nouns in the right
number, and networks spelled as they spell themselves."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Employee
from tests.conftest import csrf_token
from tests.factories import (
    LedgerLineFactory,
    RedemptionFactory,
    RewardFactory,
)


def test_an_unknown_item_is_explained_without_field_names(client, login):
    login(opted_in=True)
    response = client.get("/content/987654/share")
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "No content item with id 987654" in page
    assert "content_id" not in page
    assert page.count("No content item with id 987654") == 1  # said once, not twice


@pytest.mark.parametrize(("points", "words"), [(1, "1 point;"), (2, "2 points;")])
def test_my_redemptions_count_points_in_the_right_number(app, client, login, points, words):
    me = login(opted_in=True)
    with app.app_context():
        LedgerLineFactory(employee_id=me.id, points=points)
    page = client.get("/me/redemptions").get_data(as_text=True)
    text = " ".join(
        page.replace('<strong data-points="spendable">', "").replace("</strong>", "").split()
    )
    assert f"You can spend {words}" in text


def test_a_reward_of_one_point_says_point(app, client, login):
    me = login(opted_in=True)
    with app.app_context():
        LedgerLineFactory(employee_id=me.id, points=3)
        RewardFactory(name="Sticker", cost=1)
    page = client.get("/rewards").get_data(as_text=True)
    assert "Redeem Sticker for 1 point<" in page
    assert "1 points" not in page


def test_cancelling_one_point_says_point(app, client, login):
    me = login(opted_in=True)
    with app.app_context():
        LedgerLineFactory(employee_id=me.id, points=5)
        redemption_id = RedemptionFactory(
            employee=db.session.get(Employee, me.id), reward=RewardFactory(cost=1)
        ).id
    token = csrf_token(client, "/me")
    response = client.post(
        f"/me/redemptions/{redemption_id}/cancel",
        data={"csrf_token": token},
        follow_redirects=True,
    )
    assert "the 1 point is yours to spend again" in response.get_data(as_text=True)
