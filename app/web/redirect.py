"""``GET /l/<token>``: the public tracked link, the hottest path in Chorus.

It verifies the signature (no database), records the raw click and finds the
destination in one Redis round trip, and answers 302. It loads no user (the session's
user id is enough to flag the owner's own clicks), writes no SQL and enqueues no job:
the click worker does the rest later. Nothing in the request can change the target.

Tracked links have no Flask route: ``TrackedLinks`` is a fast path that ``create_app``
puts in front of the app (``app.fast_paths``), since Flask's request hooks there (rate
limiter, CSRF, sign-in cookie refresh) cost more than the redirect itself and do
nothing for it. It claims every GET and HEAD under /l/; a tampered, invented or deleted
link gets this page's 404, never the app-wide one.
"""

from __future__ import annotations

from flask import Flask

from app.client_ip import resolve_client_ip
from app.fast_paths import Answer
from app.links import share_id_from_token
from app.services import click_capture

PREFIX = "/l/"
ROUTE = "/l/<path:token>"


def record_click(app: Flask, incoming) -> str | None:
    """Record a click on the link ``incoming`` asks for; its destination, or None for a
    tampered, invented or deleted link."""
    share_id = share_id_from_token(incoming.path[len(PREFIX) :], app)
    if share_id is None:
        return None
    return click_capture.record_raw_click(
        share_id,
        client_ip=resolve_client_ip(
            incoming.remote_addr,
            incoming.headers.get("X-Forwarded-For"),
            app.config["TRUSTED_PROXIES"],
        ),
        user_agent=incoming.headers.get("User-Agent", ""),
        head=incoming.method == "HEAD",
        session_user_id=_session_user_id(app, incoming),
    )


def _session_user_id(app: Flask, incoming) -> str | None:
    if app.config["SESSION_COOKIE_NAME"] not in incoming.cookies:
        return None
    opened = app.session_interface.open_session(app, incoming)
    user_id = opened.get("_user_id") if opened is not None else None
    return user_id.partition(":")[0] if user_id else None  # "id:session epoch"


def _redirect_headers(destination: str) -> list[tuple[str, str]]:
    # Every click must reach us to be counted; no cache may answer for us.
    return [("Location", destination), ("Cache-Control", "no-store"), ("Content-Length", "0")]


class TrackedLinks:
    """The fast path of tracked links: GET and HEAD under /l/."""

    endpoint = "tracked_link"  # for the log line: there is no Flask endpoint
    route = ROUTE  # for the log line: never the path, which holds the token

    def __init__(self, app: Flask):
        self.app = app

    def claims(self, environ: dict) -> bool:
        return environ.get("PATH_INFO", "").startswith(PREFIX) and environ.get(
            "REQUEST_METHOD"
        ) in ("GET", "HEAD")

    def answer(self, environ: dict) -> Answer:
        incoming = self.app.request_class(environ)
        head = incoming.method == "HEAD"
        destination = record_click(self.app, incoming)
        if destination:
            return Answer("302 FOUND", _redirect_headers(destination), b"", self.endpoint, ROUTE)
        page = self._not_found_page(environ)
        headers = [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Length", str(len(page))),
            ("Cache-Control", "no-store"),
        ]
        return Answer("404 NOT FOUND", headers, page, self.endpoint, ROUTE, head=head)

    def _not_found_page(self, environ: dict) -> bytes:
        # Rendered without Flask's context processors: Flask-Login's would load the
        # signed-in user from the database, and a tampered link must not reach it. A
        # request context for url_for; the 404 is not the hot path.
        with self.app.request_context(environ):
            template = self.app.jinja_env.get_template("redirect/not_found.html")
            return template.render().encode()
