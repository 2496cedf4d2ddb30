"""How far a large document's ingest is: passages stored, the rate, the time left — on stderr.

On a terminal a tqdm bar (it redraws in place); otherwise (a log file, `docker compose run` without a tty) a line
when a document starts, then one per stored batch at most every `LINE_EVERY_SECONDS`, and the last one always.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import IO, Any, Protocol

LINE_EVERY_SECONDS = 5.0


class PassageProgress(Protocol):
    """Capability: be told how a document's passages are being stored."""

    def start(self, name: str, *, total: int, done: int) -> None:
        """A document of `total` passages begins; `done` of them were stored by an earlier, stopped run."""
        ...

    def advance(self, passages: int) -> None: ...

    def finish(self) -> None: ...


class SilentProgress:
    """Shows nothing."""

    def start(self, name: str, *, total: int, done: int) -> None:
        pass

    def advance(self, passages: int) -> None:
        pass

    def finish(self) -> None:
        pass


def format_duration(seconds: float) -> str:
    """「1 小时 05 分」「7 分 49 秒」「12 秒」."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} 小时 {minutes:02d} 分"
    if minutes:
        return f"{minutes} 分 {secs:02d} 秒"
    return f"{secs} 秒"


def progress_line(name: str, *, done: int, total: int, resumed: int, rate: float) -> str:
    """One line of progress: passages stored of the total, those an earlier run had stored, rate, time left."""
    parts = [f"{name}: {done}/{total} 段"]
    if resumed:
        parts.append(f"(其中 {resumed} 段上次已完成)")
    if rate > 0:
        parts.append(f",{rate:.1f} 段/秒")
        if done < total:
            parts.append(f",剩余约 {format_duration((total - done) / rate)}")
    return "".join(parts)


class StderrProgress:
    """A bar on a terminal, lines elsewhere."""

    def __init__(
        self,
        stream: IO[str] | None = None,
        *,
        tty: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._tty = self._stream.isatty() if tty is None else tty
        self._clock = clock
        self._bar: Any = None
        self._name = ""
        self._total = self._done = self._resumed = 0
        self._started = self._last_line = 0.0

    def start(self, name: str, *, total: int, done: int) -> None:
        self._name, self._total, self._done, self._resumed = name, total, done, done
        self._started = self._last_line = self._clock()
        if self._tty:
            from tqdm import tqdm

            self._bar = tqdm(total=total, initial=done, desc=name, unit="段", file=self._stream, dynamic_ncols=True)
        else:
            self._write()

    def advance(self, passages: int) -> None:
        self._done += passages
        if self._bar is not None:
            self._bar.update(passages)
        elif self._clock() - self._last_line >= LINE_EVERY_SECONDS or self._done >= self._total:
            self._write()

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def rate(self) -> float:
        """Passages per second stored by this run (those an earlier run stored do not count)."""
        elapsed = self._clock() - self._started
        return (self._done - self._resumed) / elapsed if elapsed > 0 else 0.0

    def _write(self) -> None:
        self._last_line = self._clock()
        line = progress_line(self._name, done=self._done, total=self._total, resumed=self._resumed, rate=self.rate())
        print(line, file=self._stream, flush=True)
