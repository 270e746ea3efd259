"""API tokens for integrations. The secret is shown once, when the token is made."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters
from sqlalchemy import select

from app.api.support import api_blueprint, caller, paginate_select
from app.auth import requires_role
from app.db import get_or_404
from app.errors import NotFound
from app.extensions import db
from app.models import ApiToken, Employee, Role
from app.schemas.admin import ApiTokenSchema, NewApiTokenSchema
from app.services import tokens

bp = api_blueprint("tokens", "/tokens", "API tokens; each acts with its owner's role.")


@bp.route("")
class Tokens(MethodView):
    @requires_role(Role.ADMIN)
    @bp.response(200, ApiTokenSchema(many=True))
    @bp.paginate()
    def get(self, pagination_parameters: PaginationParameters) -> list[ApiToken]:
        """All tokens, newest first, revoked ones included"""
        newest_first = select(ApiToken).order_by(ApiToken.id.desc())
        return paginate_select(newest_first, pagination_parameters)

    @requires_role(Role.ADMIN)
    @bp.arguments(ApiTokenSchema)
    @bp.response(201, NewApiTokenSchema)
    @bp.alt_response(404, response="NOT_FOUND", description="Unknown owner_id")
    def post(self, data: dict) -> ApiToken:
        """Create a token

        The answer's ``token`` is the secret: store it now, it cannot be shown again.
        """
        owner_id = data["owner_id"]
        owner = caller() if owner_id is None else get_or_404(Employee, owner_id, "owner_id")
        token, secret = tokens.create_token(caller(), owner, data["name"])
        token.token = secret  # dumped once by NewApiTokenSchema, never stored
        return token


@bp.route("/<int:token_id>")
class TokenById(MethodView):
    @requires_role(Role.ADMIN)
    @bp.response(204)
    @bp.alt_response(404, response="NOT_FOUND")
    def delete(self, token_id: int) -> None:
        """Revoke a token; it stops working at once"""
        token = db.session.get(ApiToken, token_id)
        if token is None:
            raise NotFound(f"No API token with id {token_id}.", field="id")
        tokens.revoke_token(caller(), token)
