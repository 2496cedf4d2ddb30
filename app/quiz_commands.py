"""`coach quiz ...`: check, publish, list, retire quiz sets; write the Excel template; allow a retake."""

from __future__ import annotations

import argparse
import json
import sys

from app.composition import Services
from quizzes.attempts import half_year_cycle
from quizzes.competency import INSTRUMENTS
from quizzes.formats.excel import write_template
from quizzes.loading import load_quiz_file
from quizzes.publishing import publish_quiz_set
from storage.db import utc_now
from storage.learner_repository import LearnerRepository
from storage.quiz_repository import QuizRepository


def cmd_quiz(args: argparse.Namespace, services: Services) -> int:
    action = args.quiz_action
    if action == "template":
        print(f"已生成模板:{write_template(args.path)}")
        return 0
    if action in {"import", "publish"}:
        return _import_or_publish(args, services, publish=action == "publish" or not args.dry_run)
    repository = QuizRepository()
    if action == "list":
        with services.uow.read() as session:
            for s in repository.latest_versions(session, include_retired=True):
                state = "已下线" if s.retired else "在用"
                print(
                    f"{s.set_id}\tv{s.version}\t{s.level}\t{s.competency}\t{INSTRUMENTS[s.instrument]}\t{s.mode}\t"
                    f"{state}\t{s.title}"
                )
        return 0
    if action == "retire":
        with services.uow.begin() as session:
            done = repository.retire(session, args.set_id, utc_now())
        print("已下线" if done else f"没有编号为 {args.set_id} 的测验", file=sys.stdout if done else sys.stderr)
        return 0 if done else 1
    with services.uow.begin() as session:  # retake
        learner = LearnerRepository().find_by_employee_no(session, args.employee_no.upper())
        if learner is None:
            print(f"没有找到工号 {args.employee_no} 的人员", file=sys.stderr)
            return 1
        now = utc_now()
        repository.grant_retake(
            session, learner_id=learner.learner_id, set_id=args.set_id, cycle=half_year_cycle(now), by=None, now=now
        )
    print(f"已允许 {learner.name} 在 {half_year_cycle(now)} 补考一次")
    return 0


def _import_or_publish(args: argparse.Namespace, services: Services, *, publish: bool) -> int:
    loaded = load_quiz_file(args.file, fmt=args.format)
    result = loaded.result
    if args.__dict__.get("json"):
        print(json.dumps(result.as_json(), ensure_ascii=False))
    else:
        counts = f"{len(result.questions)} 题可导入,跳过 {len(result.skipped)} 题,错误 {len(result.errors)} 处"
        print(f"{args.file.name}:{counts}")
        for skipped in result.skipped:
            print(f"  跳过 {skipped.location}:{skipped.reason}")
        for error in result.errors:
            print(f"  错误 {error.location}:{error.message}", file=sys.stderr)
    if result.errors:
        return 1
    if not publish:
        return 0
    if loaded.quiz is None:
        print("这个文件只包含题目,没有测验信息;请用 YAML(questions_from: 文件)或 Excel 模板发布", file=sys.stderr)
        return 1
    quiz = loaded.quiz
    with services.uow.begin() as session:
        published = publish_quiz_set(
            session,
            QuizRepository(),
            quiz,
            source_name=args.file.name,
            by=None,
            now=utc_now(),
        )
    print(f"已发布:{published.title}(编号 {published.set_id},第 {published.version} 版)")
    return 0
