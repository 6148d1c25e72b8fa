"""Imports inside the package point one way: no module imports, at the top or inside a
function, a module that imports it back (directly or through others)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "pipeline"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports anywhere in its source."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom):
                base = (package[:len(package) - node.level + 1] if node.level else [])
                module = ".".join(base + ([node.module] if node.module else []))
                targets = [f"{module}.{a.name}" if f"{module}.{a.name}" in modules else module
                           for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            deps.update(t for t in targets if t in modules and t != name)
        graph[name] = deps
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles_in_the_package():
    graph = import_graph()
    assert "pipeline.analysis.analyze" in graph and "pipeline.analysis.config" in graph["pipeline.analysis.analyze"]
    assert cycles(graph) == []


def test_the_check_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


# the package's layers, lowest first: a module may import its own layer and the ones below
LAYERS = ["core", "pipeline.analysis", "pipeline.runs", "pipeline.review", "pipeline.evaluation",
          "pipeline.cli"]
# third-party packages that take a second or more to import (torch comes with several): a module
# may import these, or a module of ours that imports them at its top, inside the function that
# needs them, so that `callcheck --help` and the review app start at once
HEAVY = ("torch", "torchaudio", "pyannote.audio", "faster_whisper", "ctranslate2", "spacy",
         "sklearn", "matplotlib", "distributed", "whisper", "jiwer", "playwright")


def _layer(module: str) -> int:
    return max((i for i, prefix in enumerate(LAYERS)
                if module == prefix or module.startswith(prefix + ".")), default=0)


def test_imports_point_down_the_layers():
    upward = [(m, d) for m, deps in import_graph().items() for d in deps
              if _layer(d) > _layer(m)]
    assert upward == []


def _imports(tree: ast.AST) -> list[tuple[ast.AST, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:  # relative: one of ours
            found.append((node, "pipeline." + (node.module or "")))
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node, node.module))
        elif isinstance(node, ast.Import):
            found.extend((node, a.name) for a in node.names)
    return found


def _is_heavy(module: str) -> bool:
    return any(module == h or module.startswith(h + ".") for h in HEAVY)


def test_no_import_inside_a_function_but_a_heavy_one():
    sources = {_module_name(p): ast.parse(p.read_text(encoding="utf-8"))
               for p in PACKAGE.rglob("*.py")}
    # our modules that import a heavy package at their top
    heavy_ours = {name for name, tree in sources.items()
                  if any(_is_heavy(m) for _, m in _imports(ast.Module(tree.body, [])))}
    inside = []
    for name, tree in sources.items():
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                inside += [f"{name}.{fn.name}: {m}" for node, m in _imports(fn)
                           if m.startswith("pipeline") and m not in heavy_ours]
    assert heavy_ours, "the check found no heavy module of ours (campplus imports torch)"
    assert inside == []
