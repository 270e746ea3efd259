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
import uuid

from flask import Blueprint, Flask, current_app, make_response, request, session
from werkzeug.wrappers import Response

from app.auth import public
from app.client_ip import client_ip, resolve_client_ip
from app.extensions import limiter
from app.links import share_id_from_token
from app.logs import REQUEST_ID_PATTERN, request_log
from app.services import clicks

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


def follow_token(token: str) -> Response:
    share_id = share_id_from_token(token)
    if share_id is None:
        return _not_found()
    destination = clicks.record_raw_click(
        share_id,
        client_ip=client_ip(),
        user_agent=request.headers.get("User-Agent", ""),
        head=request.method == "HEAD",
        session_user_id=session.get("_user_id"),
    )
    if destination is None:
        return _not_found()
    response = Response(status=302)
    response.headers["Location"] = destination
    # Every click must reach us to be counted; no cache may answer for us.
    response.headers["Cache-Control"] = "no-store"
    return response


# <path:...>: whatever follows /l/ gets this 404 page, never the app-wide one.
@bp.get(ROUTE)
@limiter.exempt
@public
def follow(token: str):
    return follow_token(token)


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
        app = self.app
        share_id = share_id_from_token(path[len(PREFIX) :], app)
        if share_id is not None:
            incoming = app.request_class(environ)
            with app.app_context():
                try:
                    destination = clicks.record_raw_click(
                        share_id,
                        client_ip=resolve_client_ip(
                            incoming.remote_addr,
                            incoming.headers.get("X-Forwarded-For"),
                            app.config["TRUSTED_PROXIES"],
                        ),
                        user_agent=incoming.headers.get("User-Agent", ""),
                        head=incoming.method == "HEAD",
                        session_user_id=self._session_user_id(incoming),
                    )
                except Exception:  # Redis away, say: the app's error page answers
                    destination = None
                    log.exception("tracked link failed")
                    return self._through_app(environ, start_response, started, failed=True)
            if destination is not None:
                request_id = self._request_id(incoming)
                headers = [
                    ("Location", destination),
                    # Every click must reach us to be counted; no cache may answer for us.
                    ("Cache-Control", "no-store"),
                    ("Content-Length", "0"),
                    ("X-Request-ID", request_id),
                ]
                start_response("302 FOUND", headers)
                _log_request(request_id, incoming.method, 302, started)
                return [b""]
        return self._through_app(environ, start_response, started)

    def _session_user_id(self, incoming) -> str | None:
        if self.app.config["SESSION_COOKIE_NAME"] not in incoming.cookies:
            return None
        opened = self.app.session_interface.open_session(self.app, incoming)
        return opened.get("_user_id") if opened is not None else None

    @staticmethod
    def _request_id(incoming) -> str:
        given = incoming.headers.get("X-Request-ID", "")
        return given if REQUEST_ID_PATTERN.fullmatch(given) else uuid.uuid4().hex

    def _through_app(self, environ, start_response, started: float, failed: bool = False):
        with self.app.request_context(environ):
            if failed:
                response = self.app.make_response(
                    self.app.handle_exception(RuntimeError("tracked link failed"))
                )
            else:
                response = _not_found()
            request_id = self._request_id(request)
            response.headers["X-Request-ID"] = request_id
            _log_request(request_id, request.method, response.status_code, started)
            return response(environ, start_response)


def _log_request(request_id: str, method: str, status: int, started: float) -> None:
    # The same line the app's hook writes; never the path, which holds the token.
    request_log.info(
        "request",
        extra={
            "fields": {
                "request_id": request_id,
                "method": method,
                "route": ROUTE,
                "endpoint": "links.follow",
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "user_id": None,
            }
        },
    )


@bp.record_once
def _install_fast_lane(state) -> None:
    state.app.wsgi_app = FastLane(state.app, state.app.wsgi_app)
