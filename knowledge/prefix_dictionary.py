"""jieba's prefix dictionary (every word and every prefix of a word, with its frequency) as a memory-mapped file.

jieba builds it from dict.txt (~2 s) or loads it from a marshal cache in the system's temporary folder (~0.35 s,
~500,000 dict entries): a third of a cold `coach search`. Here it is one file in the data folder, written once
with our domain terms already added, and opened with `mmap`: a question's few hundred lookups go through a hash
table in the file, nothing is loaded up front. Bulk tokenising (ingest) calls `as_dict()` first, and a process
that has looked up many words (a chat worker after a few hundred questions) switches to the same dict itself.

The file holds bytes and integers only, never anything that is executed on load (the data folder is treated as
writable by others); a damaged file can make segmentation wrong, never a lookup endless. Layout: magic, a
little-endian header (version, entry count, total frequency, blob length, CRC-32 of the body, length of the
source key, hash table bits, longest probe run), the source key (what the file was built from), padding to 8
bytes, then the body: frequencies (int64, count), the hash table (uint32 entry per slot), entry start offsets
(uint32, count + 1) and the keys in code-point order, UTF-8, each followed by a newline. A file that does not
fit (another source key, a size or checksum that is off) is rebuilt.
"""

from __future__ import annotations

import contextlib
import logging
import mmap
import os
import struct
import sys
import tempfile
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
MAGIC = b"COACHPD\n"
FORMAT_VERSION = 2
# version, entry count, total frequency, blob length, body CRC-32, source key length, hash table bits, longest probe
_HEADER = struct.Struct("<IIqqIIII")
FILE_NAME = "jieba-prefix-dictionary.bin"
EMPTY = 0xFFFFFFFF  # a free hash table slot
LOOKUPS_BEFORE_DICT = 100_000
MAX_PROBE = 1024  # a table at most half full has runs of a few dozen slots; a longer claim is a damaged file


class MappedFrequencies:
    """The part of a `dict[str, int]` jieba uses (`in`, `[]`, `get`, assignment) over the mapped file.

    A word is found through an open-addressing hash table of the keys (CRC-32 of the UTF-8, linear probing): a
    few microseconds. Words assigned at run time (jieba's `add_word`) go to an overlay consulted first. After
    `LOOKUPS_BEFORE_DICT` lookups (a few hundred questions) the entries are read into a dict, as jieba holds them.
    """

    def __init__(
        self, *, buffer: mmap.mmap, count: int, freqs: memoryview, table: memoryview, starts: memoryview,
        blob: memoryview, max_probe: int,
    ) -> None:  # fmt: skip
        self._buffer = buffer  # kept open while the views are in use
        self._count = count
        self._freqs = freqs
        self._table = table
        self._mask = len(table) - 1
        self._starts = starts
        self._blob = blob
        self._max_probe = max_probe
        self._added: dict[str, int] = {}
        self._full: dict[str, int] | None = None
        self._lookups = 0

    def _position(self, word: str) -> int | None:
        wanted = word.encode("utf-8")
        table, starts, blob, mask = self._table, self._starts, self._blob, self._mask
        slot = zlib.crc32(wanted) & mask
        for _ in range(self._max_probe + 1):  # at most MAX_PROBE: a damaged table makes a lookup wrong, not endless
            index = table[slot]
            if index >= self._count:  # EMPTY
                return None
            if blob[starts[index] : starts[index + 1] - 1] == wanted:
                return index
            slot = (slot + 1) & mask
        return None

    def _find(self, word: str) -> int | None:
        if self._full is not None:
            return self._full.get(word)
        if word in self._added:
            return self._added[word]
        self._lookups += 1
        if self._lookups > LOOKUPS_BEFORE_DICT:
            self._full = self.as_dict()
            return self._full.get(word)
        index = self._position(word)
        return None if index is None else int(self._freqs[index])

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and self._find(word) is not None

    def __getitem__(self, word: str) -> int:
        freq = self._find(word)
        if freq is None:
            raise KeyError(word)
        return freq

    def get(self, word: str, default: int | None = None) -> int | None:
        freq = self._find(word)
        return default if freq is None else freq

    def __setitem__(self, word: str, freq: int) -> None:
        (self._added if self._full is None else self._full)[word] = freq

    def as_dict(self) -> dict[str, int]:
        """Every entry as a plain dict (what jieba itself would hold), for tokenising many texts."""
        if self._full is not None:
            return self._full
        keys = bytes(self._blob).decode("utf-8").split("\n")[: self._count]
        table = dict(zip(keys, self._freqs.tolist(), strict=True))
        table.update(self._added)
        return table


class DictionaryMismatch(Exception):
    """The file is readable but is not the dictionary asked for (the message says why)."""


def load_or_build(
    folder: Path, *, source_key: str, build: Callable[[], tuple[dict[str, int], int]]
) -> tuple[MappedFrequencies | dict[str, int], int]:
    """(frequencies, total) from `folder`'s file when it was built from `source_key`; otherwise `build()` them,
    write the file and map it. When the folder cannot be written, the built dict is used as it is."""
    path = folder / FILE_NAME
    try:
        return open_mapped(path, source_key=source_key)
    except FileNotFoundError:
        pass
    except (DictionaryMismatch, OSError, ValueError, struct.error) as exc:
        log.info("prefix dictionary %s does not fit (%s); rebuilding", path, exc)
    frequencies, total = build()
    try:
        write(path, frequencies, total=total, source_key=source_key)
        return open_mapped(path, source_key=source_key)
    except (OSError, DictionaryMismatch, ValueError) as exc:
        log.warning("could not keep the prefix dictionary in %s (%s); using it from memory", folder, exc)
        return frequencies, total


def write(path: Path, frequencies: Mapping[str, int], *, total: int, source_key: str) -> None:
    """Write atomically (a crash never leaves a half-written file); keys with a newline cannot be stored.

    Every step runs over whole arrays (numpy, `map`): ~0.3 s for jieba's ~500,000 entries, once per data folder."""
    import numpy as np

    keys = sorted(frequencies)  # code-point order is UTF-8 byte order
    blob = ("\n".join(keys) + "\n").encode("utf-8") if keys else b""
    if blob.count(b"\n") != len(keys):
        raise ValueError("a dictionary word holds a newline")
    ends = np.flatnonzero(np.frombuffer(blob, dtype=np.uint8) == ord("\n")) + 1
    starts = np.concatenate(([0], ends)).astype("<u4")
    freqs = np.fromiter(map(frequencies.__getitem__, keys), dtype="<i8", count=len(keys))
    hashes = np.fromiter(map(zlib.crc32, blob.split(b"\n")[: len(keys)]), dtype=np.uint32, count=len(keys))
    bits = max(4, (2 * len(keys)).bit_length())  # at least twice the entries: short probe runs
    table, max_probe = _hash_table(hashes, bits)
    body = freqs.tobytes() + table.tobytes() + starts.tobytes() + blob
    key = source_key.encode("utf-8")
    key += b"\0" * _padding(len(MAGIC) + _HEADER.size + len(key))
    header = _HEADER.pack(FORMAT_VERSION, len(keys), total, len(blob), zlib.crc32(body), len(key), bits, max_probe)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(MAGIC + header + key + body)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _hash_table(hashes: Any, bits: int) -> tuple[Any, int]:
    """Slot → key index (EMPTY when free) by linear probing from `hash & mask`, and the longest probe run.

    Built a round at a time: every key not yet placed tries its current slot, the first of the keys trying a free
    slot takes it, the others move one slot on. A key placed r slots past its own therefore found those r slots
    taken, which is all a lookup that probes from its slot needs."""
    import numpy as np

    mask = (1 << bits) - 1
    table = np.full(1 << bits, EMPTY, dtype="<u4")
    pending = np.arange(len(hashes), dtype=np.uint32)
    slots = (hashes & mask).astype(np.int64)
    longest = 0
    while True:
        trying = np.flatnonzero(table[slots] == EMPTY)
        _, first = np.unique(slots[trying], return_index=True)
        winners = trying[first]
        table[slots[winners]] = pending[winners]
        waiting = np.ones(len(pending), dtype=bool)
        waiting[winners] = False
        pending, slots = pending[waiting], (slots[waiting] + 1) & mask
        if not len(pending):
            return table, longest
        longest += 1


def _padding(length: int) -> int:
    """Bytes that bring `length` to a multiple of 8, so the arrays after it are aligned."""
    return -length % 8


def open_mapped(path: Path, *, source_key: str) -> tuple[MappedFrequencies, int]:
    """Map the file read-only; DictionaryMismatch when it was built from something else or is damaged."""
    with path.open("rb") as fh:
        buffer = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        return _parse(buffer, source_key=source_key)
    except BaseException:
        with contextlib.suppress(BufferError):  # a view still held by the traceback: the GC unmaps it
            buffer.close()
        raise


def _parse(buffer: mmap.mmap, *, source_key: str) -> tuple[MappedFrequencies, int]:
    if buffer[: len(MAGIC)] != MAGIC:
        raise DictionaryMismatch("not a prefix dictionary file")
    if sys.byteorder != "little":  # the arrays are little-endian and read in the machine's order
        raise DictionaryMismatch("a big-endian machine reads the dictionary from memory")
    at = len(MAGIC)
    version, count, total, blob_length, crc, key_length, bits, max_probe = _HEADER.unpack_from(buffer, at)
    if version != FORMAT_VERSION:
        raise DictionaryMismatch(f"format version {version}, expected {FORMAT_VERSION}")
    at += _HEADER.size
    stored_key = buffer[at : at + key_length].rstrip(b"\0").decode("utf-8", errors="replace")
    if stored_key != source_key:
        raise DictionaryMismatch("built from another dictionary or other domain terms")
    at += key_length
    if not 4 <= bits <= 28 or max_probe > MAX_PROBE:
        raise DictionaryMismatch(f"hash table of 2^{bits} slots, probe runs up to {max_probe}")
    slots = 1 << bits
    body_length = 8 * count + 4 * slots + 4 * (count + 1) + blob_length
    if len(buffer) - at != body_length:
        raise DictionaryMismatch(f"{len(buffer) - at} bytes of entries, expected {body_length}")
    view = memoryview(buffer)
    body = view[at:]
    if zlib.crc32(body) != crc:
        raise DictionaryMismatch("checksum does not match")
    at = 8 * count
    freqs = body[:at].cast("q")
    table = body[at : at + 4 * slots].cast("I")
    at += 4 * slots
    starts = body[at : at + 4 * (count + 1)].cast("I")
    blob = body[at + 4 * (count + 1) :]
    if count and (starts[0] != 0 or starts[count] != blob_length):
        raise DictionaryMismatch("entry offsets do not span the keys")
    mapped = MappedFrequencies(
        buffer=buffer, count=count, freqs=freqs, table=table, starts=starts, blob=blob, max_probe=max_probe
    )
    return mapped, total
