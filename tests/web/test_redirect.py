"""GET /l/<token>: 404 without the database for tampered or invented tokens, never an
open redirect, UTM and ref added to the fixed destination."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from app.extensions import db, get_redis
from app.links import base62, from_base62, make_token
from app.services import click_capture as clicks
from tests.conftest import sign_in, sql_statements
from tests.factories import ContentItemFactory, EmployeeFactory, ShareFactory


@pytest.fixture
def share(app):
    with app.app_context():
        item = ContentItemFactory(
            destination_url="https://careers.example.com/jobs/42?lang=de#apply",
            campaign_hashtag="#JoinUs",
        )
        share = ShareFactory(content=item, ref_code="k7m2p9q4rx")
        return {"id": share.id, "token": make_token(share.id), "owner": share.employee_id}


EXPECTED = (
    "https://careers.example.com/jobs/42?lang=de&utm_source=linkedin"
    "&utm_medium=employee_advocacy&utm_campaign=JoinUs&utm_content=share-{id}"
    "&ref=k7m2p9q4rx#apply"
)


def test_redirects_to_the_destination_with_utm_and_ref(client, share):
    response = client.get(f"/l/{share['token']}")
    assert response.status_code == 302
    assert response.headers["Location"] == EXPECTED.format(id=share["id"])
    assert response.headers["Cache-Control"] == "no-store"


def test_the_campaign_defaults_to_the_content_id(app, client):
    with app.app_context():
        item = ContentItemFactory(
            destination_url="https://www.example.com/a", campaign_hashtag=None
        )
        token = make_token(ShareFactory(content=item).id)
        item_id = item.id
    query = parse_qs(urlsplit(client.get(f"/l/{token}").headers["Location"]).query)
    assert query["utm_campaign"] == [f"content-{item_id}"]


def _tampered(token: str) -> list[str]:
    share_id, signature = token.split(".")
    return [
        f"{base62(from_base62(share_id) + 1)}.{signature}",
        f"{share_id}.{signature[:-1]}{'B' if signature[-1] == 'A' else 'A'}",
        share_id,
        f"{share_id}.",
        "9999.AAAAAAAAAAAAAAAA",
        "x" * 300,
        "%2e%2e%2fadmin",
    ]


def test_tampered_and_invented_tokens_are_404_without_sql(app, client, share):
    # A signed-in visitor too: nothing may load their user for the 404 page.
    with app.app_context():
        sign_in(client, EmployeeFactory())
    client.get("/l/" + share["token"])  # warm every cache there is
    for token in _tampered(share["token"]):
        with sql_statements(app) as statements:
            response = client.get(f"/l/{token}")
            head = client.head(f"/l/{token}")
        assert response.status_code == 404, token
        assert head.status_code == 404
        assert "This link does not work" in response.get_data(as_text=True)
        assert statements == [], token
    with app.app_context():
        assert get_redis().xlen(clicks.STREAM) == 1  # only the genuine click


def test_a_cached_link_needs_no_sql(app, client, share):
    client.get(f"/l/{share['token']}")  # the first click fills the caches
    with sql_statements(app) as statements:
        response = client.get(f"/l/{share['token']}")
    assert response.status_code == 302
    assert statements == []


def test_a_cache_miss_reads_the_database_once(app, client, share):
    with app.app_context():
        get_redis().delete(clicks.link_key(share["id"]))
    client.get(f"/l/{share['token']}")
    with app.app_context():
        cached = get_redis().get(clicks.link_key(share["id"])).decode()
    assert cached == EXPECTED.format(id=share["id"])


def test_a_genuine_token_of_a_deleted_share_is_404(app, client, share):
    with app.app_context():
        db.session.execute(ShareFactory._meta.model.__table__.delete())
        db.session.commit()
        get_redis().delete(clicks.link_key(share["id"]))
    assert client.get(f"/l/{share['token']}").status_code == 404
    with sql_statements(app) as statements:  # remembered for a while
        assert client.get(f"/l/{share['token']}").status_code == 404
    assert statements == []
    with app.app_context():
        assert get_redis().xlen(clicks.STREAM) == 0


@pytest.mark.parametrize(
    "suffix",
    [
        "?next=https://evil.example.net/",
        "?url=https://evil.example.net/&redirect=//evil.example.net",
        "?utm_source=evil&ref=stolen&destination=https://evil.example.net",
        "?%0d%0aLocation:%20https://evil.example.net",
        "#https://evil.example.net",
    ],
)
def test_nothing_in_the_request_changes_the_target(client, share, suffix):
    response = client.get(
        f"/l/{share['token']}{suffix}",
        headers={
            "Host": "evil.example.net",
            "X-Forwarded-Host": "evil.example.net",
            "Referer": "https://evil.example.net/",
        },
    )
    assert response.headers["Location"] == EXPECTED.format(id=share["id"])


@pytest.mark.parametrize(
    "path",
    [
        "/l/{token}/https://evil.example.net",
        "/l/{token}//evil.example.net",
        "/l//evil.example.net",
        "/l/https:%2F%2Fevil.example.net",
        "/l/",
    ],
)
def test_extra_path_is_not_a_target(client, share, path):
    response = client.get(path.format(token=share["token"]))
    assert response.status_code in (404, 308)  # 308: Werkzeug merging slashes, on our host
    assert urlsplit(response.headers.get("Location", "")).netloc in ("", "localhost")


def test_a_destination_that_is_not_a_web_address_is_404(app, client):
    with app.app_context():
        item = ContentItemFactory(destination_url="javascript:alert(1)")
        token = make_token(ShareFactory(content=item).id)
    assert client.get(f"/l/{token}").status_code == 404


def test_the_redirect_is_not_rate_limited(client, share):
    for _ in range(40):
        assert client.get(f"/l/{share['token']}").status_code == 302
