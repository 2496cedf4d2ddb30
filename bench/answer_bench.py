"""What semantic unit scoring costs per reply: `compose_answer` with and without the e5 unit similarity.

Prints numbers; never asserts. Ingests `content/knowledge` lexically into a temporary folder (or uses --data, an
ingested data folder), searches each question of the given sets once, then times in the same process:
- baseline   — `compose_answer(result)`, the lexical unit scorer alone;
- question   — e5 `embed_query` of the question (in the default configuration the dense search already paid it:
               `embeddings.RememberingEmbeddings` hands the same vector to the unit scorer);
- cold       — `compose_answer(result, similarity=…)` with an empty unit cache: the candidate units embedded in one
               batch, the question's vector remembered;
- warm       — the same questions again: every unit vector cached (popular passages answer many questions);
- stored     — a fresh process: empty memory cache, every unit's vector stored at ingest (`knowledge.unit_vectors`),
               read from the database; the replies are compared with the cold ones and the model calls counted.
Before `stored`, it prints what ingest pays to embed and store every unit of every passage (`sync_unit_vectors`,
all cores, as `coach ingest` does).

    PYTHONPATH=. python bench/answer_bench.py [--data DIR] [--sets bench/eval/bundled_dev.jsonl,...] [--limit N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.composition import Services  # noqa: E402
from app.evaluation import corpus_parts, load_questions  # noqa: E402
from app.settings import Settings  # noqa: E402
from knowledge.answer import compose_answer  # noqa: E402
from knowledge.embeddings import E5Embeddings, RememberingEmbeddings  # noqa: E402
from knowledge.results import SearchResult  # noqa: E402
from knowledge.unit_similarity import EmbeddingUnitSimilarity  # noqa: E402
from knowledge.unit_vectors import StoredUnitVectors, sync_unit_vectors  # noqa: E402

DEFAULT_SETS = "bench/eval/bundled_dev.jsonl,bench/eval/bundled_dev2.jsonl"


def _services(data: Path) -> Services:
    settings = Settings()
    storage = settings.storage.model_copy(update={"database_url": ""})
    vector_store = settings.vector_store.model_copy(update={"mode": "off"})
    return Services(settings.model_copy(update={"data_dir": data, "storage": storage, "vector_store": vector_store}))


def _percentiles(label: str, seconds: list[float]) -> None:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    print(f"{label:10} n={len(ms):4}  p50 {statistics.median(ms):7.1f} ms  p95 {p95:7.1f} ms  max {ms[-1]:7.1f} ms")


def _timed(results: list[SearchResult], call: Callable[[SearchResult], object]) -> list[float]:
    out = []
    for r in results:
        start = time.perf_counter()
        call(r)
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, help="an ingested data folder (default: ingest content/knowledge)")
    parser.add_argument("--sets", default=DEFAULT_SETS)
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data or Path(tmp)
        services = _services(data)
        if args.data is None:
            pipe = services.ingest_pipeline()
            for folder, collection in corpus_parts(ROOT / "content" / "knowledge"):
                pipe.run([folder], collection=collection)
        questions = [q.question for s in args.sets.split(",") for q in load_questions(ROOT / s)]
        questions = questions[: args.limit] if args.limit else questions
        results = [r for r in (services.search.search(q, k=5) for q in questions) if not r.abstained]
        model = E5Embeddings()
        model.embed_query("预热")
        model.embed_few(["预热"])
        remembering = RememberingEmbeddings(model, size=len(results) + 1)
        similarity = EmbeddingUnitSimilarity(remembering)
        print(f"{len(results)} answered questions of {len(questions)}")
        _percentiles("baseline", _timed(results, compose_answer))
        _percentiles("question", _timed(results, lambda r: remembering.embed_query(r.query)))
        cold: list[object] = []
        _percentiles("cold", _timed(results, lambda r: cold.append(compose_answer(r, similarity=similarity))))
        _percentiles("warm", _timed(results, lambda r: compose_answer(r, similarity=similarity)))
        _stored(services, results, remembering, cold)
        _percentiles("baseline", _timed(results, compose_answer))


def _stored(services: Services, results: list[SearchResult], remembering: RememberingEmbeddings, cold: list) -> None:
    """Ingest's cost of embedding every unit, then replies in a "fresh process" reading the stored vectors."""
    model = services.settings.embedding.model
    start = time.perf_counter()
    embedded, _ = sync_unit_vectors(services.uow, model, remembering.embed_documents)
    seconds = time.perf_counter() - start
    print(
        f"ingest     {embedded} unit vectors embedded and stored in {seconds:.1f} s"
        f" ({seconds / max(embedded, 1) * 1000:.1f} ms each)"
    )
    few = remembering.embed_few
    calls: list[int] = []
    remembering.embed_few = lambda texts: calls.append(len(texts)) or few(texts)  # type: ignore[method-assign]
    similarity = EmbeddingUnitSimilarity(remembering, store=StoredUnitVectors(services.uow, model))
    replies: list[object] = []
    _percentiles("stored", _timed(results, lambda r: replies.append(compose_answer(r, similarity=similarity))))
    same = sum(a == b for a, b in zip(replies, cold, strict=True))
    print(
        f"stored     {sum(calls)} units embedded at reply time; {same}/{len(cold)} replies identical to the cold ones"
    )


if __name__ == "__main__":
    main()
