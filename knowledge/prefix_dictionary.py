"""jieba's prefix dictionary (every word and every prefix of a word, with its frequency) as a memory-mapped file.

jieba builds it from dict.txt (~2 s) or loads it from a marshal cache in the system's temporary folder (~0.35 s,
600,000 dict entries): a third of a cold `coach search`. Here it is one file in the data folder, written once with
our domain terms already added, and opened with `mmap`: a question looks up a few hundred words by binary search
in sorted keys (microseconds each), nothing is loaded up front. Bulk tokenising (ingest) calls `as_dict()` first:
the same entries as a plain dict, ~4× faster to make than the marshal load.

The file holds bytes and integers only, never anything that is executed on load (the data folder is treated as
writable by others). Layout: magic, a little-endian header (version, entry count, total frequency, blob length,
CRC-32 of the body, length of the source key), the source key (what the file was built from), padding to 8
bytes, then the body: frequencies (int64, count), entry start offsets (uint32, count + 1) and the keys in
code-point order, UTF-8, each followed by a newline. A file that does not fit (another source key, a size or
checksum that is off) is rebuilt.
"""

from __future__ import annotations

import bisect
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

log = logging.getLogger(__name__)
MAGIC = b"COACHPD\n"
FORMAT_VERSION = 1
_HEADER = struct.Struct("<IIqqII")  # version, count, total, blob length, body CRC-32, source key length
FILE_NAME = "jieba-prefix-dictionary.bin"


class MappedFrequencies:
    """The part of a `dict[str, int]` jieba uses (`in`, `[]`, `get`, assignment) over the mapped file.

    Words assigned at run time (jieba's `add_word`) go to an overlay that is consulted first."""

    def __init__(self, *, buffer: mmap.mmap, count: int, starts: memoryview, freqs: memoryview, blob: memoryview):
        self._buffer = buffer  # kept open while the views are in use
        self._count = count
        self._starts = starts
        self._freqs = freqs
        self._blob = blob
        self._added: dict[str, int] = {}

    def _key(self, index: int) -> bytes:
        return bytes(self._blob[self._starts[index] : self._starts[index + 1] - 1])

    def _position(self, word: str) -> int | None:
        wanted = word.encode("utf-8")
        index = bisect.bisect_left(_Keys(self), wanted)
        return index if index < self._count and self._key(index) == wanted else None

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and (word in self._added or self._position(word) is not None)

    def __getitem__(self, word: str) -> int:
        if word in self._added:
            return self._added[word]
        index = self._position(word)
        if index is None:
            raise KeyError(word)
        return int(self._freqs[index])

    def get(self, word: str, default: int | None = None) -> int | None:
        try:
            return self[word]
        except KeyError:
            return default

    def __setitem__(self, word: str, freq: int) -> None:
        self._added[word] = freq

    def as_dict(self) -> dict[str, int]:
        """Every entry as a plain dict (what jieba itself would hold), for tokenising many texts."""
        keys = bytes(self._blob).decode("utf-8").split("\n")[: self._count]
        table = dict(zip(keys, self._freqs.tolist(), strict=True))
        table.update(self._added)
        return table


class _Keys:
    """The sorted keys as a sequence of bytes, for `bisect` (nothing is decoded until compared)."""

    def __init__(self, frequencies: MappedFrequencies) -> None:
        self._frequencies = frequencies

    def __len__(self) -> int:
        return self._frequencies._count

    def __getitem__(self, index: int) -> bytes:
        return self._frequencies._key(index)


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
    """Write atomically (a crash never leaves a half-written file); keys with a newline cannot be stored."""
    import numpy as np

    keys = sorted(frequencies)  # code-point order is UTF-8 byte order
    if any("\n" in key for key in keys):
        raise ValueError("a dictionary word holds a newline")
    blob = "".join(f"{key}\n" for key in keys).encode("utf-8")
    ends = np.flatnonzero(np.frombuffer(blob, dtype=np.uint8) == ord("\n")) + 1
    starts = np.concatenate(([0], ends)).astype("<u4")
    freqs = np.fromiter((frequencies[key] for key in keys), dtype="<i8", count=len(keys))
    body = freqs.tobytes() + starts.tobytes() + blob
    key = source_key.encode("utf-8")
    key += b"\0" * _padding(len(MAGIC) + _HEADER.size + len(key))
    header = _HEADER.pack(FORMAT_VERSION, len(keys), total, len(blob), zlib.crc32(body), len(key))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(MAGIC + header + key + body)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
    version, count, total, blob_length, crc, key_length = _HEADER.unpack_from(buffer, at)
    if version != FORMAT_VERSION:
        raise DictionaryMismatch(f"format version {version}, expected {FORMAT_VERSION}")
    at += _HEADER.size
    stored_key = buffer[at : at + key_length].rstrip(b"\0").decode("utf-8", errors="replace")
    if stored_key != source_key:
        raise DictionaryMismatch("built from another dictionary or other domain terms")
    at += key_length
    body_length = 8 * count + 4 * (count + 1) + blob_length
    if len(buffer) - at != body_length:
        raise DictionaryMismatch(f"{len(buffer) - at} bytes of entries, expected {body_length}")
    view = memoryview(buffer)
    body = view[at:]
    if zlib.crc32(body) != crc:
        raise DictionaryMismatch("checksum does not match")
    freqs = body[: 8 * count].cast("q")
    starts = body[8 * count : 8 * count + 4 * (count + 1)].cast("I")
    blob = body[8 * count + 4 * (count + 1) :]
    if count and (starts[0] != 0 or starts[count] != blob_length):
        raise DictionaryMismatch("entry offsets do not span the keys")
    return MappedFrequencies(buffer=buffer, count=count, starts=starts, freqs=freqs, blob=blob), total
