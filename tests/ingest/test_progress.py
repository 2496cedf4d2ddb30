"""The progress of a large document on stderr: the rate and the time left, a bar on a terminal, lines otherwise."""

from __future__ import annotations

import io

from ingest.progress import StderrProgress, format_duration, progress_line


def test_time_left_reads_in_hours_minutes_or_seconds():
    assert format_duration(12.4) == "12 秒"
    assert format_duration(469) == "7 分 49 秒"
    assert format_duration(3900) == "1 小时 05 分"


def test_a_line_says_how_far_how_fast_and_how_long_still():
    line = progress_line("手册.pdf", done=1200, total=5000, resumed=400, rate=8.0)
    assert line == "手册.pdf: 1200/5000 段(其中 400 段上次已完成),8.0 段/秒,剩余约 7 分 55 秒"
    assert progress_line("手册.pdf", done=5000, total=5000, resumed=0, rate=8.0) == "手册.pdf: 5000/5000 段,8.0 段/秒"


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_without_a_terminal_lines_come_at_most_every_few_seconds_and_the_rate_counts_this_run_only():
    stream, clock = io.StringIO(), _Clock()
    progress = StderrProgress(stream, tty=False, clock=clock)
    progress.start("手册.pdf", total=100, done=20)
    for _ in range(4):  # 10 passages per second, a batch every 2 s
        clock.now += 2
        progress.advance(20)
    progress.finish()
    lines = stream.getvalue().splitlines()
    assert lines == [
        "手册.pdf: 20/100 段(其中 20 段上次已完成)",
        "手册.pdf: 80/100 段(其中 20 段上次已完成),10.0 段/秒,剩余约 2 秒",  # 6 s after the start line
        "手册.pdf: 100/100 段(其中 20 段上次已完成),10.0 段/秒",  # the last one always
    ]


def test_on_a_terminal_it_is_a_bar_with_rate_and_time_left():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    progress = StderrProgress(stream)
    progress.start("手册.pdf", total=100, done=20)
    progress.advance(30)
    progress.finish()
    shown = stream.getvalue()
    assert "手册.pdf" in shown and "50/100" in shown and "段/s" in shown and "<" in shown  # tqdm: rate, elapsed<left
