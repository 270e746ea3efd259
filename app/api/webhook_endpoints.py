"""Webhook endpoints of other systems that receive Chorus's events (admins)."""

from __future__ import annotations

from datetime import timedelta

from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters
from sqlalchemy import select

from app.api.support import api_blueprint, caller, paginate_select
from app.auth import requires_role
from app.models import OutboxMessage, Role, WebhookEndpoint
from app.schemas.chat import SentTestSchema
from app.schemas.webhook_endpoints import (
    DeliveryFilterSchema,
    DeliverySchema,
    RotatedSecretSchema,
    RotateSecretSchema,
    WebhookEndpointChangeSchema,
    WebhookEndpointCreatedSchema,
    WebhookEndpointOutSchema,
    WebhookEndpointSchema,
)
from app.services import webhook_endpoints as service

bp = api_blueprint(
    "webhook_endpoints",
    "/webhook-endpoints",
    "Other systems (the intranet, BI, HR) that receive the events they picked, signed per "
    "the Standard Webhooks specification: headers webhook-id, webhook-timestamp and "
    "webhook-signature (v1, HMAC-SHA256 of id.timestamp.body under the endpoint's "
    "whsec_ secret). Admins only.",
)


@bp.route("")
class Endpoints(MethodView):
    @requires_role(Role.ADMIN)
    @bp.response(200, WebhookEndpointOutSchema(many=True))
    @bp.paginate()
    def get(self, pagination_parameters: PaginationParameters) -> list[WebhookEndpoint]:
        """Every registered endpoint, oldest first"""
        query = select(WebhookEndpoint).order_by(WebhookEndpoint.id)
        return paginate_select(query, pagination_parameters)

    @requires_role(Role.ADMIN)
    @bp.arguments(WebhookEndpointSchema)
    @bp.response(201, WebhookEndpointCreatedSchema)
    def post(self, data: dict) -> WebhookEndpoint:
        """Register an endpoint and the events it receives

        The answer carries the signing secret, this once: keep it in the receiving
        system. Only https:// addresses on the internet are accepted.
        """
        endpoint, _ = service.register(caller(), data)
        return endpoint  # its ``secret`` is the one just made, dumped this once


@bp.route("/<int:endpoint_id>")
class Endpoint(MethodView):
    @requires_role(Role.ADMIN)
    @bp.response(200, WebhookEndpointOutSchema)
    @bp.alt_response(404, response="NOT_FOUND")
    def get(self, endpoint_id: int) -> WebhookEndpoint:
        """One endpoint"""
        return service.get_endpoint(endpoint_id)

    @requires_role(Role.ADMIN)
    @bp.arguments(WebhookEndpointChangeSchema)
    @bp.response(200, WebhookEndpointOutSchema)
    @bp.alt_response(404, response="NOT_FOUND")
    def patch(self, data: dict, endpoint_id: int) -> WebhookEndpoint:
        """Change an endpoint; a new address or ``enabled: true`` turns it back on"""
        return service.change(caller(), service.get_endpoint(endpoint_id), data)

    @requires_role(Role.ADMIN)
    @bp.response(204)
    @bp.alt_response(404, response="NOT_FOUND")
    def delete(self, endpoint_id: int) -> None:
        """Remove an endpoint and its delivery log"""
        service.remove(caller(), service.get_endpoint(endpoint_id))


@bp.route("/<int:endpoint_id>/rotate-secret")
class RotateSecret(MethodView):
    @requires_role(Role.ADMIN)
    @bp.arguments(RotateSecretSchema)
    @bp.response(200, RotatedSecretSchema)
    @bp.alt_response(404, response="NOT_FOUND")
    def post(self, data: dict, endpoint_id: int) -> dict:
        """Give the endpoint a new secret, shown this once

        The old secret goes on signing beside the new one for ``overlap_hours`` (each
        delivery then carries two signatures), so the receiver can switch over
        without losing a delivery; 0 stops it at once.
        """
        endpoint = service.get_endpoint(endpoint_id)
        overlap = timedelta(hours=data["overlap_hours"])
        secret = service.rotate_secret(caller(), endpoint, overlap)
        return {"secret": secret, "previous_until": endpoint.previous_until}


@bp.route("/<int:endpoint_id>/test")
class Test(MethodView):
    @requires_role(Role.ADMIN)
    @bp.response(200, SentTestSchema)
    @bp.alt_response(404, response="NOT_FOUND")
    def post(self, endpoint_id: int) -> dict:
        """Deliver a signed ``chorus.ping`` now, and say what the endpoint answered"""
        delivered, answer = service.send_test(service.get_endpoint(endpoint_id))
        return {"delivered": delivered, "answer": answer}


@bp.route("/<int:endpoint_id>/deliveries")
class Deliveries(MethodView):
    @requires_role(Role.ADMIN)
    @bp.arguments(DeliveryFilterSchema, location="query")
    @bp.response(200, DeliverySchema(many=True))
    @bp.alt_response(404, response="NOT_FOUND")
    @bp.paginate()
    def get(
        self, filters: dict, endpoint_id: int, pagination_parameters: PaginationParameters
    ) -> list[OutboxMessage]:
        """The endpoint's delivery log, newest first (kept 90 days)"""
        query = service.deliveries(service.get_endpoint(endpoint_id), filters.get("state"))
        return paginate_select(query, pagination_parameters)


@bp.route("/<int:endpoint_id>/deliveries/<int:delivery_id>/retry")
class Retry(MethodView):
    @requires_role(Role.ADMIN)
    @bp.response(200, DeliverySchema)
    @bp.alt_response(404, response="NOT_FOUND")
    @bp.alt_response(409, response="CONFLICT", description="It has not failed")
    def post(self, endpoint_id: int, delivery_id: int) -> OutboxMessage:
        """Send a failed delivery again, from a fresh count of tries"""
        return service.retry(caller(), service.get_endpoint(endpoint_id), delivery_id)
