"""No import cycles inside the house.

The imports of every module in ``app/``, ``scoring/`` and ``rewards/`` are read with
``ast``, those at the top and those inside functions alike (an import inside a function
to dodge a cycle is still a cycle), and any strongly connected group of modules fails.
A package's ``__init__`` is a module like any other: ``app.api`` and ``app.web`` import
their blueprints at the top, and the blueprints take what they share from
``app.api.support`` and ``app.web.pages``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("app", "scoring", "rewards")


def module_sources(root: Path = ROOT, packages: Iterable[str] = PACKAGES) -> dict[str, str]:
    """Dotted module name -> source, for every module under ``packages``."""
    sources = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            sources[".".join(parts)] = path.read_text()
    return sources


def _known(name: str, modules: Mapping[str, str]) -> str | None:
    """The module ``name`` lives in (``app.models.Employee`` -> ``app.models``)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str, source: str, modules: Mapping[str, str]) -> set[tuple[str, bool]]:
    """(imported module, imported inside a function) for each import in ``source``."""
    is_package = any(other.startswith(module + ".") for other in modules)
    found: set[tuple[str, bool]] = set()

    def visit(node: ast.AST, in_function: bool) -> None:
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                here = module.split(".") if is_package else module.split(".")[:-1]
                here = here[: len(here) - (node.level - 1)]
                base = ".".join(here + ([node.module] if node.module else []))
            # ``from pkg import sub`` imports the submodule; ``from pkg import name`` the package
            names = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names
            ]
        for name in names:
            target = _known(name, modules)
            if target is not None and target != module:
                found.add((target, in_function))
        for child in ast.iter_child_nodes(node):
            visit(child, in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef))

    visit(ast.parse(source), False)
    return found


def import_graph(modules: Mapping[str, str]) -> dict[str, set[str]]:
    return {
        module: {target for target, _ in _imports(module, source, modules)}
        for module, source in modules.items()
    }


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return sorted(groups)


def test_the_house_is_read():
    modules = module_sources()
    assert {"app", "app.jobs", "app.queue", "scoring.engine", "rewards.redemptions"} <= set(modules)
    assert "app.queue" in import_graph(modules)["app.services.sign_in"]


def test_there_is_no_import_cycle():
    assert cycles(import_graph(module_sources())) == []


# Below the edge nothing needs an import inside a function: a cycle would be the only
# reason, and the house has none.
LAYERED = ("app.services", "app.jobs", "app.queue", "app.db", "scoring", "rewards")


def imports_inside_functions(modules: Mapping[str, str]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for module, source in modules.items():
        hidden = {
            target for target, in_function in _imports(module, source, modules) if in_function
        }
        if hidden:
            found[module] = hidden
    return found


def test_services_and_jobs_import_at_the_top():
    modules = module_sources()
    hidden = imports_inside_functions(modules)
    assert {m: t for m, t in hidden.items() if m.startswith(LAYERED)} == {}


def test_the_check_finds_imports_inside_functions():
    modules = {
        "app.services.a": "from app.models import X\ndef f():\n    from app.services.b import g\n",
        "app.services.b": "import json\ndef g():\n    import os\n",
        "app.models": "",
    }
    assert imports_inside_functions(modules) == {"app.services.a": {"app.services.b"}}


@pytest.mark.parametrize(
    ("modules", "expected"),
    [
        # at the top of both modules
        ({"app.a": "from app.b import x", "app.b": "import app.a"}, [["app.a", "app.b"]]),
        # one side hides its import inside a function: still a cycle
        (
            {
                "app.jobs": "def run():\n    from app.services.feeds import go\n",
                "app.services": "",
                "app.services.feeds": "from app.jobs import enqueue",
            },
            [["app.jobs", "app.services.feeds"]],
        ),
        # three modules in a ring, one import relative
        (
            {
                "app.x": "from app.y import f",
                "app.y": "from .z import g",
                "app.z": "from app import x",
                "app": "",
            },
            [["app.x", "app.y", "app.z"]],
        ),
        # a method's import counts too
        (
            {
                "app.a": "class A:\n    def f(self):\n        import app.b\n",
                "app.b": "from app.a import A",
            },
            [["app.a", "app.b"]],
        ),
        # a layered house: no cycle
        ({"app.queue": "import rq", "app.jobs": "from app.queue import enqueue"}, []),
        # a package whose blueprints use helpers it defines, gathered in a function or not
        (
            {
                "app.api": "def register():\n    from app.api import teams\n",
                "app.api.teams": "from app.api import api_blueprint",
            },
            [["app.api", "app.api.teams"]],
        ),
        (
            {
                "app.api": "from app.api import teams\n",
                "app.api.teams": "from app.api import api_blueprint",
            },
            [["app.api", "app.api.teams"]],
        ),
        # the helpers in a module of their own: no cycle
        (
            {
                "app.api": "from app.api import teams\n",
                "app.api.teams": "from app.api.support import api_blueprint",
                "app.api.support": "from app.models import Role",
                "app.models": "",
            },
            [],
        ),
    ],
)
def test_the_check_catches_cycles(modules: dict[str, str], expected: list[list[str]]):
    assert cycles(import_graph(modules)) == expected
