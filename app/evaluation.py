"""`coach eval`: ingest each corpus once into a scratch data folder, then measure answers and retrieval.

Answers (`app/answer_eval.py`): does the reply the learner reads carry the fact, against the best passage
pasted as the reply. Retrieval configurations, side by side, on the same questions:
- lexical  — our pipeline, BM25 words + bigrams only (dense_weight 0)
- dense    — our chunks, dense similarity only
- fused    — our pipeline with the dense weight given by --dense-weight (default 0.2)
- baseline — LangChain RecursiveCharacterTextSplitter (500 chars) on the raw files + the dense model alone
Ranking metrics ignore abstention (they judge the ranking); abstention is reported on its own.

Each dataset names its corpus (`--dataset F.jsonl=DIR`). A corpus folder with cases/, courses/ or processes/
subfolders is loaded the way `make run` loads content/knowledge: each subfolder into its collection, nothing
else; any other folder goes wholly into general.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from app.answer_eval import judge_question, print_answer_table, print_misses, question_json, score_answers
from app.composition import Services
from app.settings import COLLECTIONS, Settings
from knowledge.abstention import AbstentionPolicy
from knowledge.metrics import QuestionOutcome, passage_matches, score_outcomes
from knowledge.results import SearchResult
from knowledge.search import KnowledgeSearch, SearchOptions

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
BENCH = REPO / "bench" / "eval"
BUNDLED = REPO / "content" / "knowledge"
DEFAULT_DATASETS = (  # what `coach eval` (and `make eval`) measures when no --dataset is given
    (SHARED / "eval" / "dev.jsonl", SHARED / "corpus"),
    (BENCH / "holdout.jsonl", SHARED / "corpus"),
    (BENCH / "calibration_unanswerable.jsonl", SHARED / "corpus"),
    (BENCH / "corpus_dev2.jsonl", SHARED / "corpus"),
    (BENCH / "corpus_dev3.jsonl", SHARED / "corpus"),
    (BENCH / "corpus_dev4.jsonl", SHARED / "corpus"),
    (BENCH / "corpus_dev5.jsonl", SHARED / "corpus"),
    (BENCH / "corpus_dev6.jsonl", SHARED / "corpus"),
    (BENCH / "corpus_dev7.jsonl", SHARED / "corpus"),
    (BENCH / "corpus_dev8.jsonl", SHARED / "corpus"),
    (BENCH / "corpus_dev9.jsonl", SHARED / "corpus"),
    (BENCH / "corpus_dev10.jsonl", SHARED / "corpus"),
    (BENCH / "corpus_dev11.jsonl", SHARED / "corpus"),
    (BENCH / "corpus_holdout.jsonl", SHARED / "corpus"),
    (BENCH / "corpus_holdout2.jsonl", SHARED / "corpus"),
    (BENCH / "corpus_holdout3.jsonl", SHARED / "corpus"),
    (BENCH / "bundled_dev.jsonl", BUNDLED),
    (BENCH / "bundled_dev2.jsonl", BUNDLED),
    (BENCH / "bundled_dev3.jsonl", BUNDLED),
    (BENCH / "bundled_dev4.jsonl", BUNDLED),
    (BENCH / "bundled_dev5.jsonl", BUNDLED),
    (BENCH / "bundled_dev6.jsonl", BUNDLED),
    (BENCH / "bundled_holdout.jsonl", BUNDLED),
    (BENCH / "bundled_holdout2.jsonl", BUNDLED),
    (BENCH / "bundled_holdout3.jsonl", BUNDLED),
)
RAW_TEXT = {".txt", ".md"}  # what the LangChain baseline reads as it is
Ranker = Callable[[str], list[tuple[str, str]]]  # question → [(passage text, source file name)] best first


@dataclass(frozen=True)
class EvalQuestion:
    question_id: str
    question: str
    answerable: bool
    evidence: tuple[str, ...]
    sources: tuple[str, ...]  # file names (a dataset may write them with a folder)


@dataclass(frozen=True)
class DatasetSpec:
    path: Path
    corpus: Path


def dataset_specs(given: Sequence[str] | None, corpus: Path | None) -> tuple[list[DatasetSpec], list[Path]]:
    """The datasets to run with their corpora, and the default ones skipped because their file is absent."""
    if given:
        specs = []
        for arg in given:
            path, _, folder = arg.partition("=")
            specs.append(DatasetSpec(Path(path), Path(folder) if folder else corpus or SHARED / "corpus"))
        return specs, []
    present = [DatasetSpec(p, c) for p, c in DEFAULT_DATASETS if p.is_file()]
    return present, [p for p, _ in DEFAULT_DATASETS if not p.is_file()]


def load_questions(path: Path) -> list[EvalQuestion]:
    questions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        answerable = item.get("answerable", True) and bool(item.get("evidence"))
        sources = tuple(Path(s).name for s in [item["source"], *item.get("also_in", [])]) if item.get("source") else ()
        questions.append(
            EvalQuestion(item["id"], item["question"], answerable, tuple(item.get("evidence", ())), sources)
        )
    return questions


def corpus_parts(corpus: Path) -> list[tuple[Path, str]]:
    """(folder, collection) pairs: the collection subfolders when there are any, else the whole folder."""
    folders = [(corpus / name, name) for name in COLLECTIONS if name != "general" and (corpus / name).is_dir()]
    return folders or [(corpus, "general")]


def _outcome(q: EvalQuestion, ranked: list[tuple[str, str]], abstained: bool) -> QuestionOutcome:
    rank = next(
        (
            i + 1
            for i, (text, source) in enumerate(ranked[:10])
            if passage_matches(text, source, evidence=q.evidence, sources=q.sources)
        ),
        None,
    )
    return QuestionOutcome(q.question_id, q.answerable, abstained, rank)


def _search_variant(services: Services, *, dense_weight: float, min_coverage: float) -> KnowledgeSearch:
    base = services.search
    r = services.settings.retrieval
    return KnowledgeSearch(
        tokenizer=services.tokenizer,
        lexical=base._lexical,
        dense=services.dense,
        uow=services.uow,
        repository=services.repository,
        abstention=AbstentionPolicy(min_coverage=min_coverage),
        options=SearchOptions(candidates=r.candidates, dense_weight=dense_weight),
    )


def _ranker_from_search(search: KnowledgeSearch) -> Ranker:
    def rank(question: str) -> list[tuple[str, str]]:
        return [(p.text, p.source) for p in search.search(question, k=10).passages]

    return rank


def _dense_only_ranker(services: Services) -> Ranker:
    def rank(question: str) -> list[tuple[str, str]]:
        assert services.dense is not None
        scores = services.dense.search(question, k=10)
        with services.uow.read() as session:
            stored = services.repository.get_passages(session, scores)
        ordered = sorted(scores, key=lambda i: -scores[i])
        return [(stored[i].text, stored[i].source_name) for i in ordered if i in stored]

    return rank


def _baseline_ranker(services: Services, corpus: Path, scratch: Path) -> Ranker:
    """LangChain's recursive splitter on raw files + the dense model alone, in its own Chroma folder."""
    from langchain_chroma import Chroma
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from knowledge.vector_store import open_chroma_client

    splitter = RecursiveCharacterTextSplitter(chunk_size=500, chunk_overlap=50)
    texts, metadatas = [], []
    files = sorted(p for folder, _ in corpus_parts(corpus) for p in folder.rglob("*") if p.suffix.lower() in RAW_TEXT)
    for path in files:
        for piece in splitter.split_text(path.read_text(encoding="utf-8", errors="replace")):
            texts.append(piece)
            metadatas.append({"source": path.name})
    client = open_chroma_client(mode="embedded", path=scratch / "baseline-chroma", host="", port=1)
    store = Chroma(
        collection_name="baseline",
        embedding_function=services.embeddings,
        client=client,
        collection_configuration={"hnsw": {"space": "cosine"}},
    )
    store.add_texts(texts, metadatas=metadatas, ids=[f"b{i}" for i in range(len(texts))])

    def rank(question: str) -> list[tuple[str, str]]:
        return [(d.page_content, d.metadata["source"]) for d in store.similarity_search(question, k=10)]

    return rank


def _evaluate(
    questions: list[EvalQuestion], ranker: Ranker, abstains: Callable[[str], bool] | None
) -> tuple[dict[str, object], list[QuestionOutcome]]:
    outcomes = [_outcome(q, ranker(q.question), abstains(q.question) if abstains else False) for q in questions]
    scores = score_outcomes(outcomes).as_json()
    if abstains is None:  # this configuration never abstains: say so instead of printing 0
        scores["abstain_on_unanswerable"] = scores["wrong_abstain_on_answerable"] = None
    return scores, outcomes


class _CorpusRun:
    """One corpus ingested into its own scratch folder, with every configuration ready to ask."""

    def __init__(self, settings: Settings, corpus: Path, scratch: Path, *, baseline: bool, dense_weight: float) -> None:
        self.services = services = Services(
            settings.model_copy(
                update={"data_dir": scratch, "storage": settings.storage.model_copy(update={"database_url": ""})}
            )
        )
        pipeline = services.ingest_pipeline()
        self.passages = sum(
            o.chunks for folder, name in corpus_parts(corpus) for o in pipeline.run([folder], collection=name).outcomes
        )
        self._results: dict[str, SearchResult] = {}
        self.rankers: dict[str, tuple[Ranker, Callable[[str], bool] | None]] = {
            "lexical": (
                _ranker_from_search(_search_variant(services, dense_weight=0.0, min_coverage=0.0)),
                lambda q: self.configured(q).abstained,
            ),
        }
        if services.dense is not None:
            self.rankers["dense"] = (_dense_only_ranker(services), None)
            self.rankers[f"fused(w={dense_weight})"] = (
                _ranker_from_search(_search_variant(services, dense_weight=dense_weight, min_coverage=0.0)),
                None,
            )
            if baseline:
                self.rankers["baseline"] = (_baseline_ranker(services, corpus, scratch), None)

    def configured(self, question: str) -> SearchResult:
        """The search the chat runs (configured weight and abstention, k=5), once per question."""
        if question not in self._results:
            self._results[question] = self.services.search.search(question, k=5)
        return self._results[question]

    def source_of(self, chunk_id: str) -> str | None:
        passage = self.services.search.passage(chunk_id)
        return passage.source if passage else None

    def measure(self, spec: DatasetSpec, *, misses: bool, out: Callable[[str], None]) -> dict[str, object]:
        questions = load_questions(spec.path)
        table: dict[str, dict[str, object]] = {}
        ranks: list[dict[str, int | None]] = [{} for _ in questions]
        for name, (ranker, abstains) in self.rankers.items():
            table[name], outcomes = _evaluate(questions, ranker, abstains)
            for per_question, outcome in zip(ranks, outcomes, strict=True):
                per_question[name] = outcome.first_hit_rank
        answerer, max_chars = self.services.answerer, self.services.settings.answer.max_chars
        judged = []
        for q in questions:
            result = self.configured(q.question)
            answer = answerer.answer(result)
            judged.append(judge_question(q, result, answer, source_of=self.source_of, max_chars=max_chars))
        answers = score_answers(judged)
        out(f"\n== {spec.path.name} (corpus {spec.corpus}) ==")
        print_answer_table(answers, out)
        _print_table(table, out)
        if misses:
            print_misses(judged, out)
        return {
            "corpus": str(spec.corpus),
            "answers": answers,
            "retrieval": table,
            "questions": [question_json(j, r) for j, r in zip(judged, ranks, strict=True)],
        }


def run_evaluation(
    settings: Settings,
    *,
    datasets: list[DatasetSpec],
    baseline: bool = True,
    dense_weight: float = 0.2,
    misses: bool = False,
    out: Callable[[str], None] = print,
) -> dict[str, object]:
    """Measure every dataset against its corpus (one ingest per corpus); print tables; return the numbers."""
    for path in [p for spec in datasets for p in (spec.path, spec.corpus)]:
        if not path.exists():
            raise FileNotFoundError(f"评测需要 {path}(../shared 不在旁边?)")
    by_corpus: dict[Path, list[DatasetSpec]] = {}
    for spec in datasets:
        by_corpus.setdefault(spec.corpus.resolve(), []).append(spec)
    results: dict[str, object] = {"min_coverage": settings.retrieval.min_coverage, "corpora": {}, "datasets": {}}
    with tempfile.TemporaryDirectory(prefix="coach-eval-") as tmp:
        for number, (corpus, specs) in enumerate(by_corpus.items()):
            started = time.perf_counter()
            scratch = Path(tmp) / f"corpus-{number}"
            run = _CorpusRun(settings, corpus, scratch, baseline=baseline, dense_weight=dense_weight)
            out(f"ingested {specs[0].corpus}: {run.passages} passages in {time.perf_counter() - started:.1f}s")
            results["corpora"][str(specs[0].corpus)] = run.passages  # type: ignore[index]
            for spec in specs:
                results["datasets"][spec.path.name] = run.measure(spec, misses=misses, out=out)  # type: ignore[index]
    return results


def _print_table(table: dict[str, dict[str, object]], out: Callable[[str], None]) -> None:
    out("retrieval (the ranking behind it):")
    out(f"{'config':<16}{'hit@1':>8}{'hit@5':>8}{'MRR@10':>8}{'abstain(unans)':>16}{'wrong-abstain':>15}")
    for config, s in table.items():
        out(
            f"{config:<16}{s['hit_at_1']:>8.3f}{s['hit_at_5']:>8.3f}{s['mrr_at_10']:>8.3f}"
            f"{_fmt(s['abstain_on_unanswerable']):>16}{_fmt(s['wrong_abstain_on_answerable']):>15}"
        )
    first = next(iter(table.values()))
    out(f"({first['answerable']} answerable, {first['unanswerable']} unanswerable;")
    out(" ranking ignores abstention; abstention columns come from the configured search)")


def _fmt(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, float) else "-"
