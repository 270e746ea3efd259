"""HR's sharing rules: disclosure and share caps, per-network policy, allowed domains."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters
from sqlalchemy import select

from app.api.support import api_blueprint, caller, paginate_select
from app.auth import requires_role
from app.errors import NotFound
from app.extensions import db
from app.models import AllowedDomain, NetworkPolicy, Role, SharePolicy
from app.schemas.policy import AllowedDomainSchema, NetworkPolicySchema, SharePolicySchema
from app.services import content, policy
from scoring.vocabulary import Channel

bp = api_blueprint(
    "sharing_policy",
    "",
    "Sharing policy: the disclosure, share caps that protect employees' networks, "
    "per-network share points and the allow-list of destination domains.",
)


@bp.route("/share-policy")
class SharePolicyView(MethodView):
    @requires_role(Role.EMPLOYEE)
    @bp.response(200, SharePolicySchema)
    def get(self) -> SharePolicy:
        """The sharing policy

        Readable by everyone: the feed explains the caps to each employee.
        """
        current = policy.share_policy()
        return current

    @requires_role(Role.HR)
    @bp.arguments(SharePolicySchema)
    @bp.response(200, SharePolicySchema)
    def patch(self, changes: dict) -> SharePolicy:
        """Change the disclosure, UTM medium or caps (null switches a cap off)"""
        current = policy.update_share_policy(caller(), changes)
        return current


def _channel(name: str) -> Channel:
    try:
        return Channel(name)
    except ValueError:
        raise NotFound(f"No channel called {name!r}.", field="channel") from None


@bp.route("/network-policies")
class NetworkPolicies(MethodView):
    @requires_role(Role.EMPLOYEE)
    @bp.response(200, NetworkPolicySchema(many=True))
    def get(self) -> list[NetworkPolicy]:
        """Each network's policy: whether shares there earn points, and the assumptions
        of its earned-media value (null: the defaults)"""
        return list(policy.network_policies().values())


@bp.route("/network-policies/<channel>")
class NetworkPolicyByChannel(MethodView):
    @requires_role(Role.HR)
    @bp.arguments(NetworkPolicySchema)
    @bp.response(200, NetworkPolicySchema)
    @bp.alt_response(404, response="NOT_FOUND")
    def put(self, data: dict, channel: str) -> NetworkPolicy:
        """Set a network's policy: share points and the assumptions of earned-media value

        Switching share points off leaves clicks and referrals counting. The six
        assumptions (CPM and CPC in cents and the percentage of an audience that sees a
        post, each low and high) come all together, or not at all (null or left out):
        then the analytics use the network's ``default_assumptions``. A PUT sets the
        whole policy, so send the assumptions again to keep them.
        """
        chosen = _channel(channel)
        row = policy.set_network_policy(
            caller(),
            chosen,
            share_points=data["share_points"],
            note=data["note"],
            assumptions=policy.assumptions_given(data),
        )
        return row


@bp.route("/allowed-domains")
class AllowedDomains(MethodView):
    @requires_role(Role.HR)
    @bp.response(200, AllowedDomainSchema(many=True))
    @bp.paginate()
    def get(self, pagination_parameters: PaginationParameters) -> list[AllowedDomain]:
        """Domains content may lead to (each with its subdomains)"""
        query = select(AllowedDomain).order_by(AllowedDomain.domain)
        return paginate_select(query, pagination_parameters)

    @requires_role(Role.HR)
    @bp.arguments(AllowedDomainSchema)
    @bp.response(201, AllowedDomainSchema)
    @bp.alt_response(409, response="CONFLICT", description="On the list already")
    def post(self, data: dict) -> AllowedDomain:
        """Allow a domain and its subdomains"""
        row = content.add_domain(caller(), data["domain"])
        return row


@bp.route("/allowed-domains/<int:domain_id>")
class AllowedDomainById(MethodView):
    @requires_role(Role.HR)
    @bp.response(204)
    @bp.alt_response(404, response="NOT_FOUND")
    def delete(self, domain_id: int) -> None:
        """Remove a domain; existing content keeps its destination"""
        row = db.session.get(AllowedDomain, domain_id)
        if row is None:
            raise NotFound(f"No allowed domain with id {domain_id}.", field="id")
        content.remove_domain(caller(), row)
