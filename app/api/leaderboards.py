"""Leaderboards over the API: company and team boards by week, month and all time.

Board reads are the API's most frequent call (dashboards, screens and chat bots poll
them), and Flask's request machinery (hooks, sign-in, flask-smorest, webargs) costs more
than the read itself. So, like the tracked link, they have a fast lane: a WSGI
middleware in front of the app answers ``GET`` with a bearer token whose owner Redis
still knows, in an app context alone. It answers only what it can answer exactly as the
routes below would: a session cookie, a token Redis does not know, a weaker role, a
query that does not validate or any error take the full route, which answers them
(and fills the token cache). The role comes from the route's own ``@requires_role``; the
body from the same ``board_json``. Tests hold the two ways equal.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType
from urllib.parse import parse_qsl

from flask import Flask, Response, jsonify
from flask.views import MethodView
from marshmallow import EXCLUDE, ValidationError
from werkzeug.datastructures import EnvironHeaders
from werkzeug.exceptions import HTTPException

from app import logs
from app.api import api_blueprint, caller
from app.auth import bearer_secret, requires_role
from app.errors import ChorusError
from app.models import Employee, Role
from app.schemas import BoardQuerySchema, BoardViewSchema, board_view_json
from app.services import tokens
from app.services.leaderboards import Scope, Viewer, view_board
from scoring.windows import Window

bp = api_blueprint(
    "leaderboards",
    "/leaderboards",
    "Company and team boards by week, month and all time; hidden people see only their own points.",
)
# One instance for every request: given the class, webargs would build one per request.
BOARD_QUERY = BoardQuerySchema()
log = logging.getLogger("chorus.leaderboards")


def board_json(
    viewer: Employee | Viewer, scope: Scope, query: dict, team_id: int | None = None
) -> dict:
    view = view_board(
        viewer,
        scope,
        Window(query["window"]),
        team_id=team_id,
        period=query["period"],
        offset=query["offset"],
        limit=query["limit"],
        around_me=query["around_me"],
    )
    return board_view_json(view)


@bp.route("/company")
class CompanyBoard(MethodView):
    scope = Scope.COMPANY

    @requires_role(Role.EMPLOYEE)
    @bp.arguments(BOARD_QUERY, location="query")
    @bp.response(200, BoardViewSchema)
    def get(self, query: dict) -> Response:
        """The company board"""
        return jsonify(board_json(caller(), self.scope, query))


@bp.route("/my-team")
class MyTeamBoard(MethodView):
    scope = Scope.TEAM

    @requires_role(Role.EMPLOYEE)
    @bp.arguments(BOARD_QUERY, location="query")
    @bp.response(200, BoardViewSchema)
    @bp.alt_response(404, response="NOT_FOUND", description="You are in no team")
    def get(self, query: dict) -> Response:
        """Your team's board: points count for the team you were in when you earned them"""
        return jsonify(board_json(caller(), self.scope, query))


@bp.route("/teams/<int:team_id>")
class TeamBoard(MethodView):
    scope = Scope.TEAM

    @requires_role(Role.EMPLOYEE)
    @bp.arguments(BOARD_QUERY, location="query")
    @bp.response(200, BoardViewSchema)
    @bp.alt_response(404, response="NOT_FOUND")
    def get(self, query: dict, team_id: int) -> Response:
        """A team's board"""
        return jsonify(board_json(caller(), self.scope, query, team_id))


@lru_cache(maxsize=512)
def board_query(query_string: str) -> Mapping | None:
    """The query as the routes' webargs would load it (the first of repeated keys,
    unknown keys left out), or None when it does not validate. Dashboards repeat the
    same few queries, and the answer depends on the string alone: kept per string."""
    args: dict[str, str] = {}
    for key, value in parse_qsl(query_string, keep_blank_values=True):
        args.setdefault(key, value)
    try:
        return MappingProxyType(BOARD_QUERY.load(args, unknown=EXCLUDE))  # shared: read-only
    except ValidationError:
        return None


class BoardLane:
    """WSGI middleware: board reads with a known bearer token, without the request
    machinery; everything else goes on to the app."""

    def __init__(self, app: Flask, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app
        self.prefix = f"{bp.url_prefix}/"
        # Matching a path reads the map and changes nothing: one adapter for all threads.
        self.routes = app.url_map.bind("")

    def __call__(self, environ, start_response):
        if (
            environ.get("REQUEST_METHOD") != "GET"
            or not environ.get("PATH_INFO", "").startswith(self.prefix)
            or "HTTP_COOKIE" in environ  # a session's call: the full route checks it
        ):
            return self.wsgi_app(environ, start_response)
        started = time.perf_counter()
        with self.app.app_context():
            try:
                answer = self._answer(environ)
            except Exception:  # Redis away, say: the full route answers, as the app would
                log.exception("board lane failed; the full route answers")
                answer = None
        if answer is None:
            return self.wsgi_app(environ, start_response)
        body, rule, user_id = answer
        request_id = logs.request_id(EnvironHeaders(environ))
        start_response(
            "200 OK",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(body))),
                ("X-Request-ID", request_id),
            ],
        )
        logs.log_request(
            request_id=request_id,
            method="GET",
            route=rule.rule,
            endpoint=rule.endpoint,
            status=200,
            started=started,
            user_id=user_id,
        )
        return [body]

    def _answer(self, environ):
        secret = bearer_secret(environ.get("HTTP_AUTHORIZATION", ""))
        if secret is None:
            return None
        try:
            rule, args = self.routes.match(environ["PATH_INFO"], "GET", return_rule=True)
        except HTTPException:
            return None
        view = getattr(self.app.view_functions.get(rule.endpoint), "view_class", None)
        if view is None or getattr(view, "scope", None) is None:
            return None
        owner = tokens.kept_owner(secret)
        if owner is None or not owner["role"].includes(view.get.required_role):
            return None
        query = board_query(environ.get("QUERY_STRING", ""))
        if query is None:
            return None
        viewer = Viewer(owner["id"], owner["team_id"])
        try:
            data = board_json(viewer, view.scope, query, args.get("team_id"))
        except ChorusError:  # a team that is gone, say: the full route words the answer
            return None
        # jsonify's compact form; unsorted, which no JSON reader minds.
        body = (json.dumps(data, separators=(",", ":")) + "\n").encode()
        return body, rule, str(viewer.id)


@bp.record_once
def _install_lane(state) -> None:
    state.app.wsgi_app = BoardLane(state.app, state.app.wsgi_app)
