"""The intranet's Atom feed and widget under a secret address, and the HR page that
makes and revokes those addresses."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, ContentItem, IntranetLink, Role, Team, utcnow
from app.services import intranet
from tests.conftest import csrf_token, sql_statements
from tests.factories import ContentItemFactory, EmployeeFactory, InterestFactory, TeamFactory
from tests.web.api_support import count

ATOM = "{http://www.w3.org/2005/Atom}"
PAGE = "/intranet-links"
WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


def _link(app: Flask, team_name: str | None = None) -> tuple[str, int]:
    """A new link (for the named team, made here, or the company): its secret and id."""
    with app.app_context():
        team_id = TeamFactory(name=team_name).id if team_name else None
        link, secret = intranet.create_link(EmployeeFactory(role=Role.HR), team_id)
        db.session.commit()
        return secret, link.id


def _item(
    app: Flask,
    title: str,
    hours_ago: int = 1,
    team: str | None = None,
    interest: bool = False,
    **attributes,
):
    with app.app_context():
        if team:
            attributes["target_teams"] = [db.session.scalar(select(Team).where(Team.name == team))]
        if interest:
            attributes["target_interests"] = [InterestFactory()]
        return ContentItemFactory(
            title=title, published_at=utcnow() - timedelta(hours=hours_ago), **attributes
        ).id


def _parse(response) -> ET.Element:
    return ET.fromstring(response.data)  # noqa: S314 - our own answer, not untrusted


# The Atom feed -------------------------------------------------------------------


def test_the_feed_is_atom_with_an_entry_per_item_linking_to_its_share_dialog(app, client):
    secret, _ = _link(app, "Sales")
    older = _item(app, "Our new wind farm", hours_ago=3)
    newer = _item(app, 'Sales & "more" <b>news</b>\x0b', hours_ago=1, team="Sales")
    _item(app, "For the Careers fans", interest=True)
    _item(app, "Unfinished", draft=True)
    response = client.get(f"/intranet/{secret}/feed.atom")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    assert response.headers["Cache-Control"] == "private, no-cache"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.data.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    feed = _parse(response)
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}title") == "Chorus: content to share for Sales"
    assert feed.findtext(f"{ATOM}id").startswith("tag:localhost,")
    assert feed.find(f"{ATOM}author/{ATOM}name").text
    self_link = feed.find(f"{ATOM}link[@rel='self']").get("href")
    assert self_link == f"http://localhost/intranet/{secret}/feed.atom"
    entries = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == [
        'Sales & "more" <b>news</b>',  # escaped in the XML, whole again once parsed
        "Our new wind farm",
    ]
    for entry, content_id in zip(entries, [newer, older], strict=True):
        assert entry.findtext(f"{ATOM}id").startswith("tag:localhost,")
        assert entry.findtext(f"{ATOM}id").endswith(f":content/{content_id}")
        alternate = entry.find(f"{ATOM}link[@rel='alternate']").get("href")
        assert alternate == f"http://localhost/content/{content_id}/share"
        assert entry.findtext(f"{ATOM}summary") == "What we built, and why it matters."
        assert entry.findtext(f"{ATOM}updated")
    assert feed.findtext(f"{ATOM}updated") == max(e.findtext(f"{ATOM}updated") for e in entries)
    assert b"&lt;b&gt;" in response.data


def test_entry_ids_stay_the_same_when_an_item_is_edited(app, client):
    secret, _ = _link(app)
    content_id = _item(app, "First title")
    first = _parse(client.get(f"/intranet/{secret}/feed.atom")).find(f"{ATOM}entry")
    with app.app_context():
        db.session.get(ContentItem, content_id).title = "Second title"
        db.session.commit()
    second = _parse(client.get(f"/intranet/{secret}/feed.atom")).find(f"{ATOM}entry")
    assert second.findtext(f"{ATOM}title") == "Second title"
    assert second.findtext(f"{ATOM}id") == first.findtext(f"{ATOM}id")


def test_an_empty_feed_is_still_valid_atom(app, client):
    secret, _ = _link(app)
    feed = _parse(client.get(f"/intranet/{secret}/feed.atom"))
    assert feed.findall(f"{ATOM}entry") == []
    assert feed.findtext(f"{ATOM}updated")


def test_following_an_entry_signed_out_goes_through_sign_in_to_the_share_dialog(
    app, client, run_jobs, outbox
):
    secret, _ = _link(app)
    content_id = _item(app, "Our new wind farm")
    with app.app_context():
        EmployeeFactory(email="lena@example.com", opted_in=True)
    feed = _parse(client.get(f"/intranet/{secret}/feed.atom"))
    share = feed.find(f"{ATOM}entry/{ATOM}link[@rel='alternate']").get("href")
    path = urlsplit(share).path
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/sign-in?next=/content/{content_id}/share"
    form = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'name="next" value="/content/{content_id}/share"' in form
    client.post(
        "/sign-in",
        data={
            "email": "lena@example.com",
            "next": f"/content/{content_id}/share",
            "csrf_token": csrf_token(client),
        },
    )
    run_jobs()
    link = re.search(r"http://localhost(/sign-in/\S+)", outbox[-1].get_content()).group(1)
    assert link.endswith(f"?next=/content/{content_id}/share")
    confirm = client.get(link).get_data(as_text=True)
    token = re.search(r'action="(/sign-in/[^"]+)"', confirm).group(1)
    signed_in = client.post(
        token,
        data={"next": f"/content/{content_id}/share", "csrf_token": csrf_token(client, link)},
    )
    assert signed_in.headers["Location"] == f"/content/{content_id}/share"
    dialog = client.get(signed_in.headers["Location"])
    assert dialog.status_code == 200
    assert "Our new wind farm" in dialog.get_data(as_text=True)


# The widget ----------------------------------------------------------------------


def test_the_widget_lists_the_same_items_with_share_links_and_no_script(app, client):
    secret, _ = _link(app, "Sales")
    _item(app, "Our new wind farm", hours_ago=3)
    sales = _item(app, "Sales <wins>", hours_ago=1, team="Sales")
    _item(app, "Expired", valid_until=utcnow() - timedelta(minutes=1))
    response = client.get(f"/intranet/{secret}/widget")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "<script" not in page.lower()
    assert not re.search(r"<[^>]+\son\w+=", page)  # no inline event handlers either
    assert "<form" not in page
    titles = re.findall(r"<h2>(.*?)</h2>", page)
    assert titles == ["Sales &lt;wins&gt;", "Our new wind farm"]
    shares = re.findall(r'<a class="share" href="([^"]+)" target="_blank" rel="noopener"', page)
    assert shares[0] == f"http://localhost/content/{sales}/share"
    assert len(shares) == 2
    assert "csrf" not in page  # nothing of a session in a page others frame
    assert "Set-Cookie" not in response.headers


def test_the_widget_may_be_framed_where_the_setting_says(app, client, monkeypatch):
    secret, _ = _link(app)
    response = client.get(f"/intranet/{secret}/widget")
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors *" in policy
    assert "default-src 'none'" in policy
    assert "script-src" not in policy  # none at all: default-src 'none'
    assert "X-Frame-Options" not in response.headers
    monkeypatch.setitem(
        app.config, "INTRANET_FRAME_ANCESTORS", "https://intranet.example.com 'self'"
    )
    response = client.get(f"/intranet/{secret}/widget")
    assert response.headers["Content-Security-Policy"].endswith(
        "frame-ancestors https://intranet.example.com 'self'"
    )


def test_an_unchanged_answer_is_a_304(app, client):
    secret, _ = _link(app)
    _item(app, "Our new wind farm")
    for path in (f"/intranet/{secret}/widget", f"/intranet/{secret}/feed.atom"):
        first = client.get(path)
        etag = first.headers["ETag"]
        again = client.get(path, headers={"If-None-Match": etag})
        assert (again.status_code, again.data) == (304, b"")
    _item(app, "Another story")
    changed = client.get(f"/intranet/{secret}/widget", headers={"If-None-Match": etag})
    assert changed.status_code == 200


# Unknown and revoked addresses ---------------------------------------------------


@pytest.mark.parametrize("kind", ["unknown", "revoked", "malformed"])
def test_an_address_that_opens_nothing_is_a_404_and_writes_nothing(app, client, kind):
    secret, link_id = _link(app)
    _item(app, "Our new wind farm")
    if kind == "revoked":
        with app.app_context():
            link = db.session.get(IntranetLink, link_id)
            intranet.revoke_link(link.created_by, link)
            db.session.commit()
    else:
        secret = {"unknown": "A" * 43, "malformed": "not-a-secret"}[kind]
    with sql_statements(app) as statements:
        feed = client.get(f"/intranet/{secret}/feed.atom")
        widget = client.get(f"/intranet/{secret}/widget")
    assert [s for s in statements if WRITES.match(s)] == []
    assert (feed.status_code, feed.mimetype) == (404, "text/plain")
    assert b"unknown or was revoked" in feed.data
    assert (widget.status_code, widget.mimetype) == (404, "text/html")
    page = widget.get_data(as_text=True)
    assert "no longer offered here" in page
    assert "Our new wind farm" not in page
    assert "<script" not in page
    assert "frame-ancestors" in widget.headers["Content-Security-Policy"]
    with app.app_context():
        assert intranet.last_read([link_id]) == {}


def test_reading_a_live_link_writes_nothing_to_the_database(app, client):
    secret, link_id = _link(app)
    _item(app, "Our new wind farm")
    with sql_statements(app) as statements:
        assert client.get(f"/intranet/{secret}/feed.atom").status_code == 200
        assert client.get(f"/intranet/{secret}/widget").status_code == 200
    assert [s for s in statements if WRITES.match(s)] == []
    with app.app_context():
        assert list(intranet.last_read([link_id])) == [link_id]


def test_misses_are_rate_limited_per_address_and_reads_are_not(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "INTRANET_MISS_RATE_LIMIT", "3 per minute")
    secret, _ = _link(app)
    for _ in range(5):  # a whole company behind one proxy reads freely
        assert client.get(f"/intranet/{secret}/widget").status_code == 200
    statuses = [client.get(f"/intranet/{'B' * 43}/feed.atom").status_code for _ in range(4)]
    assert statuses == [404, 404, 404, 429]


# The HR page ---------------------------------------------------------------------


def test_hr_makes_a_link_sees_its_addresses_once_and_revokes_it(app, client, login):
    hr = login(Role.HR, name="Sabine Meyer")
    with app.app_context():
        team_id = TeamFactory(name="Sales").id
    page = client.get("/intranet-links")
    assert page.status_code == 200
    assert "No links yet." in page.get_data(as_text=True)
    made = client.post(
        "/intranet-links", data={"team_id": str(team_id), "csrf_token": csrf_token(client, PAGE)}
    )
    assert made.status_code == 201
    assert made.headers["Cache-Control"] == "no-store"
    html = made.get_data(as_text=True)
    widget = re.search(r'id="widget-url" readonly value="([^"]+)"', html).group(1)
    feed = re.search(r'id="feed-url" readonly value="([^"]+)"', html).group(1)
    snippet = re.search(
        r"id=\"iframe-snippet\" readonly data-select-on-focus\s+value='([^']+)'", html
    )
    assert unescape(snippet.group(1)).startswith(f'<iframe src="{widget}" title="Content to share"')
    secret = re.fullmatch(r"http://localhost/intranet/([\w-]+)/widget", widget).group(1)
    assert feed == f"http://localhost/intranet/{secret}/feed.atom"
    assert client.get(urlsplit(widget).path).status_code == 200
    listing = client.get("/intranet-links").get_data(as_text=True)
    assert secret not in listing  # shown once, then only its first characters
    assert f"<code>{secret[:6]}…</code>" in listing
    assert "by Sabine Meyer" in listing
    assert "not yet" not in listing  # it was just read
    with app.app_context():
        link_id = db.session.scalar(select(IntranetLink.id))
    revoked = client.post(
        f"/intranet-links/{link_id}/revoke", data={"csrf_token": csrf_token(client, PAGE)}
    )
    assert revoked.status_code == 302
    assert client.get(urlsplit(widget).path).status_code == 404
    listing = client.get("/intranet-links").get_data(as_text=True)
    assert "revoked" in listing
    assert "The intranet link for Sales is revoked" in listing
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEntry.action).where(AuditEntry.actor_id == hr.id).order_by(AuditEntry.id)
        ).all()
    assert actions == ["intranet_link.create", "intranet_link.revoke"]


def test_a_deleted_teams_link_is_not_listed_as_the_companys(app, client, login):
    login(Role.HR)
    _link(app, "Sales")
    with app.app_context():
        from app.services import people

        team = db.session.scalar(select(Team).where(Team.name == "Sales"))
        people.delete_team(None, team)
        db.session.commit()
    listing = client.get(PAGE).get_data(as_text=True)
    assert "<td>The whole company</td>" not in listing
    # PostgreSQL deleted the link with the team; SQLite keeps the row, revealing nothing.
    assert "<td>A deleted team</td>" in listing or "No links yet." in listing


def test_a_company_link_is_the_default(app, client, login):
    login(Role.HR)
    made = client.post(
        "/intranet-links", data={"team_id": "", "csrf_token": csrf_token(client, PAGE)}
    )
    assert made.status_code == 201
    assert "the link for <strong>the whole company</strong>" in made.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(IntranetLink.team_id)) is None


@pytest.mark.parametrize(
    ("team_id", "problem"),
    [("987654", "No team with id 987654."), ("Sales", "Not a valid integer.")],
    ids=["unknown-team", "not-a-number"],
)
def test_bad_input_on_the_page_is_a_422_naming_the_field_and_changes_nothing(
    app, client, login, team_id, problem
):
    login(Role.HR)
    response = client.post(
        "/intranet-links", data={"team_id": team_id, "csrf_token": csrf_token(client, PAGE)}
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'<p class="field-error" id="team_id-error">{problem}</p>' in html
    assert 'id="team_id" name="team_id" aria-invalid="true"' in html
    assert count(app, IntranetLink) == 0
    assert count(app, AuditEntry) == 0


def test_revoking_an_unknown_link_on_the_page_is_a_404(app, client, login):
    login(Role.HR)
    response = client.post(
        "/intranet-links/987654/revoke", data={"csrf_token": csrf_token(client, PAGE)}
    )
    assert response.status_code == 404
    assert count(app, AuditEntry) == 0


def test_the_page_form_needs_the_csrf_token(app, client, login):
    login(Role.HR)
    response = client.post("/intranet-links", data={"team_id": ""})
    assert response.status_code == 400
    assert count(app, IntranetLink) == 0


def test_employees_and_team_leads_may_not_make_links(app, client, login):
    login(Role.TEAM_LEAD)
    assert client.get(PAGE).status_code == 403
    token = csrf_token(client, "/badges")
    response = client.post(PAGE, data={"team_id": "", "csrf_token": token})
    assert response.status_code == 403
    assert count(app, IntranetLink) == 0
