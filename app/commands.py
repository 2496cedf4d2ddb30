"""What each `coach` subcommand does, on top of the services from the composition root.

Each command imports what it uses when it runs: `coach quiz list` never loads the search stack, the quiz file
readers or the record exports (bench/startup_bench.py measures it)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.composition import Services
    from app.settings import Settings
    from knowledge.answer import MobileAnswer


INGEST_BUSY_EXIT = 75  # EX_TEMPFAIL: `coach ingest --no-wait` found another ingest of the collection running


def _print_json(payload: object) -> None:
    print(json.dumps(payload, ensure_ascii=False))


def cmd_ingest(args: argparse.Namespace, services: Services) -> int:
    from zoneinfo import ZoneInfo

    from ingest.report import busy_message
    from storage.ingest_lock import IngestBusy

    if args.repair:
        from app.index_commands import cmd_ingest_repair

        return cmd_ingest_repair(services)
    if not args.paths or args.collection is None:
        print("请给出要导入的文件或文件夹和 --collection,或用 --repair 修复索引", file=sys.stderr)
        return 2
    missing = [str(p) for p in args.paths if not p.exists()]
    try:  # progress: a bar on a terminal, lines otherwise (stderr)
        report = services.ingest_pipeline().run(
            args.paths,
            collection=args.collection,
            prune=args.prune,
            progress=not args.no_progress,
            wait=not args.no_wait,
        )
    except IngestBusy as busy:
        zone = ZoneInfo(services.settings.app.time_zone)
        print(busy_message(busy.collection, busy.holder, zone=zone), file=sys.stderr)
        return INGEST_BUSY_EXIT
    if report.changed:
        services.search  # noqa: B018 — build and cache the lexical index now, not at the first question
    if args.json:
        _print_json(report.as_json())
    else:
        print("\n".join(report.summary_lines()))
    return 1 if missing and len(missing) == len(args.paths) else 0


def _batch_items(path: Path) -> Iterator[tuple[object, str | None, str | None]]:
    """(id, question, None) per good `{"id", "question"}` line of a JSONL file, (id, None, reason) per bad one."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            yield None, None, f"第 {number} 行不是 JSON"
            continue
        if not isinstance(item, dict):
            yield None, None, f"第 {number} 行不是 JSON 对象"
            continue
        question = item.get("question")
        if not isinstance(question, str) or not question.strip():
            yield item.get("id"), None, f"第 {number} 行没有问题 (question)"
            continue
        yield item.get("id"), question, None


def _run_batch(path: Path, answer_one: Callable[[str], dict[str, object]]) -> int:
    """One JSON line per question, `{"id", ...}`; a bad line prints `{"id", "error"}`. 1 when any line was bad."""
    if not path.is_file():
        print(f"找不到问题文件: {path}", file=sys.stderr)
        return 2
    bad = 0
    for item_id, question, error in _batch_items(path):
        if question is None:
            bad += 1
            _print_json({"id": item_id, "error": error})
        else:
            _print_json({"id": item_id, **answer_one(question)})
    return 1 if bad else 0


def cmd_search(args: argparse.Namespace, services: Services) -> int:
    k = args.k or services.settings.retrieval.default_k
    search = services.search

    def search_one(question: str) -> dict[str, object]:
        result = search.search(question, k=k, collections=args.collection)
        return {"abstained": result.abstained, "passages": [p.as_json() for p in result.passages]}

    if args.batch:
        return _run_batch(args.batch, search_one)
    if not args.question:
        print("请给出问题,或用 --batch FILE.jsonl", file=sys.stderr)
        return 2
    result = search.search(args.question, k=k, collections=args.collection)
    if args.json:
        _print_json({"query": result.query, **search_one(args.question)})
        return 0
    if result.abstained:
        print("资料库里没有找到可靠的答案。")
    for rank, passage in enumerate(result.passages, start=1):
        print(f"{rank}. [{passage.collection}] {passage.title} › {passage.section}  ({passage.score:.3f})")
        print(f"   {passage.text}\n")
    return 0


def answer_as_json(answer: MobileAnswer) -> dict[str, object]:
    """`coach ask --json`: the reply text without its source list, and the sources with their passages."""
    if not answer.found:
        return {"question": answer.question, "found": False, "answer": "", "sources": []}
    sources = [
        {"number": s.number, "title": s.title, "section": s.section, "collection": s.collection, "text": s.text}
        for s in answer.sources
    ]
    return {"question": answer.question, "found": True, "answer": answer.body, "sources": sources}


def cmd_ask(args: argparse.Namespace, services: Services) -> int:
    def ask_one(question: str) -> dict[str, object]:
        return answer_as_json(services.ask(question, collections=args.collection))

    if args.batch:
        return _run_batch(args.batch, ask_one)
    if not args.question:
        print("请给出问题,或用 --batch FILE.jsonl", file=sys.stderr)
        return 2
    if args.json:
        _print_json(ask_one(args.question))
    else:
        print(services.ask(args.question, collections=args.collection).render_plain())
    return 0


def cmd_eval(args: argparse.Namespace, services: Services) -> int:
    from app.evaluation import dataset_specs, run_evaluation

    if args.corpus and not args.dataset:
        print("--corpus 只用于没写 =目录 的 --dataset;默认评测集各自带着语料", file=sys.stderr)
        return 2
    datasets, skipped = dataset_specs(args.dataset, args.corpus)
    # with --json, stdout carries only the JSON object; the tables go to stderr
    out = (lambda line: print(line, file=sys.stderr)) if args.json else print
    for path in skipped:
        out(f"跳过 {path}: 文件不存在")
    if not datasets:
        print("没有可用的评测集 (../shared 不在旁边?);用 --dataset F.jsonl=语料目录 指定", file=sys.stderr)
        return 2
    # the fused row measures the configured dense weight (COACH_RETRIEVAL__DENSE_WEIGHT), 0.2 when it is off
    weight = services.settings.retrieval.dense_weight or 0.2
    try:
        report = run_evaluation(
            services.settings,
            datasets=datasets,
            baseline=not args.no_baseline,
            dense_weight=weight,
            misses=args.misses,
            out=out,
        )
    except FileNotFoundError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.json:
        _print_json(report)
    return 0


def cmd_db(args: argparse.Namespace, services: Services) -> int:
    from storage.backup import BackupError, backup, restore

    url = services.settings.database_url
    shown = services.engine.url.render_as_string(hide_password=True)
    if args.action == "prune":
        return _prune(services, days=args.days)
    if args.action == "check":
        from app.index_commands import cmd_db_check

        return cmd_db_check(services)
    if args.action in {"backup", "restore"} and args.path is None:
        print(f"请给出备份文件: coach db {args.action} 文件路径", file=sys.stderr)
        return 2
    try:
        if args.action == "backup":
            result = backup(url, args.path)
            print(f"已备份 {shown} → {result.path} ({result.size_bytes / 1024:.0f} KB)")
            return 0
        if args.action == "restore":
            if not args.yes:
                print(f"恢复会用 {args.path} 覆盖 {shown} 的全部数据;请先停止机器人,确认后加 --yes", file=sys.stderr)
                return 2
            services.engine.dispose()
            restore(url, args.path)
            services.engine.dispose()
            print(f"已从 {args.path} 恢复 {shown}")
    except BackupError as exc:
        print(f"错误: {exc}", file=sys.stderr)
        return 1
    services.uow  # noqa: B018 — building the unit of work upgrades the schema (a restored older backup too)
    print(f"数据库已是最新结构: {shown}")
    return 0


MIN_PRUNE_DAYS = 2  # Telegram re-delivers an unanswered update for up to a day


def _prune(services: Services, *, days: int) -> int:
    if days < MIN_PRUNE_DAYS:
        print(f"--days 至少为 {MIN_PRUNE_DAYS}:更近的更新可能还会被 Telegram 重发", file=sys.stderr)
        return 2
    from storage.db import utc_now
    from storage.interaction_repository import InteractionRepository

    before = utc_now() - timedelta(days=days)
    with services.uow.begin() as session:
        updates, buttons = InteractionRepository().prune(session, before=before)
    print(f"已清理 {days} 天以前的记录:消息去重 {updates} 条,按钮 {buttons} 个")
    return 0


def cmd_run(args: argparse.Namespace, services: Services) -> int:
    """The chat `app.channel` names (see app.worker_runtime.choose_channel)."""
    from app.worker_runtime import run_chat

    return run_chat(services)


def cmd_users(args: argparse.Namespace, services: Services) -> int:
    from bot.core.admin import UserAdmin
    from storage.learner_repository import LearnerRepository

    admin = UserAdmin(uow=services.uow, learners=LearnerRepository(), invite_valid_for=services.invite_valid_for)
    if args.users_action == "list":
        for learner in admin.list_learners():
            print(f"{learner.employee_no}\t{learner.name}\t{learner.region}\t{learner.level}\t{learner.role}")
        return 0
    if args.users_action == "bind":
        from app.user_binding import cmd_users_bind

        return cmd_users_bind(uow=services.uow, employee_no=args.employee_no, identity=args.identity, sheet=args.sheet)
    if args.users_action == "supervise":
        ok, message = admin.supervise(args.employee_no, args.supervisor_no)
    elif args.users_action == "grant":
        ok, message = admin.grant(args.employee_no, args.role)
    else:
        ok, message = admin.invite(args.role, args.name, args.employee_no, args.region, args.level)
    print(message, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


def cmd_report(args: argparse.Namespace, services: Services) -> int:
    from zoneinfo import ZoneInfo

    from bot.core.local_time import local_time_text
    from storage.interaction_repository import InteractionRepository

    with services.uow.read() as session:
        rows = InteractionRepository().recent_unanswered(session, limit=args.limit)
    zone = ZoneInfo(services.settings.app.time_zone)  # stored UTC, shown as people read the time
    for row in rows:
        print(f"{local_time_text(row.asked_at, zone)}\t{row.question}")
    return 0


def cmd_quiz(args: argparse.Namespace, services: Services) -> int:
    from app.quiz_commands import cmd_quiz

    return cmd_quiz(args, services)


def cmd_record(args: argparse.Namespace, services: Services) -> int:
    from app.record_commands import cmd_record

    return cmd_record(args, services)


def cmd_setup_content(args: argparse.Namespace, services: Services) -> int:
    from app.content_commands import cmd_setup_content

    return cmd_setup_content(args, services)


COMMANDS = {
    "ingest": cmd_ingest,
    "setup-content": cmd_setup_content,
    "search": cmd_search,
    "ask": cmd_ask,
    "eval": cmd_eval,
    "db": cmd_db,
    "run": cmd_run,
    "users": cmd_users,
    "report": cmd_report,
    "quiz": cmd_quiz,
    "record": cmd_record,
}


def dispatch(args: argparse.Namespace, settings: Settings) -> int:
    from app.composition import Services  # light itself: each service imports its parts when first used

    return COMMANDS[args.command](args, Services(settings))
