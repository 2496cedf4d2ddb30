"""Fixtures for end-to-end tests against the local Telegram Bot API emulator (see README.md here)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.e2e.harness import BotApiEmulator, EmulatorUnavailable, ensure_emulator_installed

# Set COACH_E2E_REQUIRED=1 (in CI, say) to fail instead of skipping when Node.js/npm are missing.
REQUIRED = os.environ.get("COACH_E2E_REQUIRED", "").strip().lower() in {"1", "true", "yes"}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: drives a real PTB Application through the local Bot API emulator")


def _unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"COACH_E2E_REQUIRED is set but the Bot API emulator is unavailable: {reason}", pytrace=False)
    pytest.skip(f"Bot API emulator unavailable: {reason}")


@pytest.fixture(scope="session")
def bot_api_emulator_installed() -> bool:
    """Installs tests/e2e's npm packages once per session (npm ci), or skips with the reason."""
    try:
        ensure_emulator_installed()
    except EmulatorUnavailable as exc:
        _unavailable(str(exc))
    return True


@pytest.fixture
def bot_api_emulator(bot_api_emulator_installed: bool) -> Iterator[BotApiEmulator]:
    """A started emulator on a free loopback port, stopped (process ended) after the test."""
    emulator = BotApiEmulator(install=False)
    try:
        emulator.start()
    except EmulatorUnavailable as exc:
        _unavailable(str(exc))
    try:
        yield emulator
    finally:
        emulator.stop()
