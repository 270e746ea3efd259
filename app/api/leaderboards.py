"""Leaderboards over the API: company and team boards by week, month and all time.

Board reads are the API's most frequent call (dashboards, screens and chat bots poll
them), and Flask's request machinery (hooks, sign-in, flask-smorest, webargs) costs more
than the read itself. So, like the tracked link, they have a fast path
(``BoardReads``, composed in ``create_app``, see ``app.fast_paths``): ``GET`` with a
bearer token whose owner Redis still knows is answered in an app context alone. It
answers only what it can answer exactly as the routes below would: a session cookie, a
token Redis does not know, a weaker role or a query that does not validate take the
full route, which answers them (and fills the token cache); an error goes to the app's
error handling as raised. The role comes from the route's own ``@requires_role``; the
body from the same ``board_json``. Tests hold the two ways equal.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType
from urllib.parse import parse_qsl

from flask import Flask, Response, jsonify
from flask.views import MethodView
from marshmallow import EXCLUDE, ValidationError
from werkzeug.exceptions import HTTPException

from app.api.support import api_blueprint, caller
from app.auth import bearer_secret, requires_role
from app.errors import ChorusError
from app.fast_paths import Answer
from app.models import Employee, Role
from app.schemas.leaderboards import BoardQuerySchema, BoardViewSchema, board_view_json
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


class BoardReads:
    """The fast path of board reads: GET under the boards' prefix with a bearer token
    whose owner Redis still knows, and no cookie (a session's call: the full route
    checks it). Anything it cannot answer exactly as the route would goes on to it."""

    endpoint = "leaderboards"
    route = f"{bp.url_prefix}/..."  # for a log line before a route is known

    def __init__(self, app: Flask):
        self.app = app
        self.prefix = f"{bp.url_prefix}/"
        # Matching a path reads the map and changes nothing: one adapter for all threads.
        self.routes = app.url_map.bind("")

    def claims(self, environ: dict) -> bool:
        return (
            environ.get("REQUEST_METHOD") == "GET"
            and environ.get("PATH_INFO", "").startswith(self.prefix)
            and "HTTP_COOKIE" not in environ
        )

    def answer(self, environ: dict) -> Answer | None:
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
        if owner is None or not owner.role.includes(view.get.required_role):
            return None
        query = board_query(environ.get("QUERY_STRING", ""))
        if query is None:
            return None
        viewer = Viewer(owner.id, owner.team_id)
        try:
            data = board_json(viewer, view.scope, query, args.get("team_id"))
        except ChorusError:  # a team that is gone, say: the full route words the answer
            return None
        # jsonify's compact form; unsorted, which no JSON reader minds.
        body = (json.dumps(data, separators=(",", ":")) + "\n").encode()
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        return Answer("200 OK", headers, body, rule.endpoint, rule.rule, str(viewer.id))
