"""`coach record ...`: rate, correct, promote, export the certification record (the parser is in app/cli.py)."""

from __future__ import annotations

import argparse
import sys
from zoneinfo import ZoneInfo

from app.composition import Services
from certification.corrections import CorrectionRefused, correct_entry
from certification.exports import entries_to_csv, entries_to_xlsx, validate_statements, xapi_statements
from certification.rules import assess_promotion, competency_levels, value_creation
from quizzes.attempts import half_year_cycle
from storage.db import utc_now
from storage.learner_repository import LearnerRepository
from storage.record_repository import RecordRepository


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
            try:
                outcome = correct_entry(
                    session,
                    records,
                    entry_id=args.entry_id,
                    score=args.score,
                    level=args.level,
                    reason=args.reason,
                    by=actor.learner_id if actor else None,
                    now=now,
                )
            except CorrectionRefused as refused:
                print(refused.message, file=sys.stderr)
                return 1
            print(outcome.message)
            return 0
        learner = learners.find_by_employee_no(session, args.employee_no.upper())
        if learner is None:
            print(f"没有找到工号 {args.employee_no} 的人员", file=sys.stderr)
            return 1
        cycle = half_year_cycle(now, time_zone=ZoneInfo(services.settings.app.time_zone))
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
