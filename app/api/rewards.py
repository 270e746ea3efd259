"""The reward catalogue (managed by HR) and redemptions: employees redeem with an
idempotency key and may cancel while pending; HR approves, rejects and fulfils."""

from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.api.support import api_blueprint, caller, paginate_select
from app.auth import requires_role
from app.db import get_or_404
from app.errors import InvalidInput, NotFound
from app.models import Redemption, Reward, RewardKind, Role, TeamFunding
from app.schemas.content import ImageFileSchema
from app.schemas.rewards import (
    CatalogueSchema,
    DecisionSchema,
    FundingToFulfilSchema,
    PledgeRequestSchema,
    PledgeSchema,
    RedeemSchema,
    RedemptionQuerySchema,
    RedemptionSchema,
    RejectionSchema,
    RewardSchema,
    RewardUpdateSchema,
    TeamFundingSchema,
)
from app.services import redemptions, team_rewards

rewards_bp = api_blueprint(
    "rewards", "/rewards", "The non-monetary reward catalogue: HR manages it, employees read it."
)
pledges_bp = api_blueprint(
    "pledges",
    "",
    "Team rewards: members pledge points toward their team's funding of a reward; "
    "HR hands funded ones over.",
)
redemptions_bp = api_blueprint(
    "redemptions",
    "",
    "Spending points on rewards: redeem, follow, cancel; HR approves, rejects and fulfils.",
)


def _with_names(statement):
    return statement.options(
        selectinload(Redemption.reward), selectinload(Redemption.employee)
    ).order_by(Redemption.created_at.desc(), Redemption.id.desc())


# The catalogue ---------------------------------------------------------------------


@rewards_bp.route("")
class Rewards(MethodView):
    @requires_role(Role.HR)
    @rewards_bp.response(200, RewardSchema(many=True))
    @rewards_bp.paginate()
    def get(self, pagination_parameters: PaginationParameters) -> list[Reward]:
        """Every reward, active and retired, by name"""
        return paginate_select(select(Reward).order_by(Reward.name), pagination_parameters)

    @requires_role(Role.HR)
    @rewards_bp.arguments(RewardSchema)
    @rewards_bp.response(201, RewardSchema)
    @rewards_bp.alt_response(409, response="CONFLICT", description="The name is taken")
    def post(self, data: dict) -> Reward:
        """Add a reward to the catalogue"""
        reward = redemptions.create_reward(caller(), data)
        return reward


@rewards_bp.route("/<int:reward_id>")
class RewardById(MethodView):
    @requires_role(Role.HR)
    @rewards_bp.response(200, RewardSchema)
    @rewards_bp.alt_response(404, response="NOT_FOUND")
    def get(self, reward_id: int) -> Reward:
        """One reward"""
        return get_or_404(Reward, reward_id)

    @requires_role(Role.HR)
    @rewards_bp.arguments(RewardUpdateSchema)
    @rewards_bp.response(200, RewardSchema)
    @rewards_bp.alt_response(404, response="NOT_FOUND")
    @rewards_bp.alt_response(409, response="CONFLICT", description="The name is taken")
    def patch(self, data: dict, reward_id: int) -> Reward:
        """Change a reward; a new cost applies to redemptions from now on"""
        reward = get_or_404(Reward, reward_id)
        redemptions.update_reward(caller(), reward, data)
        return reward


@rewards_bp.route("/<int:reward_id>/retire")
class RewardRetirement(MethodView):
    @requires_role(Role.HR)
    @rewards_bp.response(200, RewardSchema)
    @rewards_bp.alt_response(404, response="NOT_FOUND")
    def post(self, reward_id: int) -> Reward:
        """Take a reward out of the catalogue; redemptions made go on as they are"""
        reward = redemptions.retire_reward(caller(), get_or_404(Reward, reward_id))
        return reward


@rewards_bp.route("/<int:reward_id>/image")
class RewardImage(MethodView):
    @requires_role(Role.HR)
    @rewards_bp.arguments(ImageFileSchema, location="files")
    @rewards_bp.response(200, RewardSchema)
    @rewards_bp.alt_response(404, response="NOT_FOUND")
    def put(self, upload: dict, reward_id: int) -> Reward:
        """Set the image: PNG, JPEG or WebP, at most 2 MB, stored like content images

        Needs ``image_credit`` and ``image_rights_confirmed: true`` on the reward first
        (PATCH the reward); without them the upload is refused.
        """
        reward = get_or_404(Reward, reward_id)
        return redemptions.set_image(caller(), reward, upload["file"])

    @requires_role(Role.HR)
    @rewards_bp.response(200, RewardSchema)
    @rewards_bp.alt_response(404, response="NOT_FOUND")
    def delete(self, reward_id: int) -> Reward:
        """Remove the image"""
        return redemptions.remove_image(caller(), get_or_404(Reward, reward_id))


@rewards_bp.route("/catalogue")
class Catalogue(MethodView):
    @requires_role(Role.EMPLOYEE)
    @rewards_bp.response(200, CatalogueSchema)
    def get(self) -> dict:
        """The rewards on offer, cheapest first, with your spendable points and whether
        each can be redeemed now (and why not)"""
        balance, entries = redemptions.catalogue(caller())
        return {"spendable": balance.spendable, "rewards": entries}


# Redemptions -----------------------------------------------------------------------


@redemptions_bp.route("/redemptions")
class Redemptions(MethodView):
    @requires_role(Role.EMPLOYEE)
    @redemptions_bp.arguments(RedeemSchema)
    @redemptions_bp.response(201, RedemptionSchema)
    @redemptions_bp.alt_response(
        200, schema=RedemptionSchema, success=True, description="This key was sent before"
    )
    @redemptions_bp.alt_response(404, response="NOT_FOUND")
    @redemptions_bp.alt_response(
        409,
        response="CONFLICT",
        description="Retired, out of stock, the per-person limit reached, not enough points, "
        "or the key was used for another reward",
    )
    def post(self, data: dict) -> tuple[Redemption, int]:
        """Redeem a reward

        Its cost is held from your spendable points at once (never from your lifetime
        points or rank) until HR fulfils it, or comes back when it is rejected or
        cancelled; a reward that needs no approval is approved at once. Outside the
        reward's availability window the answer is 422 naming the date.
        ``idempotency_key`` makes a retry safe: the same key answers 200 with
        the first redemption and changes nothing.
        """
        redemption, created = redemptions.redeem(
            caller(), data["reward_id"], data["idempotency_key"]
        )
        return redemption, 201 if created else 200

    @requires_role(Role.HR)
    @redemptions_bp.arguments(RedemptionQuerySchema, location="query")
    @redemptions_bp.response(200, RedemptionSchema(many=True))
    @redemptions_bp.paginate()
    def get(self, query: dict, pagination_parameters: PaginationParameters) -> list[Redemption]:
        """Redemptions in one state, newest first: by default the pending ones to decide"""
        in_state = select(Redemption).where(Redemption.state == query["state"])
        return paginate_select(_with_names(in_state), pagination_parameters)


def _decided(redemption_id: int, decide, *args) -> Redemption:
    redemption = redemptions.get_redemption(redemption_id)
    decide(caller(), redemption, *args)
    return redemption


@redemptions_bp.route("/redemptions/<int:redemption_id>/approve")
class Approval(MethodView):
    @requires_role(Role.HR)
    @redemptions_bp.arguments(DecisionSchema)
    @redemptions_bp.response(200, RedemptionSchema)
    @redemptions_bp.alt_response(404, response="NOT_FOUND")
    @redemptions_bp.alt_response(409, response="CONFLICT", description="Not pending")
    def post(self, data: dict, redemption_id: int) -> Redemption:
        """Approve a pending redemption; the employee is told by mail"""
        return _decided(redemption_id, redemptions.approve, data["note"])


@redemptions_bp.route("/redemptions/<int:redemption_id>/fulfil")
class Fulfilment(MethodView):
    @requires_role(Role.HR)
    @redemptions_bp.arguments(DecisionSchema)
    @redemptions_bp.response(200, RedemptionSchema)
    @redemptions_bp.alt_response(404, response="NOT_FOUND")
    @redemptions_bp.alt_response(409, response="CONFLICT", description="Not approved")
    def post(self, data: dict, redemption_id: int) -> Redemption:
        """Mark an approved redemption handed over: its points are spent"""
        return _decided(redemption_id, redemptions.fulfil, data["note"])


@redemptions_bp.route("/redemptions/<int:redemption_id>/reject")
class Rejection(MethodView):
    @requires_role(Role.HR)
    @redemptions_bp.arguments(RejectionSchema)
    @redemptions_bp.response(200, RedemptionSchema)
    @redemptions_bp.alt_response(404, response="NOT_FOUND")
    @redemptions_bp.alt_response(409, response="CONFLICT", description="Fulfilled or cancelled")
    def post(self, data: dict, redemption_id: int) -> Redemption:
        """Reject a pending or approved redemption with a reason; points and stock come
        back exactly once (rejecting again changes nothing)"""
        return _decided(redemption_id, redemptions.reject, data["reason"])


@redemptions_bp.route("/me/redemptions")
class MyRedemptions(MethodView):
    @requires_role(Role.EMPLOYEE)
    @redemptions_bp.response(200, RedemptionSchema(many=True))
    @redemptions_bp.paginate()
    def get(self, pagination_parameters: PaginationParameters) -> list[Redemption]:
        """Your redemptions and their state, newest first"""
        mine = select(Redemption).where(Redemption.employee_id == caller().id)
        return paginate_select(_with_names(mine), pagination_parameters)


@redemptions_bp.route("/me/redemptions/<int:redemption_id>/cancel")
class MyCancellation(MethodView):
    @requires_role(Role.EMPLOYEE)
    @redemptions_bp.response(200, RedemptionSchema)
    @redemptions_bp.alt_response(404, response="NOT_FOUND")
    @redemptions_bp.alt_response(409, response="CONFLICT", description="No longer pending")
    def post(self, redemption_id: int) -> Redemption:
        """Cancel your own pending redemption: points and stock come back exactly once"""
        employee = caller()
        redemption = redemptions.cancel(
            employee, redemptions.get_redemption(redemption_id, employee.id)
        )
        return redemption


# Team rewards: pledges and fundings ------------------------------------------------


@pledges_bp.route("/rewards/<int:reward_id>/pledges")
class Pledges(MethodView):
    @requires_role(Role.EMPLOYEE)
    @pledges_bp.arguments(PledgeRequestSchema)
    @pledges_bp.response(201, PledgeSchema)
    @pledges_bp.alt_response(
        200, schema=PledgeSchema, success=True, description="This key was sent before"
    )
    @pledges_bp.alt_response(403, response="FORBIDDEN", description="Not in a team, or opted out")
    @pledges_bp.alt_response(404, response="NOT_FOUND")
    @pledges_bp.alt_response(
        409,
        response="CONFLICT",
        description="Not a team reward, retired, out of stock, not enough points, or the "
        "key was used for another reward",
    )
    def post(self, data: dict, reward_id: int):
        """Pledge points toward your team's funding of a team reward

        The first pledge of a team opens its funding (target: the reward's cost then);
        later ones join it. The points are held from your spendable points (never from
        your lifetime points or rank); more than is left to fund is capped at the
        remainder. The pledge that reaches the target funds the reward: every pledge is
        spent and HR hands it over. When the reward's window closes first, or it is
        retired, every pledge comes back. Send ``idempotency_key`` in the body or the
        ``Idempotency-Key`` header: the same key answers 200 with the first pledge.
        Outside the window the answer is 422 naming the date.
        """
        key = data.get("idempotency_key") or request.headers.get("Idempotency-Key", "")
        if not key.strip():
            raise InvalidInput(
                "Send an idempotency key (in the body or the Idempotency-Key header).",
                field="idempotency_key",
            )
        made, created = team_rewards.pledge(caller(), reward_id, data["points"], key[:100])
        return made, 201 if created else 200


@pledges_bp.route("/rewards/<int:reward_id>/funding")
class Funding(MethodView):
    @requires_role(Role.EMPLOYEE)
    @pledges_bp.response(200, TeamFundingSchema)
    @pledges_bp.alt_response(404, response="NOT_FOUND")
    def get(self, reward_id: int):
        """Your team's funding of a team reward: pledged of target, and who pledged
        (named as they appear on boards; hidden people as null)"""
        reward = get_or_404(Reward, reward_id)
        if reward.kind != RewardKind.TEAM:
            raise NotFound(f"Reward {reward_id} is not a team reward.", field="reward_id")
        return team_rewards.progress(reward, caller())


@pledges_bp.route("/pledges/<int:pledge_id>")
class PledgeById(MethodView):
    @requires_role(Role.EMPLOYEE)
    @pledges_bp.response(200, PledgeSchema)
    @pledges_bp.alt_response(404, response="NOT_FOUND")
    @pledges_bp.alt_response(409, response="CONFLICT", description="The funding is closed")
    def delete(self, pledge_id: int):
        """Withdraw your pledge while the funding is open: the points come back once"""
        employee = caller()
        return team_rewards.withdraw(employee, team_rewards.get_pledge(pledge_id, employee.id))


@pledges_bp.route("/team-fundings")
class FundingsToFulfil(MethodView):
    @requires_role(Role.HR)
    @pledges_bp.response(200, FundingToFulfilSchema(many=True))
    @pledges_bp.paginate()
    def get(self, pagination_parameters: PaginationParameters) -> list[TeamFunding]:
        """Funded team rewards HR has not handed over yet, oldest first"""
        return paginate_select(team_rewards.to_fulfil_select(), pagination_parameters)


@pledges_bp.route("/team-fundings/<int:funding_id>/fulfil")
class FundingFulfilment(MethodView):
    @requires_role(Role.HR)
    @pledges_bp.response(200, FundingToFulfilSchema)
    @pledges_bp.alt_response(404, response="NOT_FOUND")
    @pledges_bp.alt_response(409, response="CONFLICT", description="Not funded")
    def post(self, funding_id: int) -> TeamFunding:
        """Mark a funded team reward handed over to the team (again changes nothing)"""
        return team_rewards.fulfil(caller(), team_rewards.get_funding(funding_id))
