"""Dependencies point one way: only bot/channels/telegram imports telegram; the lower layers never
import the layers above them; a channel takes from app/ only its settings (the composition root hands it the rest)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "knowledge": {"telegram", "bot", "app", "quizzes"},
    "ingest": {"telegram", "bot", "app", "quizzes"},
    "storage": {"telegram", "bot", "app", "knowledge", "ingest", "quizzes"},
    "quizzes": {"telegram", "bot", "app"},
    "bot/core": {"telegram", "app"},
    "certification": {"telegram", "bot", "app"},
    "bot/channels/console": {"telegram"},
    "bot/channels/wecom": {"telegram"},
    "bot/channels/worker": {"telegram"},
}
CHANNEL_MAY_IMPORT_FROM_APP = {"app.settings"}  # typed configuration; never app.composition, app.health, …


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _app_modules(path: Path, *, with_type_only: bool = True) -> set[str]:
    """Every `app…` module a file imports; without `with_type_only`, not those under `if TYPE_CHECKING:`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    if not with_type_only:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                skipped.update(id(inner) for stmt in node.body for inner in ast.walk(stmt))
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names if alias.name.split(".")[0] == "app")
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "app":
                names.update(f"app.{alias.name}" for alias in node.names)
            elif node.module.startswith("app."):
                names.add(node.module)
    return names


def test_channels_take_only_their_settings_from_the_composition_root():
    """At run time no channel imports app/ beyond its settings; the channels built on the worker runtime (WeCom, the
    worker plumbing) do not even name app's types (they get Protocols)."""
    strict = ("bot/channels/wecom", "bot/channels/worker", "bot/channels/console")
    offenders = {}
    for path in (ROOT / "bot" / "channels").rglob("*.py"):
        relative = str(path.relative_to(ROOT))
        imported = _app_modules(path, with_type_only=relative.startswith(strict))
        offenders[relative] = sorted(imported - CHANNEL_MAY_IMPORT_FROM_APP)
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_layering_check_sees_the_imports_it_forbids(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from app.composition import Services\n"
        "import app.health\nfrom app import commands\nfrom app.settings import Settings\n",
        encoding="utf-8",
    )
    assert _app_modules(probe) == {"app.composition", "app.health", "app.commands", "app.settings"}
    assert _app_modules(probe, with_type_only=False) == {"app.health", "app.commands", "app.settings"}
    assert _imports(probe) >= {"app", "typing"}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_does_not_import_the_layers_above(package):
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imports(path) & FORBIDDEN[package])
        for path in (ROOT / package).rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}
