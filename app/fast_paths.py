"""Fast paths: the few requests answered before Flask's request machinery.

Two requests are far more frequent than the rest and need little of what a Flask
request does: a click on a tracked link (``app.web.redirect``) and a board read with an
API token (``app.api.leaderboards``). For them, the request context, URL adapter,
session, request hooks, sign-in and argument parsing cost more than the answer itself.
``create_app`` composes them in front of the app, in so many words (``FastPaths``);
``FAST_LANES = False`` in the config leaves them out.

A lane says which requests it ``claims`` (a test of method and path, nothing more) and
``answer``s them in an app context, or hands them on to the app by answering None (it
then goes the ordinary way, through the routes, hooks and handlers). What lanes share
lives here, once: the request id, the one log line per request (``logs.log_request``,
the same as the app's own requests write), and errors: an exception in a lane reaches
Flask's error handling as it was raised, in a request context, as if a view had raised
it (logged, signalled, answered by the app's handlers).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from flask import Flask, request
from werkzeug.datastructures import EnvironHeaders

from app import logs


@dataclass(frozen=True)
class Answer:
    """A lane's whole answer; headers go straight to the server (a werkzeug Response
    would spend a good part of a fast request checking and encoding them)."""

    status: str  # "302 FOUND"
    headers: list[tuple[str, str]]
    body: bytes
    endpoint: str  # for the log line: the route's name, never the path
    route: str
    user_id: str | None = None
    head: bool = False  # a HEAD request: headers only, the length as for GET


class Lane(Protocol):
    endpoint: str
    route: str

    def claims(self, environ: dict) -> bool: ...

    def answer(self, environ: dict) -> Answer | None: ...


class FastPaths:
    """WSGI middleware: the first lane that claims a request answers it or hands it on."""

    def __init__(self, app: Flask, wsgi_app, lanes: Sequence[Lane]):
        self.app = app
        self.wsgi_app = wsgi_app
        self.lanes = tuple(lanes)

    def __call__(self, environ, start_response) -> Iterable[bytes]:
        lane = next((lane for lane in self.lanes if lane.claims(environ)), None)
        if lane is None:
            return self.wsgi_app(environ, start_response)
        started = time.perf_counter()
        with self.app.app_context():
            try:
                answer = lane.answer(environ)
            except Exception as error:  # as a view's would: Flask's error handling answers
                return self._failed(lane, error, environ, start_response, started)
        if answer is None:
            return self.wsgi_app(environ, start_response)
        request_id = logs.request_id(EnvironHeaders(environ))
        start_response(answer.status, [*answer.headers, ("X-Request-ID", request_id)])
        logs.log_request(
            request_id=request_id,
            method=environ["REQUEST_METHOD"],
            route=answer.route,
            endpoint=answer.endpoint,
            status=int(answer.status[:3]),
            started=started,
            user_id=answer.user_id,
        )
        return [b"" if answer.head else answer.body]

    def _failed(self, lane: Lane, error: Exception, environ, start_response, started: float):
        # Called inside the ``except`` block: Flask logs the exception being handled.
        with self.app.request_context(environ):
            response = self.app.make_response(self.app.handle_exception(error))
            request_id = logs.request_id(request.headers)
            response.headers["X-Request-ID"] = request_id
            rule = request.url_rule
            logs.log_request(
                request_id=request_id,
                method=request.method,
                route=rule.rule if rule is not None else lane.route,
                endpoint=request.endpoint or lane.endpoint,
                status=response.status_code,
                started=started,
                user_id=None,
            )
            return response(environ, start_response)
