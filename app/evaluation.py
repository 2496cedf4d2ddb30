"""`coach eval`: ingest the evaluation corpus into a scratch data folder and measure retrieval.

Configurations, side by side, on the same questions:
- lexical  — our pipeline, BM25 words + bigrams only (dense_weight 0)
- dense    — our chunks, dense similarity only
- fused    — our pipeline with the dense weight given by --dense-weight (default 0.2)
- baseline — LangChain RecursiveCharacterTextSplitter (500 chars) on the raw files + the dense model alone
Ranking metrics ignore abstention (they judge the ranking); abstention is reported on its own.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from app.composition import Services
from app.settings import RetrievalSettings, Settings
from knowledge.abstention import AbstentionPolicy
from knowledge.metrics import QuestionOutcome, passage_matches, score_outcomes
from knowledge.search import KnowledgeSearch, SearchOptions

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
Ranker = Callable[[str], list[tuple[str, str]]]  # question → [(passage text, source file name)] best first


@dataclass(frozen=True)
class EvalQuestion:
    question_id: str
    question: str
    answerable: bool
    evidence: tuple[str, ...]
    sources: tuple[str, ...]


def default_paths(datasets: Sequence[Path] | None, corpus: Path | None) -> tuple[list[Path], Path]:
    return list(datasets or [SHARED / "eval" / "dev.jsonl"]), corpus or SHARED / "corpus"


def load_questions(path: Path) -> list[EvalQuestion]:
    questions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        answerable = item.get("answerable", True) and bool(item.get("evidence"))
        sources = tuple([item["source"], *item.get("also_in", [])]) if item.get("source") else ()
        questions.append(
            EvalQuestion(item["id"], item["question"], answerable, tuple(item.get("evidence", ())), sources)
        )
    return questions


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
    for path in sorted(corpus.glob("*.txt")):
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
) -> dict[str, object]:
    outcomes = [_outcome(q, ranker(q.question), abstains(q.question) if abstains else False) for q in questions]
    scores = score_outcomes(outcomes).as_json()
    if abstains is None:  # this configuration never abstains: say so instead of printing 0
        scores["abstain_on_unanswerable"] = scores["wrong_abstain_on_answerable"] = None
    return scores


def run_evaluation(
    settings: Settings,
    *,
    datasets: list[Path],
    corpus: Path,
    baseline: bool = True,
    dense_weight: float = 0.2,
    out: Callable[[str], None] = print,
) -> dict[str, object]:
    """Measure every configuration on every dataset; print a table; return the numbers."""
    for path in [*datasets, corpus]:
        if not path.exists():
            raise FileNotFoundError(f"评测需要 {path}(../shared 不在旁边?)")
    with tempfile.TemporaryDirectory(prefix="coach-eval-") as tmp:
        scratch = Path(tmp)
        eval_settings = settings.model_copy(
            update={"data_dir": scratch, "storage": settings.storage.model_copy(update={"database_url": ""})}
        )
        services = Services(eval_settings)
        started = time.perf_counter()
        report = services.ingest_pipeline().run([corpus], collection="general")
        passages = sum(o.chunks for o in report.outcomes)
        out(f"ingested {corpus}: {passages} passages in {time.perf_counter() - started:.1f}s")
        r: RetrievalSettings = settings.retrieval
        configured = services.search
        rankers: dict[str, tuple[Ranker, Callable[[str], bool] | None]] = {
            "lexical": (
                _ranker_from_search(_search_variant(services, dense_weight=0.0, min_coverage=0.0)),
                lambda q: configured.search(q, k=5).abstained,
            ),
        }
        if services.dense is not None:
            rankers["dense"] = (_dense_only_ranker(services), None)
            rankers[f"fused(w={dense_weight})"] = (
                _ranker_from_search(_search_variant(services, dense_weight=dense_weight, min_coverage=0.0)),
                None,
            )
            if baseline:
                rankers["baseline"] = (_baseline_ranker(services, corpus, scratch), None)
        results: dict[str, object] = {"min_coverage": r.min_coverage, "datasets": {}}
        for dataset in datasets:
            questions = load_questions(dataset)
            table = {name: _evaluate(questions, ranker, abst) for name, (ranker, abst) in rankers.items()}
            results["datasets"][dataset.name] = table  # type: ignore[index]
            _print_table(dataset.name, table, out)
        return results


def _print_table(name: str, table: dict[str, dict[str, object]], out: Callable[[str], None]) -> None:
    out(f"\n== {name} ==")
    out(f"{'config':<16}{'hit@1':>8}{'hit@5':>8}{'MRR@10':>8}{'abstain(unans)':>16}{'wrong-abstain':>15}")
    for config, s in table.items():
        abst = s["abstain_on_unanswerable"]
        out(
            f"{config:<16}{s['hit_at_1']:>8.3f}{s['hit_at_5']:>8.3f}{s['mrr_at_10']:>8.3f}"
            f"{_fmt(abst):>16}"
            f"{_fmt(s['wrong_abstain_on_answerable']):>15}"
        )
    first = next(iter(table.values()))
    out(f"({first['answerable']} answerable, {first['unanswerable']} unanswerable;")
    out(" ranking ignores abstention; abstention columns come from the configured search)")


def _fmt(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, float) else "-"
