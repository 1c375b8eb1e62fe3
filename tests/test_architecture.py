"""The layering and public-surface rules of STYLE.md, checked on the source itself."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import pkgutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import firebrick
from firebrick.domain.compute.ports import ComputePorts
from firebrick.domain.ports import Ports
from firebrick.domain.volume.states import AttachStatus, MigrationStatus, SnapshotStatus, VolumeStatus

PACKAGE = Path(firebrick.__file__).parent

# layer -> modules it must never import (R1)
FORBIDDEN = {
    "firebrick.domain": (
        "starlette",
        "sqlalchemy",
        "qemu",
        "subprocess",
        "firebrick.api",
        "firebrick.db",
        "firebrick.node",
        "uvicorn",
    ),
    "firebrick.storage": ("firebrick.api", "firebrick.db", "firebrick.domain", "sqlalchemy", "starlette"),
    "firebrick.virt": ("firebrick.api", "firebrick.db", "firebrick.domain", "sqlalchemy", "starlette"),
    "firebrick.remote": ("firebrick.api", "firebrick.db", "firebrick.domain", "sqlalchemy", "starlette", "qemu"),
    "firebrick.db": ("firebrick.api", "starlette"),
    "firebrick.workers": ("firebrick.api", "starlette", "sqlalchemy"),
}


def _modules() -> list[tuple[str, Path]]:
    found = []
    for path in PACKAGE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        name = ".".join(relative.parts).removesuffix(".__init__")
        found.append((name, path))
    return found


def _runtime_imports(path: Path) -> set[str]:
    """Imports that run at import time (those under ``if TYPE_CHECKING:`` are types only)."""
    tree = ast.parse(path.read_text())
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            node.body = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    return imported


@pytest.mark.parametrize(("name", "path"), _modules(), ids=lambda v: str(v))
def test_layers_import_one_way(name: str, path: Path) -> None:
    for layer, banned in FORBIDDEN.items():
        if name == layer or name.startswith(layer + "."):
            bad = {imp for imp in _runtime_imports(path) for b in banned if imp == b or imp.startswith(b + ".")}
            assert not bad, f"{name} imports {sorted(bad)}"


def test_every_package_declares_its_exports() -> None:
    for info in pkgutil.walk_packages([str(PACKAGE)], "firebrick."):
        # Private modules and __main__ (importing it would run the CLI) are exempt.
        if ".migrations" in info.name or info.name.rsplit(".", 1)[-1].startswith("_"):
            continue
        module = importlib.import_module(info.name)
        assert hasattr(module, "__all__"), f"{info.name} has no __all__"
        for exported in module.__all__:
            assert hasattr(module, exported), f"{info.name}.__all__ names missing {exported}"


def test_status_strings_are_spelled_only_in_the_states_module() -> None:
    # Words that are statuses and nothing else; "available"/"error" also mean other things in bodies.
    statuses = {s.value for s in (*VolumeStatus, *SnapshotStatus, *AttachStatus, *MigrationStatus)}
    statuses -= {"available", "error", "reserved", "success", "deleting", "creating"}
    offenders = []
    for name, path in _modules():
        if not name.startswith(("firebrick.domain", "firebrick.db")) or name.endswith("states"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value in statuses:
                offenders.append(f"{name}:{node.lineno} {node.value!r}")
    assert offenders == []


def test_foreign_exceptions_are_caught_only_in_their_adapter() -> None:
    adapters = {
        "CalledProcessError": "firebrick.storage",
        "IntegrityError": "firebrick.db",
        "ExecuteError": "firebrick.virt",
    }
    for name, path in _modules():
        source = path.read_text()
        for exception, home in adapters.items():
            if f"except {exception}" in source or f"exc.{exception}" in source:
                assert name.startswith(home), f"{name} handles {exception} outside {home}"


def test_only_config_reads_the_environment() -> None:
    for name, path in _modules():
        if name in ("firebrick.config", "firebrick.cli"):
            continue
        source = path.read_text()
        assert "os.environ" not in source and "getenv" not in source, name


def _imported_modules(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Every module an import names, with ``from package import module`` read as ``package.module``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.lineno, node.module
            yield from ((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)


def _private_owner(module: str) -> str | None:
    """The package a private module (``a.b._m``) belongs to, or None for a public one."""
    parts = module.split(".")
    for index, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            return ".".join(parts[:index])
    return None


def test_private_modules_are_imported_only_inside_their_package() -> None:
    # A private module serves its package and the package's subpackages; what another package
    # needs is public, with an __all__.
    offenders = []
    for name, path in _modules():
        for line, imported in _imported_modules(ast.parse(path.read_text())):
            owner = _private_owner(imported)
            if imported.startswith("firebrick.") and owner and name != owner and not name.startswith(owner + "."):
                offenders.append(f"{name}:{line} imports {imported}")
    assert offenders == []


def _repository_fields(ports: type) -> set[str]:
    fields = dataclasses.fields(ports)
    return {f.name for f in fields if "Repository" in str(f.type) or "ImagePorts" in str(f.type)}


# The ports that are repositories: the API passes ports to the domain and never reads them itself.
_REPOSITORIES = _repository_fields(Ports) | _repository_fields(ComputePorts)


def _api_modules() -> list[tuple[str, ast.Module]]:
    return [(name, ast.parse(path.read_text())) for name, path in _modules() if name.startswith("firebrick.api")]


def _repository_uses(tree: ast.AST) -> list[str]:
    found = [f"imports {m}" for _, m in _imported_modules(tree) if m == "firebrick.db" or m.startswith("firebrick.db.")]
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "repos":
            found.append(f"line {node.lineno}: .repos")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute):
            if node.value.attr == "ports" and node.attr in _REPOSITORIES:
                found.append(f"line {node.lineno}: .ports.{node.attr}")
    return found


def test_the_api_reaches_repositories_only_through_the_domain() -> None:
    offenders = {name: uses for name, tree in _api_modules() if (uses := _repository_uses(tree))}
    assert offenders == {}


# What blocks: a function or module from these (an upper-case name is a type or a constant), and
# these attributes (the node's services, and policy, which may reread its file).
_BLOCKING_SOURCES = ("firebrick.domain", "firebrick.db", "firebrick.storage", "firebrick.virt", "firebrick.api.auth")
_BLOCKING_ATTRIBUTES = {"ports", "compute", "identity", "repos", "db", "hypervisor", "authorize", "allowed"}


def _names(tree: ast.Module) -> tuple[set[str], dict[str, tuple[str, str]]]:
    """A module's blocking imported names, and the names it imports from other API modules."""
    blocking, from_api = set(), {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                local = alias.asname or alias.name
                if node.module.startswith(_BLOCKING_SOURCES) and not local[0].isupper():
                    blocking.add(local)
                elif node.module.startswith("firebrick.api"):
                    from_api[local] = (node.module, alias.name)
    return blocking, from_api


def _blocks(function: ast.AST, blocking: set[str]) -> bool:
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and node.id in blocking:
            return True
        if isinstance(node, ast.Attribute) and node.attr in _BLOCKING_ATTRIBUTES:
            return True
    return False


def _blocking_functions(modules: list[tuple[str, ast.Module]]) -> dict[str, set[str]]:
    """Per API module, its own blocking names and its top-level functions that block, directly or
    through another function of the API (followed until nothing changes)."""
    names = {name: _names(tree) for name, tree in modules}
    result = {name: set(names[name][0]) for name, _ in modules}
    changed = True
    while changed:
        changed = False
        for name, tree in modules:
            imported = {local for local, (m, n) in names[name][1].items() if n in result.get(m, set())}
            for function in tree.body:
                if isinstance(function, ast.FunctionDef) and function.name not in result[name]:
                    if _blocks(function, result[name] | imported):
                        result[name].add(function.name)
                        changed = True
    return result


def test_coroutines_of_the_api_never_block() -> None:
    # SQL, qemu-img, scrypt and the compute side's HTTP calls never run on the event loop:
    # handlers are plain functions that api._call's endpoints run in worker threads.
    modules = _api_modules()
    blocking = _blocking_functions(modules)
    offenders = {}
    for name, tree in modules:
        imported = {local for local, (m, n) in _names(tree)[1].items() if n in blocking.get(m, set())}
        coroutines = [f for f in ast.walk(tree) if isinstance(f, ast.AsyncFunctionDef)]
        if found := [f.name for f in coroutines if _blocks(f, blocking[name] | imported)]:
            offenders[name] = found
    assert offenders == {}
