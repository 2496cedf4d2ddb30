"""`coach record ...`: rate, correct, promote, export the certification record."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.composition import Services
from certification.exports import entries_to_csv, entries_to_xlsx, validate_statements, xapi_statements
from certification.rules import assess_promotion, competency_levels, value_creation
from quizzes.attempts import half_year_cycle
from storage.db import utc_now
from storage.learner_repository import LearnerRepository
from storage.record_repository import RecordRepository


def add_record_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("record", help="认证记录: rate 评分 / correct 更正 / promote 晋级 / export 导出")
    record = p.add_subparsers(dest="record_action", required=True, metavar="ACTION")
    r = record.add_parser("rate", help="录入评估人评分: coach record rate 工号 能力 工具 分数(1-3) --by 评估人工号")
    for name in ("employee_no", "competency", "instrument", "score"):
        r.add_argument(name)
    r.add_argument("--by", required=True, help="评估人工号")
    c = record.add_parser("correct", help="更正一条记录(新增一条取代它,原记录保留)")
    c.add_argument("entry_id", type=int)
    c.add_argument("--score", type=int, required=True)
    c.add_argument("--level", type=int, choices=[0, 1, 2, 3], required=True)
    c.add_argument("--reason", required=True)
    c.add_argument("--by", required=True, help="更正人工号")
    m = record.add_parser("promote", help="按规则晋级一步(不符合时列出原因): coach record promote 工号")
    m.add_argument("employee_no")
    m.add_argument("--supervisor-score", type=float, help="自评加上级评价分(晋级高级时需要)")
    m.add_argument("--by", help="操作人工号")
    e = record.add_parser("export", help="导出给人力资源: --format csv|xlsx|xapi")
    e.add_argument("--format", choices=["csv", "xlsx", "xapi"], required=True)
    e.add_argument("--out", type=Path, help="输出文件 (默认写到标准输出;xlsx 必须给出)")


def cmd_record(args: argparse.Namespace, services: Services) -> int:
    records, learners = RecordRepository(), LearnerRepository()
    action = args.record_action
    if action == "export":
        return _export(args, services, records)
    now = utc_now()
    with services.uow.begin() as session:
        actor = learners.find_by_employee_no(session, args.by.upper()) if getattr(args, "by", None) else None
        if getattr(args, "by", None) and actor is None:
            print(f"没有找到工号 {args.by} 的人员", file=sys.stderr)
            return 1
        if action == "rate":
            from bot.core.record_chat import RecordChat

            assert actor is not None
            replies = RecordChat(records, learners).rate(
                session, actor, f"{args.employee_no} {args.competency} {args.instrument} {args.score}", now=now
            )
            message = replies[0].text  # type: ignore[union-attr]
            ok = message.startswith("已记录")
            print(message, file=sys.stdout if ok else sys.stderr)
            return 0 if ok else 1
        if action == "correct":
            old = records.entry(session, args.entry_id)
            if old is None:
                print(f"没有编号为 {args.entry_id} 的记录", file=sys.stderr)
                return 1
            new_id = records.add_entry(
                session,
                learner_id=old.learner_id,
                competency=old.competency,
                instrument=old.instrument,
                raw_score=args.score,
                max_score=old.max_score,
                level=args.level,
                cycle=old.cycle,
                now=now,
                entered_by=actor.learner_id if actor else None,
                supersedes=old.id,
                reason=args.reason,
            )
            print(f"已更正:新记录 {new_id} 取代记录 {old.id}(原记录保留)")
            return 0
        learner = learners.find_by_employee_no(session, args.employee_no.upper())
        if learner is None:
            print(f"没有找到工号 {args.employee_no} 的人员", file=sys.stderr)
            return 1
        cycle = half_year_cycle(now)
        job_level, last_cycle = records.job_level(session, learner.learner_id)
        levels = competency_levels(records.entries(session, learner_ids=[learner.learner_id]), cycle=cycle)
        assessment = assess_promotion(
            current_job_level=job_level,
            levels=levels,
            value_creation=value_creation(levels),
            last_promotion_cycle=last_cycle,
            cycle=cycle,
            supervisor_score=args.supervisor_score,
        )
        for reason in assessment.reasons:
            print(reason)
        if not assessment.eligible or assessment.next_level is None:
            return 1
        records.promote(
            session,
            learner_id=learner.learner_id,
            from_level=job_level,
            to_level=assessment.next_level,
            cycle=cycle,
            now=now,
            by=actor.learner_id if actor else None,
        )
        print(f"已晋级:{learner.name} {job_level} → {assessment.next_level}({cycle})")
        return 0


def _export(args: argparse.Namespace, services: Services, records: RecordRepository) -> int:
    with services.uow.read() as session:
        entries = records.entries(session)
        answers = records.certification_answers(session) if args.format == "xapi" else []
    if args.format == "csv":
        data = entries_to_csv(entries)
    elif args.format == "xlsx":
        if args.out is None:
            print("xlsx 需要 --out 文件名", file=sys.stderr)
            return 2
        data = entries_to_xlsx(entries)
    else:
        import json

        statements = xapi_statements(entries, answers)
        validate_statements(statements)
        data = json.dumps(statements, ensure_ascii=False, indent=2).encode("utf-8")
    if args.out is None:
        sys.stdout.buffer.write(data)
    else:
        args.out.write_bytes(data)
        print(f"已导出 {len(entries)} 条记录到 {args.out}", file=sys.stderr)
    return 0
