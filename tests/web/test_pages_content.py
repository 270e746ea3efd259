"""HR pages of the content hub: list, editor, publishing, the allow-list and images."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    AllowedDomain,
    AuditEntry,
    ContentItem,
    ContentStatus,
    Role,
    ShareTemplate,
)
from scoring.vocabulary import Channel
from tests.conftest import csrf_token
from tests.factories import (
    AllowedDomainFactory,
    ContentItemFactory,
    InterestFactory,
    ShareTemplateFactory,
    TabooTopicFactory,
    TeamFactory,
)
from tests.integration.test_content import JPEG, png_bytes
from tests.web.test_api_content import multipart

FORM = {"title": "Our new office", "destination_url": "https://www.example.com/office"}


def _count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def _post(client, path: str, data: dict, **kwargs):
    return client.post(path, data={"csrf_token": csrf_token(client, "/me"), **data}, **kwargs)


@pytest.fixture
def hr(app, login):
    with app.app_context():
        AllowedDomainFactory(domain="example.com")
    return login(Role.HR)


@pytest.fixture
def media(app, tmp_path):
    app.config["MEDIA_FOLDER"] = str(tmp_path)
    yield tmp_path
    app.config.pop("MEDIA_FOLDER")


@pytest.mark.parametrize("path", ["/content", "/content/new", "/allowed-domains"])
@pytest.mark.parametrize(("role", "status"), [(Role.TEAM_LEAD, 403), (Role.HR, 200)])
def test_content_pages_are_for_hr(client, login, path, role, status):
    login(role)
    assert client.get(path).status_code == status


def test_nav_links_for_hr_only(client, login):
    login(Role.HR)
    page = client.get("/content").get_data(as_text=True)
    for href in ("/content", "/feeds", "/allowed-domains", "/taboo-topics", "/sharing-policy"):
        assert f'href="{href}"' in page
    assert 'aria-current="page">Content' in page
    login(Role.EMPLOYEE)
    assert 'href="/content"' not in client.get("/me").get_data(as_text=True)


def test_create_edit_and_publish_through_the_editor(app, client, hr):
    with app.app_context():
        team = TeamFactory(name="Sales").id
        interest = InterestFactory(name="Careers").id
    response = _post(
        client,
        "/content/new",
        {
            **FORM,
            "summary": "Come by",
            "tags": "Careers, culture , careers",
            "team_ids": [str(team)],
            "interest_ids": [str(interest)],
            "campaign_hashtag": "#Office",
            "featured": "on",
            "valid_from": "2026-01-10T09:00",
            "text_linkedin": ["We moved!", "", "Second text"],
            "text_x": ["New office"],
        },
    )
    assert response.status_code == 302
    with app.app_context():
        item = db.session.scalar(select(ContentItem))
        assert response.headers["Location"] == f"/content/{item.id}"
        assert item.tag_names == ["careers", "culture"]
        assert [t.id for t in item.target_teams] == [team]
        assert item.featured
        assert item.valid_from.isoformat() == "2026-01-10T08:00:00+00:00"  # Berlin winter time
        assert [(t.channel, t.text) for t in item.templates] == [
            (Channel.LINKEDIN, "We moved!"),
            (Channel.LINKEDIN, "Second text"),
            (Channel.X, "New office"),
        ]
        item_id = item.id
    page = client.get(f"/content/{item_id}").get_data(as_text=True)
    assert "Second text" in page
    assert 'value="2026-01-10T09:00"' in page
    assert "Draft “Our new office” saved." in page

    response = _post(
        client, f"/content/{item_id}", {**FORM, "title": "Renamed", "text_x": ["Only X"]}
    )
    assert response.status_code == 302
    response = _post(client, f"/content/{item_id}/publish", {})
    assert response.status_code == 302
    with app.app_context():
        item = db.session.get(ContentItem, item_id)
        assert (item.title, item.status) == ("Renamed", ContentStatus.PUBLISHED)
        assert [t.text for t in item.templates] == ["Only X"]
        assert item.target_teams == []  # the form sent no teams: everyone
    page = client.get("/content?status=published").get_data(as_text=True)
    assert "1 item found." in page
    assert "Renamed" in page
    assert "0 items found." in client.get("/content?q=nothing").get_data(as_text=True)
    assert client.get("/content?status=gone").status_code == 422


@pytest.mark.parametrize(
    ("data", "status", "field_id", "problem"),
    [
        ({"title": ""}, 422, "title", "This field cannot be empty."),
        (
            {"destination_url": "https://evil.com/x"},
            422,
            "destination_url",
            "evil.com is not on the allow-list",
        ),
        (
            {"destination_url": "https://www.example.com@evil.com/"},
            422,
            "destination_url",
            "user name or password",
        ),
        ({"destination_url": "javascript:alert(1)"}, 422, "destination_url", "Only http"),
        ({"campaign_hashtag": "Office"}, 422, "campaign_hashtag", "starts with #"),
        (
            {"valid_from": "2026-02-01T10:00", "valid_until": "2026-02-01T09:00"},
            422,
            "valid_until",
            "must come after",
        ),
        ({"valid_from": "tomorrow"}, 422, "valid_from", "Not a valid"),
        ({"team_ids": ["999999"]}, 404, "team_ids", "No team with id 999999."),
        ({"team_ids": ["abc"]}, 422, "team_ids", "Not a valid integer."),
        ({"text_x": ["x" * 280]}, 422, "text_x_0", "allows 280"),
        (
            {"text_email": ["fine"], "text_x": ["ok", "Our EBIT doubled"]},
            422,
            "text_x_1",
            "Ask Investor Relations",
        ),
    ],
)
def test_bad_editor_input_changes_nothing(app, client, hr, data, status, field_id, problem):
    with app.app_context():
        TabooTopicFactory(name="Figures", explanation="Ask Investor Relations.", phrases=["EBIT"])
        audits = _count(AuditEntry)
    response = _post(client, "/content/new", {**FORM, **data})
    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert f'id="{field_id}-error"' in page
    assert problem in page.replace("&#39;", "'")
    with app.app_context():
        assert _count(ContentItem) == 0
        assert _count(AuditEntry) == audits
    if field_id.startswith("text_"):
        assert data[field_id.rsplit("_", 1)[0]][-1] in page  # the typed text is kept


def test_bad_edits_change_nothing(app, client, hr):
    with app.app_context():
        item = ContentItemFactory(
            title="Kept",
            destination_url="https://www.example.com/a",
            status=ContentStatus.PUBLISHED,
        )
        ShareTemplateFactory(content_id=item.id, channel=Channel.X, text="Original")
        item_id = item.id
    response = _post(
        client,
        f"/content/{item_id}",
        {"title": "Changed", "destination_url": "https://www.example.com/other", "text_x": ["New"]},
    )
    assert response.status_code == 409
    assert "The destination is fixed once an item is published" in response.get_data(as_text=True)
    with app.app_context():
        item = db.session.get(ContentItem, item_id)
        assert item.title == "Kept"
        assert [t.text for t in item.templates] == ["Original"]


def test_image_upload_needs_rights_and_a_real_image(app, client, hr, media):
    def send(extra: dict):
        fields = {"csrf_token": csrf_token(client, "/me"), **FORM, **extra}
        return client.post("/content/new", **multipart(fields))

    response = send({"image": (png_bytes(), "photo.png"), "image_credit": "Jana"})
    assert response.status_code == 422
    assert 'id="image_rights_confirmed-error"' in response.get_data(as_text=True)
    response = send(
        {
            "image": (b"GIF89a" + b"\x00" * 10, "photo.png"),
            "image_credit": "J",
            "image_rights_confirmed": "on",
        }
    )
    assert response.status_code == 422
    assert "Upload a PNG, JPEG or WebP image." in response.get_data(as_text=True)
    response = send(
        {
            "image": (b"\xff\xd8\xff" + b"0" * (2 * 1024 * 1024), "big.jpg"),
            "image_credit": "J",
            "image_rights_confirmed": "on",
        }
    )
    assert response.status_code == 422
    assert "larger than 2 MB" in response.get_data(as_text=True)
    with app.app_context():
        assert _count(ContentItem) == 0
    assert list(media.iterdir()) == []

    response = send(
        {
            "image": (JPEG, "photo.jpg"),
            "image_credit": "Photo: Jana",
            "image_rights_confirmed": "on",
        }
    )
    assert response.status_code == 302
    with app.app_context():
        item = db.session.scalar(select(ContentItem))
        assert item.image_filename.endswith(".jpg")
        item_id, filename = item.id, item.image_filename
    page = client.get(f"/content/{item_id}").get_data(as_text=True)
    assert f'src="/media/{filename}"' in page
    served = client.get(f"/media/{filename}")
    assert served.data == JPEG
    served.close()
    response = _post(client, f"/content/{item_id}", {**FORM, "remove_image": "on"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(ContentItem, item_id).image_filename is None


def test_publish_refusal_shows_the_problem(app, client, hr):
    with app.app_context():
        item_id = ContentItemFactory(
            draft=True, destination_url="https://analysts.example.net/r"
        ).id
    page = client.get(f"/content/{item_id}").get_data(as_text=True)
    assert "analysts.example.net is not on the allow-list" in page
    response = _post(client, f"/content/{item_id}/publish", {})
    assert response.status_code == 422
    assert "This item cannot be published yet" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(ContentItem, item_id).status == ContentStatus.DRAFT
    assert "analysts.example.net is not on the allow-list" in client.get("/content").get_data(
        as_text=True
    )


def test_archive_and_delete(app, client, hr):
    with app.app_context():
        live = ContentItemFactory().id
        draft = ContentItemFactory(draft=True).id
    assert _post(client, f"/content/{live}/delete", {}).status_code == 409
    assert _post(client, f"/content/{live}/archive", {}).status_code == 302
    assert _post(client, f"/content/{draft}/delete", {}).status_code == 302
    assert _post(client, "/content/999999/publish", {}).status_code == 404
    with app.app_context():
        assert db.session.scalars(select(ContentItem.status)).all() == [ContentStatus.ARCHIVED]
        assert _count(ShareTemplate) == 0


def test_forms_need_the_csrf_token(app, client, hr):
    response = client.post("/content/new", data=FORM)
    assert response.status_code == 400
    with app.app_context():
        assert _count(ContentItem) == 0


def test_allow_list_page(app, client, hr):
    response = _post(client, "/allowed-domains", {"domain": "Careers.Example.org"})
    assert response.status_code == 302
    assert "careers.example.org and its subdomains are allowed now." in client.get(
        "/allowed-domains"
    ).get_data(as_text=True)
    for bad, status in [
        ("https://x.org/", 422),
        ("nonsense", 422),
        ("careers.example.org", 409),
        ("", 422),
    ]:
        response = _post(client, "/allowed-domains", {"domain": bad})
        assert response.status_code == status
        assert 'id="domain-error"' in response.get_data(as_text=True)
    with app.app_context():
        assert _count(AllowedDomain) == 2
        row_id = db.session.scalar(
            select(AllowedDomain.id).where(AllowedDomain.domain == "example.com")
        )
    assert _post(client, f"/allowed-domains/{row_id}/delete", {}).status_code == 302
    assert _post(client, "/allowed-domains/999999/delete", {}).status_code == 404
    with app.app_context():
        assert db.session.scalars(select(AllowedDomain.domain)).all() == ["careers.example.org"]
