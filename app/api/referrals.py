"""Referral programmes (HR), ATS integrations (admin) and the stages candidates reach."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.api.support import api_blueprint, caller, paginate_select
from app.auth import requires_role
from app.db import get_or_404
from app.models import Integration, Referral, ReferralProgramme, Role, Share
from app.schemas.referrals import (
    IntegrationSchema,
    NewIntegrationSchema,
    ReferralProgrammeSchema,
    ReferralProgrammeUpdateSchema,
    ReferralSchema,
    ReferralStageSchema,
)
from app.services import referrals

programmes_bp = api_blueprint(
    "referral_programmes",
    "/referral-programmes",
    "Referral programmes: which content counts, which stages award, the attribution window.",
)
integrations_bp = api_blueprint(
    "integrations",
    "/integrations",
    "Applicant-tracking systems that post signed referral webhooks.",
)
referrals_bp = api_blueprint(
    "referrals",
    "/referrals",
    "Candidates' stages (applied, interviewed, hired) and what they were attributed to.",
)


# Programmes ------------------------------------------------------------------------


@programmes_bp.route("")
class Programmes(MethodView):
    @requires_role(Role.HR)
    @programmes_bp.response(200, ReferralProgrammeSchema(many=True))
    @programmes_bp.paginate()
    def get(self, pagination_parameters: PaginationParameters) -> list[ReferralProgramme]:
        """All referral programmes, by name"""
        by_name = select(ReferralProgramme).order_by(ReferralProgramme.name, ReferralProgramme.id)
        return paginate_select(by_name, pagination_parameters)

    @requires_role(Role.HR)
    @programmes_bp.arguments(ReferralProgrammeSchema)
    @programmes_bp.response(201, ReferralProgrammeSchema)
    @programmes_bp.alt_response(409, response="CONFLICT", description="The name is taken")
    def post(self, data: dict) -> ReferralProgramme:
        """Create a referral programme"""
        programme = referrals.create_programme(caller(), **data)
        return programme


@programmes_bp.route("/<int:programme_id>")
class ProgrammeById(MethodView):
    @requires_role(Role.HR)
    @programmes_bp.response(200, ReferralProgrammeSchema)
    @programmes_bp.alt_response(404, response="NOT_FOUND")
    def get(self, programme_id: int) -> ReferralProgramme:
        """One referral programme"""
        return get_or_404(ReferralProgramme, programme_id)

    @requires_role(Role.HR)
    @programmes_bp.arguments(ReferralProgrammeUpdateSchema)
    @programmes_bp.response(200, ReferralProgrammeSchema)
    @programmes_bp.alt_response(404, response="NOT_FOUND")
    @programmes_bp.alt_response(409, response="CONFLICT", description="The name is taken")
    def patch(self, data: dict, programme_id: int) -> ReferralProgramme:
        """Change a referral programme; changes apply to stages reported from now on"""
        programme = get_or_404(ReferralProgramme, programme_id)
        referrals.update_programme(caller(), programme, data)
        return programme

    @requires_role(Role.HR)
    @programmes_bp.response(204)
    @programmes_bp.alt_response(404, response="NOT_FOUND")
    @programmes_bp.alt_response(
        409, response="CONFLICT", description="Referrals were recorded under it; switch it off"
    )
    def delete(self, programme_id: int) -> None:
        """Delete a programme nothing was recorded under"""
        referrals.delete_programme(caller(), get_or_404(ReferralProgramme, programme_id))


# Integrations ----------------------------------------------------------------------


@integrations_bp.route("")
class Integrations(MethodView):
    @requires_role(Role.ADMIN)
    @integrations_bp.response(200, IntegrationSchema(many=True))
    @integrations_bp.paginate()
    def get(self, pagination_parameters: PaginationParameters) -> list[Integration]:
        """All integrations, newest first, revoked ones included"""
        newest_first = select(Integration).order_by(Integration.id.desc())
        return paginate_select(newest_first, pagination_parameters)

    @requires_role(Role.ADMIN)
    @integrations_bp.arguments(IntegrationSchema)
    @integrations_bp.response(201, NewIntegrationSchema)
    @integrations_bp.alt_response(409, response="CONFLICT", description="The name is taken")
    def post(self, data: dict) -> Integration:
        """Create an integration

        The answer's ``secret`` signs the webhooks: store it in the ATS now, it is not
        shown again. ``webhook_url`` is where the ATS posts.
        """
        integration, _ = referrals.create_integration(caller(), data["name"])
        return integration


@integrations_bp.route("/<int:integration_id>")
class IntegrationById(MethodView):
    @requires_role(Role.ADMIN)
    @integrations_bp.response(204)
    @integrations_bp.alt_response(404, response="NOT_FOUND")
    def delete(self, integration_id: int) -> None:
        """Revoke an integration; its deliveries are refused from now on"""
        integration = get_or_404(Integration, integration_id)
        referrals.revoke_integration(caller(), integration)


@integrations_bp.route("/<int:integration_id>/rotate")
class IntegrationRotation(MethodView):
    @requires_role(Role.ADMIN)
    @integrations_bp.response(201, NewIntegrationSchema)
    @integrations_bp.alt_response(404, response="NOT_FOUND")
    @integrations_bp.alt_response(409, response="CONFLICT", description="Revoked already")
    def post(self, integration_id: int) -> Integration:
        """Rotate the secret: revoke this integration and create it anew

        The new one has a new id, webhook URL and secret (shown only in this answer).
        """
        integration = get_or_404(Integration, integration_id)
        replacement, _ = referrals.rotate_integration(caller(), integration)
        return replacement


# Referrals -------------------------------------------------------------------------


@referrals_bp.route("")
class Referrals(MethodView):
    @requires_role(Role.HR)
    @referrals_bp.response(200, ReferralSchema(many=True))
    @referrals_bp.paginate()
    def get(self, pagination_parameters: PaginationParameters) -> list[Referral]:
        """Every reported stage, newest first, with its outcome"""
        newest_first = (
            select(Referral)
            .options(
                selectinload(Referral.share).selectinload(Share.employee),
                selectinload(Referral.share).selectinload(Share.content),
            )
            .order_by(Referral.received_at.desc(), Referral.id.desc())
        )
        return paginate_select(newest_first, pagination_parameters)

    @requires_role(Role.HR)
    @referrals_bp.arguments(ReferralStageSchema)
    @referrals_bp.response(201, ReferralSchema)
    @referrals_bp.alt_response(200, schema=ReferralSchema, description="Recorded before")
    def post(self, data: dict):
        """Record a stage by hand

        The same rules as the ATS webhook: once per candidate and stage (a repeat answers
        200 with the first record), a stage going backwards awards nothing.
        """
        result = referrals.record_stage(
            ref_code=data["ref"],
            candidate_id=data["candidate_id"],
            stage=data["stage"],
            occurred_at=data["occurred_at"],
            recorded_by=caller(),
        )
        return result.referral, 201 if result.created else 200
