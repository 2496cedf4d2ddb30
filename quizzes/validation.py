"""Everything that must hold before a quiz set is published. Each problem names where and what, in Chinese."""

from __future__ import annotations

from collections import Counter

from quizzes.competency import CHAT_INSTRUMENTS, COMPETENCIES, INSTRUMENTS, LEVELS, programme_instrument
from quizzes.imported import ImportProblem
from quizzes.model import QuizSet


def validate_quiz_set(quiz: QuizSet, *, locations: dict[str, str], source: str) -> list[ImportProblem]:
    """All problems of a quiz set; `locations` maps a question key (or a field name) to where it was written."""
    problems: list[ImportProblem] = []

    def add(where: str, message: str, *, question: str = "") -> None:
        problems.append(ImportProblem(locations.get(where, source), message, question=question))

    if not quiz.title.strip():
        add("title", "缺少测验名称(title)")
    subs = COMPETENCIES.get(quiz.competency)
    if subs is None and not quiz.competency:
        add("competency", f"缺少能力(competency);请写其中之一:{'、'.join(COMPETENCIES)}")
        subs = ()
    elif subs is None:
        add("competency", f"未知的能力「{quiz.competency}」;可选:{'、'.join(COMPETENCIES)}")
        subs = ()
    for sub in quiz.sub_competencies:
        if subs and sub not in subs:
            add("sub_competencies", f"「{sub}」不是「{quiz.competency}」的子能力;可选:{'、'.join(subs)}")
    if quiz.instrument not in CHAT_INSTRUMENTS:
        add(
            "instrument",
            f"测验类型必须是情境模拟测验或知识测验,不能是「{INSTRUMENTS.get(quiz.instrument, quiz.instrument)}」",
        )
    if quiz.level not in LEVELS:
        add("level", f"级别必须是 初级/中级/高级 之一,不能是「{quiz.level}」")
    if quiz.mode not in ("practice", "certification"):
        add("mode", f"模式必须是 练习(practice) 或 认证(certification),不能是「{quiz.mode}」")
    if quiz.time_limit_minutes is not None and not 1 <= quiz.time_limit_minutes <= 240:
        add("time_limit_minutes", "限时必须在 1–240 分钟之间")
    _check_draw(quiz, add)
    _check_cuts(quiz, add)
    if quiz.mode == "certification":
        _check_programme(quiz, add)
    for question in quiz.questions:
        where = question.key

        def add_q(message: str, where: str = where, key: str = question.key) -> None:
            add(where, message, question=key)

        if not question.stem.strip():
            add_q("题干为空")
        if not 2 <= len(question.options) <= 8:
            add_q(f"选项必须是 2–8 个,现在是 {len(question.options)} 个")
        texts = [o.text.strip() for o in question.options]
        for index, text in enumerate(texts):
            if text and text in texts[:index]:  # reported where the repeat is written, naming the first one
                first = "ABCDEFGH"[texts.index(text)] if texts.index(text) < 8 else str(texts.index(text) + 1)
                add_q(
                    f"选项「{text}」和选项 {first} 重复;请改写其中一个或删掉重复的",
                    where=f"{where}.options[{index}]" if f"{where}.options[{index}]" in locations else where,
                )
        if any(not t for t in texts):
            add_q("有空白的选项")
        correct = len(question.correct_indexes)
        if correct == 0:
            add_q("没有标出正确答案")
        elif question.kind != "multiple_choice" and correct > 1:
            add_q("单选题只能有一个正确答案;多个正确答案请标为多选题")
        if question.sub_competency and subs and question.sub_competency not in subs:
            add_q(f"子能力「{question.sub_competency}」不属于「{quiz.competency}」")
    keys = Counter(q.key for q in quiz.questions)
    for key, count in keys.items():
        if count > 1:
            add(key, f"题目编号「{key}」重复了 {count} 次", question=key)
    return problems


def programme_problems(quiz: QuizSet, *, source: str) -> list[ImportProblem]:
    """Why a certification set is not its competency's instrument as the programme defines it (empty for a
    practice set): the rule `validate_quiz_set` applies, alone, for a set already stored (every problem at
    `source`)."""
    problems: list[ImportProblem] = []
    if quiz.mode == "certification":
        _check_programme(quiz, lambda where, message: problems.append(ImportProblem(source, message)))
    return problems


def _check_draw(quiz: QuizSet, add) -> None:  # type: ignore[no-untyped-def]
    if quiz.draw < 1:
        add("draw", "每次抽题数(draw)至少为 1")
    if len(quiz.questions) < quiz.draw:
        add("draw", f"题库只有 {len(quiz.questions)} 题,少于每次要抽的 {quiz.draw} 题")
    if quiz.draw_per_sub_competency:
        if sum(quiz.draw_per_sub_competency.values()) > quiz.draw:
            add("draw_per_sub_competency", "各子能力抽题数之和超过了每次抽题数")
        for sub, wanted in quiz.draw_per_sub_competency.items():
            have = sum(1 for q in quiz.questions if q.sub_competency == sub)
            if have < wanted:
                add("draw_per_sub_competency", f"子能力「{sub}」要抽 {wanted} 题,题库里只有 {have} 题")


def _check_cuts(quiz: QuizSet, add) -> None:  # type: ignore[no-untyped-def]
    cuts = quiz.cut_scores
    if len(cuts) != 3:
        add("cut_scores", "分数线必须是 3 个数:等级1/等级2/等级3")
        return
    if not (cuts[0] < cuts[1] < cuts[2]):
        add("cut_scores", f"分数线必须逐级升高,现在是 {cuts[0]}/{cuts[1]}/{cuts[2]}")
    if cuts[0] < 1:
        add("cut_scores", "等级1 的分数线至少为 1")
    if cuts[2] > quiz.draw:
        add("cut_scores", f"等级3 的分数线 {cuts[2]} 超过了每次抽题数 {quiz.draw}")


def _check_programme(quiz: QuizSet, add) -> None:  # type: ignore[no-untyped-def]
    """A certification result goes to the record and to HR: the set must be the programme's instrument, drawing
    its number of items and grading by its cut scores (a 3-question set graded 1/2/3 is no 5/7/8-of-10 test)."""
    name = INSTRUMENTS.get(quiz.instrument, quiz.instrument)
    programme = programme_instrument(quiz.competency, quiz.instrument)
    if programme is None or programme.items is None:
        add("instrument", f"能力体系里「{quiz.competency}」没有{name}的认证,不能发布为认证测验(可改为练习)")
        return
    if quiz.draw != programme.items:
        add("draw", f"「{quiz.competency}」{name}的认证每次要考 {programme.items} 题,不能是 {quiz.draw} 题")
    if tuple(quiz.cut_scores) != programme.cuts:
        want, have = "/".join(map(str, programme.cuts)), "/".join(map(str, quiz.cut_scores))
        add("cut_scores", f"「{quiz.competency}」{name}的认证分数线是 {want}(满分 {programme.items}),不能是 {have}")
