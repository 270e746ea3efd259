"""/api/v1/content: HR curates content items, their share texts and images."""

from __future__ import annotations

import io

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import ContentItem, ContentStatus, Role, ShareTemplate
from tests.factories import AllowedDomainFactory, TabooTopicFactory, TeamFactory
from tests.integration.test_content import JPEG, png_bytes
from tests.web.api_support import (
    INVALID_JSON,
    MISSING,
    UNKNOWN,
    bearer_caller,
    count,
    forbidden,
    invalid,
    pagination,
    session_caller,
)


def multipart(fields: dict[str, str | tuple[bytes, str]]) -> dict:
    """A multipart body built by hand: for bodies over 500 KB the test client spools to
    a temporary file it never closes (a ResourceWarning, an error under our settings)."""
    boundary = "chorus-test-boundary"
    parts = []
    for name, value in fields.items():
        if isinstance(value, tuple):
            data, filename = value
            head = f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            head += "Content-Type: application/octet-stream\r\n\r\n"
        else:
            data, head = value.encode(), f'Content-Disposition: form-data; name="{name}"\r\n\r\n'
        parts.append(f"--{boundary}\r\n{head}".encode() + data + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


BODY = {"title": "Our new office", "destination_url": "https://www.example.com/office"}


@pytest.fixture
def hr(app: Flask):
    with app.app_context():
        AllowedDomainFactory(domain="example.com")
    return bearer_caller(app, Role.HR, team=None)


@pytest.fixture
def media(app: Flask, tmp_path):
    app.config["MEDIA_FOLDER"] = str(tmp_path)
    yield tmp_path
    app.config.pop("MEDIA_FOLDER")


def created(hr, **extra) -> dict:
    response = hr.post("/api/v1/content", json={**BODY, **extra})
    assert response.status_code == 201, response.json
    return response.json


def items(app: Flask) -> list[tuple[str, ContentStatus]]:
    with app.app_context():
        rows = db.session.execute(select(ContentItem.title, ContentItem.status)).all()
        return [tuple(r) for r in rows]


@pytest.mark.parametrize("make_caller", [session_caller, bearer_caller])
def test_create_a_draft(app: Flask, make_caller):
    with app.app_context():
        AllowedDomainFactory(domain="example.com")
        team = TeamFactory(name="Sales").id
    caller = make_caller(app, Role.HR, team=None)
    response = caller.post(
        "/api/v1/content",
        json={
            **BODY,
            "tags": ["Careers ", "careers"],
            "team_ids": [team],
            "campaign_hashtag": "#Office",
            "templates": [{"channel": "linkedin", "text": "Come and visit!"}],
        },
    )
    assert response.status_code == 201
    body = response.json
    assert body["status"] == "draft"
    assert body["tags"] == ["careers"]
    assert body["team_ids"] == [team]
    assert body["destination_problem"] is None
    assert body["image_url"] is None
    assert [(t["channel"], t["text"]) for t in body["templates"]] == [
        ("linkedin", "Come and visit!")
    ]


CREATE_REFUSALS = [
    ("{}", 422, invalid({"destination_url": MISSING, "title": MISSING})),
    ('{"title": "T"', 400, INVALID_JSON),
    (
        '{"title": "T", "destination_url": 5}',
        422,
        invalid({"destination_url": ["Not a valid string."]}),
    ),
    (
        '{"title": "T", "destination_url": "https://www.example.com/", "status": "published"}',
        422,
        invalid({"status": UNKNOWN}),
    ),
    (
        '{"title": "T", "destination_url": "https://evil.com/"}',
        422,
        invalid(
            {
                "destination_url": [
                    "evil.com is not on the allow-list of domains; HR can add it there."
                ]
            },
            "evil.com is not on the allow-list of domains; HR can add it there.",
        ),
    ),
    (
        '{"title": "T", "destination_url": "https://www.example.com@evil.com/"}',
        422,
        invalid(
            {"destination_url": ["The address may not contain a user name or password."]},
            "The address may not contain a user name or password.",
        ),
    ),
    (
        '{"title": "T", "destination_url": "javascript:alert(1)"}',
        422,
        invalid(
            {"destination_url": ["Only http:// and https:// addresses can be shared."]},
            "Only http:// and https:// addresses can be shared.",
        ),
    ),
    (
        '{"title": "T", "destination_url": "https://www.example.com/",'
        ' "valid_from": "2026-01-01T10:00:00"}',
        422,
        invalid({"valid_from": ["Not a valid aware datetime."]}),
    ),
    (
        '{"title": "T", "destination_url": "https://www.example.com/",'
        ' "templates": [{"channel": "myspace", "text": "x"}]}',
        422,
        None,
    ),
    (
        '{"title": "T", "destination_url": "https://www.example.com/", "team_ids": [999999]}',
        404,
        None,
    ),
]


@pytest.mark.parametrize(("body", "status", "expected"), CREATE_REFUSALS)
def test_bad_new_items_create_nothing(app: Flask, hr, body, status, expected):
    response = hr.raw("POST", "/api/v1/content", body)
    assert response.status_code == status
    if expected is not None:
        assert response.json == expected
    assert items(app) == []


def test_a_taboo_share_text_is_refused_with_its_explanation(app: Flask, hr):
    with app.app_context():
        TabooTopicFactory(name="Figures", explanation="Ask Investor Relations.", phrases=["EBIT"])
    response = hr.post(
        "/api/v1/content",
        json={**BODY, "templates": [{"channel": "x", "text": "Our EBIT rocks"}]},
    )
    assert response.status_code == 422
    problem = "“EBIT” touches Figures: Ask Investor Relations."
    assert response.json["errors"] == {"templates": {"0": {"text": [problem]}}}
    assert items(app) == []


def test_list_filter_get_and_change(app: Flask, hr):
    first = created(hr, title="Alpha", tags=["job"])
    created(hr, title="Beta")
    response = hr.get("/api/v1/content?tag=job")
    assert [i["title"] for i in response.json] == ["Alpha"]
    assert pagination(response)["total"] == 1
    assert [i["title"] for i in hr.get("/api/v1/content").json] == ["Beta", "Alpha"]
    assert hr.get("/api/v1/content?status=nope").status_code == 422
    assert hr.get(f"/api/v1/content/{first['id']}").json["title"] == "Alpha"
    response = hr.patch(
        f"/api/v1/content/{first['id']}", json={"title": "Alpha 2", "featured": True}
    )
    assert response.status_code == 200
    assert (response.json["title"], response.json["featured"]) == ("Alpha 2", True)


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ('{"title": ""}', 422, "title"),
        ('{"title": "T"', 400, "json"),
        ('{"destination_url": "https://evil.com"}', 422, "destination_url"),
        ('{"campaign_hashtag": "no hash"}', 422, "campaign_hashtag"),
        ('{"created_at": "2026-01-01T00:00:00Z"}', 422, "created_at"),
        ('{"interest_ids": [999999]}', 404, "interest_ids"),
    ],
)
def test_bad_changes_change_nothing(app: Flask, hr, body, status, field):
    item = created(hr)
    response = hr.raw("PATCH", f"/api/v1/content/{item['id']}", body)
    assert response.status_code == status
    assert field in response.json["errors"]
    after = hr.get(f"/api/v1/content/{item['id']}").json
    assert after == item


def test_publish_archive_and_delete(app: Flask, hr):
    item = created(hr)
    response = hr.post(f"/api/v1/content/{item['id']}/publish")
    assert response.status_code == 200
    assert response.json["status"] == "published"
    assert response.json["published_at"] is not None
    assert hr.delete(f"/api/v1/content/{item['id']}").status_code == 409
    response = hr.patch(
        f"/api/v1/content/{item['id']}", json={"destination_url": "https://www.example.com/x"}
    )
    assert response.status_code == 409
    assert hr.post(f"/api/v1/content/{item['id']}/archive").json["status"] == "archived"
    draft = created(hr, title="Draft")
    assert hr.delete(f"/api/v1/content/{draft['id']}").status_code == 204
    assert items(app) == [("Our new office", ContentStatus.ARCHIVED)]


def test_publishing_an_item_off_the_allow_list_is_refused(app: Flask, hr):
    item = created(hr)
    domain_id = hr.get("/api/v1/allowed-domains").json[0]["id"]
    assert hr.delete(f"/api/v1/allowed-domains/{domain_id}").status_code == 204
    assert hr.get(f"/api/v1/content/{item['id']}").json["destination_problem"] == (
        "www.example.com is not on the allow-list of domains; HR can add it there."
    )
    response = hr.post(f"/api/v1/content/{item['id']}/publish")
    assert response.status_code == 422
    assert "destination_url" in response.json["errors"]
    assert items(app) == [("Our new office", ContentStatus.DRAFT)]


def test_image_upload(app: Flask, hr, media):
    item = created(hr)
    url = f"/api/v1/content/{item['id']}/image"
    upload = {"file": (io.BytesIO(png_bytes()), "photo.png")}
    response = hr.put(url, data=upload, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "image_rights_confirmed" in response.json["errors"]
    hr.patch(
        f"/api/v1/content/{item['id']}",
        json={"image_credit": "Photo: Jana Roth", "image_rights_confirmed": True},
    )
    upload = {"file": (io.BytesIO(JPEG), "photo.png")}  # the name lies; the bytes decide
    response = hr.put(url, data=upload, content_type="multipart/form-data")
    assert response.status_code == 200
    image_url = response.json["image_url"]
    assert image_url.startswith("/media/")
    assert image_url.endswith(".jpg")
    served = hr.client.get(image_url)  # a bearer caller's client has no session
    assert served.status_code == 302  # to the sign-in page
    employee = session_caller(app, Role.EMPLOYEE)
    served = employee.get(image_url)
    assert served.status_code == 200
    assert served.data == JPEG
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    served.close()  # the file response holds the file open until closed
    assert employee.get("/media/..%2F..%2Fetc%2Fpasswd").status_code == 404
    assert employee.get("/media/" + "0" * 64 + ".png").status_code == 404
    response = hr.delete(url)
    assert response.json["image_url"] is None


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"file": (b"GIF89a" + b"\x00" * 20, "a.gif")}, "Upload a PNG, JPEG or WebP image."),
        ({"file": (b"<svg/>", "a.png")}, "Upload a PNG, JPEG or WebP image."),
        (
            {"file": (b"\x89PNG\r\n\x1a\n" + b"0" * (2 * 1024 * 1024), "big.png")},
            "The image is larger than 2 MB.",
        ),
        ({"other": "x"}, None),
    ],
)
def test_bad_uploads_change_nothing(app: Flask, hr, media, data, problem):
    item = created(hr, image_credit="Me", image_rights_confirmed=True)
    response = hr.put(f"/api/v1/content/{item['id']}/image", **multipart(data))
    assert response.status_code == 422
    if problem:
        assert response.json["errors"] == {"image": [problem]}
    else:
        assert response.json["errors"] == {"file": MISSING}
    assert list(media.iterdir()) == []
    assert hr.get(f"/api/v1/content/{item['id']}").json["image_url"] is None


def test_share_templates(app: Flask, hr):
    item = created(hr)
    base = f"/api/v1/content/{item['id']}/templates"
    response = hr.post(base, json={"channel": "x", "text": "Short"})
    assert response.status_code == 201
    template = response.json
    assert hr.post(base, json={"channel": "x", "text": "y" * 300}).status_code == 422
    assert hr.post(base, json={"channel": "fax", "text": "y"}).status_code == 422
    assert hr.raw("POST", base, '{"channel": "x"').status_code == 400
    response = hr.patch(f"{base}/{template['id']}", json={"text": "Shorter"})
    assert response.json["text"] == "Shorter"
    assert [t["text"] for t in hr.get(base).json] == ["Shorter"]
    assert hr.patch(f"{base}/999999", json={"text": "x"}).status_code == 404
    assert hr.delete(f"{base}/{template['id']}").status_code == 204
    assert count(app, ShareTemplate) == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/content/999999"),
        ("PATCH", "/api/v1/content/999999"),
        ("DELETE", "/api/v1/content/999999"),
        ("POST", "/api/v1/content/999999/publish"),
        ("POST", "/api/v1/content/999999/archive"),
        ("GET", "/api/v1/content/999999/templates"),
    ],
)
def test_unknown_items_are_404(app: Flask, hr, method, path):
    response = hr.open(method, path, json={} if method == "PATCH" else None)
    assert response.status_code == 404
    assert response.json["message"] == "No content item with id 999999."


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v1/content", None),
        ("POST", "/api/v1/content", BODY),
        ("PATCH", "/api/v1/content/{id}", {"title": "Hacked"}),
        ("POST", "/api/v1/content/{id}/publish", None),
        ("DELETE", "/api/v1/content/{id}", None),
        ("POST", "/api/v1/content/{id}/templates", {"channel": "x", "text": "hi"}),
    ],
)
@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.TEAM_LEAD])
def test_content_is_for_hr(app: Flask, hr, role, method, path, body):
    item = created(hr)
    response = session_caller(app, role).open(method, path.format(id=item["id"]), json=body)
    assert response.status_code == 403
    assert response.json == forbidden(Role.HR)
    assert items(app) == [("Our new office", ContentStatus.DRAFT)]
    assert count(app, ShareTemplate) == 0
