"""Cutting text to a channel's length limit: shared by every channel's renderer. Pure functions."""

from __future__ import annotations

from collections.abc import Callable, Iterable


def pack_to_limit(atoms: Iterable[str], width: Callable[[str], int], limit: int) -> list[str]:
    """The atoms (characters, or escaped characters that must not be cut) joined into pieces of at most `limit`
    by `width` (bytes for WeCom, UTF-16 units for Telegram), in order; an atom wider than `limit` stands alone."""
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for atom in atoms:
        atom_width = width(atom)
        if current and size + atom_width > limit:
            pieces.append("".join(current))
            current, size = [], 0
        current.append(atom)
        size += atom_width
    if current:
        pieces.append("".join(current))
    return pieces
