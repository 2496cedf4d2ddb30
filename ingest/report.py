"""What an ingest run did to each file, and how clean the passages it wrote are, for the console and
for `--json`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, tzinfo
from typing import Literal

from ingest.quality import PassageQuality
from storage.ingest_lock import LockHolder

Status = Literal["added", "updated", "unchanged", "skipped", "removed"]
_STATUS_ZH = {"added": "新增", "updated": "更新", "unchanged": "未变", "skipped": "跳过", "removed": "移除"}


@dataclass(frozen=True)
class FileOutcome:
    path: str
    status: Status
    chunks: int = 0
    reason: str | None = None
    code: str | None = None


@dataclass
class IngestReport:
    collection: str
    outcomes: list[FileOutcome] = field(default_factory=list)
    quality: PassageQuality = field(default_factory=PassageQuality)  # over the passages this run wrote

    def count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def changed(self) -> bool:
        return any(o.status in ("added", "updated", "removed") for o in self.outcomes)

    def as_json(self) -> dict[str, object]:
        quality = self.quality
        return {
            "collection": self.collection,
            "files": [asdict(o) for o in self.outcomes],
            "quality": {
                **asdict(quality),
                "doubled_share": round(quality.doubled_share, 4),
                "mojibake_share": round(quality.mojibake_share, 4),
                "adjacent_share": round(quality.adjacent_share, 4),
            },
        }

    def summary_lines(self) -> list[str]:
        """Readable report: one line of counts, the cleaning check of the new passages, then every
        skipped file with its reason."""
        statuses: tuple[Status, ...] = ("added", "updated", "unchanged", "skipped", "removed")
        counts = ",".join(f"{_STATUS_ZH[s]} {self.count(s)}" for s in statuses if self.count(s))
        looked_at = sum(1 for o in self.outcomes if o.status in ("added", "updated", "unchanged"))
        passages = sum(o.chunks for o in self.outcomes if o.status in ("added", "updated", "unchanged"))
        written = sum(o.chunks for o in self.outcomes if o.status in ("added", "updated"))
        lines = [
            f"[{self.collection}] {counts or '没有文件'};"
            f"本次给出的 {looked_at} 个文件共 {passages} 段,其中本次写入 {written} 段(未变的文件不重写)"
        ]
        quality = self.quality
        if quality.passages:
            lines.append(
                f"  清洗检查(本次写入 {quality.passages} 段):仍有重复片段 {quality.doubled} 段"
                f"({quality.doubled_share:.1%},其中紧挨着重复 {quality.adjacent} 段,{quality.adjacent_share:.1%}),"
                f"含乱码 {quality.mojibake} 段({quality.mojibake_share:.1%})"
            )
        lines += [f"  跳过 {o.path}: {o.reason}" for o in self.outcomes if o.status == "skipped"]
        return lines


def lock_holder_text(holder: LockHolder | None, *, zone: tzinfo) -> str:
    """Who holds an ingest lock, as a person reads it (the start time in the programme's time zone)."""
    if holder is None:
        return "另一个导入"
    started = holder.started_at.replace(tzinfo=UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
    return f"另一个导入(主机 {holder.host},进程 {holder.pid},{started} 开始)"


def waiting_message(collection: str, holder: LockHolder | None, *, zone: tzinfo) -> str:
    return (
        f"[{collection}] {lock_holder_text(holder, zone=zone)}正在写入这个知识库,等它结束后再开始……"
        "(不想等可以加 --no-wait)"
    )


def busy_message(collection: str, holder: LockHolder | None, *, zone: tzinfo) -> str:
    holder_text = lock_holder_text(holder, zone=zone)
    return f"[{collection}] {holder_text}正在写入这个知识库;本次没有导入(--no-wait),请稍后再试。"
