"""Every third-party module the program imports is installed by `pip install .` (the Dockerfile's install), not
only by the dev extra: `ralph` was a dev extra while `certification/exports.py` imported it, and every `coach`
command in the image died with ModuleNotFoundError. `.ci/image_check` proves the real install; this is the
fast check that runs with every `make test`."""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("app", "bot", "certification", "ingest", "knowledge", "quizzes", "storage")


def imported_top_level_modules() -> dict[str, str]:
    """Top-level module name → the first file importing it, over every import (also inside functions)."""
    found: dict[str, str] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return found


def runtime_distributions(root: str = "pocketcoach") -> set[str]:
    """The distributions `pip install .` brings in: the project's requirements without extras, recursively, with
    the extras each requirement asks for."""
    seen: set[str] = set()
    pending: list[tuple[str, frozenset[str]]] = [(root, frozenset())]
    while pending:
        name, extras = pending.pop()
        key = canonicalize_name(name)
        if key in seen and not extras:
            continue
        seen.add(key)
        for line in metadata.requires(name) or []:
            requirement = Requirement(line)
            marker = requirement.marker
            wanted = marker is None or any(marker.evaluate({"extra": extra}) for extra in ("", *extras))
            if wanted:
                pending.append((requirement.name, frozenset(requirement.extras)))
    return seen


def test_every_imported_third_party_module_is_a_runtime_dependency():
    first_party = set(PACKAGES)
    providers = metadata.packages_distributions()
    runtime = runtime_distributions()
    missing = []
    for module, where in sorted(imported_top_level_modules().items()):
        if module in first_party or module in sys.stdlib_module_names or module == "__future__":
            continue
        distributions = {canonicalize_name(d) for d in providers.get(module, [])}
        if not distributions & runtime:
            missing.append(f"{module} (imported by {where}; installed by {sorted(distributions) or 'nothing'})")
    assert not missing, "imported but not installed by `pip install .`: " + "; ".join(missing)
