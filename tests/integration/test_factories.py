"""Every model has a factory that builds a valid row."""

from __future__ import annotations

import inspect

import pytest
from factory.alchemy import SQLAlchemyModelFactory
from sqlalchemy import func, select

from app import models
from app.extensions import db
from tests import factories


def model_classes() -> list[type]:
    return sorted(
        (mapper.class_ for mapper in db.Model.registry.mappers), key=lambda cls: cls.__name__
    )


def factory_for() -> dict[type, type]:
    found = {}
    for _name, cls in inspect.getmembers(factories, inspect.isclass):
        if issubclass(cls, SQLAlchemyModelFactory) and not cls._meta.abstract:
            found[cls._meta.model] = cls
    return found


def test_every_model_has_a_factory():
    missing = [cls.__name__ for cls in model_classes() if cls not in factory_for()]
    assert missing == [], f"add a factory to tests/factories.py for: {missing}"
    assert {cls.__module__ for cls in model_classes()} == {models.__name__}


@pytest.mark.parametrize("model", model_classes(), ids=lambda cls: cls.__name__)
def test_factory_builds_a_valid_row(ctx, model):
    factory = factory_for()[model]
    first, second = factory(), factory()  # sequences keep unique columns apart
    keys = [db.inspect(row).identity for row in (first, second)]
    db.session.expire_all()
    for key in keys:
        assert db.session.get(model, key) is not None
    assert db.session.scalar(select(func.count()).select_from(model)) >= 2
