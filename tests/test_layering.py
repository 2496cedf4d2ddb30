"""Dependencies point one way: only bot/channels/telegram imports telegram; the lower layers never
import the layers above them."""

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
    "bot/channels/console": {"telegram"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_does_not_import_the_layers_above(package):
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imports(path) & FORBIDDEN[package])
        for path in (ROOT / package).rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}
