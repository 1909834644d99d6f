"""The project's imports run one way (DESIGN.md §2, §7): no cycle among our modules, counting
the imports made inside functions (the usual way to hide one), and no arrow against the layers:
tasks → services → dispatch, views → selectors, never back."""

import ast
from pathlib import Path

from tests.support.paths import ROOT

PACKAGES = ("evalsite", "mushra", "synth_workers")


def project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Every project module ``name`` imports, at any depth of its code."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            source = ".".join([*base, *([node.module] if node.module else [])])
            for alias in node.names:  # `from package import module` imports the module
                child = f"{source}.{alias.name}"
                found.add(child if child in modules else source)
    return (found & modules.keys()) - {name}


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
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
    return found


def test_no_import_cycle_among_the_projects_modules():
    assert cycles(import_graph()) == []


def test_the_cycle_finder_sees_a_cycle_through_an_import_inside_a_function():
    graph = {"a.services": {"a.dispatch"}, "a.dispatch": set(), "a.tasks": {"a.services"}}
    assert cycles(graph) == []
    graph["a.services"].add("a.tasks")  # the old `from a.tasks import x` inside a service
    assert cycles(graph) == [["a.services", "a.tasks"]]


def test_the_graph_counts_imports_made_inside_functions():
    graph = import_graph()
    assert "synth_workers.services.preparation" in graph["synth_workers.tasks"]  # at the top
    # inside a function: the espeak engine loads a C library on first use only
    assert "synth_workers.backends.espeak_engine" in graph["mushra.trap_speech"]


def _layer(name: str) -> str:
    last = name.split(".")[-1]
    if last == "tasks":
        return "tasks"
    if last == "selectors" or last.endswith("_reads"):
        return "reads"
    writes = last in ("services", "sessions") or last.endswith("_cache")  # sessions: listeners'
    if writes or ".services." in f"{name}.":
        return "services"
    return ""


def test_services_never_import_tasks_and_reads_never_import_services_or_tasks():
    forbidden = {"services": {"tasks"}, "reads": {"services", "tasks"}}
    against = [
        f"{name} → {dep}"
        for name, deps in import_graph().items()
        for dep in deps
        if _layer(dep) in forbidden.get(_layer(name), set())
    ]
    assert against == []


def test_no_production_function_is_named_like_a_test():
    """pytest collects any test_* it finds in a test module's namespace: a production function
    of that name, once imported into a test, would run as a test (or break collection)."""
    named = [
        f"{name}.{node.name}"
        for name, path in project_modules().items()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test_")
    ]
    assert named == []
