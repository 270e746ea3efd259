"""What the API's blueprints share: the blueprint class that makes every operation
declare who may call it, the body parser, the caller, and a page of a query's rows."""

from __future__ import annotations

import json
from typing import Any, NoReturn

from flask import Request
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint, abort
from flask_smorest.pagination import PaginationParameters
from marshmallow import validate
from sqlalchemy import Select, func, select
from webargs.flaskparser import FlaskParser

from app.auth import UNSAFE_METHODS, protect_api_from_csrf
from app.extensions import csrf, db
from app.models import Employee, Role
from app.schemas.fields import SQL_INTEGER_MAX, Integer

API_PREFIX = "/api/v1"


class ApiParser(FlaskParser):
    """webargs' parser, with one answer for any body that is not JSON."""

    def _raw_load_json(self, req: Request) -> Any:
        try:
            return super()._raw_load_json(req)
        except RecursionError as exc:  # thousands of nested brackets
            raise json.JSONDecodeError("Nested too deeply", "[", 0) from exc

    def _handle_invalid_json_error(self, error: Exception, req: Request, *_: Any) -> NoReturn:
        abort(400, message="The request body is not valid JSON.", messages={"json": ["Not JSON."]})


class ApiBlueprint(Blueprint):
    """A flask-smorest blueprint whose operations all document who may call them.

    Each view's ``required_role`` (set by ``@requires_role``) is copied into its OpenAPI
    doc at route time, so a view without a declared role fails at import, not in
    production; every operation then lists the bearer scheme and its 401/403 answers.
    """

    DEFAULT_PAGINATION_PARAMETERS = {"page": 1, "page_size": 20, "max_page_size": 100}
    ARGUMENTS_PARSER = ApiParser()
    PAGINATION_ARGUMENTS_PARSER = ApiParser()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._prepare_doc_cbks.append(self._prepare_access_doc)

    def route(self, rule: str, *, parameters=None, tags=None, **options: Any):
        register = super().route(rule, parameters=parameters, tags=tags, **options)

        def decorator(view):
            methods = (
                [getattr(view, m.lower()) for m in view.methods]
                if isinstance(view, type) and issubclass(view, MethodView)
                else [view]
            )
            for function in methods:
                if not hasattr(function, "required_role"):
                    raise TypeError(f"{rule}: {function.__qualname__} has no @requires_role")
                function._apidoc = {
                    **getattr(function, "_apidoc", {}),
                    "required_role": function.required_role,
                }
            return register(view)

        return decorator

    def paginate(self, pager=None, **parameters: Any):
        """flask-smorest's pagination, with the page number bounded like every integer:
        the first row of the last page (``(page - 1) * page_size``) fits a SQL OFFSET."""
        paginated = super().paginate(pager, **parameters)
        max_page_size = (
            parameters.get("max_page_size") or self.DEFAULT_PAGINATION_PARAMETERS["max_page_size"]
        )

        def decorator(function):
            wrapper = paginated(function)
            schema = wrapper._apidoc["pagination"]["parameters"]["schema"]
            page = schema._declared_fields["page"]
            schema._declared_fields["page"] = Integer(
                load_default=page.load_default,
                validate=validate.Range(
                    min=1,
                    max=SQL_INTEGER_MAX // max_page_size,
                    error="Pages are numbered from {min} to {max}.",
                ),
            )
            return wrapper

        return decorator

    @staticmethod
    def _prepare_access_doc(doc: dict, doc_info: dict, *, method: str, **_: Any) -> dict:
        role: Role | None = doc_info["required_role"]
        if role is None:  # @public: open to everyone, on purpose
            doc["security"] = []
            return doc
        doc["security"] = [{"bearer": []}]
        doc["x-required-role"] = role.value
        responses = doc.setdefault("responses", {})
        responses["401"] = "UNAUTHORIZED"
        if role is not Role.EMPLOYEE:  # everyone signed in is at least an employee
            responses["403"] = "FORBIDDEN"
        if method.upper() in UNSAFE_METHODS:
            # A session call without the X-CSRFToken header; bearer calls need none.
            responses.setdefault("400", "BAD_REQUEST")
        return doc


def _protect_session_calls() -> None:
    """Anonymous calls are answered 401 by ``requires_role``; the CSRF check guards the
    ambient credential of a signed-in session, so it only runs when there is one."""
    if current_user.is_authenticated:
        protect_api_from_csrf()


def api_blueprint(name: str, path: str, description: str) -> ApiBlueprint:
    bp = ApiBlueprint(name, __name__, url_prefix=f"{API_PREFIX}{path}", description=description)
    csrf.exempt(bp)  # checked in protect_api_from_csrf unless a bearer token is sent
    bp.before_request(_protect_session_calls)
    return bp


def caller() -> Employee:
    """The employee making the request (a session or a token's owner)."""
    return current_user._get_current_object()


def paginate_select(statement: Select, pagination: PaginationParameters) -> list:
    """One page of ``statement``'s rows; sets the total for the X-Pagination header."""
    count = select(func.count()).select_from(statement.order_by(None).subquery())
    pagination.item_count = db.session.scalar(count)
    page = statement.limit(pagination.page_size).offset(pagination.first_item)
    return list(db.session.scalars(page))
