"""How path segments are read: every ``<int:...>`` id in every route, API and pages.

An id beyond what the id columns hold (PostgreSQL ``INTEGER``, 32 bits) cannot name a
row, so such a path matches no route and answers 404, before any view or database sees
it (the drivers would raise an overflow). The OpenAPI document states the bound for every path id.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter, Map

from app.schemas.fields import SQL_INTEGER_MAX


class RowIdConverter(IntegerConverter):
    """``int`` with a default maximum of the largest id a column holds."""

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = SQL_INTEGER_MAX,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def init_app(app: Flask) -> None:
    """Before any route is added: rules pick their converters when they are added."""
    app.url_map.converters["int"] = RowIdConverter
