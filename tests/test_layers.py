"""The package's layers, read from the source: imports go down only, and no module grows past a screenful of screens.

The import graph is built with :mod:`ast` from every module of ``converters``: imports at module
level and inside functions both count (a function-level import is still a dependency, only a lazy
one); those under ``if TYPE_CHECKING:`` do not, since they never run. ``from pkg import name``
counts as an import of ``pkg.name`` when that is a module, else of ``pkg`` itself.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "converters"
ROOT = "converters"
MAX_LINES = 500


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    """Every module of the package, by dotted name (a package is its ``__init__``)."""
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def is_package(name: str) -> bool:
    return modules()[name].name == "__init__.py"


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(tree: ast.AST):
    """Every node of ``tree`` except what sits under ``if TYPE_CHECKING:``."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                todo.extend(child.orelse)
            else:
                todo.append(child)


def _base(name: str, node: ast.ImportFrom) -> str | None:
    """The absolute module a ``from ... import`` names (resolving dots against ``name``'s package)."""
    if node.level == 0:
        return node.module
    package = name if is_package(name) else name.rpartition(".")[0]
    parts = package.split(".")
    if node.level > 1:
        parts = parts[: -(node.level - 1)]
    return ".".join(parts + ([node.module] if node.module else []))


@cache
def imports(name: str) -> frozenset[str]:
    """The modules of ours that module ``name`` imports when it runs."""
    tree = ast.parse(modules()[name].read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _base(name, node)
            if base is None:
                continue
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules() else base)
    return frozenset(m for m in found if m in modules())


def graph() -> dict[str, frozenset[str]]:
    return {name: imports(name) for name in modules()}


def find_cycle(edges: dict[str, frozenset[str]]) -> list[str] | None:
    """One import cycle as a list of modules (the first repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(edges[node]):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(edges):
        if start not in state:
            cycle = visit(start)
            if cycle:
                return cycle
    return None


def in_layer(module: str, layer: str) -> bool:
    prefix = f"{ROOT}.{layer}"
    return module == prefix or module.startswith(prefix + ".")


def crossings(importer_layer: str, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{name} -> {target}"
        for name, targets in graph().items()
        if in_layer(name, importer_layer)
        for target in targets
        if any(in_layer(target, layer) for layer in forbidden)
    )


def test_the_graph_sees_module_and_function_level_imports_but_not_type_checking_ones():
    assert "converters.run.executors" in imports("converters.cli")  # inside a function
    assert "converters.errors" in imports("converters.cli")  # at module level
    assert "converters.run.pipeline" in imports("converters.api")  # ``from .run import pipeline``, inside a function
    assert "converters.run.executors" not in imports("converters.api")  # only under TYPE_CHECKING


def test_the_cycle_finder_finds_a_cycle():
    edges = {"a": frozenset({"b"}), "b": frozenset({"c"}), "c": frozenset({"a"}), "d": frozenset()}
    assert find_cycle(edges) == ["a", "b", "c", "a"]
    assert find_cycle({"a": frozenset({"b"}), "b": frozenset()}) is None


def test_no_import_cycle():
    assert find_cycle(graph()) is None


def test_nothing_imports_the_package_init_but_main():
    importers = sorted(name for name, targets in graph().items() if ROOT in targets and name != f"{ROOT}.__main__")
    assert importers == []


@pytest.mark.parametrize(
    ("layer", "forbidden"),
    [
        ("run", ("formats", "loading")),
        ("loading", ("run",)),
        ("codecs", ("sources", "run", "formats", "loading")),
        ("sources", ("run", "formats", "loading")),
        ("formats", ("run", "loading")),
    ],
)
def test_imports_only_go_down(layer, forbidden):
    assert crossings(layer, forbidden) == []


#: What ``sources/`` may take from ``codecs/``: a frame of a video file is decoded where its bytes are read.
SOURCES_FROM_CODECS = {"converters.sources.imagefiles -> converters.codecs.video"}


def test_sources_take_from_codecs_only_the_video_decoder():
    assert set(crossings("sources", ("codecs",))) <= SOURCES_FROM_CODECS


#: Formats every format may import from.
SHARED_FORMATS = ("formats.folders", "formats.sharded", "formats.lookalikes")

#: The other formats' modules a format imports, by importing format (design.md, "The layers", lists each and why).
FROM_OTHER_FORMATS: dict[str, set[str]] = {
    "mose": {"davis.spec", "youtube_vos.spec", "lvos.reader"},
    "lvos": {"youtube_vos.spec"},
    "parquet": {"davis.spec"},
    "coco": {"ytvis.lines"},
    "ytvis": {"coco.reader", "coco.spec"},
    "cocovid": {"coco.reader", "coco.segmentation", "coco.spec", "coco.writer", "ytvis.lines", "ytvis.spec"},
}


def format_of(module: str) -> str | None:
    """``mose`` for ``converters.formats.mose.reader``; None outside ``formats/`` or for ``formats/lookalikes``."""
    parts = module.split(".")
    return parts[2] if len(parts) > 3 and parts[1] == "formats" else None


def test_a_format_imports_from_another_only_what_is_shared():
    found = set()
    for name, targets in graph().items():
        own = format_of(name)
        if own is None:
            continue
        for target in targets:
            other = format_of(target)
            if other is None or other == own or any(in_layer(target, shared) for shared in SHARED_FORMATS):
                continue
            if target.removeprefix(f"{ROOT}.formats.") not in FROM_OTHER_FORMATS.get(own, set()):
                found.add(f"{name} -> {target}")
    assert sorted(found) == []


def test_the_allowed_imports_between_formats_are_all_still_used():
    """An entry of FROM_OTHER_FORMATS that nothing imports any more goes, and so does its line in design.md."""
    used = {
        (format_of(name), target.removeprefix(f"{ROOT}.formats."))
        for name, targets in graph().items()
        for target in targets
        if format_of(name) and format_of(target) and format_of(target) != format_of(name)
    }
    assert {(own, m) for own, modules_ in FROM_OTHER_FORMATS.items() for m in modules_} <= used


def external_imports(name: str) -> frozenset[str]:
    """The top-level names of what module ``name`` imports from outside the package, when it runs."""
    tree = ast.parse(modules()[name].read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return frozenset(found - {ROOT})


def test_the_conformance_suite_is_imported_by_no_module_of_the_package():
    importers = sorted(
        name
        for name, targets in graph().items()
        if not in_layer(name, "testing") and any(in_layer(target, "testing") for target in targets)
    )
    assert importers == []


def test_only_the_pytest_classes_import_pytest():
    importers = sorted(n for n in modules() if external_imports(n) & {"pytest", "_pytest"})
    assert importers == [f"{ROOT}.testing.suite"]


def test_the_contracts_import_no_format_and_no_runner():
    contracts = [f"{ROOT}.reader", f"{ROOT}.writer"]
    assert sorted(t for c in contracts for t in imports(c) if in_layer(t, "formats") or in_layer(t, "run")) == []


def test_the_intermediate_form_imports_nothing_of_ours():
    assert imports(f"{ROOT}.model") == frozenset()


#: Modules another branch of issue 18 is splitting; each name goes once that branch is merged (the test says so).
BEING_SPLIT: set[str] = set()  # modules allowed over the limit while being split: none now


def test_no_module_is_over_500_lines():
    long = {name: n for name, path in modules().items() if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert {name: n for name, n in long.items() if name not in BEING_SPLIT} == {}
    assert set(long) >= BEING_SPLIT, f"now within {MAX_LINES} lines: remove {sorted(BEING_SPLIT - set(long))} from BEING_SPLIT"


def test_no_module_imports_another_s_private_names():
    """A name with a leading underscore is its module's own: one another module needs is named without it
    (the compiled kernels, ``_kernels``/``_kernels_checked``, are modules whose name says they are no API)."""
    taken = []
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module != "__future__":
                private = [a.name for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
                taken += [f"{name}: {_base(name, node)}.{p}" for p in private if not p.startswith("_kernels")]
    assert taken == []
