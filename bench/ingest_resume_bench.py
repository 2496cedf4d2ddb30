"""Ingest of one large document in steps: passages/s against the embedding model alone, and what a resume saves.

In one process, on a generated Markdown manual of N passages (tests/support/generated_documents.py), the
configured embedding model (e5-small by default), real SQLite and embedded Chroma in a scratch folder:

1. the model alone: `embed_documents` over the N passage texts, in batches of `--batch` — the floor;
2. a full `coach ingest`-equivalent run (IngestPipeline with `ingest.batch_passages = --batch`): passages/s and
   its ratio to (1), i.e. what staging, tokenising, per-batch commits and the swap-in cost on top of the model;
3. the same document in a fresh folder, stopped after `--stop-at` of its batches (the model raises, as Ctrl-C
   would; tests/ingest/test_resumable_ingest.py does the real SIGKILL), then resumed: the passages the resume
   embedded, its time, and the savings against (2). The model's own time is measured inside every run too, so
   the share of the rest holds even when the machine's load changes between the phases.

Usage: .venv/bin/python bench/ingest_resume_bench.py [--passages 400] [--batch 50] [--stop-at 0.5]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from langchain_core.embeddings import Embeddings  # noqa: E402

from app.composition import Services  # noqa: E402
from app.settings import load_settings  # noqa: E402
from ingest.chunking import chunk_document  # noqa: E402
from ingest.extractors import extract_document  # noqa: E402
from knowledge.vector_store import dense_text  # noqa: E402
from tests.support.generated_documents import write_long_markdown  # noqa: E402


class Stopped(Exception):
    """The bench's stand-in for an operator stopping the run."""


class MeteredEmbeddings(Embeddings):
    """The real model; counts passages, and raises after `stop_after` calls when set."""

    def __init__(self, inner: Embeddings) -> None:
        self.inner = inner
        self.passages = self.calls = 0
        self.seconds = 0.0  # spent inside the model
        self.stop_after: int | None = None

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if self.stop_after is not None and self.calls >= self.stop_after:
            raise Stopped
        self.calls += 1
        self.passages += len(texts)
        started = time.perf_counter()
        try:
            return self.inner.embed_documents(texts)
        finally:
            self.seconds += time.perf_counter() - started

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


def services_in(folder: Path, *, batch: int, embeddings: Embeddings) -> Services:
    settings = load_settings(data_dir=folder)
    settings = settings.model_copy(
        update={
            "storage": settings.storage.model_copy(update={"database_url": ""}),
            "ingest": settings.ingest.model_copy(update={"batch_passages": batch}),
        }
    )
    services = Services(settings)
    services.embeddings = embeddings  # type: ignore[misc] — before the dense index is built with it
    return services


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--passages", type=int, default=400)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--stop-at", type=float, default=0.5, help="share of the batches done before the stop")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="coach-ingest-resume-"))
    try:
        document = write_long_markdown(scratch / "docs" / "超长手册.md", sections=args.passages)
        settings = load_settings(data_dir=scratch)
        from knowledge.embeddings import create_embeddings

        model = create_embeddings(model=settings.embedding.model, batch_size=settings.embedding.batch_size)
        extracted = extract_document(document, max_bytes=1 << 30)
        chunks = chunk_document(extracted, chunk_chars=settings.retrieval.chunk_chars)
        texts = [dense_text(title=extracted.title, section=c.section, text=c.text) for c in chunks]
        model.embed_documents(texts[:8])  # load the model outside every timing
        print(f"{len(texts)} passages, batch {args.batch}, model {settings.embedding.model}")
        print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}  cores: {os.cpu_count()}")

        started = time.perf_counter()
        for start in range(0, len(texts), args.batch):
            model.embed_documents(texts[start : start + args.batch])
        alone = time.perf_counter() - started
        print(f"1. the model alone:      {alone:7.1f} s  {len(texts) / alone:6.1f} passages/s")

        full_meter = MeteredEmbeddings(model)
        full = services_in(scratch / "full", batch=args.batch, embeddings=full_meter)
        started = time.perf_counter()
        full.ingest_pipeline().run([document], collection="general")
        full_time = time.perf_counter() - started
        print(
            f"2. full ingest:          {full_time:7.1f} s  {len(texts) / full_time:6.1f} passages/s"
            f"  ({full_time / alone:.2f}× the model alone; {full_meter.passages} passages embedded)"
        )
        rest = full_time - full_meter.seconds
        print(
            f"   of which the model {full_meter.seconds:.1f} s, everything else {rest:.1f} s ({rest / full_time:.0%}:"
            " reading, chunking, tokenising, per-batch commits, Chroma, the swap-in) — a split the load shifts less"
        )

        meter = MeteredEmbeddings(model)
        meter.stop_after = max(1, round(args.stop_at * -(-len(texts) // args.batch)))
        resumed = services_in(scratch / "resumed", batch=args.batch, embeddings=meter)
        started = time.perf_counter()
        with contextlib.suppress(Stopped):
            resumed.ingest_pipeline().run([document], collection="general")
        stopped_time = time.perf_counter() - started
        before = meter.passages
        meter.stop_after = None
        started = time.perf_counter()
        resumed.ingest_pipeline().run([document], collection="general")
        resume_time = time.perf_counter() - started
        again = meter.passages - before
        print(f"3. stopped after {before} passages ({stopped_time:.1f} s), then resumed:")
        print(
            f"   resume:               {resume_time:7.1f} s  embedded {again} of {len(texts)} passages"
            f"  ({again / len(texts):.0%}); {resume_time / full_time:.2f}× the full ingest,"
            f" saving {1 - resume_time / full_time:.0%} ({full_time - resume_time:.1f} s)"
        )
        with resumed.uow.read() as session:
            stored = resumed.repository.all_chunk_ids(session)
        assert resumed.dense is not None and resumed.dense.all_ids() == stored and len(stored) == len(texts)
        print(f"   complete: {len(stored)} passages searchable, {len(stored)} vectors")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
