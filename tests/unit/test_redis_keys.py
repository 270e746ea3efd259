"""Each Redis key namespace has one owner: no key name is written outside it."""

from __future__ import annotations

import ast
from pathlib import Path

from app.redis_keys import NAMESPACES

APP = Path(__file__).resolve().parents[2] / "app"
MARKERS = ("chorus:", "{chorus:", "rq:")


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def key_names(source: str) -> list[str]:
    """String literals (and the literal heads of f-strings) that look like key names."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            head = node.values[0] if node.values else None
            if isinstance(head, ast.Constant):
                skip.add(id(head))
                if str(head.value).startswith(MARKERS):
                    found.append(head.value)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in skip
            and node.value.startswith(MARKERS)
        ):
            found.append(node.value)
    return found


def owner_of(name: str) -> str | None:
    matches = [prefix for prefix in NAMESPACES if name.startswith(prefix)]
    return NAMESPACES[max(matches, key=len)] if matches else None


def test_every_key_name_is_written_by_the_owner_of_its_namespace():
    misplaced = []
    for path in sorted(APP.rglob("*.py")):
        module = ".".join(path.relative_to(APP.parent).with_suffix("").parts)
        module = module.removesuffix(".__init__")
        if module == "app.redis_keys":  # the register itself
            continue
        for name in key_names(path.read_text()):
            if name.startswith("rq:"):
                misplaced.append((module, name, "RQ's own keys are RQ's to name"))
            elif owner_of(name) != module:
                misplaced.append((module, name, owner_of(name)))
    assert misplaced == []


def test_the_check_finds_key_names_in_literals_and_f_strings_but_not_docstrings():
    source = '''"""About ``chorus:doc``."""
KEY = "chorus:clicks"
def f(x):
    """chorus:doc too"""
    return f"{{chorus:boards}}:x:{x}", f"chorus:link:{x}", "rq:queue:x"
'''
    assert key_names(source) == [
        "chorus:clicks",
        "{chorus:boards}:x:",
        "chorus:link:",
        "rq:queue:x",
    ]
    assert owner_of("chorus:click-seen:1") == "app.services.clicks"
    assert owner_of("chorus:clicks") == "app.services.click_capture"
    assert owner_of("chorus:nowhere") is None
