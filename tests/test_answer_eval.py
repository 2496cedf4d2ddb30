"""The answer figure of `coach eval`: matching a reply against evidence, scoring, and the command end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.answer_eval import judge_question
from app.cli import main
from app.evaluation import BUNDLED, DEFAULT_DATASETS, DatasetSpec, EvalQuestion, dataset_specs, load_questions
from knowledge.answer import MobileAnswer, SourceRef
from knowledge.metrics import ReplyOutcome, reply_carries_evidence, score_replies
from knowledge.results import Passage, SearchResult

# --- matching a reply against evidence -------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "evidence"),
    [
        ("由直接上司和跨级上司分别评估,权重各为50%。[1]", "权重各为50%"),
        ("权重 各为\n50 %", "权重各为50%"),  # whitespace anywhere
        ("權重各為50%", "权重各为50%"),  # Traditional in the reply
        ("权重各为50%", "權重各為50%"),  # Traditional in the evidence
        ("ＫＰＩ权重各为５０％", "kpi权重各为50%"),  # full-width and upper-case ASCII fold
        ("权重**各为50%**", "权重各为50%"),  # markdown bold inside the fact
        ("常规指标占80%。[1]\n其余20%为临时任务。[2]", "常规指标占80%。其余20%为临时任务。"),  # citations between
        ("常规指标占80%。[1][2]其余20%", "80%。其余20%"),
        ("常规指标占80%。[1,2]其余20%", "80%。其余20%"),
        ("常规指标占80%。［1］其余20%", "80%。其余20%"),  # a full-width citation marker
        ("知识测验(80题) [45-55-75] 三档", "知识测验(80题) [45-55-75]"),  # a bracket that is not a citation stays
    ],
)
def test_a_reply_carries_the_fact_whatever_its_spacing_script_and_markers(reply, evidence):
    assert reply_carries_evidence(reply, evidence=[evidence])


@pytest.mark.parametrize(
    ("reply", "evidence"),
    [
        ("员工填写晋级申请表后,由直接上司和跨级上司分别评估,权…[1]", ["权重各为50%"]),  # stops before the fact
        ("权重各为5", ["权重各为50%"]),
        ("知识测验(80题) 45-55-75", ["知识测验(80题) [45-55-75]"]),  # the dataset's brackets are part of the fact
        ("", ["权重各为50%"]),  # "not found" carries nothing
        ("任何回复", ["", "  "]),  # blank evidence matches nothing
    ],
)
def test_a_reply_without_the_whole_fact_misses(reply, evidence):
    assert not reply_carries_evidence(reply, evidence=evidence)


def test_any_one_evidence_string_is_enough():
    assert reply_carries_evidence("比例大概为25%、55%、30%", evidence=["比例大概为 25%、55%、30%", "不在这里"])


# --- scoring -----------------------------------------------------------------------------------------


def test_scores_count_facts_abstentions_and_reply_lengths():
    outcomes = [
        ReplyOutcome("a", True, True, 100, carries_fact=True, first_source_right=True),
        ReplyOutcome("b", True, True, 300, carries_fact=True, first_source_right=False),
        ReplyOutcome("c", True, True, 200, carries_fact=False, first_source_right=True),
        ReplyOutcome("d", True, False, 0, carries_fact=False, first_source_right=False),
        ReplyOutcome("e", False, False, 0, carries_fact=False, first_source_right=False),
        ReplyOutcome("f", False, True, 50, carries_fact=False, first_source_right=False),
    ]
    s = score_replies(outcomes)
    assert (s.answerable, s.unanswerable) == (4, 2)
    assert s.carries_fact == 0.5 and s.carries_fact_right_source == 0.25
    assert s.wrong_abstain_on_answerable == 0.25 and s.abstain_on_unanswerable == 0.5
    assert s.median_chars == 150.0 and s.max_chars == 300  # over the four replies given, not the abstentions


def test_scores_of_a_set_without_answerable_questions_say_none():
    s = score_replies([ReplyOutcome("e", False, False, 0, carries_fact=False, first_source_right=False)])
    assert s.carries_fact is None and s.wrong_abstain_on_answerable is None and s.median_chars is None
    assert s.abstain_on_unanswerable == 1.0


# --- judging one question: the composed reply against the best passage --------------------------------

QUESTION = EvalQuestion("q1", "隔级领导打分各占多少", True, ("权重各为50%",), ("promotion.md",))


def _passage(chunk_id: str, text: str, source: str) -> Passage:
    return Passage(chunk_id, text, "晋级", "评估", source, "processes", 1.0)


def _answer(body: str, chunk_id: str) -> MobileAnswer:
    return MobileAnswer(QUESTION.question, True, body, (SourceRef(1, "晋级", "评估", "processes", chunk_id, ""),))


def test_the_reply_counts_even_when_it_cites_the_wrong_file():
    result = SearchResult(QUESTION.question, False, (_passage("x", "别处也写着权重各为50%。", "other.md"),))
    judged = judge_question(
        QUESTION, result, _answer("权重各为50%。[1]", "x"), source_of={"x": "other.md"}.get, max_chars=600
    )
    assert judged.composed.carries_fact and not judged.composed.first_source_right
    assert judged.best_passage.carries_fact and judged.best_passage.first_source == "other.md"


def test_a_composed_reply_can_lose_the_fact_the_best_passage_had():
    text = "员工填写晋级申请表后,由直接上司和跨级上司分别评估,权重各为50%。"
    result = SearchResult(QUESTION.question, False, (_passage("p", text, "promotion.md"),))
    judged = judge_question(
        QUESTION, result, _answer(text[:20] + "…[1]", "p"), source_of={"p": "promotion.md"}.get, max_chars=600
    )
    assert not judged.composed.carries_fact and judged.composed.first_source_right
    assert judged.best_passage.carries_fact and judged.best_passage.first_source_right
    cut = judge_question(QUESTION, result, _answer("", "p"), source_of={"p": "promotion.md"}.get, max_chars=20)
    assert not cut.best_passage.carries_fact  # the baseline is cut to the reply's length too


def test_an_abstention_is_no_reply_for_both():
    result = SearchResult(QUESTION.question, True, ())
    nothing = MobileAnswer(QUESTION.question, False, "", ())
    judged = judge_question(QUESTION, result, nothing, source_of=str, max_chars=600)
    assert not judged.composed.found and not judged.best_passage.found
    assert judged.composed.outcome(QUESTION).chars == 0


# --- datasets and their corpora --------------------------------------------------------------------


def test_a_dataset_names_its_corpus_or_takes_the_corpus_option(tmp_path):
    specs, skipped = dataset_specs(["a.jsonl=content/knowledge", "b.jsonl"], tmp_path)
    assert specs == [DatasetSpec(Path("a.jsonl"), Path("content/knowledge")), DatasetSpec(Path("b.jsonl"), tmp_path)]
    assert skipped == []


def test_the_default_datasets_cover_both_corpora_and_skip_absent_files():
    specs, skipped = dataset_specs(None, None)
    assert {s.path for s in specs} | set(skipped) == {p for p, _ in DEFAULT_DATASETS}
    assert all(s.path.is_file() for s in specs) and not any(p.is_file() for p in skipped)
    assert {c for _, c in DEFAULT_DATASETS if c == BUNDLED}  # the bundled sets are measured on content/knowledge


def test_expected_sources_are_compared_by_file_name(tmp_path):
    dataset = tmp_path / "d.jsonl"
    dataset.write_text(
        '{"id": "x", "question": "问", "source": "processes/promotion.md", "also_in": ["a/b.md"], "evidence": ["e"]}\n',
        encoding="utf-8",
    )
    (q,) = load_questions(dataset)
    assert q.sources == ("promotion.md", "b.md") and q.answerable


# --- `coach eval` end to end on a tiny corpus (lexical only, so it is quick) ------------------------------


@pytest.fixture
def tiny_corpus(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("COACH_VECTOR_STORE__MODE", "off")
    corpus = tmp_path / "knowledge"
    (corpus / "processes").mkdir(parents=True)
    (corpus / "courses").mkdir()
    (corpus / "README.md").write_text("# 说明\n\n这个文件不进知识库,晋级评估权重各为50%。\n", encoding="utf-8")
    (corpus / "processes" / "promotion.md").write_text(
        "# 客户经理晋级流程\n\n## 评估\n\n员工填写晋级申请表后,由直接上司和跨级上司分别评估,权重各为50%。\n\n"
        "## 原则\n\n晋级逐级进行,不得跨级,每半年评审一次。\n",
        encoding="utf-8",
    )
    (corpus / "courses" / "negotiation.md").write_text(
        "# 中级谈判课\n\n## 让步的艺术\n\n确需让步时分几次小步让出,让对方觉得每一步都来之不易。\n", encoding="utf-8"
    )
    return corpus


def _dataset(tmp_path: Path) -> Path:
    rows = [
        {"id": "p1", "question": "隔级领导打分各占多少", "source": "promotion.md", "evidence": ["权重各为50%"]},
        {"id": "p2", "question": "让步怎么让", "source": "negotiation.md", "evidence": ["一次全部让完"]},
        {"id": "u1", "question": "公司食堂几点开饭", "answerable": False},
    ]
    path = tmp_path / "tiny.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_eval_json_has_the_answer_figure_and_per_question_records(tiny_corpus, tmp_path, capsys):
    dataset = _dataset(tmp_path)
    argv = ["--data-dir", str(tmp_path / "data"), "eval", "--dataset", f"{dataset}={tiny_corpus}", "--json"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)  # stdout is the JSON alone; the tables went to stderr
    assert "answers (the reply text the learner reads)" in captured.err
    assert report["corpora"] == {str(tiny_corpus): 3}  # two collection folders; README.md is left out
    result = report["datasets"]["tiny.jsonl"]
    composed, best = result["answers"]["composed"], result["answers"]["best_passage"]
    assert composed["answerable"] == 2 and composed["unanswerable"] == 1
    assert composed["carries_fact"] == 0.5 and composed["carries_fact_right_source"] == 0.5
    assert composed["abstain_on_unanswerable"] == 1.0 and composed["wrong_abstain_on_answerable"] == 0.0
    assert composed["max_chars"] <= 600 and best["carries_fact"] == 0.5
    assert set(result["retrieval"]) == {"lexical"}  # the dense rows need the vector store
    records = {r["id"]: r for r in result["questions"]}
    assert records["p1"]["carries_fact"] and records["p1"]["first_source"] == "promotion.md"
    assert records["p1"]["first_hit_rank"] == {"lexical": 1}
    assert not records["p2"]["carries_fact"] and records["p2"]["found"]
    assert records["u1"]["reply"] == "" and not records["u1"]["found"]


def test_eval_misses_lists_each_reply_without_the_fact(tiny_corpus, tmp_path, capsys):
    dataset = _dataset(tmp_path)
    argv = ["--data-dir", str(tmp_path / "data"), "eval", "--dataset", f"{dataset}={tiny_corpus}", "--misses"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "replies without the fact (1):" in out
    assert "p2  让步怎么让" in out and "evidence: 一次全部让完" in out and "确需让步" in out
    assert "p1  " not in out and "unanswerable questions that got a reply" not in out


def test_eval_of_a_missing_dataset_fails_with_a_reason(tiny_corpus, tmp_path, capsys):
    argv = ["--data-dir", str(tmp_path / "data"), "eval", "--dataset", f"{tmp_path / 'no.jsonl'}={tiny_corpus}"]
    assert main(argv) == 2
    assert "评测需要" in capsys.readouterr().err
