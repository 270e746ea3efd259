"""The company's social-media guidelines, which employees accept when they opt in."""

from __future__ import annotations

from flask.views import MethodView

from app.api.support import api_blueprint, caller
from app.auth import requires_role
from app.errors import NotFound
from app.models import GuidelineVersion, Role
from app.schemas.policy import GuidelinesSchema
from app.services import participation

bp = api_blueprint("guidelines", "/guidelines", "Social-media guidelines, versioned.")


@bp.route("")
class Guidelines(MethodView):
    @requires_role(Role.EMPLOYEE)
    @bp.response(200, GuidelinesSchema)
    @bp.alt_response(404, response="NOT_FOUND", description="No guidelines published yet")
    def get(self) -> GuidelineVersion:
        """The current guidelines

        Opting in needs this version's ``id``.
        """
        current = participation.current_guidelines()
        if current is None:
            raise NotFound("HR has not published guidelines yet.")
        return current

    @requires_role(Role.HR)
    @bp.arguments(GuidelinesSchema)
    @bp.response(201, GuidelinesSchema)
    def post(self, data: dict) -> GuidelineVersion:
        """Publish a new version

        People who accepted an earlier version keep taking part.
        """
        version = participation.publish_guidelines(caller(), **data)
        return version
