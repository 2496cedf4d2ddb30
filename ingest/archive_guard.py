"""How far an archive-based document (docx, pptx, xlsx: zip files of XML) may expand, checked before any
library opens it.

`max_file_mb` bounds only the compressed size: a 3 MB .docx can inflate to gigabytes (a zip bomb). So:
1. the central directory: at most `max_members` members, whose declared sizes add up to at most
   `max_expanded_bytes`, none (past `ratio_floor_bytes`) more than `max_ratio` times its compressed size;
2. then every member is inflated in 64 KB pieces that are counted and dropped — the bytes it really yields,
   whatever its header claims — stopping at the first member that yields more than it declared or once the
   total passes `max_expanded_bytes`.
The guard holds one piece at a time, so checking costs bounded memory; the library then reads an archive whose
parts are known to be small. Only stored and deflated members are accepted (what Office writes).

No imports from the rest of the program: ingest and quizzes both call it and map `ArchiveTooLarge` to their
own errors.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass

_PIECE = 64 * 1024
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # zipfile's own layout of a local file header
_LOCAL_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class ArchiveLimits:
    """What an archive may expand to. The defaults fit the largest real Office files we ingest many times over
    (a 50 MB deck of images inflates to about 55 MB; text-only XML compresses 5–20:1)."""

    max_members: int = 20_000
    max_expanded_bytes: int = 256 * 1024 * 1024
    max_ratio: float = 100.0
    ratio_floor_bytes: int = 1024 * 1024  # smaller members may compress as well as they like


DEFAULT_LIMITS = ArchiveLimits()


class ArchiveTooLarge(Exception):
    """The archive would expand past a limit; `message` says which, in Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotAnArchive(Exception):
    """The bytes are not a readable zip file (the caller reports it as damaged)."""


def _mb(size: float) -> str:
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0")


def _size(size: int) -> str:
    return f"{_mb(size)} MB" if size >= 1024 * 1024 else f"{max(size, 1) / 1024:.0f} KB"


def check_archive(data: bytes, *, limits: ArchiveLimits = DEFAULT_LIMITS) -> int:
    """The number of bytes `data`'s members really inflate to; ArchiveTooLarge past a limit, NotAnArchive when
    it is no zip file."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise NotAnArchive(str(exc)) from exc
    with archive:
        members = archive.infolist()
        _check_declared(members, limits)
        total = 0
        for member in members:
            total += _inflated_size(data, member, limit=limits.max_expanded_bytes - total)
        return total


def _check_declared(members: list[zipfile.ZipInfo], limits: ArchiveLimits) -> None:
    """Refuse on the central directory's word alone: too many members, too much in all, or a bomb's ratio."""
    cap = _mb(limits.max_expanded_bytes)
    if len(members) > limits.max_members:
        raise ArchiveTooLarge(f"文件里有 {len(members)} 个部件,超过 {limits.max_members} 个的上限,疑似压缩炸弹,已拒绝")
    declared = sum(m.file_size for m in members)
    if declared > limits.max_expanded_bytes:
        raise ArchiveTooLarge(f"文件解压后有 {_mb(declared)} MB,超过 {cap} MB 的上限,疑似压缩炸弹,已拒绝")
    for member in members:
        if member.file_size > limits.ratio_floor_bytes:
            ratio = member.file_size / max(member.compress_size, 1)
            if ratio > limits.max_ratio:
                raise ArchiveTooLarge(
                    f"文件中的「{member.filename}」压缩比达 {ratio:.0f}:1(上限 {limits.max_ratio:.0f}:1),"
                    "解压后会异常膨胀,疑似压缩炸弹,已拒绝"
                )


def _inflated_size(data: bytes, member: zipfile.ZipInfo, *, limit: int) -> int:
    """Inflate one member from its raw bytes in pieces, counting; never more than `limit` nor than it declared."""
    start = _data_offset(data, member)
    raw = memoryview(data)[start : start + member.compress_size]
    if member.compress_type == zipfile.ZIP_STORED:
        produced = len(raw)
    elif member.compress_type == zipfile.ZIP_DEFLATED:
        produced = _count_inflated(raw, stop_after=min(limit, member.file_size))
    else:
        raise NotAnArchive(f"unsupported compression {member.compress_type} in {member.filename}")
    if produced > member.file_size:
        raise ArchiveTooLarge(
            f"文件中的「{member.filename}」实际解压后比它声明的 {_size(member.file_size)} 更大(文件头被篡改),"
            "疑似压缩炸弹,已拒绝"
        )
    if produced > limit:
        raise ArchiveTooLarge("文件实际解压后超过上限,疑似压缩炸弹,已拒绝")
    return produced


def _count_inflated(raw: memoryview, *, stop_after: int) -> int:
    """Bytes a raw deflate stream yields, one piece at a time; stops one piece past `stop_after`."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    produced = 0
    position = 0
    pending = b""
    try:
        while produced <= stop_after:
            if not pending:
                if position >= len(raw):
                    break
                pending = bytes(raw[position : position + _PIECE])
                position += _PIECE
            piece = inflater.decompress(pending, _PIECE)
            pending = inflater.unconsumed_tail
            produced += len(piece)
            if inflater.eof:
                break
    except zlib.error as exc:
        raise NotAnArchive(str(exc)) from exc
    return produced


def _data_offset(data: bytes, member: zipfile.ZipInfo) -> int:
    """Where a member's compressed bytes start: after its local header, name and extra field."""
    header = data[member.header_offset : member.header_offset + _LOCAL_HEADER.size]
    if len(header) != _LOCAL_HEADER.size or not header.startswith(_LOCAL_MAGIC):
        raise NotAnArchive(f"bad local header for {member.filename}")
    fields = _LOCAL_HEADER.unpack(header)
    name_length, extra_length = fields[-2], fields[-1]
    return member.header_offset + _LOCAL_HEADER.size + name_length + extra_length
