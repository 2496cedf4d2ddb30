"""Start-up time of the `coach` commands a person waits for, against `python -c pass` in the same run.

Each command is a fresh process (what a user starts), timed wall-clock, best and median of several runs, in a
scratch data folder holding the bundled content. The ratio is against the interpreter's own start-up measured
in the same run, so a busy machine shows in both; the process's CPU seconds (user + system, with its children) are
printed too: on a machine loaded past its cores, waiting for a core dominates the wall time and the CPU time is the
steadier measure of the work a command does. Goals (issue 12): `coach --help` and `coach quiz list` under
0.5 s, a cold `coach search` under 2 s, a repeat `make run` with nothing changed under 10 s to the prompt
(measured up to the console's prompt: `/quit` is its first input).

`--against DIR` compares this checkout with another one (e.g. `git worktree add /tmp/old <commit>`): every
command runs alternately from each tree (PYTHONPATH, its own scratch data folder), so both see the same load, and
the table gets each tree's median and their ratio. `make run` is then its two commands (`coach setup-content
content`, `coach run`), since the other tree has no venv of its own.

Usage: .venv/bin/python bench/startup_bench.py [--runs 5] [--against DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
COACH = str(BIN / "coach")
GOALS = {"coach --help": 0.5, "coach quiz list": 0.5, "coach search (cold process)": 2.0}
MAKE_RUN = "make run, nothing changed, to the prompt"


@dataclass
class Tree:
    """A checkout the commands run from, with its own scratch data folder."""

    root: Path
    data: Path
    env: dict[str, str]

    @classmethod
    def scratch(cls, root: Path, *, pythonpath: bool) -> Tree:
        data = Path(tempfile.mkdtemp(prefix="coach-startup-"))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("COACH_", "TELEGRAM_", "PYTHONPATH"))}
        env.update(COACH_DATA_DIR=str(data), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", ANONYMIZED_TELEMETRY="False")
        if pythonpath:  # the venv's editable install points at /work/main; this tree's packages come first
            env["PYTHONPATH"] = str(root)
        return cls(root, data, env)


def timed(argv: list[str], *, tree: Tree, stdin: str = "") -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=tree.root, env=tree.env, input=stdin, text=True, capture_output=True, check=False)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} in {tree.root} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def rows(*, plain_make: bool) -> list[tuple[str, list[str], str]]:
    make_run = (
        ["make", "--no-print-directory", "run"]
        if plain_make
        else ["sh", "-c", f"{COACH} setup-content content && {COACH} run"]
    )
    return [
        ("python -c pass", [sys.executable, "-c", "pass"], ""),
        ("coach --help", [COACH, "--help"], ""),
        ("coach quiz list", [COACH, "quiz", "list"], ""),
        ("coach search (cold process)", [COACH, "search", "谈判时怎么让步"], ""),
        (MAKE_RUN, make_run, "/quit\n"),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--against", type=Path, help="another checkout, run alternately with this one")
    args = parser.parse_args()
    trees = [Tree.scratch(ROOT, pythonpath=args.against is not None)]
    if args.against is not None:
        trees.append(Tree.scratch(args.against.resolve(), pythonpath=True))
    try:
        for tree in trees:
            first, _ = timed([COACH, "setup-content", "content", "--no-progress"], tree=tree)
            print(f"first load of the bundled content (not a goal): {first:.2f} s  {tree.root} → {tree.data}")
        print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}  cores: {os.cpu_count()}")
        names = ["this tree", f"against {args.against}"][: len(trees)]
        head = "".join(f" {'median s':>9} {'× pass':>7} {'cpu s':>6}" for _ in trees)
        head += "  new/old cpu new/old" if len(trees) > 1 else ""
        print(f"\n{'command':44} {'best s':>8}{head} {'goal s':>7}  ok   ({' | '.join(names)})")
        baselines: list[float] = []
        for name, argv, stdin in rows(plain_make=len(trees) == 1):
            goal = GOALS.get(name, 10.0 if name == MAKE_RUN else None)
            runs = args.runs if name != MAKE_RUN else max(2, args.runs // 2)
            times: list[list[float]] = [[] for _ in trees]
            cpu: list[list[float]] = [[] for _ in trees]
            for _ in range(runs):  # alternately, so both trees see the same load
                for i, tree in enumerate(trees):
                    wall, seconds = timed(argv, tree=tree, stdin=stdin)
                    times[i].append(wall)
                    cpu[i].append(seconds)
            medians = [statistics.median(t) for t in times]
            cpus = [statistics.median(c) for c in cpu]
            baselines = baselines or medians
            cells = "".join(
                f" {m:9.3f} {m / b:7.1f} {c:6.2f}" for m, b, c in zip(medians, baselines, cpus, strict=True)
            )
            if len(trees) > 1:
                cells += f"  {medians[0] / medians[1]:7.2f} {cpus[0] / cpus[1]:11.2f}"
            verdict = "" if goal is None else ("yes" if medians[0] < goal else "NO")
            goal_text = "" if goal is None else f"{goal:.1f}"
            print(f"{name:44} {min(times[0]):8.3f}{cells} {goal_text:>7}  {verdict}")
        print(f"\nload average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        for tree in trees:
            shutil.rmtree(tree.data, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
