"""The layout the README promises, checked on the source: no import cycle between the packages of
``app/``, a core that imports no feature, shared machinery defined once in it, routes that never
commit, and no user-facing Chinese written inline in a ``raise``."""

from __future__ import annotations

import ast
import re
from functools import lru_cache
from pathlib import Path

from app.settings import PROJECT_ROOT

APP = PROJECT_ROOT / "app"
# Modules every part may import: the tables, the enumerations, errors, messages and settings.
KERNEL = {"app.models", "app.enums", "app.errors", "app.messages", "app.settings", "app.credit_code"}
CJK = re.compile(r"[\u4e00-\u9fff]")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _unit(module: str) -> str:
    """The node of the graph: a package directly under app/ (app.auth), or a top-level module (app.cli)."""
    return ".".join(module.split(".")[:2])


def _resolve(name: str) -> str | None:
    """The longest prefix of a dotted name that is a module or package of app/."""
    parts = name.split(".")
    while parts:
        path = PROJECT_ROOT.joinpath(*parts)
        if path.is_dir() or path.with_suffix(".py").is_file():
            return ".".join(parts)
        parts = parts[:-1]
    return None


@lru_cache(maxsize=1)
def _sources() -> dict[str, tuple[Path, ast.Module]]:
    return {_module_name(p): (p, ast.parse(p.read_text(encoding="utf-8"))) for p in APP.rglob("*.py")}


def _imports(module: str, tree: ast.Module, path: Path) -> set[str]:
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            names = [stem] + [f"{stem}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            if name.startswith("app.") and (target := _resolve(name)):
                out.add(target)
    return out


def _graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for module, (path, tree) in _sources().items():
        for target in _imports(module, tree, path):
            a, b = _unit(module), _unit(target)
            if a != b and a != "app" and b != "app":
                edges.setdefault(a, set()).add(b)
    return edges


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_between_the_parts_of_app():
    edges = _graph()
    assert "app.auth" in edges and "app.core" in edges["app.auth"]  # the graph is really built
    assert _cycles(edges) == []


def test_the_cycle_check_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_core_imports_no_feature():
    edges = _graph()
    assert edges["app.core"] <= KERNEL, edges["app.core"] - KERNEL
    for kernel in KERNEL:
        assert edges.get(kernel, set()) <= KERNEL, (kernel, edges.get(kernel))


def _definitions(kind: type, name: str) -> list[str]:
    return [module for module, (_path, tree) in _sources().items()
            for node in ast.walk(tree) if isinstance(node, kind) and node.name == name]


def test_shared_machinery_is_defined_once_in_core():
    for kind, name in [(ast.ClassDef, "AuditEntry"), (ast.ClassDef, "Notification"), (ast.ClassDef, "ReviewEvent"),
                       (ast.FunctionDef, "audit_context"), (ast.FunctionDef, "check_if_match"),
                       (ast.FunctionDef, "set_etag"), (ast.FunctionDef, "notify"),
                       (ast.FunctionDef, "unit_of_work")]:
        where = _definitions(kind, name)
        assert len(where) == 1 and where[0].startswith("app.core."), (name, where)
    assert not any(m.startswith("app.workflow.") and m.rsplit(".", 1)[1] in {"audit", "concurrency", "notifications"}
                   for m in _sources())


def _calls(tree: ast.Module, attribute: str) -> list[int]:
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == attribute]


def test_transactions_have_one_home():
    """Routes never commit or roll back; only the unit of work does (and nothing calls ``begin()``)."""
    for module, (path, tree) in _sources().items():
        if module == "app.core.uow":
            continue
        for attribute in ("commit", "rollback", "begin"):
            lines = _calls(tree, attribute)
            assert not lines, f"{path.relative_to(PROJECT_ROOT)}:{lines} calls .{attribute}()"


def test_no_inline_chinese_in_raise():
    """Every user-facing sentence comes from app/messages.py: a ``raise`` carries no Chinese literal."""
    offenders = []
    for module, (path, tree) in _sources().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Raise) and node.exc is not None:
                for sub in ast.walk(node.exc):
                    if isinstance(sub, ast.Constant) and isinstance(sub.value, str) and CJK.search(sub.value):
                        offenders.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}")
                        break
    assert offenders == []


def test_geojson_of_stored_rows_is_built_in_one_place():
    """Every GeoJSON answer of stored rows comes from the one builder (app/core/read): no ST_AsGeoJSON,
    no Feature assembled in SQL anywhere else."""
    pattern = re.compile(r"st_asgeojson|'type',\s*'Feature'|\"type\":\s*\"Feature\",\s*\"id\"'", re.IGNORECASE)
    outside = [str(path.relative_to(PROJECT_ROOT)) for module, (path, _tree) in _sources().items()
               if not module.startswith("app.core.read") and pattern.search(path.read_text(encoding="utf-8"))]
    assert outside == []
    assert pattern.search((APP / "core" / "read" / "sql.py").read_text(encoding="utf-8"))  # the check sees it
