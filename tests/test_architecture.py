"""The package's import graph: module-level imports form no cycle."""

import ast
from pathlib import Path

import eventx_signals

PACKAGE = Path(eventx_signals.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def resolve(module: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    base = module.split(".") if is_package else module.split(".")[:-1]
    if node.level:
        base = base[: len(base) - node.level + 1]
        target = ".".join([*base, node.module] if node.module else base)
    else:
        target = node.module or ""
    # "from . import x" may import the submodule x.
    return [target, *(f"{target}.{alias.name}" for alias in node.names)]


def module_level_imports(path: Path) -> set[str]:
    """What a module imports when it is imported (not inside functions, not
    under ``if TYPE_CHECKING``)."""
    module = module_name(path)
    found: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom):
            found.update(resolve(module, path.name == "__init__.py", node))
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def graph() -> dict[str, set[str]]:
    paths = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    # A module's own packages are imported before it anyway: an import of
    # one of them ("from . import conf") depends on the submodule, not on them.
    return {
        name: {
            target
            for target in module_level_imports(path)
            if target in paths and not (name + ".").startswith(target + ".")
        }
        for name, path in paths.items()
    }


def test_graph_is_read():
    edges = graph()
    assert "eventx_signals.delivery" in edges["eventx_signals.signals"]
    assert "eventx_signals.backends.base" in edges["eventx_signals.backends.thread"]


def test_no_import_cycles():
    edges = graph()
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            cycle = path[path.index(name) :] + [name]
            raise AssertionError("import cycle: " + " -> ".join(cycle))
        if name in done:
            return
        for target in sorted(edges[name]):
            visit(target, [*path, name])
        done.add(name)

    for name in sorted(edges):
        visit(name, [])
