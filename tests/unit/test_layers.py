"""The layer rules of ARCHITECTURE.md, checked on the source: who may import whom."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SIM = ROOT / "simulator" / "klingsim"
KIT = ROOT / "contracts" / "klingsim_contracts"


def imports(path: Path, top_level_only: bool = False) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def modules(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py"))


# layer -> packages of the project it may import (besides itself)
ALLOWED = {
    "spec": set(),
    "providers": {"klingsim.spec"},
    "core": {"klingsim.spec"},
}
WEB = ("fastapi", "starlette", "uvicorn", "pydantic")


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_inner_layers_import_only_what_they_may(layer: str) -> None:
    for path in modules(SIM / layer):
        for name in imports(path):
            if name.startswith("klingsim.") and not name.startswith(f"klingsim.{layer}"):
                assert any(name.startswith(a) for a in ALLOWED[layer]), f"{path.name} imports {name}"
            assert not name.startswith(WEB), f"{path.relative_to(ROOT)} imports {name}"


def test_only_the_server_imports_fastapi() -> None:
    for path in modules(SIM):
        if (SIM / "server") in path.parents:
            continue
        assert not {n for n in imports(path) if n.startswith(("fastapi", "starlette"))}, path


def test_the_contract_kit_never_imports_the_server() -> None:
    for path in modules(KIT):
        if path.name == "pytest_plugin.py":
            continue  # the plugin's fixtures build the app, lazily (ARCHITECTURE.md)
        assert not {n for n in imports(path) if n.startswith("klingsim.server")}, path


def test_the_pytest_plugin_imports_only_pytest_at_module_level() -> None:
    plugin = KIT / "pytest_plugin.py"
    extra = {n for n in imports(plugin, top_level_only=True) if n not in ("__future__", "pytest")}
    assert not {n for n in extra if not n.startswith(("typing", "collections.abc"))}, extra
