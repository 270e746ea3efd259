"""Views and services never commit: a request's transaction ends in ``app.transactions``,
a job's in its job function (``app.jobs``), a command's in ``app.cli``.

Every module of ``app/web``, ``app/api`` and ``app/services`` is read with ``ast``, and
any call of a ``commit`` method fails (``db.session.commit()``, ``session.commit()``,
``connection.commit()`` alike).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NO_COMMIT = ("app/web", "app/api", "app/services")


def commit_calls(source: str) -> list[int]:
    """The line of every ``<anything>.commit(...)`` call in ``source``."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "commit"
    ]


def _modules() -> list[Path]:
    return [path for folder in NO_COMMIT for path in sorted((ROOT / folder).rglob("*.py"))]


@pytest.mark.parametrize("path", _modules(), ids=lambda path: str(path.relative_to(ROOT)))
def test_views_and_services_never_commit(path: Path) -> None:
    lines = commit_calls(path.read_text())
    assert not lines, (
        f"{path.relative_to(ROOT)} commits on line(s) {lines}: a request commits in "
        "app/transactions.py, a job in app/jobs.py"
    )


def test_every_folder_is_scanned() -> None:
    for folder in NO_COMMIT:
        assert list((ROOT / folder).glob("*.py")), folder


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("db.session.commit()", [1]),
        ("def view():\n    item = make()\n    db.session.commit()\n    return item", [3]),
        ("with engine.begin() as c:\n    c.commit()", [2]),
        ("db.session.flush()\ndb.session.rollback()", []),
        ("commit = 1", []),
    ],
)
def test_the_scan_finds_commits(source: str, found: list[int]) -> None:
    assert commit_calls(source) == found
