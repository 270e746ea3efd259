"""The domain packages stay pure: the standard library and each other, nothing else.

An allow-list, not a list of forbidden libraries: a new dependency in ``scoring/`` or
``rewards/`` fails here until someone decides it belongs in the core.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# What each domain package may import besides the standard library.
ALLOWED = {
    "scoring": {"scoring"},
    "rewards": {"rewards", "scoring"},
}
STANDARD_LIBRARY = frozenset(sys.stdlib_module_names) | {"__future__"}
DOMAIN_FILES = sorted(p for pkg in ALLOWED for p in (ROOT / pkg).rglob("*.py"))


def imported_roots(source: str) -> set[str]:
    """The top-level names of everything ``source`` imports, inside functions too.
    A relative import stays inside its own package, so it is not listed."""
    roots = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def not_allowed(package: str, source: str) -> set[str]:
    return imported_roots(source) - STANDARD_LIBRARY - ALLOWED[package]


def test_domain_packages_exist():
    assert {p.parent.name for p in DOMAIN_FILES} >= set(ALLOWED)


@pytest.mark.parametrize("path", DOMAIN_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_domain_module_imports_only_the_standard_library(path: Path):
    package = path.relative_to(ROOT).parts[0]
    assert not_allowed(package, path.read_text()) == set()


@pytest.mark.parametrize(
    ("package", "source", "offending"),
    [
        ("scoring", "import redis", {"redis"}),
        ("scoring", "from sqlalchemy.orm import Session", {"sqlalchemy"}),
        ("scoring", "def f():\n    import flask\n", {"flask"}),
        ("rewards", "from marshmallow import Schema", {"marshmallow"}),
        ("scoring", "from app.models import Employee", {"app"}),
        # any library outside the standard one, not only the usual suspects
        ("scoring", "import crawleruseragents", {"crawleruseragents"}),
        ("rewards", "import attrs", {"attrs"}),
        # the core points one way: scoring never imports rewards
        ("scoring", "from rewards.redemptions import Party", {"rewards"}),
        ("rewards", "from scoring.vocabulary import EventKind", set()),
        ("scoring", "from datetime import datetime\nimport json\nimport re", set()),
        ("scoring", "from __future__ import annotations\nfrom . import windows", set()),
    ],
)
def test_the_check_catches_imports_outside_the_allow_list(
    package: str, source: str, offending: set[str]
):
    assert not_allowed(package, source) == offending
