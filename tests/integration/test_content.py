"""The content hub's services: the allow-list, destinations, images, share texts and
publishing, against the real database."""

from __future__ import annotations

import struct
import zlib
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.errors import Conflict, InvalidInput, NotFound
from app.extensions import db
from app.models import AuditEntry, ContentItem, ContentStatus, Role, ShareTemplate, utcnow
from app.services import content, policy
from scoring.vocabulary import Channel
from tests.factories import (
    AllowedDomainFactory,
    ContentItemFactory,
    EmployeeFactory,
    InterestFactory,
    TabooTopicFactory,
    TeamFactory,
)


def png_bytes(width: int = 1, height: int = 1) -> bytes:
    """A real, tiny PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + b"\xff\x00\x00" * width)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + b"\x00" * 100
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 100


@pytest.fixture
def media(app, tmp_path):
    app.config["MEDIA_FOLDER"] = str(tmp_path / "media")
    yield tmp_path / "media"
    app.config.pop("MEDIA_FOLDER")


@pytest.fixture
def hr(ctx):
    AllowedDomainFactory(domain="example.com")
    return EmployeeFactory(role=Role.HR)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def new_item(hr, **data) -> ContentItem:
    fields = {"title": "Our new office", "destination_url": "https://example.com/news/1"}
    return content.create_content(hr, {**fields, **data})


# Domains -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("example.com", "example.com"),
        ("  Example.COM  ", "example.com"),
        ("careers.example.com.", "careers.example.com"),
        ("bücher.de", "xn--bcher-kva.de"),
        ("my-company.co.uk", "my-company.co.uk"),
    ],
)
def test_domains_are_normalised(typed, stored):
    assert content.normalize_domain(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "https://example.com",
        "example.com/path",
        "example.com:8080",
        "user@example.com",
        "example",
        "exa mple.com",
        "-example.com",
        "example-.com",
        "127.0.0.1",
        "example..com",
        "a" * 64 + ".com",
        "example.com?x",
    ],
)
def test_invalid_domains_are_refused(typed):
    with pytest.raises(InvalidInput) as refused:
        content.normalize_domain(typed)
    assert "domain" in refused.value.errors


def test_add_and_remove_domains(ctx):
    hr = EmployeeFactory(role=Role.HR)
    row = content.add_domain(hr, "News.Example.org")
    assert row.domain == "news.example.org"
    with pytest.raises(Conflict):
        content.add_domain(hr, "news.example.org")
    content.remove_domain(hr, row)
    db.session.flush()
    assert content.allowed_domains() == []
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["allowed_domain.add", "allowed_domain.remove"]


# Destinations ------------------------------------------------------------------------

DOMAINS = ["example.com", "partner.org"]


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com",
        "https://example.com/jobs?id=5#apply",
        "http://EXAMPLE.com/x",
        "https://careers.example.com/job/1",
        "https://a.b.example.com:8443/x",
        "https://example.com./trailing-dot",
        "https://partner.org/news",
    ],
)
def test_allowed_destinations(url):
    assert content.destination_problem(url, DOMAINS) is None


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("", "Enter the destination"),
        ("example.com/news", "Only http"),
        ("//evil.com/x", "Only http"),
        ("javascript:alert(1)", "Only http"),
        ("ftp://example.com/file", "Only http"),
        ("data:text/html,hi", "Only http"),
        ("https://evil.com/x", "evil.com is not on the allow-list"),
        ("https://example.com.evil.com/", "example.com.evil.com is not on the allow-list"),
        ("https://evilexample.com/", "evilexample.com is not on the allow-list"),
        ("https://example.com@evil.com/", "user name or password"),
        ("https://user:pw@example.com/", "user name or password"),
        ("https://example.com%40evil.com/", "not on the allow-list"),
        ("https://example.com\\@evil.com/", "backslashes"),
        ("https://evil.com\\.example.com/", "backslashes"),
        ("https://exa mple.com/", "spaces"),
        ("https://example.com/\nLocation: evil", "control characters"),
        ("https:///evil.com", "no host name"),
        ("https://", "no host name"),
        ("https://example.com:99999/", "Not a valid web address"),
        ("https://example.com:abc/", "Not a valid web address"),
        ("https://[::1]/", "not on the allow-list"),
        ("https://" + "a" * 2000 + ".example.com/", "longer than 2000"),
    ],
)
def test_refused_destinations(url, problem):
    found = content.destination_problem(url, DOMAINS)
    assert found is not None
    assert problem in found


# Images ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "extension"), [(png_bytes(), "png"), (JPEG, "jpg"), (WEBP, "webp")]
)
def test_images_are_recognised_by_their_bytes(data, extension):
    assert content.check_image(data) == extension


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "empty"),
        (b"GIF89a" + b"\x00" * 50, "PNG, JPEG or WebP"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "PNG, JPEG or WebP"),
        (b"%PDF-1.7", "PNG, JPEG or WebP"),
        (b"RIFF\x00\x00\x00\x00WAVE", "PNG, JPEG or WebP"),
        (png_bytes()[:7], "PNG, JPEG or WebP"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * (2 * 1024 * 1024), "larger than 2 MB"),
    ],
)
def test_bad_images_are_refused(data, problem):
    with pytest.raises(InvalidInput) as refused:
        content.check_image(data)
    assert problem in refused.value.message


def test_an_image_needs_credit_and_rights(hr, media):
    with pytest.raises(InvalidInput) as refused:
        content.create_content(
            hr,
            {"title": "T", "destination_url": "https://example.com/", "image_credit": "Jana"},
            image=png_bytes(),
        )
    assert "image_rights_confirmed" in refused.value.errors
    with pytest.raises(InvalidInput) as refused:
        content.create_content(
            hr,
            {
                "title": "T",
                "destination_url": "https://example.com/",
                "image_rights_confirmed": True,
            },
            image=png_bytes(),
        )
    assert "image_credit" in refused.value.errors
    db.session.rollback()
    assert count(ContentItem) == 0
    assert not media.exists() or list(media.iterdir()) == []  # nothing written when refused


def test_an_image_is_stored_under_its_hash(hr, media):
    data = png_bytes(2, 2)
    item = new_item(hr, image_credit="Photo: Jana Roth", image_rights_confirmed=True)
    content.update_content(hr, item, {}, image=data)
    db.session.commit()
    assert item.image_filename.endswith(".png")
    assert (media / item.image_filename).read_bytes() == data
    assert [p.name for p in media.iterdir()] == [item.image_filename]  # no temporary left
    content.remove_image(hr, item)
    db.session.commit()
    assert (item.image_filename, item.image_rights_confirmed, item.image_credit) == (
        None,
        False,
        None,
    )


# Content items -----------------------------------------------------------------------


def test_create_a_draft_with_everything(hr):
    team, interest = TeamFactory(name="Sales"), InterestFactory(name="Careers")
    item = new_item(
        hr,
        summary=" Read all about it ",
        tags=[" Careers", "careers", "JOB ", "", "#Culture"],
        team_ids=[team.id],
        interest_ids=[interest.id],
        campaign_hashtag="#TechDays",
        featured=True,
        templates=[
            {"channel": Channel.LINKEDIN, "text": "Proud of our new office. "},
            {"channel": Channel.LINKEDIN, "text": "Another way to say it."},
            {"channel": Channel.X, "text": "New office!"},
        ],
    )
    db.session.commit()
    assert item.status == ContentStatus.DRAFT
    assert item.published_at is None
    assert item.summary == "Read all about it"
    assert item.tag_names == ["careers", "culture", "job"]
    assert [t.name for t in item.target_teams] == ["Sales"]
    assert [i.name for i in item.target_interests] == ["Careers"]
    assert [(t.channel, t.text, t.position) for t in item.templates] == [
        (Channel.LINKEDIN, "Proud of our new office.", 0),
        (Channel.LINKEDIN, "Another way to say it.", 1),
        (Channel.X, "New office!", 2),
    ]
    assert db.session.scalar(select(AuditEntry.action)) == "content.create"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"destination_url": "https://evil.com/"}, "destination_url"),
        ({"destination_url": "https://example.com@evil.com/"}, "destination_url"),
        ({"title": "   "}, "title"),
        ({"campaign_hashtag": "TechDays"}, "campaign_hashtag"),
        ({"campaign_hashtag": "#Tech Days"}, "campaign_hashtag"),
        ({"campaign_hashtag": "#"}, "campaign_hashtag"),
        ({"tags": ["x" * 61]}, "tags"),
        ({"team_ids": [999999]}, "team_ids"),
        ({"interest_ids": [999999]}, "interest_ids"),
        ({"image_rights_confirmed": False, "image_credit": None}, None),  # no image: fine
    ],
)
def test_bad_items_are_refused(hr, data, field):
    if field is None:
        new_item(hr, **data)
        return
    with pytest.raises((InvalidInput, NotFound)) as refused:
        new_item(hr, **data)
    assert field in refused.value.errors


def test_valid_until_must_follow_valid_from(hr):
    now = utcnow()
    with pytest.raises(InvalidInput) as refused:
        new_item(hr, valid_from=now, valid_until=now)
    assert "valid_until" in refused.value.errors
    new_item(hr, valid_from=now, valid_until=now + timedelta(minutes=1))


def test_taboo_share_texts_are_refused_with_the_explanation(hr):
    TabooTopicFactory(
        name="Financial figures",
        explanation="Figures are published by Investor Relations first.",
        phrases=["quarterly revenue"],
    )
    with pytest.raises(InvalidInput) as refused:
        new_item(
            hr,
            templates=[
                {"channel": Channel.LINKEDIN, "text": "Fine text"},
                {"channel": Channel.X, "text": "Our Quarterly Revenue doubled!"},
            ],
        )
    problem = refused.value.errors["templates"]["1"]["text"][0]
    assert "Financial figures" in problem
    assert "Investor Relations" in problem
    assert "Quarterly Revenue" in problem
    assert "0" not in refused.value.errors["templates"]


def test_x_texts_count_the_disclosure_hashtag_and_link(hr):
    policy.share_policy().disclosure = "#employee"
    suffix = len(" #employee #TechDays") + 24  # X counts a link as 23, after a space
    fits = "a" * (280 - suffix)
    item = new_item(
        hr, campaign_hashtag="#TechDays", templates=[{"channel": Channel.X, "text": fits}]
    )
    db.session.commit()
    with pytest.raises(InvalidInput) as refused:
        content.update_content(
            hr, item, {"templates": [{"channel": Channel.X, "text": fits + "a"}]}
        )
    assert "281 characters" in refused.value.errors["templates"]["0"]["text"][0]
    db.session.rollback()
    # A longer hashtag makes the saved text too long: the change is refused too.
    item = db.session.get(ContentItem, item.id)
    with pytest.raises(InvalidInput):
        content.update_content(hr, item, {"campaign_hashtag": "#TechDays2025"})
    db.session.rollback()
    # LinkedIn allows the same text easily; e-mail has no limit.
    item = db.session.get(ContentItem, item.id)
    long_text = "b" * 4000
    content.update_content(
        hr,
        item,
        {"templates": [{"channel": Channel.EMAIL, "text": long_text}], "campaign_hashtag": None},
    )


def test_the_destination_is_fixed_once_published(hr):
    item = new_item(hr)
    content.update_content(hr, item, {"destination_url": "https://jobs.example.com/2"})
    content.publish(hr, item)
    content.update_content(hr, item, {"destination_url": "https://jobs.example.com/2"})  # same
    with pytest.raises(Conflict) as refused:
        content.update_content(hr, item, {"destination_url": "https://example.com/other"})
    assert "destination_url" in refused.value.errors


def test_publish_sets_published_at_and_archive(hr):
    item = new_item(hr)
    before = utcnow()
    content.publish(hr, item)
    assert item.status == ContentStatus.PUBLISHED
    assert item.published_at >= before
    first = item.published_at
    content.publish(hr, item)  # publishing again changes nothing
    assert item.published_at == first
    content.archive(hr, item)
    assert item.status == ContentStatus.ARCHIVED
    db.session.commit()
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["content.create", "content.publish", "content.archive"]


def test_publishing_refuses_a_destination_no_longer_allowed(hr):
    item = ContentItemFactory(draft=True, destination_url="https://elsewhere.net/story")
    with pytest.raises(InvalidInput) as refused:
        content.publish(hr, item)
    assert "elsewhere.net is not on the allow-list" in refused.value.errors["destination_url"][0]
    assert item.status == ContentStatus.DRAFT


def test_removing_a_domain_keeps_published_content(hr):
    item = new_item(hr)
    content.publish(hr, item)
    db.session.commit()
    content.remove_domain(hr, content.allowed_domains()[0])
    db.session.commit()
    item = db.session.get(ContentItem, item.id)
    assert item.status == ContentStatus.PUBLISHED
    assert item.destination_url == "https://example.com/news/1"
    content.update_content(hr, item, {"title": "Still editable"})  # other fields still edit


def test_publishing_refuses_expired_items_and_taboo_texts(hr):
    expired = new_item(
        hr, valid_from=utcnow() - timedelta(days=2), valid_until=utcnow() - timedelta(days=1)
    )
    with pytest.raises(InvalidInput) as refused:
        content.publish(hr, expired)
    assert "valid_until" in refused.value.errors
    item = new_item(hr, templates=[{"channel": Channel.LINKEDIN, "text": "Project Falcon soon"}])
    TabooTopicFactory(name="Products", phrases=["project falcon"])  # added after the text
    with pytest.raises(InvalidInput) as refused:
        content.publish(hr, item)
    assert "Products" in refused.value.errors["templates"][0]


def test_only_drafts_can_be_deleted(hr):
    draft = new_item(hr, templates=[{"channel": Channel.X, "text": "Hi"}])
    content.delete_content(hr, draft)
    db.session.flush()
    assert count(ContentItem) == 0
    assert count(ShareTemplate) == 0
    live = ContentItemFactory()
    with pytest.raises(Conflict):
        content.delete_content(hr, live)


def test_live_content_clause(hr):
    now = utcnow()
    live = ContentItemFactory(title="live")
    ContentItemFactory(title="draft", draft=True)
    ContentItemFactory(title="archived", status=ContentStatus.ARCHIVED)
    ContentItemFactory(title="future", valid_from=now + timedelta(hours=1))
    ContentItemFactory(title="expired", valid_until=now - timedelta(seconds=1))
    ContentItemFactory(
        title="window", valid_from=now - timedelta(hours=1), valid_until=now + timedelta(hours=1)
    )
    titles = db.session.scalars(
        select(ContentItem.title)
        .where(content.live_content_clause(now))
        .order_by(ContentItem.title)
    ).all()
    assert titles == [live.title, "window"]


def test_content_query_filters(hr):
    a = new_item(hr, title="Hiring 100% remote", tags=["job"])
    new_item(hr, title="Office party", summary="With cake")
    content.publish(hr, a)
    db.session.flush()

    def titles(**filters):
        return db.session.scalars(content.content_query(**filters)).all()

    assert [i.title for i in titles(status=ContentStatus.PUBLISHED)] == ["Hiring 100% remote"]
    assert [i.title for i in titles(q="CAKE")] == ["Office party"]
    assert [i.title for i in titles(q="100%")] == ["Hiring 100% remote"]
    assert [i.title for i in titles(q="%")] == ["Hiring 100% remote"]  # a literal percent
    assert [i.title for i in titles(tag="JOB")] == ["Hiring 100% remote"]
    assert len(titles()) == 2


def test_templates_one_at_a_time(hr):
    item = new_item(hr)
    template = content.add_template(hr, item, Channel.X, "  Short and sweet ")
    assert (template.text, template.position) == ("Short and sweet", 0)
    second = content.add_template(hr, item, Channel.X, "Another")
    assert second.position == 1
    content.update_template(hr, item, template, {"channel": Channel.LINKEDIN})
    assert template.channel == Channel.LINKEDIN
    with pytest.raises(InvalidInput) as refused:
        content.update_template(hr, item, template, {"channel": Channel.X, "text": "x" * 300})
    assert "text" in refused.value.errors
    with pytest.raises(NotFound):
        content.get_template(item, 999999)
    content.delete_template(hr, item, second)
    db.session.flush()
    assert [t.text for t in item.templates] == ["Short and sweet"]


def test_a_new_campaign_hashtag_drops_the_cached_links_of_its_shares(hr):
    from app.extensions import get_redis
    from app.services import click_capture as clicks
    from tests.factories import ShareFactory

    share = ShareFactory()
    other = ShareFactory()
    redis = get_redis()
    for one in (share, other):
        redis.set(clicks.link_key(one.id), "https://www.example.com/?utm_campaign=old")
    content.update_content(hr, share.content, {"campaign_hashtag": "#NewCampaign"})
    db.session.commit()
    assert not redis.exists(clicks.link_key(share.id))
    assert redis.exists(clicks.link_key(other.id))
