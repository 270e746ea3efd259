"""The feed, the share dialog and My shares as pages; bad input changes nothing."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import ClickKind, Employee, EmployeeNetwork, Share, utcnow
from scoring.participation import Network
from tests.conftest import csrf_token
from tests.factories import (
    ClickRecordFactory,
    ContentItemFactory,
    ShareFactory,
    SharePolicyFactory,
    ShareTemplateFactory,
    TabooTopicFactory,
)


def shares(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Share))


@pytest.fixture
def item(app) -> int:
    with app.app_context():
        item = ContentItemFactory(title="Green grid", campaign_hashtag="#GreenGrid")
        ShareTemplateFactory(content_id=item.id, text="We built this.")
        return item.id


def post_share(client, item: int, **data):
    token = csrf_token(client, f"/content/{item}/share")
    return client.post(f"/content/{item}/share", data={"csrf_token": token, **data})


def test_participants_start_at_home_one_tap_from_the_feed(client, login):
    login(opted_in=True)
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'href="/feed">Everything in your feed</a>' in page
    assert 'href="/feed">Feed</a>' in page  # and in the navigation


@pytest.mark.parametrize("path", ["/feed", "/content/{item}/share"])
def test_not_yet_opted_in_goes_to_the_guidelines(client, login, item, path):
    login()
    response = client.get(path.format(item=item))
    assert response.status_code == 302
    assert response.headers["Location"] == "/guidelines"


def test_the_feed_shows_items_marks_and_what_is_left(app, client, login, item):
    me = login(opted_in=True)
    with app.app_context():
        ShareFactory(employee=db.session.get(Employee, me.id), content_id=item)
    page = client.get("/feed").get_data(as_text=True)
    assert "Green grid" in page
    assert "You shared this on LinkedIn" in page
    assert re.search(r'data-left="today">2<', page)
    assert 'href="/feed" aria-current="page"' in page
    assert 'href="/me/shares"' in page


def test_share_from_the_dialog(app, client, login, item):
    login(opted_in=True)
    dialog = client.get(f"/content/{item}/share").get_data(as_text=True)
    assert "We built this. #employee #GreenGrid" in dialog  # the preview
    response = post_share(client, item, channel="linkedin", text="My words", template_id="")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/me/shares/")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "My words #employee #GreenGrid" in page
    assert re.search(r'id="tracked-link" value="http://localhost/l/[0-9A-Za-z]+\.[\w-]{16}"', page)
    assert (
        "https://www.linkedin.com/sharing/share-offsite/?url=http%3A%2F%2Flocalhost%2Fl%2F" in page
    )
    listing = client.get("/me/shares").get_data(as_text=True)
    assert "Green grid" in listing


@pytest.mark.parametrize(
    ("data", "status", "shown"),
    [
        ({"text": "x"}, 422, "This field is required."),
        ({"channel": "myspace"}, 422, "Must be one of"),
        ({"channel": "x", "template_id": "abc"}, 422, "Not a valid integer."),
        ({"channel": "x", "template_id": "999999"}, 422, "no share text with that id"),
        ({"channel": "x", "text": "our quarterly revenue"}, 422, "Only IR publishes figures."),
    ],
)
def test_bad_input_rerenders_the_dialog(app, client, login, item, data, status, shown):
    login(opted_in=True)
    with app.app_context():
        TabooTopicFactory(explanation="Only IR publishes figures.")
    response = post_share(client, item, **data)
    assert response.status_code == status
    assert shown in response.get_data(as_text=True)
    assert shares(app) == 0


def test_a_cap_refusal_says_when(app, client, login, item):
    login(opted_in=True)
    with app.app_context():
        SharePolicyFactory(per_day=1)
    assert post_share(client, item, channel="x").status_code == 302
    response = post_share(client, item, channel="linkedin")
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "the daily limit" in page
    assert "Next share possible from" in page
    assert shares(app) == 1


def test_unknown_items_and_missing_csrf(app, client, login, item):
    login(opted_in=True)
    assert client.get("/content/999999/share").status_code == 404
    assert post_share(client, 999999, channel="x").status_code == 404
    assert client.post(f"/content/{item}/share", data={"channel": "x"}).status_code == 400
    assert shares(app) == 0


def test_my_shares_counts_clicks_and_hides_others(app, client, login):
    me = login(opted_in=True)
    with app.app_context():
        mine = ShareFactory(employee=db.session.get(Employee, me.id))
        for kind in (ClickKind.HUMAN, ClickKind.BOT, ClickKind.SELF):
            ClickRecordFactory(share_id=mine.id, kind=kind)
        theirs = ShareFactory().id
        mine_id = mine.id
    page = client.get("/me/shares").get_data(as_text=True)
    assert re.search(r'data-count="human">1<', page)
    assert re.search(r'data-count="filtered">2<', page)
    assert client.get(f"/me/shares/{mine_id}").status_code == 200
    assert client.get(f"/me/shares/{theirs}").status_code == 404


def test_instagram_has_no_share_dialog(app, client, login, item):
    login(opted_in=True)
    response = post_share(client, item, channel="instagram")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "data-no-intent" in page
    assert "data-intent-url" not in page


def _section(page: str, start: str, end: str) -> str:
    return page[page.index(start) : page.index(end, page.index(start))]


def test_the_dialog_lists_my_networks_first_and_the_others_below(app, client, login, item):
    me = login(opted_in=True)
    with app.app_context():
        for network in (Network.XING, Network.X):
            db.session.add(EmployeeNetwork(employee_id=me.id, network=network))
        db.session.commit()
    page = client.get(f"/content/{item}/share").get_data(as_text=True)
    own = _section(page, "data-own-networks", "</div>")
    others = _section(page, "data-other-networks", "</details>")
    assert re.findall(r'name="channel" value="(\w+)"', own) == ["x", "xing"]
    assert re.findall(r'name="channel" value="(\w+)"', others) == [
        "linkedin",
        "facebook",
        "instagram",
        "email",
    ]
    assert "Other networks" in others
    # HR wrote a LinkedIn text, but the employee is not on LinkedIn: their first network.
    assert re.search(r'value="x"\s[^>]*checked', own)


def test_without_networks_in_the_profile_all_are_offered(client, login, item):
    login(opted_in=True)
    page = client.get(f"/content/{item}/share").get_data(as_text=True)
    assert len(re.findall(r'name="channel" value="\w+"', page)) == 6
    assert "data-other-networks" not in page
    assert re.search(r'value="linkedin"\s[^>]*checked', page)


def test_the_spacing_is_said_before_the_form_in_the_company_zone(app, client, login, item):
    login(opted_in=True)
    with app.app_context():
        SharePolicyFactory(min_spacing_minutes=45)
    for path in ("/feed", f"/content/{item}/share"):
        page = client.get(path).get_data(as_text=True)
        notice = _section(page, "data-next-allowed", "</p>")
        assert "at least 45 minutes apart" in notice
        assert "(Europe/Berlin)" in notice
    dialog = client.get(f"/content/{item}/share").get_data(as_text=True)
    assert dialog.index("data-next-allowed") < dialog.index('class="share-form"')


def test_after_a_share_the_feed_says_when_the_next_is_possible(app, client, login, item):
    me = login(opted_in=True)
    with app.app_context():
        SharePolicyFactory(min_spacing_minutes=45)
        at = utcnow().replace(microsecond=0) - timedelta(minutes=5)
        ShareFactory(employee=db.session.get(Employee, me.id), content_id=item, created_at=at)
        expected = (at + timedelta(minutes=45)).astimezone(ZoneInfo("Europe/Berlin"))
    page = client.get("/feed").get_data(as_text=True)
    notice = _section(page, "data-next-allowed", "</p>")
    assert "Your next share is possible from" in notice
    assert expected.strftime("%H:%M") in notice
    assert "(Europe/Berlin)" in notice
