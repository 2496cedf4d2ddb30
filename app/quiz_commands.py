"""`coach quiz ...`: check, publish, list, retire quiz sets; write the Excel template; allow a retake."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from quizzes.competency import INSTRUMENTS
from storage.db import utc_now

if TYPE_CHECKING:
    from app.composition import Services
    from quizzes.imported import ImportResult
    from storage.quiz_listing import PublishedSet

# `list` reads with one Core query on a plain connection (storage/quiz_listing.py): the ORM and the mapped models,
# over half of its start-up, are imported by the other actions only (tests/storage/test_quiz_listing.py).


def cmd_quiz(args: argparse.Namespace, services: Services) -> int:
    action = args.quiz_action
    if action == "template":
        from quizzes.formats.excel import write_template  # openpyxl: only the commands that read or write Excel

        print(f"已生成模板:{write_template(args.path)}")
        return 0
    if action == "publish":
        failed = [path for path in args.files if publish_quiz_file(path, services, fmt=args.format) != 0]
        return 1 if failed else 0
    if action == "import":
        return import_quiz_file(args.file, services, fmt=args.format, publish=not args.dry_run, as_json=args.json)
    if action == "list":
        return list_quizzes(services)
    from storage.quiz_repository import QuizRepository

    repository = QuizRepository()
    if action == "retire":
        with services.uow.begin() as session:
            done = repository.retire(session, args.set_id, utc_now())
        print("已下线" if done else f"没有编号为 {args.set_id} 的测验", file=sys.stdout if done else sys.stderr)
        return 0 if done else 1
    from quizzes.attempts import half_year_cycle  # the attempt rules and people: only a retake needs them
    from storage.learner_repository import LearnerRepository

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


def list_quizzes(services: Services) -> int:
    """`coach quiz list`: every set's newest version, retired ones too, with its state."""
    from storage.quiz_listing import latest_versions

    with services.engine_at_head.connect() as connection:
        published = latest_versions(connection, include_retired=True)
    for s in published:
        state = "已下线" if s.retired else "在用"
        if not s.retired and s.mode == "certification" and not conforms(s):
            state = "不符合能力体系,不能开考"  # stored before the programme rule: republish it
        print(
            f"{s.set_id}\tv{s.version}\t{s.level}\t{s.competency}\t{INSTRUMENTS[s.instrument]}\t{s.mode}\t"
            f"{state}\t{s.title}"
        )
    return 0


def publish_quiz_file(path: Path, services: Services, *, fmt: str | None = None) -> int:
    """Check and publish one quiz file, printing what happened; 0 when it is published (or unchanged)."""
    return import_quiz_file(path, services, fmt=fmt, publish=True, as_json=False)


def import_quiz_file(path: Path, services: Services, *, fmt: str | None, publish: bool, as_json: bool) -> int:
    from quizzes.loading import load_quiz_file
    from quizzes.publishing import QuizSetRefused, publish_quiz_set

    loaded = load_quiz_file(path, fmt=fmt)
    result = loaded.result
    if as_json:
        print(json.dumps(result.as_json(), ensure_ascii=False))
    else:
        print(f"{path.name}:{import_summary(result)}")
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
    from storage.quiz_repository import QuizRepository

    repository = QuizRepository()
    try:
        with services.uow.begin() as session:
            before = {s.set_id: s.version_id for s in repository.latest_versions(session, include_retired=True)}
            published = publish_quiz_set(
                session, repository, loaded.quiz, source_name=path.name, by=None, now=utc_now()
            )
    except QuizSetRefused as refused:  # what the file check cannot see, e.g. a title of control characters only
        for problem in refused.problems:
            print(f"  错误 {problem.location}:{problem.message}", file=sys.stderr)
        print(f"{path.name}:没有发布", file=sys.stderr)
        return 1
    where = f"{published.title}(编号 {published.set_id},第 {published.version} 版)"
    if before.get(published.set_id) == published.version_id:
        print(f"未改变:{where}与已发布的内容相同,没有新建版本")
    else:
        print(f"已发布:{where}")
    return 0


def conforms(published: PublishedSet) -> bool:
    """Whether a stored certification version is its competency's programme instrument (QuizAttempts.start
    refuses the others)."""
    from quizzes.serialization import quiz_from_json
    from quizzes.validation import programme_problems

    return not programme_problems(quiz_from_json(published.content), source=published.title)


def import_summary(result: ImportResult) -> str:
    """「N 题可导入」 counts only questions without an error of their own; the rest are named as such."""
    with_errors = {e.question for e in result.errors if e.question}
    good = sum(1 for q in result.questions if q.name not in with_errors)
    bad = len(result.questions) - good
    parts = [f"{good} 题可导入"]
    if bad:
        parts.append(f"{bad} 题有错误")
    parts.append(f"跳过 {len(result.skipped)} 题")
    parts.append(f"错误 {len(result.errors)} 处" if result.errors else "没有错误")
    return ",".join(parts)
