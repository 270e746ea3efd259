"""The content hub for HR: content items, their share texts and images."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters

from app.api.support import api_blueprint, caller, paginate_select
from app.auth import requires_role
from app.models import ContentItem, Role, ShareTemplate
from app.schemas.content import (
    ContentInputSchema,
    ContentItemSchema,
    ContentQuerySchema,
    ContentUpdateSchema,
    ImageFileSchema,
    ShareTemplateSchema,
    ShareTemplateUpdateSchema,
)
from app.services import content

bp = api_blueprint(
    "content_items",
    "/content",
    "Content items HR curates for employees to share, with share texts.",
)


@bp.route("")
class ContentItems(MethodView):
    @requires_role(Role.HR)
    @bp.arguments(ContentQuerySchema, location="query")
    @bp.response(200, ContentItemSchema(many=True))
    @bp.paginate()
    def get(self, filters: dict, pagination_parameters: PaginationParameters) -> list:
        """All content items, newest first"""
        return paginate_select(content.content_query(**filters), pagination_parameters)

    @requires_role(Role.HR)
    @bp.arguments(ContentInputSchema)
    @bp.response(201, ContentItemSchema)
    @bp.alt_response(404, response="NOT_FOUND", description="An unknown team or interest")
    def post(self, data: dict) -> ContentItem:
        """Create a draft

        The destination must be http(s) on an allowed domain. Each share text passes
        the taboo guard and, for X, 280 characters with the disclosure and hashtag.
        """
        item = content.create_content(caller(), data)
        return item


@bp.route("/<int:content_id>")
class ContentItemById(MethodView):
    @requires_role(Role.HR)
    @bp.response(200, ContentItemSchema)
    @bp.alt_response(404, response="NOT_FOUND")
    def get(self, content_id: int) -> ContentItem:
        """One content item"""
        return content.get_content(content_id)

    @requires_role(Role.HR)
    @bp.arguments(ContentUpdateSchema)
    @bp.response(200, ContentItemSchema)
    @bp.alt_response(404, response="NOT_FOUND")
    @bp.alt_response(409, response="CONFLICT", description="The destination of a published item")
    def patch(self, changes: dict, content_id: int) -> ContentItem:
        """Change a content item; ``templates``, when sent, replaces all share texts"""
        item = content.update_content(caller(), content.get_content(content_id), changes)
        return item

    @requires_role(Role.HR)
    @bp.response(204)
    @bp.alt_response(404, response="NOT_FOUND")
    @bp.alt_response(409, response="CONFLICT", description="Only drafts can be deleted")
    def delete(self, content_id: int) -> None:
        """Delete a draft"""
        content.delete_content(caller(), content.get_content(content_id))


@bp.route("/<int:content_id>/publish")
class PublishContent(MethodView):
    @requires_role(Role.HR)
    @bp.response(200, ContentItemSchema)
    @bp.alt_response(404, response="NOT_FOUND")
    def post(self, content_id: int) -> ContentItem:
        """Publish: employees see it while it is valid

        Refused (422) while the destination is not on the allow-list, the item has
        expired, or a share text touches a taboo topic.
        """
        item = content.publish(caller(), content.get_content(content_id))
        return item


@bp.route("/<int:content_id>/archive")
class ArchiveContent(MethodView):
    @requires_role(Role.HR)
    @bp.response(200, ContentItemSchema)
    @bp.alt_response(404, response="NOT_FOUND")
    def post(self, content_id: int) -> ContentItem:
        """Archive: employees no longer see it; shared links keep working"""
        item = content.archive(caller(), content.get_content(content_id))
        return item


@bp.route("/<int:content_id>/image")
class ContentImage(MethodView):
    @requires_role(Role.HR)
    @bp.arguments(ImageFileSchema, location="files")
    @bp.response(200, ContentItemSchema)
    @bp.alt_response(404, response="NOT_FOUND")
    def put(self, upload: dict, content_id: int) -> ContentItem:
        """Set the image: PNG, JPEG or WebP, at most 2 MB

        Needs ``image_credit`` and ``image_rights_confirmed: true`` on the item first
        (PATCH the item); without them the upload is refused.
        """
        item = content.set_image(caller(), content.get_content(content_id), upload["file"])
        return item

    @requires_role(Role.HR)
    @bp.response(200, ContentItemSchema)
    @bp.alt_response(404, response="NOT_FOUND")
    def delete(self, content_id: int) -> ContentItem:
        """Remove the image"""
        item = content.remove_image(caller(), content.get_content(content_id))
        return item


@bp.route("/<int:content_id>/templates")
class ShareTemplates(MethodView):
    @requires_role(Role.HR)
    @bp.response(200, ShareTemplateSchema(many=True))
    @bp.alt_response(404, response="NOT_FOUND")
    def get(self, content_id: int) -> list[ShareTemplate]:
        """The item's share texts, by channel"""
        return content.get_content(content_id).templates

    @requires_role(Role.HR)
    @bp.arguments(ShareTemplateSchema)
    @bp.response(201, ShareTemplateSchema)
    @bp.alt_response(404, response="NOT_FOUND")
    def post(self, data: dict, content_id: int) -> ShareTemplate:
        """Add a share text (taboo guard and length limit apply)"""
        item = content.get_content(content_id)
        template = content.add_template(caller(), item, data["channel"], data["text"])
        return template


@bp.route("/<int:content_id>/templates/<int:template_id>")
class ShareTemplateById(MethodView):
    @requires_role(Role.HR)
    @bp.arguments(ShareTemplateUpdateSchema)
    @bp.response(200, ShareTemplateSchema)
    @bp.alt_response(404, response="NOT_FOUND")
    def patch(self, changes: dict, content_id: int, template_id: int) -> ShareTemplate:
        """Change a share text"""
        item = content.get_content(content_id)
        template = content.get_template(item, template_id)
        template = content.update_template(caller(), item, template, changes)
        return template

    @requires_role(Role.HR)
    @bp.response(204)
    @bp.alt_response(404, response="NOT_FOUND")
    def delete(self, content_id: int, template_id: int) -> None:
        """Delete a share text"""
        item = content.get_content(content_id)
        content.delete_template(caller(), item, content.get_template(item, template_id))
