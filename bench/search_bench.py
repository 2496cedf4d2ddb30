"""Search latency, ingest throughput and memory of PocketCoach: on the real corpus and on a synthetic 100k corpus.

Prints numbers; never asserts. A scaled measurement is printed next to a baseline measured in the same
process (10k chunks for the 100k synthetic corpus, lexical only for the default configuration, the dense side
off for the corpus ingest, the one-collection layout for the Chroma queries) and the ratio between them. The goal
from the issue: `coach search` p95 under 50 ms at 100k chunks on 2 cores with the default configuration.

    PYTHONPATH=. HF_HUB_OFFLINE=1 ANONYMIZED_TELEMETRY=False python bench/search_bench.py [--quick] [--skip-dense]
        [--json out.json] [--full-tokenise]

Phases (each a function below):
1. synthetic     — N Chinese-like passages from random.Random(42): Zipf-distributed words of jieba's dictionary.
                   Tokenising throughput (a 10k sample is tokenised and its token lists are reused cyclically
                   unless --full-tokenise).
2. lexical index — LexicalIndex build time, tracemalloc peak, pickle size and load time, search latency.
3. end to end    — chunks written to SQLite with KnowledgeRepository.replace_document, index built by
                   `Services.search` (cold, then from the pickle), `services.search.search(q)` latency, lexical only.
4. dense         — in the same data folder, synthetic 384-dim vectors (clustered like a text embedding's; no
                   model) stored through the configured `ChromaDenseIndex.add_vectors`; then config.toml's default
                   configuration end to end (the real query embedding, fused at its dense weight), the query
                   embedding alone, `dense.search` alone; and Chroma queried by vector: the layout before (one
                   collection, a `where` filter) against the current one, with recall@k against brute force.
5. embedding     — the configured model's passages/s on synthetic passages.
6. corpus        — ingest ../shared/corpus with the dense side off and on, then search latency over the
                   dev + holdout questions: the lexical search, the dense query alone, the query embedding alone;
                   the model's passages/s on the corpus's own passages.
Peak memory (ru_maxrss, a high-water mark for the whole process) and current RSS after every phase.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import pickle
import random
import re
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # `python bench/search_bench.py` without an installed package
    sys.path.insert(0, str(REPO))

import jieba  # noqa: E402
import numpy as np  # noqa: E402
from chromadb.api.shared_system_client import SharedSystemClient  # noqa: E402
from langchain_core.embeddings import Embeddings  # noqa: E402

from app.composition import Services  # noqa: E402
from app.settings import COLLECTIONS, Settings, load_settings  # noqa: E402
from ingest.pipeline import find_files  # noqa: E402
from ingest.report import IngestReport  # noqa: E402
from knowledge.abstention import AbstentionPolicy  # noqa: E402
from knowledge.embeddings import E5Embeddings, model_slug  # noqa: E402
from knowledge.lexical_index import IndexedPassage, LexicalIndex  # noqa: E402
from knowledge.search import KnowledgeSearch, SearchOptions  # noqa: E402
from knowledge.tokenizer import Tokenizer  # noqa: E402
from knowledge.vector_store import (  # noqa: E402
    EF_SEARCH,
    ChromaDenseIndex,
    DenseDocument,
    DenseIndex,
    dense_text,
    open_chroma_client,
)
from storage.knowledge_repository import ChunkRecord  # noqa: E402

SHARED = REPO.parent / "shared"
QUESTION_FILES = (SHARED / "eval" / "dev.jsonl", REPO / "bench" / "eval" / "holdout.jsonl")
GOAL_P95_MS = 50.0
CHUNKS_PER_DOC = 100  # synthetic documents: 1,000 documents × 100 chunks at 100k
DOCS_PER_COMMIT = 100  # SQLite transaction size when writing synthetic documents
DENSE_DIM = 384  # multilingual-e5-small (and all-MiniLM-L6-v2)
EMBED_SAMPLE = 256  # passages embedded to measure the model's throughput
Tokens = tuple[list[str], list[str]]
Query = tuple[str, list[str] | None]  # question, collections filter


# ── results ──────────────────────────────────────────────────────────────────────────────────────────────


@dataclass
class Row:
    """One measured number, optionally next to the same metric at the baseline (ratio = value / baseline)."""

    phase: str
    metric: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_label: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline == 0:
            return None
        return self.value / self.baseline


@dataclass
class Results:
    """Everything measured, printed as it comes and as a table at the end."""

    rows: list[Row] = field(default_factory=list)
    memory: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(
        self, phase: str, metric: str, value: float, unit: str, *, baseline: float | None = None, vs: str = ""
    ) -> None:
        row = Row(phase, metric, value, unit, baseline, vs)
        self.rows.append(row)
        ratio = f"   ({row.ratio:.2f}× {vs})" if row.ratio is not None else ""
        print(f"  {phase:<14} {metric:<44} {_fmt(value):>10} {unit}{ratio}", flush=True)

    def add_latency(
        self,
        phase: str,
        metric: str,
        samples: Sequence[float],
        *,
        baseline: dict[str, float] | None = None,
        vs: str = "",
        stats: Sequence[str] = ("p50", "p95"),
    ) -> dict[str, float]:
        summary = latency_summary(samples)
        for stat in stats:
            base = baseline[stat] if baseline else None
            self.add(phase, f"{metric} {stat}", summary[stat], "ms", baseline=base, vs=vs)
        return summary

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f"  note: {text}", flush=True)

    def checkpoint(self, phase: str) -> None:
        """Peak (ru_maxrss, whole process so far) and current resident memory after a phase."""
        gc.collect()
        entry = {"phase": phase, "peak_rss_mb": peak_rss_mb(), "current_rss_mb": current_rss_mb()}
        self.memory.append(entry)
        print(
            f"  [memory after {phase}: peak {entry['peak_rss_mb']:.0f} MB, now {entry['current_rss_mb']:.0f} MB]",
            flush=True,
        )


def _fmt(value: float) -> str:
    if value == 0 or abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"


def latency_summary(seconds: Sequence[float]) -> dict[str, float]:
    """p50 / p95 / max / mean in milliseconds."""
    ms = np.asarray(seconds, dtype=np.float64) * 1000
    if ms.size == 0:
        return {"p50": 0.0, "p95": 0.0, "max": 0.0, "mean": 0.0, "n": 0}
    return {
        "p50": float(np.percentile(ms, 50)),
        "p95": float(np.percentile(ms, 95)),
        "max": float(ms.max()),
        "mean": float(ms.mean()),
        "n": int(ms.size),
    }


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def current_rss_mb() -> float:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return float("nan")
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def load_average() -> str:
    try:
        return "/".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    """(result, seconds)."""
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def time_each(fn: Callable[[Any], Any], items: Sequence[Any], *, warmup: int = 3) -> list[float]:
    """Seconds per call of fn(item); the first `warmup` items are run once before, untimed."""
    for item in items[:warmup]:
        fn(item)
    samples = []
    for item in items:
        started = time.perf_counter()
        fn(item)
        samples.append(time.perf_counter() - started)
    return samples


def time_and_collect(
    fn: Callable[[Any], Any], items: Sequence[Any], *, warmup: int = 3
) -> tuple[list[float], list[Any]]:
    """`time_each`, keeping what each timed call returned."""
    results: list[Any] = []
    samples: list[float] = []
    for item in items[:warmup]:
        fn(item)
    for item in items:
        started = time.perf_counter()
        results.append(fn(item))
        samples.append(time.perf_counter() - started)
    return samples, results


def time_interleaved(
    fns: Sequence[Callable[[Any], Any]], items: Sequence[Any], *, warmup: int = 3
) -> list[list[float]]:
    """Seconds per call of each fn(item), the fns taking turns on every item (first one first on even items), so
    a change in the machine's load weighs on all of them alike."""
    for item in items[:warmup]:
        for fn in fns:
            fn(item)
    samples: list[list[float]] = [[] for _ in fns]
    for n, item in enumerate(items):
        order = range(len(fns)) if n % 2 == 0 else reversed(range(len(fns)))
        for i in order:
            started = time.perf_counter()
            fns[i](item)
            samples[i].append(time.perf_counter() - started)
    return samples


def folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def bench_settings(
    data_dir: Path, *, dense: bool, dense_weight: float | None = 0.0, min_coverage: float | None = None
) -> Settings:
    """config.toml's settings in a scratch data dir: SQLite, the dense side on (embedded) or off, lexical ranking
    (dense_weight 0) unless told otherwise; `dense_weight=None` keeps config.toml's."""
    settings = load_settings(data_dir=data_dir)
    retrieval: dict[str, Any] = {} if dense_weight is None else {"dense_weight": dense_weight}
    if min_coverage is not None:
        retrieval["min_coverage"] = min_coverage
    return settings.model_copy(
        update={
            "storage": settings.storage.model_copy(update={"database_url": ""}),
            "vector_store": settings.vector_store.model_copy(update={"mode": "embedded" if dense else "off"}),
            "retrieval": settings.retrieval.model_copy(update=retrieval),
        }
    )


def size_label(n: int) -> str:
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


# ── phase 1: the real corpus ─────────────────────────────────────────────────────────────────────────────


def load_questions() -> list[str]:
    questions = []
    for path in QUESTION_FILES:
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    questions.append(json.loads(line)["question"])
    return questions


def ingest_corpus(
    settings: Settings, corpus: Path, res: Results, *, label: str
) -> tuple[Services, float, IngestReport]:
    """Ingest the corpus into a fresh data dir; one-time loads (jieba dictionary, model) are timed apart."""
    services = Services(settings)
    _, jieba_s = timed(lambda: services.tokenizer.document_tokens("预热分词词典"))
    pipeline = services.ingest_pipeline()  # migrations, Chroma client
    if services.dense is not None:
        _, model_s = timed(lambda: services.embeddings.embed_query("warm up"))
        res.add("corpus", f"model load + first embedding ({label})", model_s, "s")
    report, elapsed = timed(lambda: pipeline.run([corpus], collection="general"))
    res.add("corpus", f"tokenizer load ({label})", jieba_s, "s")
    return services, elapsed, report


def bench_corpus(res: Results, *, skip_dense: bool, repeat: int) -> None:
    """Ingest throughput (dense off vs on) and search latency on ../shared/corpus."""
    corpus = SHARED / "corpus"
    print(f"\n== corpus: {corpus} ==", flush=True)
    if not corpus.is_dir():
        res.note(f"corpus part skipped: {corpus} not found (../shared next to the repo)")
        return
    files, _ = find_files([corpus])
    chars = sum(len(p.read_text(encoding="utf-8", errors="replace")) for p in files if p.suffix in {".txt", ".md"})
    res.add("corpus", "files", len(files), "files")
    res.add("corpus", "characters (text files)", chars, "chars")
    model = model_label(load_settings())
    modes = [("dense off", False)] + ([] if skip_dense else [(f"dense on, {model}", True)])
    with tempfile.TemporaryDirectory(prefix="bench-corpus-", ignore_cleanup_errors=True) as tmp:
        off_seconds: float | None = None
        services: Services | None = None
        for label, dense in modes:
            settings = bench_settings(Path(tmp) / label.split(",")[0].replace(" ", "-"), dense=dense)
            services, seconds, report = ingest_corpus(settings, corpus, res, label=label)
            chunks = sum(o.chunks for o in report.outcomes)
            stored = sum(1 for o in report.outcomes if o.status in {"added", "updated"})
            base = None if off_seconds is None else off_seconds
            res.add("corpus", f"ingest time ({label})", seconds, "s", baseline=base, vs="dense off")
            res.add("corpus", f"ingest files/s ({label})", stored / seconds, "files/s")
            res.add(
                "corpus",
                f"ingest chunks/s ({label})",
                chunks / seconds,
                "chunks/s",
                baseline=None if off_seconds is None else chunks / off_seconds,
                vs="dense off",
            )
            res.add("corpus", f"ingest chars/s ({label})", chars / seconds, "chars/s")
            if off_seconds is None:
                off_seconds = seconds
                res.add("corpus", "chunks", chunks, "chunks")
            res.checkpoint(f"corpus ingest ({label})")
        assert services is not None
        bench_corpus_search(res, services, repeat=repeat)
        services.engine.dispose()
        del services
    res.checkpoint("corpus search")


def bench_corpus_search(res: Results, services: Services, *, repeat: int) -> None:
    """Latency of the lexical search, the dense query alone and the query embedding alone, per question; the
    embedding model's passage throughput on the corpus's own passages."""
    questions = load_questions()
    if not questions:
        res.note("no eval questions found; corpus search latency skipped")
        return
    _, cold_s = timed(lambda: services.search)
    res.add("corpus", "first search: index build from SQLite", cold_s, "s")
    asked = questions * repeat
    res.add("corpus", f"questions ({len(questions)} × {repeat})", len(asked), "searches")
    lexical = res.add_latency(
        "corpus", "lexical search (k=5)", time_each(lambda q: services.search.search(q, k=5), asked)
    )
    dense = services.dense
    if dense is None:
        return
    model = model_label(services.settings)
    res.add_latency(
        "corpus",
        f"dense query (k=50, {model} + Chroma)",
        time_each(lambda q: dense.search(q, k=50), asked),
        baseline=lexical,
        vs="lexical",
    )
    res.add_latency(
        "corpus", f"query embedding alone ({model})", time_each(services.embeddings.embed_query, questions, warmup=10)
    )
    with services.uow.read() as session:
        stored = services.repository.get_passages(session, sorted(services.repository.all_chunk_ids(session)))
    texts = [dense_text(title=p.title, section=p.section, text=p.text) for p in stored.values()]
    bench_passage_embedding(res, services, texts[:EMBED_SAMPLE], phase="corpus")


def model_label(settings: Settings) -> str:
    return settings.embedding.model.removeprefix("builtin:")


def bench_passage_embedding(res: Results, services: Services, texts: Sequence[str], *, phase: str) -> None:
    """Passages/s of the configured embedding model (`embed_documents`, config's batch size): the embedding
    side's share of an ingest, and how long re-embedding 100k chunks would take."""
    if not texts:
        return
    model = model_label(services.settings)
    services.embeddings.embed_documents(list(texts[:2]))  # load the model outside the timing
    _, seconds = timed(lambda: services.embeddings.embed_documents(list(texts)))
    rate = len(texts) / seconds
    chars = sum(len(t) for t in texts)
    res.add(phase, f"embed {len(texts)} passages ({model}, {chars / len(texts):.0f} chars)", rate, "passages/s")
    res.add(phase, "embed chars/s", chars / seconds, "chars/s")
    res.add(phase, "embedding 100k such passages would take", 100_000 / rate / 3600, "h")


# ── phase 2: the synthetic corpus ────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Vocabulary:
    """Words with cumulative Zipf weights (weight of rank r ∝ 1 / r)."""

    words: list[str]
    cum_weights: list[float]

    def sample(self, rng: random.Random, k: int) -> list[str]:
        return rng.choices(self.words, cum_weights=self.cum_weights, k=k)


def build_vocabulary(size: int = 40_000) -> Vocabulary:
    """jieba's dictionary words of 1–4 CJK characters, most frequent first, with our domain terms spread over
    ranks 100–690 (a customer-manager knowledge base uses them often); Zipf weights over the ranks."""
    cjk_word = re.compile(r"[\u4e00-\u9fff]{1,4}")
    entries = []
    with (Path(jieba.__file__).parent / "dict.txt").open(encoding="utf-8") as fh:
        for line in fh:
            word, freq, *_ = line.split()
            if cjk_word.fullmatch(word):
                entries.append((-int(freq), word))
    entries.sort()
    domain_file = resources.files("knowledge").joinpath("dictionaries", "domain_terms.txt")
    domain = [
        line.split()[0]
        for line in domain_file.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    words = [w for _, w in entries if w not in set(domain)][:size]
    for i, term in enumerate(domain):
        words.insert(100 + 10 * i, term)
    words = words[:size]
    total = 0.0
    cum = []
    for rank in range(1, len(words) + 1):
        total += 1.0 / rank
        cum.append(total)
    return Vocabulary(words, cum)


@dataclass(frozen=True)
class SyntheticPassage:
    chunk_id: str
    document: int
    position: int
    collection: str
    text: str


def generate_passages(n: int, vocab: Vocabulary, rng: random.Random) -> list[SyntheticPassage]:
    """n passages of 120–300 characters: Zipf words, some numbers, commas and full stops; 100 per document,
    each document in one of the four collections."""
    passages = []
    collection = COLLECTIONS[0]
    for i in range(n):
        document, position = divmod(i, CHUNKS_PER_DOC)
        if position == 0:
            collection = rng.choice(COLLECTIONS)
        target = rng.randint(120, 300)
        parts: list[str] = []
        length = 0
        while length < target:
            for word in vocab.sample(rng, 64):
                roll = rng.random()
                if roll < 0.02:
                    word = f"{word}{rng.randint(1, 999)}"
                parts.append(word)
                length += len(word)
                if roll > 0.93:
                    parts.append("。" if roll > 0.98 else ",")
                    length += 1
                if length >= target:
                    break
        passages.append(
            SyntheticPassage(f"syn{document:05d}-{position:03d}", document, position, collection, "".join(parts))
        )
    return passages


def generate_queries(n: int, vocab: Vocabulary, rng: random.Random) -> list[Query]:
    """Questions of 2–6 words from the same distribution; every third one filtered to 1–2 collections."""
    queries: list[Query] = []
    for i in range(n):
        text = "".join(vocab.sample(rng, rng.randint(2, 6))) + rng.choice(["", "?", "吗", "怎么办"])
        collections = sorted(rng.sample(COLLECTIONS, rng.randint(1, 2))) if i % 3 == 2 else None
        queries.append((text, collections))
    return queries


def bench_tokenising(
    res: Results, tokenizer: Tokenizer, passages: Sequence[SyntheticPassage], sample: int
) -> list[Tokens]:
    """Tokenise the first `sample` passages (all of them with --full-tokenise); extrapolate to all."""
    texts = [p.text for p in passages[:sample]]
    tokens, seconds = timed(lambda: [tokenizer.document_tokens(t) for t in texts])
    chars = sum(len(t) for t in texts)
    res.add("synthetic", f"tokenise {len(texts):,} passages", seconds, "s")
    res.add("synthetic", "tokenise passages/s", len(texts) / seconds, "passages/s")
    res.add("synthetic", "tokenise chars/s", chars / seconds, "chars/s")
    if sample < len(passages):
        res.add(
            "synthetic", f"tokenise {len(passages):,} passages (extrapolated)", seconds * len(passages) / sample, "s"
        )
        res.note(
            f"token lists of the first {sample:,} passages are reused cyclically for all {len(passages):,} "
            f"chunks (term frequencies scale ×{len(passages) / sample:.0f}); --full-tokenise to tokenise all"
        )
    words = sum(len(w) for w, _ in tokens) / len(tokens)
    grams = sum(len(b) for _, b in tokens) / len(tokens)
    res.add("synthetic", "words per passage (mean)", words, "tokens")
    res.add("synthetic", "bigrams per passage (mean)", grams, "tokens")
    return tokens


def tokens_of(tokens: Sequence[Tokens], i: int) -> Tokens:
    return tokens[i % len(tokens)]


# ── phase 3: the lexical index ───────────────────────────────────────────────────────────────────────────


def indexed_passages(passages: Sequence[SyntheticPassage], tokens: Sequence[Tokens], n: int) -> list[IndexedPassage]:
    return [IndexedPassage(p.chunk_id, p.collection, *tokens_of(tokens, i)) for i, p in enumerate(passages[:n])]


def lexical_query(
    tokenizer: Tokenizer, index: LexicalIndex, question: str, collections: Sequence[str] | None, candidates: int
) -> None:
    """What `KnowledgeSearch.search` asks of the lexical side: query terms, then BM25 + coverage."""
    terms = tokenizer.query_terms(question)
    index.search(
        words=terms.words,
        expansions=terms.expansions,
        synonyms_of={w: tokenizer.synonyms.get(w, ()) for w in (*terms.words, *terms.key_words)},
        bigrams=terms.bigrams,
        key_words=terms.key_words,
        collections=collections,
        limit=candidates,
    )


def bench_lexical_index(
    res: Results,
    tokenizer: Tokenizer,
    passages: Sequence[SyntheticPassage],
    tokens: Sequence[Tokens],
    queries: Sequence[Query],
    sizes: Sequence[int],
    settings: Settings,
) -> dict[int, dict[str, float]]:
    """Build time, tracemalloc peak, pickle size/load time and search latency at each size (first = baseline)."""
    print("\n== lexical index (synthetic) ==", flush=True)
    base: dict[str, Any] = {}
    summaries: dict[int, dict[str, float]] = {}
    for n in sizes:
        rows = indexed_passages(passages, tokens, n)
        measured = _lexical_at_size(res, tokenizer, rows, queries, settings, base=base, vs=size_label(sizes[0]))
        summaries[n] = measured["search"]
        base = base or measured
        del rows
        res.checkpoint(f"lexical index {size_label(n)}")
    return summaries


def _lexical_at_size(
    res: Results,
    tokenizer: Tokenizer,
    rows: list[IndexedPassage],
    queries: Sequence[Query],
    settings: Settings,
    *,
    base: dict[str, Any],
    vs: str,
) -> dict[str, Any]:
    label = size_label(len(rows))
    vs = vs if base else ""
    bigram_weight = settings.retrieval.bigram_weight
    gc.collect()
    index, build_s = timed(lambda: LexicalIndex(rows, bigram_weight=bigram_weight))
    res.add("lexical", f"build {label}", build_s, "s", baseline=base.get("build"), vs=vs)
    del index
    gc.collect()
    tracemalloc.start()
    index, traced_s = timed(lambda: LexicalIndex(rows, bigram_weight=bigram_weight))
    peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    res.add("lexical", f"build {label} tracemalloc peak", peak_mb, "MB", baseline=base.get("peak"), vs=vs)
    res.add("lexical", f"build {label} time under tracemalloc", traced_s, "s")
    res.add(
        "lexical", f"vocabulary {label} (words + bigrams)", len(index.words.vocab) + len(index.bigrams.vocab), "terms"
    )
    res.add(
        "lexical", f"postings {label} (matrix non-zeros)", index.words.matrix.nnz + index.bigrams.matrix.nnz, "entries"
    )
    with tempfile.TemporaryDirectory(prefix="bench-pickle-") as tmp:
        path = Path(tmp) / "lexical-index.pickle"
        with path.open("wb") as fh:  # the tuple LexicalIndexStore writes
            _, dump_s = timed(lambda: pickle.dump((1, bigram_weight, index), fh, protocol=pickle.HIGHEST_PROTOCOL))
        size_mb = path.stat().st_size / 2**20
        with path.open("rb") as fh:
            _, load_s = timed(lambda: pickle.load(fh))
    res.add("lexical", f"pickle {label} size", size_mb, "MB", baseline=base.get("pickle"), vs=vs)
    res.add("lexical", f"pickle {label} dump", dump_s, "s")
    res.add("lexical", f"pickle {label} load", load_s, "s", baseline=base.get("load"), vs=vs)
    candidates = settings.retrieval.candidates
    terms = time_each(lambda q: tokenizer.query_terms(q[0]), queries)
    searches = time_each(lambda q: lexical_query(tokenizer, index, q[0], q[1], candidates), queries)
    filtered = [s for s, q in zip(searches, queries, strict=True) if q[1]]
    return {
        "build": build_s,
        "peak": peak_mb,
        "pickle": size_mb,
        "load": load_s,
        "terms": res.add_latency("lexical", f"query_terms {label}", terms, baseline=base.get("terms"), vs=vs),
        "search": res.add_latency(
            "lexical",
            f"search {label} (terms+BM25+coverage)",
            searches,
            baseline=base.get("search"),
            vs=vs,
            stats=("p50", "p95", "max"),
        ),
        "filtered": res.add_latency(
            "lexical", f"search {label} with collection filter", filtered, baseline=base.get("filtered"), vs=vs
        ),
    }


# ── phase 4: end to end over SQLite: lexical only, then the default configuration ──────────────────────


def write_synthetic_db(services: Services, passages: Sequence[SyntheticPassage], tokens: Sequence[Tokens]) -> None:
    """Store the passages as documents of CHUNKS_PER_DOC chunks, DOCS_PER_COMMIT documents per transaction."""
    now = datetime.now(UTC).replace(tzinfo=None)
    repository = services.repository
    by_doc: dict[int, list[ChunkRecord]] = {}
    collection_of: dict[int, str] = {}
    for i, p in enumerate(passages):
        words, bigrams = tokens_of(tokens, i)
        by_doc.setdefault(p.document, []).append(
            ChunkRecord(p.chunk_id, p.collection, p.position, "", p.text, tuple(words), tuple(bigrams))
        )
        collection_of[p.document] = p.collection
    documents = sorted(by_doc)
    for start in range(0, len(documents), DOCS_PER_COMMIT):
        with services.uow.begin() as session:
            for doc in documents[start : start + DOCS_PER_COMMIT]:
                repository.replace_document(
                    session,
                    collection=collection_of[doc],
                    source_path=f"/synthetic/doc{doc:05d}.txt",
                    source_name=f"doc{doc:05d}.txt",
                    content_hash=f"{doc:064x}",
                    title=f"合成文档 {doc}",
                    chunks=by_doc[doc],
                    now=now,
                )
    with services.uow.begin() as session:
        repository.bump_generation(session)


def bench_end_to_end(
    res: Results,
    passages: Sequence[SyntheticPassage],
    tokens: Sequence[Tokens],
    queries: Sequence[Query],
    sizes: Sequence[int],
    *,
    dense: bool,
) -> dict[str, dict[int, dict[str, float]]]:
    """`services.search.search(q, k=5)` over a SQLite knowledge base of n synthetic chunks: lexical only (dense
    side off), then — unless --skip-dense — config.toml's default configuration with the dense side on synthetic
    vectors in the same data folder (phase 5)."""
    print("\n== end to end: Services.search over SQLite (synthetic, min_coverage 0) ==", flush=True)
    res.note("end to end uses retrieval.min_coverage=0 so every query fetches its passages from SQLite")
    vectors = clustered_vectors(sizes[-1], seed=42) if dense else None
    base: dict[str, Any] = {}
    dense_base: dict[str, Any] = {}
    summaries: dict[str, dict[int, dict[str, float]]] = {"lexical": {}, "default": {}}
    for n in sizes:
        vs = size_label(sizes[0])
        with tempfile.TemporaryDirectory(prefix="bench-e2e-", ignore_cleanup_errors=True) as tmp:
            measured = _end_to_end_at_size(res, Path(tmp), passages[:n], tokens, queries, base=base, vs=vs)
            summaries["lexical"][n] = measured["e2e"]
            base = base or measured
            if vectors is not None:
                with_dense = _dense_at_size(
                    res, Path(tmp), passages[:n], vectors[:n], queries, base=dense_base, vs=vs, lexical=measured["e2e"]
                )
                summaries["default"][n] = with_dense["e2e"]
                dense_base = dense_base or with_dense
        res.checkpoint(f"end to end {size_label(n)}")
    return summaries


def _write_and_build(
    settings: Settings, passages: Sequence[SyntheticPassage], tokens: Sequence[Tokens]
) -> tuple[float, float]:
    """Seconds to write the chunks to SQLite, and for the first `Services.search` (index from the rows, pickled)."""
    writer = Services(settings)
    _ = writer.uow  # migrations: not part of the write time
    _, write_s = timed(lambda: write_synthetic_db(writer, passages, tokens))
    _, cold_s = timed(lambda: writer.search)
    writer.engine.dispose()
    return write_s, cold_s


def _end_to_end_at_size(
    res: Results,
    data_dir: Path,
    passages: Sequence[SyntheticPassage],
    tokens: Sequence[Tokens],
    queries: Sequence[Query],
    *,
    base: dict[str, Any],
    vs: str,
) -> dict[str, Any]:
    n = len(passages)
    label = size_label(n)
    vs = vs if base else ""
    settings = bench_settings(data_dir, dense=False, min_coverage=0.0)
    write_s, cold_s = _write_and_build(settings, passages, tokens)
    gc.collect()
    res.add(
        "end-to-end",
        f"SQLite write {label} (replace_document)",
        n / write_s,
        "chunks/s",
        baseline=base.get("write"),
        vs=vs,
    )
    res.add("end-to-end", f"SQLite size {label}", folder_mb(data_dir), "MB")
    res.add(
        "end-to-end", f"first search {label}: index from SQLite + pickle", cold_s, "s", baseline=base.get("cold"), vs=vs
    )
    services = Services(settings)
    _ = services.uow  # migrations check: not part of the index load
    _, warm_s = timed(lambda: services.search)  # a restart: the pickle is current
    res.add("end-to-end", f"restart {label}: index from pickle", warm_s, "s", baseline=base.get("warm"), vs=vs)
    results = []
    samples = time_each(lambda q: results.append(services.search.search(q[0], k=5, collections=q[1])), queries)
    results = results[-len(queries) :]  # without the warm-up calls
    summary = res.add_latency(
        "end-to-end",
        f"services.search {label}, lexical only",
        samples,
        baseline=base.get("e2e"),
        vs=vs,
        stats=("p50", "p95", "max"),
    )
    res.add("end-to-end", f"abstained {label}", 100 * sum(r.abstained for r in results) / len(results), "% of queries")
    services.engine.dispose()
    return {"write": n / write_s, "cold": cold_s, "warm": warm_s, "e2e": summary}


# ── phase 5: the dense side at scale: synthetic vectors, the real query embedding ──────────────────────────

LEGACY_COLLECTION = "bench-one-collection"  # the layout before: every passage in one collection, filtered by metadata


def _unit_rows(array: np.ndarray) -> np.ndarray:
    return (array / np.linalg.norm(array, axis=-1, keepdims=True)).astype(np.float32)


def clustered_vectors(n: int, seed: int) -> np.ndarray:
    """n unit 384-dim vectors with a text embedding's kind of neighbourhoods: a direction every vector shares,
    one direction per synthetic document (its CHUNKS_PER_DOC chunks) and noise per chunk.

    Uniform random vectors have no near neighbours (every cosine ≈ 0), unlike any text embedding; HNSW's recall
    on them is meaningless (measured 0.1–0.3 at 100k for every layout), so they are not used."""
    rng = np.random.default_rng(seed)
    shared = _unit_rows(rng.standard_normal(DENSE_DIM, dtype=np.float32))
    centers = _unit_rows(rng.standard_normal((-(-n // CHUNKS_PER_DOC), DENSE_DIM), dtype=np.float32))
    out = np.empty((n, DENSE_DIM), dtype=np.float32)
    for start in range(0, n, 10_000):
        stop = min(n, start + 10_000)
        noise = _unit_rows(rng.standard_normal((stop - start, DENSE_DIM), dtype=np.float32))
        out[start:stop] = _unit_rows(1.5 * shared + centers[np.arange(start, stop) // CHUNKS_PER_DOC] + 0.8 * noise)
    return out


def near_queries(vectors: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Query vectors near random passages (a question about one passage): the passage's vector plus noise."""
    rng = np.random.default_rng(seed)
    picked = vectors[rng.integers(0, len(vectors), n)]
    return _unit_rows(picked + rng.standard_normal(picked.shape, dtype=np.float32) * (0.8 / np.sqrt(DENSE_DIM)))


@dataclass(frozen=True)
class ExactNeighbours:
    """Brute-force cosine top-k over the synthetic vectors: the ground truth for recall."""

    vectors: np.ndarray
    ids: list[str]
    collections: np.ndarray

    def top(self, query: np.ndarray, only: Sequence[str] | None, k: int) -> set[str]:
        scores = self.vectors @ query
        if only:
            scores = np.where(np.isin(self.collections, list(only)), scores, -np.inf)
        top = np.argpartition(-scores, min(k, len(scores) - 1))[:k]
        return {self.ids[i] for i in top if np.isfinite(scores[i])}


def recall(found: Sequence[set[str]], truth: Sequence[set[str]]) -> float:
    """Mean share of the exact neighbours found (fewer than k when a filter's collections hold fewer)."""
    shares = [len(f & t) / len(t) for f, t in zip(found, truth, strict=True) if t]
    return float(np.mean(shares)) if shares else float("nan")


def build_one_collection(client: Any, documents: Sequence[DenseDocument], vectors: np.ndarray) -> Any:
    """The layout before: every passage in one Chroma collection, its knowledge collection as metadata."""
    collection = client.create_collection(LEGACY_COLLECTION, configuration={"hnsw": {"space": "cosine"}})
    for start in range(0, len(documents), 2000):
        part = documents[start : start + 2000]
        collection.add(
            ids=[d.chunk_id for d in part],
            embeddings=vectors[start : start + 2000],
            documents=[d.text for d in part],
            metadatas=[{"collection": d.collection} for d in part],
        )
    return collection


def _dense_at_size(
    res: Results,
    data_dir: Path,
    passages: Sequence[SyntheticPassage],
    vectors: np.ndarray,
    queries: Sequence[Query],
    *,
    base: dict[str, Any],
    vs: str,
    lexical: dict[str, float],
) -> dict[str, Any]:
    """The default configuration end to end (real e5 query embedding, synthetic passage vectors), its parts, and
    the Chroma layouts queried by vector with recall against the exact neighbours."""
    n = len(passages)
    label = size_label(n)
    vs = vs if base else ""
    settings = bench_settings(data_dir, dense=True, dense_weight=None, min_coverage=0.0)
    services = Services(settings)
    index = services.dense
    assert isinstance(index, ChromaDenseIndex)
    documents = [DenseDocument(p.chunk_id, p.collection, p.text) for p in passages]
    _, insert_s = timed(lambda: index.add_vectors(documents, vectors))
    res.add("dense", f"insert {label} (add_vectors)", n / insert_s, "vectors/s", baseline=base.get("insert"), vs=vs)
    client = open_chroma_client(mode="embedded", path=settings.chroma_dir, host="", port=1)
    legacy, legacy_s = timed(lambda: build_one_collection(client, documents, vectors))
    res.add("dense", f"insert {label}, one collection + metadata (before)", n / legacy_s, "vectors/s")
    res.add("dense", f"Chroma folder {label} (both layouts)", folder_mb(settings.chroma_dir), "MB")

    _, warm_s = timed(services.warm_up)  # schema, lexical index from the pickle, the model
    res.add("default", f"warm-up {label} (index + model)", warm_s, "s")
    before_search = _search_with(services, _SingleCollectionDense(legacy, _every_core(services.embeddings)))
    now_samples, before_samples = time_interleaved(
        [
            lambda q: services.search.search(q[0], k=5, collections=q[1]),
            lambda q: before_search.search(q[0], k=5, collections=q[1]),
        ],
        queries,
    )
    weight = settings.retrieval.dense_weight
    before_e2e = res.add_latency(
        "default",
        f"services.search {label}, dense {weight} as before",
        before_samples,
        baseline=lexical,
        vs="lexical only",
        stats=("p50", "p95", "max"),
    )
    e2e = res.add_latency(
        "default",
        f"services.search {label}, default config (dense {weight})",
        now_samples,
        baseline=before_e2e,
        vs="before",
        stats=("p50", "p95", "max"),
    )
    res.add(
        "default", f"services.search {label}, default config p95 / lexical only p95", e2e["p95"] / lexical["p95"], "×"
    )
    candidates = settings.retrieval.candidates
    parts = {"embed": _query_embedding(res, services, queries, base=base, vs=vs)}
    for kind, subset in _by_filter(queries).items():
        parts[f"dense {kind}"] = res.add_latency(
            "default",
            f"dense.search {label} (k={candidates}, {kind})",
            time_each(lambda q: index.search(q[0], k=candidates, collections=q[1]), subset),
            baseline=base.get(f"dense {kind}"),
            vs=vs,
        )
    layouts = {"before": legacy.query, "now": index.search_by_vector}
    by_vector = _dense_by_vector(res, label, layouts, documents, vectors, queries, k=candidates, base=base, vs=vs)
    services.engine.dispose()
    by_vector |= _ef_search_what_ifs(res, label, settings, documents, vectors, queries, k=candidates, now=by_vector)
    return {"insert": n / insert_s, "e2e": e2e} | parts | by_vector


class _SingleCollectionDense:
    """The dense side as it was before (for the comparison only): one Chroma collection, a `where` filter on the
    knowledge collection, documents + metadatas + distances asked for (LangChain's similarity_search_with_score),
    the question embedded on every core."""

    def __init__(self, collection: Any, embeddings: Embeddings) -> None:
        self._collection = collection
        self._embeddings = embeddings

    def search(self, question: str, *, k: int, collections: Sequence[str] | None = None) -> dict[str, float]:
        where = {"collection": {"$in": list(collections)}} if collections else None
        vector = self._embeddings.embed_query(question)
        hits = self._collection.query(query_embeddings=[vector], n_results=k, where=where, include=_ALL)
        return {i: 1.0 - float(d) for i, d in zip(hits["ids"][0], hits["distances"][0], strict=True)}

    def add(self, documents: Sequence[DenseDocument]) -> None:
        raise NotImplementedError("read-only comparison")

    def delete(self, chunk_ids: Sequence[str]) -> None:
        raise NotImplementedError("read-only comparison")

    def all_ids(self) -> set[str]:
        raise NotImplementedError("read-only comparison")

    def heartbeat(self) -> None:
        return None


def _every_core(embeddings: Embeddings) -> Embeddings:
    """e5 embedding questions on every core (as before); any other model as configured."""
    if isinstance(embeddings, E5Embeddings):
        return E5Embeddings(engine=embeddings._load(), query_threads=0)
    return embeddings


def _search_with(services: Services, dense: DenseIndex) -> KnowledgeSearch:
    """The configured search (same lexical index, database, options) with another dense side."""
    r = services.settings.retrieval
    return KnowledgeSearch(
        tokenizer=services.tokenizer,
        lexical=services.search._lexical,
        dense=dense,
        uow=services.uow,
        repository=services.repository,
        abstention=AbstentionPolicy(min_coverage=r.min_coverage),
        options=SearchOptions(candidates=r.candidates, dense_weight=r.dense_weight),
    )


def _query_embedding(
    res: Results, services: Services, queries: Sequence[Query], *, base: dict[str, Any], vs: str
) -> dict[str, float]:
    """The question's embedding alone; for e5, also on every core (OpenMP) against the configured one thread."""
    model = model_label(services.settings)
    embeddings = services.embeddings
    summary = res.add_latency(
        "default",
        f"query embedding alone ({model})",
        time_each(lambda q: embeddings.embed_query(q[0]), queries),
        baseline=base.get("embed"),
        vs=vs,
    )
    if isinstance(embeddings, E5Embeddings):
        every_core = _every_core(embeddings)
        res.add_latency(
            "default",
            f"query embedding alone, {os.cpu_count()} OpenMP threads",
            time_each(lambda q: every_core.embed_query(q[0]), queries),
            baseline=summary,
            vs=f"{embeddings.query_threads} thread",
        )
    return summary


def _by_filter(queries: Sequence[Query]) -> dict[str, list[Query]]:
    return {
        "unfiltered": [q for q in queries if not q[1]],
        "collection filter": [q for q in queries if q[1]],
    }


Item = tuple[np.ndarray, list[str] | None]  # a query vector and its collection filter


def _dense_by_vector(
    res: Results,
    label: str,
    layouts: dict[str, Callable[..., Any]],
    documents: Sequence[DenseDocument],
    vectors: np.ndarray,
    queries: Sequence[Query],
    *,
    k: int,
    base: dict[str, Any],
    vs: str,
) -> dict[str, Any]:
    """Chroma alone, queried by vector (no model), with recall@k against the exact neighbours: the layout before
    (one collection; a `where` filter, asking for what LangChain asks), the current one (`search_by_vector`), and
    the one collection queried unfiltered with a larger k, then filtered. Each is also printed against the
    layout before on the same queries."""
    exact = ExactNeighbours(vectors, [d.chunk_id for d in documents], np.array([d.collection for d in documents]))
    items = list(zip(near_queries(vectors, len(queries), seed=7), [q[1] for q in queries], strict=True))
    truth = {id(item): exact.top(item[0], item[1], k) for item in items}
    one, now = layouts["before"], layouts["now"]

    def before(item: Item, *, include: list[str]) -> set[str]:
        where = {"collection": {"$in": item[1]}} if item[1] else None
        return set(one(query_embeddings=[item[0]], n_results=k, where=where, include=include)["ids"][0])

    def post_filtered(item: Item, *, n_results: int) -> set[str]:
        hits = one(query_embeddings=[item[0]], n_results=n_results, include=["metadatas", "distances"])
        only = item[1] or ()
        return {i for i, m in zip(hits["ids"][0], hits["metadatas"][0], strict=True) if m["collection"] in only}

    variants: list[tuple[str, str, Callable[[Item], set[str]], str]] = [
        ("before: one collection, where filter", "filtered", partial(before, include=_ALL), ""),
        ("before: one collection, unfiltered", "unfiltered", partial(before, include=_ALL), ""),
        ("now: collection per knowledge collection", "filtered", lambda i: set(now(i[0], k=k, collections=i[1])), "f"),
        ("now: all 4 collections, merged", "unfiltered", lambda i: set(now(i[0], k=k, collections=i[1])), "u"),
        ("one collection, where filter, distances only", "filtered", partial(before, include=_D), "f"),
    ]
    variants += [
        (
            f"what-if: one collection unfiltered k={f * k}, then filter",
            "filtered",
            partial(post_filtered, n_results=f * k),
            "f",
        )
        for f in (4, 8)
    ]
    return _measure_variants(res, label, variants, items, truth, k=k, base=base, vs=vs)


def _measure_variants(
    res: Results,
    label: str,
    variants: Sequence[tuple[str, str, Callable[[Item], set[str]], str]],
    items: Sequence[Item],
    truth: dict[int, set[str]],
    *,
    k: int,
    base: dict[str, Any],
    vs: str,
    before: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Latency (against the same-named row at the baseline size, or against the layout before: "f"/"u") and
    recall@k of each variant over the filtered or the unfiltered queries."""
    subsets = {"filtered": [i for i in items if i[1]], "unfiltered": [i for i in items if not i[1]]}
    measured: dict[str, Any] = dict(before or {})
    reference = {"f": "before: one collection, where filter", "u": "before: one collection, unfiltered"}
    for name, kind, query, against in variants:
        subset = subsets[kind]
        samples, found = time_and_collect(query, subset)
        compare = (measured.get(reference[against]), "before") if against else (base.get(name), vs)
        measured[name] = res.add_latency(
            "by vector", f"{label} {name} ({kind})", samples, baseline=compare[0], vs=compare[1]
        )
        res.add("by vector", f"{label} {name}: recall@{k}", recall(found, [truth[id(i)] for i in subset]), "")
    return measured


def _ef_search_what_ifs(
    res: Results,
    label: str,
    settings: Settings,
    documents: Sequence[DenseDocument],
    vectors: np.ndarray,
    queries: Sequence[Query],
    *,
    k: int,
    now: dict[str, Any],
) -> dict[str, Any]:
    """The current layout reopened with other HNSW ef_search values (Chroma applies a changed ef_search when it
    next loads the collection: the client cache is cleared in between), against the configured one."""
    exact = ExactNeighbours(vectors, [d.chunk_id for d in documents], np.array([d.collection for d in documents]))
    items = list(zip(near_queries(vectors, len(queries), seed=7), [q[1] for q in queries], strict=True))
    truth = {id(item): exact.top(item[0], item[1], k) for item in items}
    measured: dict[str, Any] = {}
    for ef in (ef for ef in (100, 200, 400) if ef != EF_SEARCH):
        index = _reopen(settings, ef_search=ef)
        search = partial(_as_ids, index.search_by_vector, k)
        variants = [
            (f"what-if: ef_search {ef} (now {EF_SEARCH})", "filtered", search, "f"),
            (f"what-if: ef_search {ef}, all 4 merged", "unfiltered", search, "u"),
        ]
        reference = {
            "before: one collection, where filter": now["now: collection per knowledge collection"],
            "before: one collection, unfiltered": now["now: all 4 collections, merged"],
        }
        measured |= _measure_variants(res, label, variants, items, truth, k=k, base={}, vs="", before=reference)
    _reopen(settings, ef_search=EF_SEARCH)  # leave the store as configured
    return {name: value for name, value in measured.items() if name.startswith("what-if")}


def _as_ids(search: Callable[..., dict[str, float]], k: int, item: Item) -> set[str]:
    return set(search(item[0], k=k, collections=item[1]))


def _reopen(settings: Settings, *, ef_search: int) -> ChromaDenseIndex:
    """The configured store through a fresh Chroma client, its collections set to `ef_search`."""
    name = f"knowledge-{model_slug(settings.embedding.model)}"
    for attempt in range(20):
        SharedSystemClient.clear_system_cache()  # the next client loads the collections with what is stored
        gc.collect()
        client = open_chroma_client(mode="embedded", path=settings.chroma_dir, host="", port=1)
        index = ChromaDenseIndex(
            client=client, embeddings=_NoModel(), name=name, collections=COLLECTIONS, ef_search=ef_search
        )
        stored = {
            (client.get_collection(f"{name}.{c}").configuration.get("hnsw") or {}).get("ef_search") for c in COLLECTIONS
        }
        if stored == {ef_search} and attempt > 0:  # set, and loaded by a client opened after it was set
            return index
        time.sleep(0.5)  # the store was busy (Chroma compacting what was just written): try again
    raise RuntimeError(f"could not set ef_search={ef_search} on {settings.chroma_dir}")


class _NoModel(Embeddings):
    """Proves no model runs where queries are by vector."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        raise RuntimeError("queried by vector: nothing is embedded")

    def embed_query(self, text: str) -> list[float]:
        raise RuntimeError("queried by vector: nothing is embedded")


_ALL = ["documents", "metadatas", "distances"]  # what LangChain's similarity_search asks Chroma for
_D = ["distances"]


def bench_synthetic_embedding(res: Results, passages: Sequence[SyntheticPassage]) -> None:
    """The configured model's passage throughput on synthetic passages (always available; the corpus phase
    measures the real passages when ../shared is there)."""
    print("\n== embedding: the configured model on synthetic passages ==", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-embed-", ignore_cleanup_errors=True) as tmp:
        services = Services(bench_settings(Path(tmp), dense=True))
        bench_passage_embedding(res, services, [p.text for p in passages[:EMBED_SAMPLE]], phase="embedding")
    res.checkpoint("embedding")


# ── main ─────────────────────────────────────────────────────────────────────────────────────────────────


def print_table(res: Results) -> None:
    print("\n" + "=" * 110)
    print(f"{'phase':<12}{'metric':<50}{'value':>12} {'unit':<12}{'baseline':>12} {'ratio':>9}")
    print("-" * 110)
    for row in res.rows:
        base = f"{_fmt(row.baseline)} @{row.baseline_label}" if row.baseline is not None else ""
        ratio = f"{row.ratio:.2f}×" if row.ratio is not None else ""
        print(f"{row.phase:<12}{row.metric:<50}{_fmt(row.value):>12} {row.unit:<12}{base:>12} {ratio:>9}")
    print("-" * 110)
    print(
        "memory: "
        + "; ".join(f"{m['phase']}: peak {m['peak_rss_mb']:.0f} / now {m['current_rss_mb']:.0f} MB" for m in res.memory)
    )
    for note in res.notes:
        print(f"note: {note}")


def verdict(res: Results, label: str, summary: dict[str, float] | None) -> None:
    if summary is None:
        return
    state = "under" if summary["p95"] < GOAL_P95_MS else "OVER"
    line = f"goal p95 < {GOAL_P95_MS:.0f} ms — {label}: p95 {summary['p95']:.1f} ms ({state})"
    res.notes.append(line)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="10k synthetic chunks (1k baseline) instead of 100k")
    parser.add_argument("--skip-dense", action="store_true", help="no embedding model, no Chroma")
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write every number to this JSON file")
    parser.add_argument("--full-tokenise", action="store_true", help="tokenise every synthetic passage (slow)")
    parser.add_argument("--queries", type=int, default=300, help="synthetic queries (default 300)")
    parser.add_argument("--repeat", type=int, default=5, help="times each corpus question is asked (default 5)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("jieba").setLevel(logging.WARNING)

    n, baseline = (10_000, 1_000) if args.quick else (100_000, 10_000)
    sample = n if args.full_tokenise else min(n, 10_000)
    sizes = [baseline, n]
    started = time.perf_counter()
    res = Results()
    print(
        f"PocketCoach search benchmark — {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
        f"synthetic {n:,} chunks (baseline {baseline:,}), load average {load_average()}",
        flush=True,
    )
    res.checkpoint("start")

    print(f"\n== synthetic corpus: {n:,} passages, random.Random(42) ==", flush=True)
    rng = random.Random(42)
    vocab, vocab_s = timed(build_vocabulary)
    res.add("synthetic", "vocabulary (jieba dict + domain terms, Zipf)", len(vocab.words), "words")
    passages, gen_s = timed(lambda: generate_passages(n, vocab, rng))
    res.add("synthetic", f"generate {n:,} passages", gen_s + vocab_s, "s")
    res.add("synthetic", "passage length (mean)", sum(len(p.text) for p in passages) / n, "chars")
    queries = generate_queries(args.queries, vocab, rng)
    settings = load_settings(data_dir=Path(tempfile.gettempdir()))
    tokenizer = Tokenizer()
    tokenizer.document_tokens("预热")
    tokens = bench_tokenising(res, tokenizer, passages, sample)
    res.checkpoint("synthetic generation + tokenising")

    lexical = bench_lexical_index(res, tokenizer, passages, tokens, queries, sizes, settings)
    e2e = bench_end_to_end(res, passages, tokens, queries, sizes, dense=not args.skip_dense)
    if args.skip_dense:
        res.note("dense phases skipped (--skip-dense)")
    else:
        bench_synthetic_embedding(res, passages)
    del passages, tokens
    bench_corpus(res, skip_dense=args.skip_dense, repeat=args.repeat)

    label = size_label(n)
    verdict(res, f"lexical index search at {label}", lexical.get(n))
    verdict(res, f"services.search, lexical only, at {label}", e2e["lexical"].get(n))
    verdict(res, f"services.search, default config (dense on), at {label}", e2e["default"].get(n))
    res.add("total", "benchmark wall time", time.perf_counter() - started, "s")
    res.notes.append(
        f"load average (1/5/15 min) at the end: {load_average()} on {os.cpu_count()} CPUs — other "
        "processes on the machine skew every latency above"
    )
    print_table(res)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "synthetic_chunks": n,
            "baseline_chunks": baseline,
            "tokenised_sample": sample,
            "rows": [asdict(r) | {"ratio": r.ratio} for r in res.rows],
            "memory": res.memory,
            "notes": res.notes,
        }
        args.json.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
