"""Start-up time of the `coach` commands a person waits for, against `python -c pass` in the same run.

Each command is a fresh process (what a user starts), timed wall-clock, best and median of several runs, in a
scratch data folder holding the bundled content. The ratio is against the interpreter's own start-up measured
in the same run, so a busy machine shows in both. Goals (issue 12): `coach --help` and `coach quiz list` under
0.5 s, a cold `coach search` under 2 s, a repeat `make run` with nothing changed under 10 s to the prompt
(measured up to the console's prompt: `/quit` is its first input).

Usage: .venv/bin/python bench/startup_bench.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
COACH = str(BIN / "coach")


def timed(argv: list[str], *, env: dict[str, str], stdin: str = "", cwd: Path = ROOT) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, input=stdin, text=True, capture_output=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return elapsed


def measure(argv: list[str], *, env: dict[str, str], runs: int, stdin: str = "") -> tuple[float, float]:
    times = [timed(argv, env=env, stdin=stdin) for _ in range(runs)]
    return min(times), statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="coach-startup-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COACH_", "TELEGRAM_"))}
    env.update(COACH_DATA_DIR=str(data), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", ANONYMIZED_TELEMETRY="False")
    try:
        first = timed([COACH, "setup-content", "content", "--no-progress"], env=env)
        print(f"first load of the bundled content (not a goal): {first:.2f} s  data folder {data}")
        print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}  cores: {os.cpu_count()}")
        rows = [
            ("python -c pass", [sys.executable, "-c", "pass"], None, ""),
            ("coach --help", [COACH, "--help"], 0.5, ""),
            ("coach quiz list", [COACH, "quiz", "list"], 0.5, ""),
            ("coach search (cold process)", [COACH, "search", "谈判时怎么让步"], 2.0, ""),
            ("make run, nothing changed, to the prompt", ["make", "--no-print-directory", "run"], 10.0, "/quit\n"),
        ]
        baseline = None
        print(f"\n{'command':44} {'best s':>8} {'median s':>9} {'× pass':>8} {'goal s':>7}  ok")
        for name, argv, goal, stdin in rows:
            runs = args.runs if goal is None or goal < 5 else max(2, args.runs // 2)
            best, median = measure(argv, env=env, runs=runs, stdin=stdin)
            baseline = baseline or median
            verdict = "" if goal is None else ("yes" if median < goal else "NO")
            goal_text = "" if goal is None else f"{goal:.1f}"
            print(f"{name:44} {best:8.3f} {median:9.3f} {median / baseline:8.1f} {goal_text:>7}  {verdict}")
        print(f"\nload average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        shutil.rmtree(data, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
