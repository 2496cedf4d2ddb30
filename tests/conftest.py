"""Shared fixtures: settings in a temporary data folder, the path to ../shared when it is there."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.settings import Settings, load_settings

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def make_settings(data_dir: Path, **retrieval: object) -> Settings:
    settings = load_settings(data_dir=data_dir)
    updates: dict[str, object] = {"storage": settings.storage.model_copy(update={"database_url": ""})}
    if retrieval:
        updates["retrieval"] = settings.retrieval.model_copy(update=retrieval)
    return settings.model_copy(update=updates)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture
def lexical_settings(tmp_path: Path) -> Settings:
    s = make_settings(tmp_path / "data")
    return s.model_copy(update={"vector_store": s.vector_store.model_copy(update={"mode": "off"})})


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not (SHARED / "corpus").is_dir():
        pytest.skip("../shared is not beside the repository (a newcomer's clone has none)")
    return SHARED
