"""``GET /l/<token>``: the public tracked link, the hottest path in Chorus.

It verifies the signature (no database), records the raw click and finds the
destination in one Redis round trip, and answers 302. It loads no user (the session's
user id is enough to flag the owner's own clicks), writes no SQL and enqueues no job:
the click worker does the rest later. Nothing in the request can change the target.

The route is registered like any other (for ``url_for``, the role matrix and as a
fallback), but requests for it take a WSGI fast lane installed in front of the app:
Flask's request hooks there (rate limiter, CSRF, sign-in cookie refresh) cost more than
the redirect itself and do nothing for it. The lane keeps the app and request context,
the error handling and the request log line.
"""

from __future__ import annotations

import logging
import time

from flask import Blueprint, Flask, current_app, make_response, request
from werkzeug.wrappers import Response

from app import logs
from app.auth import public
from app.client_ip import resolve_client_ip
from app.extensions import limiter
from app.links import share_id_from_token
from app.services import click_capture

bp = Blueprint("links", __name__)
log = logging.getLogger("chorus.links")
PREFIX = "/l/"
ROUTE = "/l/<path:token>"


def _not_found() -> Response:
    # Rendered without Flask's context processors: Flask-Login's would load the
    # signed-in user from the database, and a tampered link must not reach it.
    page = current_app.jinja_env.get_template("redirect/not_found.html").render()
    response = make_response(page, 404)
    response.headers["Cache-Control"] = "no-store"
    return response


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


# <path:...>: whatever follows /l/ gets this 404 page, never the app-wide one. Requests
# normally take the fast lane below; this route names the URL and answers without it.
@bp.get(ROUTE)
@limiter.exempt
@public
def follow(token: str):
    destination = record_click(current_app, request)
    if not destination:
        return _not_found()
    return Response(status=302, headers=_redirect_headers(destination))


class FastLane:
    """WSGI middleware for GET and HEAD under /l/. A click on a genuine link is
    answered in an app context with no request context: no URL adapter, no session
    unless a cookie came, no request hooks. Anything else (404, an error) goes through
    a full request context and the app's handlers, like any request."""

    def __init__(self, app: Flask, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if not path.startswith(PREFIX) or environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return self.wsgi_app(environ, start_response)
        started = time.perf_counter()
        incoming = self.app.request_class(environ)
        with self.app.app_context():
            try:
                destination = record_click(self.app, incoming)
            except Exception:  # Redis away, say: the app's error page answers
                log.exception("tracked link failed")
                return self._through_app(environ, start_response, started, failed=True)
        if destination is None:
            return self._through_app(environ, start_response, started)
        request_id = logs.request_id(incoming.headers)
        # Headers straight to the server: a werkzeug Response would spend a quarter of
        # the request checking and encoding them.
        start_response("302 FOUND", [*_redirect_headers(destination), ("X-Request-ID", request_id)])
        _log_request(request_id, incoming.method, 302, started)
        return [b""]

    def _through_app(self, environ, start_response, started: float, failed: bool = False):
        with self.app.request_context(environ):
            if failed:
                response = self.app.make_response(
                    self.app.handle_exception(RuntimeError("tracked link failed"))
                )
            else:
                response = _not_found()
            request_id = logs.request_id(request.headers)
            response.headers["X-Request-ID"] = request_id
            _log_request(request_id, request.method, response.status_code, started)
            return response(environ, start_response)


def _log_request(request_id: str, method: str, status: int, started: float) -> None:
    # Never the path, which holds the token.
    logs.log_request(
        request_id=request_id,
        method=method,
        route=ROUTE,
        endpoint="links.follow",
        status=status,
        started=started,
        user_id=None,
    )


@bp.record_once
def _install_fast_lane(state) -> None:
    state.app.wsgi_app = FastLane(state.app, state.app.wsgi_app)
