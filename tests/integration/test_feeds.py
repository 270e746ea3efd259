"""Inbound feeds: a local RSS file served over real HTTP, imported through RQ."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from app.errors import Conflict, InvalidInput
from app.extensions import db, get_redis
from app.jobs import SCHEDULE, import_all_feeds
from app.models import ContentItem, ContentStatus, FeedEntry, InboundFeed, Role
from app.queue import enqueue
from app.services import content
from app.services import inbound_feeds as feeds
from tests.factories import AllowedDomainFactory, EmployeeFactory, InboundFeedFactory

RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel>
  <title>Example news</title><link>https://example.com/</link><description>News</description>
  <item>
    <title>We opened an office in Leipzig</title>
    <link>https://example.com/news/leipzig</link>
    <guid>urn:example:1</guid>
    <description>&lt;p&gt;Forty new &lt;b&gt;jobs&lt;/b&gt; &amp;amp; a caf&amp;eacute;.&lt;/p&gt;
      &lt;script&gt;alert(1)&lt;/script&gt;</description>
  </item>
  <item>
    <title>Industry report 2026</title>
    <link>https://analysts.example.net/report</link>
    <guid>urn:example:2</guid>
    <description>What the analysts say.</description>
  </item>
  <item>
    <title>Duplicate guid in the same document</title>
    <link>https://example.com/news/dup</link>
    <guid>urn:example:1</guid>
  </item>
  <item>
    <title>No web link</title>
    <link>mailto:press@example.com</link>
    <guid>urn:example:3</guid>
  </item>
</channel></rss>
"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Atom news</title><id>urn:atom</id><updated>2026-01-01T00:00:00Z</updated>
  <entry>
    <title type="html">Atom &lt;em&gt;entry&lt;/em&gt;</title>
    <id>urn:atom:1</id><updated>2026-01-01T00:00:00Z</updated>
    <link href="https://example.com/atom/1"/>
    <summary>Short summary</summary>
  </entry>
</feed>
"""


class FeedServer:
    """A real HTTP server on loopback; each path answers what the test set."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, bytes, dict[str, str]]] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append((self.path, dict(self.headers)))
                status, body, headers = server.routes.get(self.path, (404, b"Not here", {}))
                etag = headers.get("ETag")
                if etag and self.headers.get("If-None-Match") == etag:
                    status, body = 304, b""
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"


@pytest.fixture
def server() -> Iterator[FeedServer]:
    running = FeedServer()
    running.thread.start()
    yield running
    running.httpd.shutdown()
    running.httpd.server_close()


@pytest.fixture
def hr(ctx):
    AllowedDomainFactory(domain="example.com")
    return EmployeeFactory(role=Role.HR)


def feed_at(url: str, **attributes) -> int:
    return InboundFeedFactory(url=url, **attributes).id


def drafts() -> list[ContentItem]:
    db.session.expire_all()
    return list(db.session.scalars(select(ContentItem).order_by(ContentItem.id)))


def reload(feed_id: int) -> InboundFeed:
    db.session.expire_all()
    return db.session.get(InboundFeed, feed_id)


def test_import_twice_makes_one_draft_per_entry(hr, server, run_jobs):
    server.routes["/news.rss"] = (200, RSS, {"Content-Type": "application/rss+xml"})
    feed_id = feed_at(server.url("/news.rss"))

    assert feeds.request_fetch(reload(feed_id))
    run_jobs()
    first = drafts()
    assert [(i.title, i.destination_url, i.status) for i in first] == [
        ("We opened an office in Leipzig", "https://example.com/news/leipzig", ContentStatus.DRAFT),
        ("Industry report 2026", "https://analysts.example.net/report", ContentStatus.DRAFT),
    ]
    assert first[0].summary == "Forty new jobs & a café."  # HTML and scripts stripped
    feed = reload(feed_id)
    assert feed.last_fetched_at is not None
    assert feed.last_error is None

    # Run again (another job id, as the schedule would), and twice at once.
    enqueue("app.jobs.import_feed", feed_id, job_id="again-1")
    enqueue("app.jobs.import_feed", feed_id, job_id="again-2")
    run_jobs()
    assert [i.id for i in drafts()] == [i.id for i in first]
    guids = db.session.scalars(select(FeedEntry.guid).order_by(FeedEntry.guid)).all()
    assert guids == ["urn:example:1", "urn:example:2"]
    entry_content = db.session.scalars(select(FeedEntry.content_id).order_by(FeedEntry.guid)).all()
    assert entry_content == [i.id for i in first]


def test_new_entries_arrive_later(hr, server, run_jobs):
    server.routes["/news.rss"] = (200, RSS, {})
    feed_id = feed_at(server.url("/news.rss"))
    assert feeds.import_feed(feed_id) == 2
    server.routes["/news.rss"] = (200, RSS.replace(b"urn:example:2", b"urn:example:9"), {})
    assert feeds.import_feed(feed_id) == 1
    assert len(drafts()) == 3


def test_an_atom_feed(hr, server):
    server.routes["/atom.xml"] = (200, ATOM, {"Content-Type": "application/atom+xml"})
    feed_id = feed_at(server.url("/atom.xml"))
    assert feeds.import_feed(feed_id) == 1
    [item] = drafts()
    assert (item.title, item.summary, item.destination_url) == (
        "Atom entry",
        "Short summary",
        "https://example.com/atom/1",
    )


def test_conditional_requests_use_the_stored_etag(hr, server):
    server.routes["/news.rss"] = (
        200,
        RSS,
        {"ETag": '"v1"', "Last-Modified": "Mon, 05 Jan 2026 10:00:00 GMT"},
    )
    feed_id = feed_at(server.url("/news.rss"))
    assert feeds.import_feed(feed_id) == 2
    feed = reload(feed_id)
    assert (feed.etag, feed.modified) == ('"v1"', "Mon, 05 Jan 2026 10:00:00 GMT")
    assert feeds.import_feed(feed_id) == 0  # 304 Not Modified
    _, headers = server.requests[-1]
    assert headers["If-None-Match"] == '"v1"'
    assert headers["If-Modified-Since"] == "Mon, 05 Jan 2026 10:00:00 GMT"
    assert reload(feed_id).last_error is None
    assert len(drafts()) == 2


@pytest.mark.parametrize(
    ("path", "route", "problem"),
    [
        ("/missing.rss", None, "The server answered 404"),
        ("/broken.rss", (500, b"oops", {}), "The server answered 500"),
        ("/html", (200, b"<html><body><p>Not a feed</body></html>", {}), "not an RSS or Atom feed"),
        ("/garbage", (200, b"\x00\x01 not xml at all <<<", {}), "not an RSS or Atom feed"),
        ("/huge", (200, b" " * (5 * 1024 * 1024 + 1), {}), "larger than 5 MB"),
    ],
)
def test_a_failing_feed_keeps_its_error(hr, server, run_jobs, path, route, problem):
    if route is not None:
        server.routes[path] = route
    feed_id = feed_at(server.url(path))
    feeds.request_fetch(reload(feed_id))
    run_jobs()
    feed = reload(feed_id)
    assert problem in feed.last_error
    assert feed.last_error_at is not None
    assert drafts() == []
    # The job itself finished: nothing waits in RQ's failed registry.
    from app.queue import queue

    assert queue("default").failed_job_registry.count == 0
    # A later success clears the error.
    server.routes[path] = (200, RSS, {})
    feeds.import_feed(feed_id)
    assert reload(feed_id).last_error is None


def test_an_unreachable_feed_keeps_its_error(hr):
    feed_id = feed_at("http://127.0.0.1:9/feed.xml")  # the discard port: nothing listens
    assert feeds.import_feed(feed_id) == 0
    assert "could not be reached" in reload(feed_id).last_error


def test_a_draft_from_another_domain_cannot_be_published_until_fixed(hr, server):
    server.routes["/news.rss"] = (200, RSS, {})
    feeds.import_feed(feed_at(server.url("/news.rss")))
    report = next(i for i in drafts() if "analysts" in i.destination_url)
    with pytest.raises(InvalidInput) as refused:
        content.publish(hr, report)
    assert "analysts.example.net is not on the allow-list" in refused.value.message
    content.add_domain(hr, "example.net")
    content.publish(hr, report)
    assert report.status == ContentStatus.PUBLISHED


def test_inactive_feeds_are_skipped(hr, server, run_jobs):
    server.routes["/news.rss"] = (200, RSS, {})
    feed_id = feed_at(server.url("/news.rss"), active=False)
    with pytest.raises(Conflict):
        feeds.request_fetch(reload(feed_id))
    assert feeds.import_feed(feed_id) == 0
    assert server.requests == []


def test_import_all_feeds_queues_each_active_feed_once_per_slot(hr, server, run_jobs):
    server.routes["/a.rss"] = (200, RSS, {})
    server.routes["/b.rss"] = (200, ATOM, {})
    feed_at(server.url("/a.rss"))
    feed_at(server.url("/b.rss"))
    feed_at(server.url("/off.rss"), active=False)
    assert ("app.jobs.import_all_feeds", "default", 1800) in SCHEDULE
    assert feeds.enqueue_all_feeds(now=3600.0) == 2
    assert feeds.enqueue_all_feeds(now=3700.0) == 0  # the same slot: queued already
    run_jobs()
    assert len(drafts()) == 3
    import_all_feeds()  # the scheduled job itself
    run_jobs()
    assert len(drafts()) == 3
    assert sorted(p for p, _ in server.requests).count("/off.rss") == 0


def test_fetch_now_is_once_a_minute(hr, server):
    feed = reload(feed_at(server.url("/news.rss")))
    assert feeds.request_fetch(feed, now=600.0)
    assert not feeds.request_fetch(feed, now=650.0)
    assert feeds.request_fetch(feed, now=661.0)
    assert len(get_redis().keys("rq:job:import-feed-*")) == 2


@pytest.mark.parametrize(
    "url", ["", "ftp://example.com/feed", "file:///etc/passwd", "example.com/feed", "http://"]
)
def test_feed_addresses_must_be_web_addresses(hr, url):
    with pytest.raises(InvalidInput):
        feeds.create_feed(hr, name="News", url=url)
    assert db.session.scalar(select(func.count()).select_from(InboundFeed)) == 0


def test_a_feed_is_registered_once(hr):
    feeds.create_feed(hr, name="News", url="https://example.com/feed.xml")
    with pytest.raises(Conflict):
        feeds.create_feed(hr, name="Again", url="https://example.com/feed.xml")


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("<p>Hello <b>world</b></p>", "Hello world"),
        ("a<br>b", "a b"),
        ("Fish &amp; chips", "Fish & chips"),
        ("<style>p{}</style>Visible<script>hidden()</script>", "Visible"),
        ("  lots \n of   space ", "lots of space"),
        ("", ""),
    ],
)
def test_strip_html(markup, text):
    assert feeds.strip_html(markup) == text
