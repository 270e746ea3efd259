"""The domain packages stay pure: no framework, database, queue or schema library."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {
    "flask",
    "flask_sqlalchemy",
    "sqlalchemy",
    "redis",
    "rq",
    "marshmallow",
    "flask_smorest",
    "flask_login",
    "app",
}
DOMAIN_FILES = sorted(p for pkg in ("scoring", "rewards") for p in (ROOT / pkg).rglob("*.py"))


def imported_roots(source: str) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_domain_packages_exist():
    assert {p.parent.name for p in DOMAIN_FILES} >= {"scoring", "rewards"}


@pytest.mark.parametrize("path", DOMAIN_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_domain_module_imports_only_plain_python(path: Path):
    assert imported_roots(path.read_text()) & FORBIDDEN == set()


@pytest.mark.parametrize(
    ("source", "offending"),
    [
        ("import redis", {"redis"}),
        ("from sqlalchemy.orm import Session", {"sqlalchemy"}),
        ("def f():\n    import flask\n", {"flask"}),
        ("from marshmallow import Schema", {"marshmallow"}),
        ("from datetime import datetime\nimport json", set()),
    ],
)
def test_the_check_catches_forbidden_imports(source: str, offending: set[str]):
    assert imported_roots(source) & FORBIDDEN == offending
