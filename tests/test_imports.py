"""The package's tree stays walkable: at most ``ROOT_MODULES`` modules directly in
``agentwrite/`` (the public face; the rest lives in rooms), none over ``MODULE_LINES`` lines.
Its imports point one way: no module imports, directly or through others, a module that
imports it back (imports only for type checkers do not count). Across modules, only public
names are imported: what another module needs is public API of its own."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "agentwrite"
ROOT_MODULES = 12
MODULE_LINES = 400


def test_the_root_holds_few_modules() -> None:
    root = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert len(root) <= ROOT_MODULES, f"{len(root)} modules in agentwrite/, at most {ROOT_MODULES}: {root}"


def test_no_module_is_long() -> None:
    lines = {
        str(path.relative_to(PACKAGE.parent)): len(path.read_text("utf-8").splitlines())
        for path in PACKAGE.rglob("*.py")
    }
    long = {name: count for name, count in sorted(lines.items()) if count > MODULE_LINES}
    assert long == {}, f"modules over {MODULE_LINES} lines: {long}"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imported(tree: ast.AST, modules: set[str]) -> set[str]:
    """The package's modules that ``tree`` imports at run time, anywhere in the file."""
    found: set[str] = set()
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        stack.extend(ast.iter_child_nodes(node))
    return found & modules


def import_graph() -> dict[str, set[str]]:
    paths = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    modules = set(paths)
    return {
        name: imported(ast.parse(path.read_text("utf-8")), modules) - {name} for name, path in paths.items()
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm).

    >>> cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}})
    [['a', 'b']]
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_planted_cycle() -> None:
    graph = import_graph()
    graph["agentwrite.domain"] = graph["agentwrite.domain"] | {"agentwrite.cli"}
    assert any("agentwrite.cli" in c and "agentwrite.domain" in c for c in cycles(graph))


def test_no_module_imports_itself_back() -> None:
    assert cycles(import_graph()) == []


def private_imports(tree: ast.AST) -> list[str]:
    """The names with a leading underscore that ``tree`` imports from agentwrite's modules.

    >>> private_imports(ast.parse("from agentwrite.plans import _tokens, parse\\nfrom os import _exit"))
    ['agentwrite.plans._tokens']
    """
    return [
        f"{node.module}.{alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "agentwrite"
        for alias in node.names
        if alias.name.startswith("_") and not alias.name.startswith("__")
    ]


def test_no_module_imports_another_ones_private_names() -> None:
    root = PACKAGE.parent
    found = {
        f"{path.relative_to(root)}: {name}"
        for folder in ("agentwrite", "eval", "tests")
        for path in (root / folder).rglob("*.py")
        for name in private_imports(ast.parse(path.read_text("utf-8")))
    }
    assert found == set()


LAYERS = {
    "agentwrite.cli": 1,
    "agentwrite.dataset": 2,
    "agentwrite.evaluation": 2,
    "agentwrite.train": 2,
    "agentwrite.runner": 3,
    "agentwrite.graph": 3,
    "agentwrite.plans": 4,
    "agentwrite.material": 4,
    "agentwrite.writing": 4,
    "agentwrite.sources": 4,
    "agentwrite.llm": 5,
    "agentwrite.settings": 5,
    "agentwrite.domain": 6,
    "agentwrite.errors": 6,
    "agentwrite.events": 6,
    "agentwrite.files": 6,
    "agentwrite.credentials": 6,
    "agentwrite.sync": 6,
    "agentwrite.length": 6,
    "agentwrite.text_stats": 6,
    "agentwrite.prompts": 6,
}
"""README "Architecture": the rooms in layers, commands (1) down to the bottom (6); a module
imports from its own layer and those below. ``agentwrite`` itself (the lazy public face) and
``testing/`` (doubles and drills, imported by tests and eval scripts only) stand outside."""
LAYER_EXCEPTIONS = {("agentwrite.domain", "agentwrite.writing.language")}
"""The README's one named exception: a brief's language (that module imports nothing of the package)."""


def layer_of(module: str) -> int | None:
    """The layer of ``module`` by its longest listed prefix (None: outside the layers).

    >>> layer_of("agentwrite.graph.nodes.plan"), layer_of("agentwrite.testing.fake_writer")
    (3, None)
    """
    owners = [p for p in LAYERS if module == p or module.startswith(p + ".")]
    return LAYERS[max(owners, key=len)] if owners else None


def test_every_module_has_a_layer_or_stands_outside() -> None:
    outside = {"agentwrite", "agentwrite.testing"}
    unplaced = [
        m
        for m in import_graph()
        if layer_of(m) is None and not any(m == o or m.startswith(o + ".") for o in outside)
    ]
    assert not unplaced, unplaced


def test_imports_point_down_the_layers() -> None:
    upward = []
    for module, targets in import_graph().items():
        here = layer_of(module)
        for target in targets:
            there = layer_of(target)
            if (
                here is not None
                and there is not None
                and there < here
                and (module, target) not in LAYER_EXCEPTIONS
            ):
                upward.append(f"{module} (layer {here}) imports {target} (layer {there})")
    assert not upward, upward


def test_testing_is_imported_by_no_module_of_the_package() -> None:
    users = [
        f"{module} imports {target}"
        for module, targets in import_graph().items()
        if not module.startswith("agentwrite.testing")
        for target in targets
        if target.startswith("agentwrite.testing")
    ]
    assert not users, users
