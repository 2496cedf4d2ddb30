"""A folder nobody in this process can write, for as long as a block runs.

Tests often run as root, whom `chmod` does not stop: then the folder is bind-mounted read-only onto itself (what a
read-only volume looks like to the program) and unmounted afterwards. Other users get `chmod a-w`. When neither
blocks a write, the test is skipped with the reason.
"""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _can_write(folder: Path) -> bool:
    probe = folder / ".write-probe"
    try:
        probe.write_bytes(b"")
    except OSError:
        return False
    probe.unlink()
    return True


@contextmanager
def _bind_mounted_read_only(folder: Path) -> Iterator[bool]:
    mounted = subprocess.run(["mount", "--bind", str(folder), str(folder)], capture_output=True, check=False)
    if mounted.returncode != 0:
        yield False
        return
    try:
        remounted = subprocess.run(
            ["mount", "-o", "remount,bind,ro", str(folder)], capture_output=True, check=False
        ).returncode
        yield remounted == 0
    finally:
        subprocess.run(["umount", "--lazy", str(folder)], capture_output=True, check=True)


@contextmanager
def _chmod_read_only(folder: Path) -> Iterator[bool]:
    paths = [folder, *folder.rglob("*")]
    modes = {p: p.stat().st_mode for p in paths}
    for p in reversed(paths):
        p.chmod(modes[p] & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    try:
        yield True
    finally:
        for p in paths:
            p.chmod(modes[p])


@contextmanager
def read_only_folder(folder: Path) -> Iterator[None]:
    """`folder` (existing) refuses every write inside the block; skips the test when that cannot be arranged."""
    making = _bind_mounted_read_only(folder) if os.geteuid() == 0 else _chmod_read_only(folder)
    with making as made:
        if not made or _can_write(folder):
            pytest.skip(f"cannot make {folder} read-only here (root without mount rights?)")
        yield
