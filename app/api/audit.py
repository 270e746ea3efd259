"""The audit log of administrative and consent actions."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters
from sqlalchemy import select

from app.api.support import api_blueprint, paginate_select
from app.auth import requires_role
from app.models import AuditEntry, Role
from app.schemas.admin import AuditEntrySchema

bp = api_blueprint("audit", "/audit", "Who changed what, and when.")


@bp.route("")
class AuditLog(MethodView):
    @requires_role(Role.ADMIN)
    @bp.response(200, AuditEntrySchema(many=True))
    @bp.paginate()
    def get(self, pagination_parameters: PaginationParameters) -> list[AuditEntry]:
        """The audit log, newest first"""
        newest_first = select(AuditEntry).order_by(AuditEntry.id.desc())
        return paginate_select(newest_first, pagination_parameters)
