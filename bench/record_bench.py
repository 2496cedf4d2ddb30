"""Certification record: write throughput, the percentile query and the team overview, on SQLite and PostgreSQL.

Builds L learners × A certification attempts (one record entry each) with the real repositories
(`QuizRepository.start_attempt` / `finish_attempt`, `RecordRepository.add_entry`), deterministic
(`random.Random(7)`), then measures:

- percentile: `RecordRepository.entries(cycle=…)` (the narrowest filter it offers: the whole cycle), then
  `cohort_scores` for one competency's instrument and `percentile` for every learner's current result in it;
- team overview: `RecordChat.team` for a supervisor of 50 learners (what /team runs: the text and its Excel
  attachment);
- writes: `RecordRepository.add_entry` one transaction per entry, and 500 per transaction, against a floor of the
  same rows inserted with one executemany per 500 (SQLAlchemy Core).

Every query is also measured on a baseline database of `--baseline-learners` × A in the same process, and printed
with the ratio. At full scale both queries are profiled once with cProfile (where the time goes). PostgreSQL runs
when the server at --postgres-url is reachable: scratch databases are created and dropped. Prints; never asserts.

    .venv/bin/python bench/record_bench.py [--learners 1000] [--attempts 50] [--json out.json]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, func, insert, select, text
from sqlalchemy.orm import Session, aliased

import certification.views
from bot.core.record_chat import RecordChat
from certification.model import RecordEntry
from certification.rules import cohort_scores, current_entries, percentile
from quizzes.competency import CHAT_INSTRUMENTS, PROGRAMME_INSTRUMENTS, level_for_score
from quizzes.model import Option, Question, QuizSet
from quizzes.publishing import publish_quiz_set
from storage.db import UnitOfWork, create_database_engine
from storage.learner_repository import LearnerRepository
from storage.models import Learner, QuizAttempt, QuizSetRecord, QuizVersion, RecordEntryRow
from storage.quiz_repository import QuizRepository
from storage.record_repository import RecordRepository
from storage.schema import upgrade_to_head

POSTGRES = os.environ.get("COACH_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
NOW = datetime(2026, 11, 23, 9, 0)
CYCLE = "2026H2"  # half_year_cycle(NOW)
TEAM_SIZE = 50
PERCENTILE_OF = ("产品理解力", "situational")
WRITE_CYCLE = "2099H1"  # the write measurements stay out of the measured cycle
BATCH = 500
CHAT_SETS = [p for p in PROGRAMME_INSTRUMENTS if p.instrument in CHAT_INSTRUMENTS]  # 6 competency × instrument

records = RecordRepository()
learners = LearnerRepository()
quizzes = QuizRepository()


def _cycles(count: int) -> list[str]:
    """`count` half-year cycles ending with CYCLE, oldest first."""
    year, half = 2026, 2
    out = []
    for _ in range(count):
        out.append(f"{year}H{half}")
        year, half = (year, 1) if half == 2 else (year - 1, 2)
    return out[::-1]


def _cycle_start(cycle: str) -> datetime:
    return datetime(int(cycle[:4]), 1 if cycle.endswith("H1") else 7, 1)


def _quiz(competency: str, instrument: str, items: int, cuts: tuple[int, int, int]) -> QuizSet:
    bank = tuple(
        Question(f"q{i}", "single_choice", f"题 {i}", tuple(Option(f"选项{j}", j == 0) for j in range(4)))
        for i in range(items)
    )
    return QuizSet(
        f"{competency}·{instrument} 认证", competency, instrument, "中级", "certification", items, cuts, bank
    )


def populate(uow: UnitOfWork, n_learners: int, n_attempts: int, n_cycles: int) -> dict[str, Any]:
    """Learners (a supervisor per 50), the 6 chat certification sets, and n_learners × n_attempts finished
    attempts with one record entry each, spread evenly over the cycles (oldest first), cycling through the sets."""
    rng = random.Random(7)
    cycles = _cycles(n_cycles)
    began = time.perf_counter()
    with uow.begin() as session:
        sets = []
        for p in CHAT_SETS:
            quiz = _quiz(p.competency, p.instrument, p.items or 10, p.cuts)
            published = publish_quiz_set(session, quizzes, quiz, source_name="bench", by=None, now=NOW)
            draw = [[f"q{i}", [0, 1, 2, 3]] for i in range(quiz.draw)]
            sets.append((p, published.version_id, draw))
        supervisors = [
            learners.add_learner(
                session,
                name=f"主管{s}",
                employee_no=f"S{s:05d}",
                region="基准",
                level="高级",
                role="supervisor",
                now=NOW,
            )
            for s in range((n_learners + TEAM_SIZE - 1) // TEAM_SIZE)
        ]
    entries = 0
    for first in range(0, n_learners, TEAM_SIZE):  # one transaction per team
        with uow.begin() as session:
            for n in range(first, min(first + TEAM_SIZE, n_learners)):
                learner_id = learners.add_learner(
                    session,
                    name=f"学员{n}",
                    employee_no=f"L{n:06d}",
                    region="基准",
                    level="初级",
                    role="learner",
                    now=NOW,
                )
                records.set_supervisor(session, learner_id=learner_id, supervisor_id=supervisors[n // TEAM_SIZE])
                for k in range(n_attempts):
                    cycle = cycles[k * n_cycles // n_attempts]
                    first_of_cycle = -(-cycles.index(cycle) * n_attempts // n_cycles)  # ceil
                    p, version_id, draw = sets[(k - first_of_cycle) % len(sets)]  # every cycle starts with set 0
                    items = p.items or 10
                    when = _cycle_start(cycle) + timedelta(days=k % 150, minutes=n % 1440)
                    score = min(items, max(0, round(rng.gauss(0.65 * items, 0.2 * items))))
                    attempt = quizzes.start_attempt(
                        session,
                        learner_id=learner_id,
                        version_id=version_id,
                        mode="certification",
                        seed=rng.randrange(2**31),
                        draw=draw,
                        cycle=cycle,
                        now=when,
                        deadline=None,
                    )
                    level = level_for_score(score, p.cuts)
                    quizzes.finish_attempt(session, attempt.attempt_id, status="finished", level=level, now=when)
                    records.add_entry(
                        session,
                        learner_id=learner_id,
                        competency=p.competency,
                        instrument=p.instrument,
                        raw_score=score,
                        max_score=items,
                        level=level,
                        cycle=cycle,
                        now=when,
                        attempt_id=attempt.attempt_id,
                    )
                    entries += 1
    elapsed = time.perf_counter() - began
    with uow.read() as session:
        in_cycle = session.scalar(select(func.count()).select_from(RecordEntryRow).where(RecordEntryRow.cycle == CYCLE))
    return {"entries": entries, "entries_in_cycle": in_cycle, "populate_s": elapsed, "cycles": cycles}


# --- the measured operations ------------------------------------------------------------------------------
def percentile_query(uow: UnitOfWork) -> dict[str, float | int]:
    """All entries of the cycle (entries() has no instrument filter), the cohort of one instrument, and the
    percentile of every learner's current result in it. Returns the split of the time."""
    competency, instrument = PERCENTILE_OF
    t0 = time.perf_counter()
    with uow.read() as session:
        entries = records.entries(session, cycle=CYCLE)
    t1 = time.perf_counter()
    cohort = cohort_scores(entries, competency=competency, instrument=instrument, cycle=CYCLE)
    mine = [e for e in current_entries(entries) if (e.competency, e.instrument) == PERCENTILE_OF]
    pcts = {e.learner_id: percentile(e.raw_score, cohort) for e in mine}
    t2 = time.perf_counter()
    return {"total": t2 - t0, "load": t1 - t0, "rules": t2 - t1, "loaded": len(entries), "learners": len(pcts)}


def team_overview(uow: UnitOfWork, chat: RecordChat, supervisor_no: str) -> dict[str, float | int]:
    t0 = time.perf_counter()
    with uow.read() as session:
        supervisor = learners.find_by_employee_no(session, supervisor_no)
        assert supervisor is not None
        replies = chat.team(session, supervisor, now=NOW)
    elapsed = time.perf_counter() - t0
    lines = replies[0].text.count("\n")  # type: ignore[attr-defined]
    assert lines == TEAM_SIZE, f"the team overview listed {lines} learners"
    return {"total": elapsed, "members": lines}


# --- what-ifs: the proposed fixes, sketched here without touching storage/ or certification/ ---------------
@contextmanager
def cohorts_computed_once() -> Iterator[None]:
    """What-if: `learner_record` reusing one cohort per (entries, competency, instrument, cycle) within a call
    instead of recomputing `current_entries` over the whole cycle for every entry it shows."""
    original = certification.views.cohort_scores
    memo: dict[tuple[int, str, str, str], list[int]] = {}

    def once(entries: Any, *, competency: str, instrument: str, cycle: str) -> list[int]:
        key = (id(entries), competency, instrument, cycle)
        if key not in memo:
            memo[key] = original(entries, competency=competency, instrument=instrument, cycle=cycle)
        return memo[key]

    certification.views.cohort_scores = once  # type: ignore[assignment]
    try:
        yield
    finally:
        certification.views.cohort_scores = original


def entries_as_columns(session: Session, *, cycle: str) -> list[RecordEntry]:
    """What-if: the same SELECT as `RecordRepository.entries` (same joins, order and result), but selecting
    columns instead of the RecordEntryRow entity, so SQLAlchemy builds no ORM objects / identity map."""
    assessor = aliased(Learner)
    row = RecordEntryRow
    query = (
        select(
            row.id, row.learner_id, Learner.employee_no, Learner.name, row.competency, row.instrument,
            row.raw_score, row.max_score, row.level, row.cycle, row.recorded_at, assessor.employee_no,
            row.attempt_id, QuizSetRecord.title, QuizVersion.version, row.supersedes, row.reason,
        )
        .join(Learner, Learner.id == row.learner_id)
        .outerjoin(assessor, assessor.id == row.entered_by)
        .outerjoin(QuizAttempt, QuizAttempt.id == row.attempt_id)
        .outerjoin(QuizVersion, QuizVersion.id == QuizAttempt.version_id)
        .outerjoin(QuizSetRecord, QuizSetRecord.id == QuizVersion.quiz_set_id)
        .where(row.cycle == cycle)
        .order_by(row.recorded_at, row.id)
    )  # fmt: skip
    return [RecordEntry(*values) for values in session.execute(query)]


def load_entries(uow: UnitOfWork, *, as_columns: bool) -> dict[str, float | int]:
    t0 = time.perf_counter()
    with uow.read() as session:
        loaded = entries_as_columns(session, cycle=CYCLE) if as_columns else records.entries(session, cycle=CYCLE)
    return {"total": time.perf_counter() - t0, "loaded": len(loaded)}


def team_overview_cohorts_once(uow: UnitOfWork, chat: RecordChat, supervisor_no: str) -> dict[str, float | int]:
    with cohorts_computed_once():
        return team_overview(uow, chat, supervisor_no)


def _same_results(uow: UnitOfWork, chat: RecordChat) -> None:
    """The what-ifs must give what the code gives today."""
    with uow.read() as session:
        assert entries_as_columns(session, cycle=CYCLE) == records.entries(session, cycle=CYCLE)
        supervisor = learners.find_by_employee_no(session, "S00000")
        assert supervisor is not None
        today = chat.team(session, supervisor, now=NOW)[0]  # the text (the Excel attachment carries a timestamp)
        with cohorts_computed_once():
            assert chat.team(session, supervisor, now=NOW)[0] == today


def _repeat(fn: Callable[[], dict[str, Any]], times: int) -> dict[str, Any]:
    runs = [fn() for _ in range(times)]
    best = min(runs, key=lambda r: r["total"])
    return {**best, "median": statistics.median(r["total"] for r in runs), "runs": times}


def _profile(fn: Callable[[], Any], watch: dict[str, tuple[str, str]], top: int) -> dict[str, Any]:
    """cProfile one call: cumulative seconds of the watched functions, and the top of the listing."""
    profiler = cProfile.Profile()
    profiler.enable()
    fn()
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = max((ct for _, _, _, ct, _ in stats.stats.values()), default=0.0)  # type: ignore[attr-defined]
    found: dict[str, float] = {}
    for label, (file_end, name) in watch.items():
        found[label] = sum(
            ct
            for (file, _, func_name), (_, _, _, ct, _) in stats.stats.items()  # type: ignore[attr-defined]
            if func_name == name and file.replace("\\", "/").endswith(file_end)
        )
    listing = io.StringIO()
    pstats.Stats(profiler, stream=listing).strip_dirs().sort_stats("cumulative").print_stats(top)
    return {"total": total, "split": found, "listing": listing.getvalue()}


TEAM_WATCH = {
    "RecordRepository.entries (SQL + rows → RecordEntry)": ("storage/record_repository.py", "entries"),
    "  of which Session.execute (running the SELECT)": ("sqlalchemy/orm/session.py", "execute"),
    "  of which ORM entities (orm/loading.chunks)": ("sqlalchemy/orm/loading.py", "chunks"),
    "RecordRepository.team (the members)": ("storage/record_repository.py", "team"),
    "RecordRepository.job_level (one query per member)": ("storage/record_repository.py", "job_level"),
    "team_overview_xlsx (the Excel attachment)": ("certification/exports.py", "team_overview_xlsx"),
    "learner_record (the view, per member)": ("certification/views.py", "learner_record"),
    "  of which cohort_scores (per entry shown)": ("certification/rules.py", "cohort_scores"),
    "  of which current_entries (all calls)": ("certification/rules.py", "current_entries"),
    "  of which percentile": ("certification/rules.py", "percentile"),
}
PERCENTILE_WATCH = {
    "RecordRepository.entries (SQL + rows → RecordEntry)": ("storage/record_repository.py", "entries"),
    "  of which Session.execute (running the SELECT)": ("sqlalchemy/orm/session.py", "execute"),
    "  of which ORM entities (orm/loading.chunks)": ("sqlalchemy/orm/loading.py", "chunks"),
    "cohort_scores": ("certification/rules.py", "cohort_scores"),
    "current_entries (all calls)": ("certification/rules.py", "current_entries"),
    "percentile (every learner)": ("certification/rules.py", "percentile"),
}


def writes(uow: UnitOfWork, learner_id: int, single: int, batched: int) -> dict[str, float]:
    def values(i: int) -> dict[str, Any]:
        return dict(
            learner_id=learner_id,
            competency="销售推动力",
            instrument="structured_interview",
            raw_score=1 + i % 3,
            max_score=None,
            level=1 + i % 3,
            cycle=WRITE_CYCLE,
            now=NOW + timedelta(seconds=i),
        )

    t0 = time.perf_counter()
    for i in range(single):
        with uow.begin() as session:
            records.add_entry(session, **values(i))
    t1 = time.perf_counter()
    for first in range(0, batched, BATCH):
        with uow.begin() as session:
            for i in range(first, min(first + BATCH, batched)):
                records.add_entry(session, **values(i))
    t2 = time.perf_counter()
    for first in range(0, batched, BATCH):
        with uow.begin() as session:
            rows = []
            for i in range(first, min(first + BATCH, batched)):
                v = values(i)
                v["recorded_at"] = v.pop("now")
                rows.append(v)
            session.execute(insert(RecordEntryRow), rows)
    t3 = time.perf_counter()
    return {
        "single_per_s": single / (t1 - t0),
        "batched_per_s": batched / (t2 - t1),
        "floor_per_s": batched / (t3 - t2),
        "single_ms": 1000 * (t1 - t0) / single,
        "batched_ms": 1000 * (t2 - t1) / batched,
        "floor_ms": 1000 * (t3 - t2) / batched,
    }


# --- databases ----------------------------------------------------------------------------------------
@contextmanager
def database(kind: str, tag: str, tmp: Path, postgres_url: str) -> Iterator[Engine]:
    if kind == "sqlite":
        engine = create_database_engine(f"sqlite:///{tmp / f'record_{tag}.sqlite3'}")
        try:
            upgrade_to_head(engine)
            yield engine
        finally:
            engine.dispose()
        return
    name = f"coach_record_bench_{tag}_{os.getpid()}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_database_engine(admin.url.set(database=name).render_as_string(hide_password=False))
    try:
        upgrade_to_head(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def postgres_reachable(url: str) -> str | None:
    try:
        admin = create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
        admin.dispose()
    except Exception as exc:
        return f"{exc.__class__.__name__} at {url}"
    return None


def measure_scale(engine: Engine, n_learners: int, args: argparse.Namespace, *, full: bool) -> dict[str, Any]:
    uow = UnitOfWork(engine)
    built = populate(uow, n_learners, args.attempts, args.cycles)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))
    chat = RecordChat(records, learners)
    pct = _repeat(lambda: percentile_query(uow), args.repeat)
    team = _repeat(lambda: team_overview(uow, chat, "S00000"), args.repeat)
    _same_results(uow, chat)
    whatif = {
        "load_entries": _repeat(lambda: load_entries(uow, as_columns=False), args.repeat),
        "load_columns": _repeat(lambda: load_entries(uow, as_columns=True), args.repeat),
        "team_cohorts_once": _repeat(lambda: team_overview_cohorts_once(uow, chat, "S00000"), args.repeat),
    }
    row: dict[str, Any] = {"learners": n_learners, **built, "percentile": pct, "team": team, **whatif}
    if full:
        row["profile_team"] = _profile(lambda: team_overview(uow, chat, "S00000"), TEAM_WATCH, args.top)
        row["profile_percentile"] = _profile(lambda: percentile_query(uow), PERCENTILE_WATCH, args.top)
        with uow.read() as session:
            learner_id = session.scalar(select(func.min(RecordEntryRow.learner_id)))
        assert learner_id is not None
        row["writes"] = writes(uow, learner_id, args.writes, args.batched_writes)
    return row


def run_database(kind: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"database": kind}
    with database(kind, "base", tmp, args.postgres_url) as engine:
        out["baseline"] = measure_scale(engine, args.baseline_learners, args, full=False)
    with database(kind, "full", tmp, args.postgres_url) as engine:
        out["full"] = measure_scale(engine, args.learners, args, full=True)
    report(out, args)
    return out


def report(out: dict[str, Any], args: argparse.Namespace) -> None:
    base, full = out["baseline"], out["full"]
    print(f"\n=== {out['database']} ===")
    for row in (base, full):
        print(
            f"built {row['learners']} learners × {args.attempts} attempts = {row['entries']} entries "
            f"({row['entries_in_cycle']} in {CYCLE}) in {row['populate_s']:.1f} s "
            f"({row['entries'] / row['populate_s']:.0f} attempts+entries/s, one transaction per {TEAM_SIZE} learners)"
        )
    print(f"{'query':<36}{'baseline':>12}{'full':>12}{'ratio':>8}   (best of {args.repeat}; median in brackets)")

    def line(label: str, key: str) -> None:
        b, f = base[key], full[key]
        best = f"{1000 * b['total']:>10.1f}ms{1000 * f['total']:>10.1f}ms{f['total'] / b['total']:>7.1f}x"
        print(f"{label:<36}{best}   [{1000 * b['median']:.1f} / {1000 * f['median']:.1f} ms]")

    line("percentile (load + rules)", "percentile")
    line("team overview /team (50 members)", "team")
    print("what-ifs (the fixes proposed in bench/README.md, sketched in this script; same results checked):")
    line("  entries(cycle) as today", "load_entries")
    line("  entries(cycle) selecting columns", "load_columns")
    line("  /team, cohorts computed once", "team_cohorts_once")
    print("split of the percentile query:")
    for part in ("load", "rules"):
        b, f = base["percentile"][part], full["percentile"][part]
        print(f"{'  percentile: ' + part:<36}{1000 * b:>10.1f}ms{1000 * f:>10.1f}ms{f / b:>7.1f}x")
    print(
        f"  (percentile loads {full['percentile']['loaded']} entries of the cycle for "
        f"{full['percentile']['learners']} learners' percentiles; entries() has no instrument filter)"
    )
    for name in ("profile_team", "profile_percentile"):
        prof = full[name]
        print(f"\ncProfile of one {name.removeprefix('profile_')} call at full scale: {prof['total']:.2f} s")
        for label, seconds in prof["split"].items():
            if seconds:
                print(f"  {label:<54}{seconds:>8.3f} s {100 * seconds / prof['total']:>5.0f}%")
        if args.listing:
            print(prof["listing"])
    w = full["writes"]
    print(
        f"\nwrites through RecordRepository.add_entry: {w['single_per_s']:.0f}/s one transaction each "
        f"({w['single_ms']:.2f} ms), {w['batched_per_s']:.0f}/s batched {BATCH} per transaction "
        f"({w['batched_ms']:.3f} ms); floor (Core executemany, {BATCH} per transaction): {w['floor_per_s']:.0f}/s "
        f"→ add_entry batched is {w['floor_per_s'] / w['batched_per_s']:.1f}x slower than the floor, one-per-"
        f"transaction {w['batched_per_s'] / w['single_per_s']:.1f}x slower than batched"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=1000)
    parser.add_argument("--attempts", type=int, default=50, help="certification attempts (entries) per learner")
    parser.add_argument("--cycles", type=int, default=5, help="half-year cycles the attempts spread over")
    parser.add_argument("--baseline-learners", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--writes", type=int, default=1000, help="entries written one transaction each")
    parser.add_argument("--batched-writes", type=int, default=10_000, help=f"entries written {BATCH} per transaction")
    parser.add_argument("--top", type=int, default=15, help="lines of the cProfile listing kept")
    parser.add_argument("--listing", action="store_true", help="print the cProfile listings too")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--postgres-url", default=POSTGRES)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.learners < TEAM_SIZE or args.baseline_learners < TEAM_SIZE:
        parser.error(f"--learners and --baseline-learners must be at least {TEAM_SIZE} (one full team)")
    print(
        f"record bench: {args.learners} learners × {args.attempts} attempts over {args.cycles} cycles "
        f"(baseline {args.baseline_learners}); load average {os.getloadavg()[0]:.2f}"
    )
    rows = []
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(run_database("sqlite", args, Path(tmp)))
        problem = "--skip-postgres" if args.skip_postgres else postgres_reachable(args.postgres_url)
        if problem is None:
            rows.append(run_database("postgresql", args, Path(tmp)))
        else:
            print(f"\npostgresql skipped: {problem}")
    print(f"\ntotal {time.perf_counter() - began:.0f} s; load average {os.getloadavg()[0]:.2f}")
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=2, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
