"""The layering and public-surface rules of STYLE.md, checked on the source itself."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import firebrick
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
