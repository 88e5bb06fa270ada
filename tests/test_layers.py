"""The package picture holds (docs/architecture.md): walk every import under src/openpit.

- the gateway imports nothing from ``engine`` or ``ledger``: it renders what the venue
  publishes and asks the venue service, it computes no venue numbers;
- ``server`` (assembly) is imported by nothing but the command-line entry point;
- the pure layers import no I/O layer;
- no cycle between top-level packages.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import openpit

ROOT = Path(openpit.__file__).parent
PURE = {"core", "config", "engine", "ledger", "marketdata"}
IO = {"gateway", "api", "server", "store", "durability", "feeds", "web", "cli", "cli_commands"}


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _imports() -> dict[str, dict[str, list[str]]]:
    """package -> imported package -> files that import it."""
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT.parent).with_suffix("")
        source = _package(".".join(rel.parts))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                if name.startswith("openpit."):
                    target = _package(name)
                    if target != source:
                        graph[source][target].append(str(path.relative_to(ROOT)))
    return graph


def test_the_gateway_imports_no_engine_and_no_ledger() -> None:
    graph = _imports()
    assert not {k: v for k, v in graph["gateway"].items() if k in ("engine", "ledger")}


def test_server_is_imported_only_by_the_command_line() -> None:
    importers = {src for src, targets in _imports().items() if "server" in targets}
    assert importers <= {"cli"}, importers


def test_pure_layers_import_no_io_layer() -> None:
    graph = _imports()
    bad = {(src, dst): graph[src][dst] for src in PURE for dst in graph[src] if dst in IO}
    assert not bad, bad


def test_no_cycle_between_packages() -> None:
    graph = {src: set(targets) for src, targets in _imports().items()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*path, node, nxt]))
            if nxt not in state:
                visit(nxt, [*path, node])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
