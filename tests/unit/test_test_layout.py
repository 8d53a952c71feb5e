"""The tests' own layout: shared helpers live in tests/helpers.py, not in a test module.

A test module that imports another runs the other's module-level code and fixtures' imports,
ties the two together for every later move, and hides which helpers are shared. Both rules
are checked by parsing the sources, so nothing here imports a test module.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def sources() -> dict[str, ast.Module]:
    """Every Python file under tests/, parsed, by its dotted module name."""
    found = {}
    for path in sorted(TESTS.rglob("*.py")):
        parts = path.relative_to(TESTS.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return found


def imported(module: str, tree: ast.Module) -> set[str]:
    """The modules `module` imports anywhere (also inside functions and TYPE_CHECKING)."""
    names: set[str] = set()
    package = module.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            names.add(base)
            # `from tests.ui import test_app` imports a module, not a name
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def is_test_module(name: str) -> bool:
    return name.startswith("tests.") and name.rsplit(".", 1)[-1].startswith("test_")


def test_no_test_module_imports_another() -> None:
    trees = sources()
    assert sum(is_test_module(m) for m in trees) >= 30, sorted(trees)
    crossings = sorted(
        f"{module} imports {other}"
        for module, tree in trees.items()
        for other in imported(module, tree)
        if is_test_module(other) and other in trees and other != module
    )
    assert not crossings, "move shared helpers to tests/helpers.py:\n" + "\n".join(crossings)


def test_the_shared_helpers_are_not_copied_into_test_modules() -> None:
    """No two modules under tests/ hold a top-level function with the same body.

    (Two fixtures with one body in one module are two instances of a server, not a copy.)
    """
    bodies: dict[str, dict[str, str]] = defaultdict(dict)
    for module, tree in sources().items():
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                if node.name.startswith("test_"):
                    continue
                body = node.body
                if (
                    body
                    and isinstance(body[0], ast.Expr)
                    and isinstance(body[0].value, ast.Constant)
                ):
                    body = body[1:]  # the same code under two docstrings is still a copy
                key = ast.dump(ast.Module(body=body, type_ignores=[]))
                bodies[key][module] = f"{module}.{node.name}"
    copies = sorted(", ".join(where.values()) for where in bodies.values() if len(where) > 1)
    assert not copies, "one copy in tests/helpers.py (or a conftest for a fixture):\n" + "\n".join(
        copies
    )


def test_no_test_module_redefines_a_shared_helper() -> None:
    """A local `until` beside the shared one drifts from it (test_one_poll.py had one)."""
    trees = sources()
    shared = {
        node.name
        for node in trees["tests.helpers"].body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    assert {"until", "eventually", "rows", "status", "demo_app"} <= shared
    again = sorted(
        f"{module}.{node.name}"
        for module, tree in trees.items()
        if is_test_module(module)
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in shared
    )
    assert not again, "import these from tests/helpers.py:\n" + "\n".join(again)
