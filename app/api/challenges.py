"""Share challenges: everyone reads the ones they are in, with the standings they may
see (frozen: no ranks for employees; HR and admins see live standings); team leads run
them for their own team, HR for the company, chosen teams, or team against team."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters

from app.api.support import api_blueprint, caller, paginate_select
from app.auth import requires_role
from app.models import Role
from app.schemas.challenges import (
    ChallengeBoardQuerySchema,
    ChallengeBoardSchema,
    ChallengeDetailSchema,
    ChallengeInputSchema,
    ChallengeListQuerySchema,
    ChallengeSchema,
    ChallengeTakingPartSchema,
    ChallengeUpdateSchema,
)
from app.services import challenges

bp = api_blueprint(
    "challenges",
    "/challenges",
    "Share challenges: time-boxed contests on shares, counted clicks, referral stages or "
    "points, with a live board, a freeze, prizes, and settled results sealed by a digest.",
)


@bp.route("")
class Challenges(MethodView):
    @requires_role(Role.EMPLOYEE)
    @bp.arguments(ChallengeListQuerySchema, location="query")
    @bp.response(200, ChallengeSchema(many=True))
    @bp.paginate()
    def get(self, query: dict, pagination_parameters: PaginationParameters) -> list[dict]:
        """The challenges you see: those of your team and the company's (HR and admins:
        all). Running ones by their end, upcoming by their start, finished newest first"""
        viewer = caller()
        found = paginate_select(
            challenges.list_visible(viewer, query["phase"]), pagination_parameters
        )
        return [challenges.describe(challenge, viewer) for challenge in found]

    @requires_role(Role.TEAM_LEAD)
    @bp.arguments(ChallengeInputSchema)
    @bp.response(201, ChallengeSchema)
    def post(self, data: dict) -> dict:
        """Start a challenge

        A team lead runs one for exactly their own team (``scope: teams`` with their
        team's id); HR for the company, chosen teams, or team against team (two teams
        or more, team mode). The start may not lie in the past (an hour's grace), the
        end must come after it. Prizes name an active badge or catalogue reward, or
        bonus points (at most 100,000), for a place or (``place: null``) for everyone
        who qualifies; one prize of a kind per place.
        """
        actor = caller()
        return challenges.describe(challenges.create_challenge(actor, data), actor)


@bp.route("/<int:challenge_id>")
class ChallengeById(MethodView):
    @requires_role(Role.EMPLOYEE)
    @bp.arguments(ChallengeBoardQuerySchema, location="query")
    @bp.response(200, ChallengeDetailSchema)
    @bp.alt_response(404, response="NOT_FOUND")
    def get(self, query: dict, challenge_id: int) -> dict:
        """A challenge and its standings as you may see them

        While it is frozen, employees and team leads get ``frozen: true``, no rows and
        no rank of their own (their own total stays); HR and admins see live standings.
        """
        viewer = caller()
        challenge = challenges.get_visible(viewer, challenge_id)
        view = challenges.standings(challenge, viewer, limit=query["limit"], offset=query["offset"])
        return {
            "challenge": challenges.describe(challenge, viewer),
            "standings": challenges.board_of(view),
        }

    @requires_role(Role.TEAM_LEAD)
    @bp.arguments(ChallengeUpdateSchema)
    @bp.response(200, ChallengeSchema)
    @bp.alt_response(404, response="NOT_FOUND")
    @bp.alt_response(
        409,
        response="CONFLICT",
        description="Locked: started (only title, description, a later end and added "
        "prizes may change), or frozen, settled or cancelled (nothing may)",
    )
    def patch(self, data: dict, challenge_id: int) -> dict:
        """Change a challenge (HR any; a team lead their own team's)"""
        actor = caller()
        challenge = challenges.get_visible(actor, challenge_id)
        challenges.update_challenge(actor, challenge, data)
        return challenges.describe(challenge, actor)


@bp.route("/<int:challenge_id>/cancel")
class Cancellation(MethodView):
    @requires_role(Role.TEAM_LEAD)
    @bp.response(200, ChallengeSchema)
    @bp.alt_response(404, response="NOT_FOUND")
    @bp.alt_response(409, response="CONFLICT", description="Settled or cancelled already")
    def post(self, challenge_id: int) -> dict:
        """Call a challenge off: no placings, no prizes. Of a cancel and a settlement at
        the same moment only one happens"""
        actor = caller()
        challenge = challenges.get_visible(actor, challenge_id)
        return challenges.describe(challenges.cancel_challenge(actor, challenge), actor)


@bp.route("/<int:challenge_id>/decline")
class Declining(MethodView):
    @requires_role(Role.EMPLOYEE)
    @bp.response(200, ChallengeTakingPartSchema)
    @bp.alt_response(404, response="NOT_FOUND")
    @bp.alt_response(409, response="CONFLICT", description="Not your team's, or final")
    def post(self, challenge_id: int) -> dict:
        """Decline a challenge: taking part is voluntary. You leave its board and your
        team's count; declining again changes nothing"""
        employee = caller()
        changed = challenges.decline(employee, challenges.get_visible(employee, challenge_id))
        return {"declined": True, "changed": changed}

    @requires_role(Role.EMPLOYEE)
    @bp.response(200, ChallengeTakingPartSchema)
    @bp.alt_response(404, response="NOT_FOUND")
    @bp.alt_response(409, response="CONFLICT", description="Not your team's, or final")
    def delete(self, challenge_id: int) -> dict:
        """Take part again"""
        employee = caller()
        changed = challenges.rejoin(employee, challenges.get_visible(employee, challenge_id))
        return {"declined": False, "changed": changed}


@bp.route("/<int:challenge_id>/board")
class Board(MethodView):
    @requires_role(Role.EMPLOYEE)
    @bp.arguments(ChallengeBoardQuerySchema, location="query")
    @bp.response(200, ChallengeBoardSchema)
    @bp.alt_response(404, response="NOT_FOUND")
    def get(self, query: dict, challenge_id: int) -> dict:
        """A page of the standings (``limit``, ``offset``), as on the challenge page"""
        viewer = caller()
        challenge = challenges.get_visible(viewer, challenge_id)
        view = challenges.standings(challenge, viewer, limit=query["limit"], offset=query["offset"])
        return challenges.board_of(view)
