"""The import graph of ``harness/`` points one way: every import, at module level or inside a function, goes to
the importer's own layer or a lower one, and no module reaches itself through its imports.

Layers, bottom to top (a package is in one layer; its modules import only this layer and those below):
support -> codecs and graphs -> models and data -> scenarios -> executors -> report and submission -> cli and
the pytest plugin. The graph is read from the sources with :mod:`ast` (nothing is imported), so an import
placed inside a function to dodge a cycle is seen like any other.
"""
from __future__ import annotations

import ast
import itertools
from collections import defaultdict
from pathlib import Path

import pytest

from harness.files import REPO_ROOT

PACKAGE = REPO_ROOT / "harness"
LAYERS = (
    ("files", "registry", "runtime", "torch_cpu", "memory", "environment", "matrix", "references", "results",
     "assetstore"),
    ("coders", "split", "metrics"),
    ("models", "datasets", "detection", "asr", "pose", "bitinc", "derive"),
    ("scenarios",),
    ("executors",),
    ("report", "submission"),
    ("cli", "pytest_plugin", "__main__"),
)
LAYER_OF = {name: level for level, names in enumerate(LAYERS) for name in names}


def module_files(package: Path = PACKAGE) -> dict[str, Path]:
    modules = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def imported_modules(name: str, path: Path, known: set[str]) -> set[str]:
    """The harness modules ``name`` imports anywhere in its source (``from a import b`` counts ``a.b`` when that
    is a module, else ``a``)."""
    is_package = path.name == "__init__.py"

    def resolve(target: str) -> str | None:
        while target and target not in known:
            target = target.rpartition(".")[0]
        return target or None

    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                here = name.split(".") if is_package else name.split(".")[:-1]
                base = ".".join(here[:len(here) - node.level + 1] + ([base] if base else []))
            submodules = [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in known]
            # ``from pkg import module`` imports the module; ``from pkg import name`` imports pkg
            targets = submodules if len(submodules) == len(node.names) else [base, *submodules]
        for target in targets:
            if target.startswith("harness"):
                resolved = resolve(target)
                if resolved and resolved != name:
                    found.add(resolved)
    return found


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    modules = module_files(package)
    return {name: imported_modules(name, path, set(modules)) for name, path in modules.items()}


def area(module: str) -> str | None:
    """The top-level package (or support module) of a harness module; None for ``harness`` itself."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    found = []
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            here, there = area(module), area(target)
            if here is None or there is None or here == there:
                continue
            if LAYER_OF[there] > LAYER_OF[here]:
                found.append(f"{module} (layer {LAYER_OF[here]}) imports {target} (layer {LAYER_OF[there]})")
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one member (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = itertools.count()

    def visit(node: str) -> None:
        index[node] = low[node] = next(counter)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph.get(node, ())):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
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


def area_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = defaultdict(set)
    for module, targets in graph.items():
        for target in targets:
            here, there = area(module), area(target)
            if here and there and here != there:
                edges[here].add(there)
    return edges


GRAPH = import_graph()


def test_every_area_of_the_package_has_a_layer():
    unplaced = sorted({area(m) for m in GRAPH} - set(LAYER_OF) - {None})
    assert not unplaced, f"place {unplaced} in LAYERS (tests/support/test_import_layers.py) before importing it"


def test_no_import_points_to_a_higher_layer():
    assert upward_imports(GRAPH) == []


def test_no_module_imports_itself_through_others():
    assert cycles(GRAPH) == []


def test_no_two_areas_import_each_other():
    # also inside one layer (models and data): a circle between packages is a circle even without a module one
    assert cycles(area_graph(GRAPH)) == []


def test_the_checks_see_an_upward_import_a_function_import_and_a_circle(tmp_path: Path):
    package = tmp_path / "harness"
    (package / "coders").mkdir(parents=True)
    (package / "scenarios").mkdir()
    for folder in (package, package / "coders", package / "scenarios"):
        (folder / "__init__.py").write_text("")
    (package / "coders" / "a.py").write_text("def f():\n    from harness.scenarios.b import g\n")
    (package / "scenarios" / "b.py").write_text("from ..coders import a\n")
    graph = import_graph(package)
    assert graph["harness.coders.a"] == {"harness.scenarios.b"}
    assert graph["harness.scenarios.b"] == {"harness.coders.a"}
    assert upward_imports(graph) == ["harness.coders.a (layer 1) imports harness.scenarios.b (layer 3)"]
    assert cycles(graph) == [["harness.coders.a", "harness.scenarios.b"]]
    assert cycles(area_graph(graph)) == [["coders", "scenarios"]]


@pytest.mark.parametrize("module", ["harness.results", "harness.report", "harness.submission"])
def test_reading_results_loads_no_scenario_and_no_torch(module: str):
    import subprocess
    import sys

    code = (f"import sys, {module}; print(sorted(m for m in sys.modules "
            "if m.startswith('harness.scenarios') or m == 'torch'))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]", f"importing {module} loaded {loaded}"
