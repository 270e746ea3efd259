"""Intranet links: secret addresses of the Atom feed and the widget of content to share.
The secret is shown once, when the link is made."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters

from app.api.support import api_blueprint, caller, paginate_select
from app.auth import requires_role
from app.models import IntranetLink, Role
from app.schemas.intranet import IntranetLinkSchema, NewIntranetLinkSchema
from app.services import intranet

bp = api_blueprint(
    "intranet_links",
    "/intranet-links",
    "Secret addresses under which the intranet reads the content to share (Atom and a widget).",
)


def _with_last_read(links: list[IntranetLink]) -> list[IntranetLink]:
    read = intranet.last_read(link.id for link in links)
    for link in links:
        link.last_read_at = read.get(link.id)  # dumped, never stored
    return links


@bp.route("")
class IntranetLinks(MethodView):
    @requires_role(Role.HR)
    @bp.response(200, IntranetLinkSchema(many=True))
    @bp.paginate()
    def get(self, pagination_parameters: PaginationParameters) -> list[IntranetLink]:
        """All links, newest first, revoked ones included"""
        return _with_last_read(paginate_select(intranet.links_select(), pagination_parameters))

    @requires_role(Role.HR)
    @bp.arguments(IntranetLinkSchema)
    @bp.response(201, NewIntranetLinkSchema)
    def post(self, data: dict) -> IntranetLink:
        """Make a link for the whole company (``team_id`` null) or one team

        The answer's ``secret``, ``feed_url`` and ``widget_url`` are shown only now: store
        them, they cannot be shown again. An unknown ``team_id`` is a 422 naming it.
        """
        link, secret = intranet.create_link(caller(), data["team_id"])
        link.secret = secret  # dumped once by NewIntranetLinkSchema, never stored
        for name, url in intranet.link_addresses(secret).items():
            setattr(link, name, url)
        link.last_read_at = None
        return link


@bp.route("/<int:link_id>")
class IntranetLinkById(MethodView):
    @requires_role(Role.HR)
    @bp.response(204)
    @bp.alt_response(404, response="NOT_FOUND")
    def delete(self, link_id: int) -> None:
        """Revoke a link; its feed and widget answer 404 from now on"""
        intranet.revoke_link(caller(), intranet.get_link(link_id))
