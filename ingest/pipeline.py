"""Ingest as typed stages: find files → extract → clean and chunk → tokenise and embed in batches → complete.

One ingest at a time per collection (`storage.ingest_lock`: a PostgreSQL advisory lock, a file lock on SQLite).
Each changed document is staged: its passages and their vectors are committed `batch_passages` at a time into
staging tables that search never reads, so a stopped run (even SIGKILL) keeps what it stored and the next run
resumes there, reusing the stored vectors. When the last batch is in, the document's vectors go to the dense
index and one transaction swaps the staged document in for the old version: learners see a document whole or
not at all. On failure only the vectors this run added are removed (an id another run had added stays), and
`reconcile_dense_index` repairs the collection's dense side after any crash.
"""

from __future__ import annotations

import hashlib
import logging
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, tzinfo
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings
from tqdm import tqdm

from ingest.chunking import chunk_document
from ingest.extractors import SUPPORTED_EXTENSIONS, ExtractionError, extract_document
from ingest.progress import PassageProgress, SilentProgress, StderrProgress
from ingest.quality import measure_passages
from ingest.report import FileOutcome, IngestReport, Status, waiting_message
from knowledge.tokenizer import Tokenizer
from knowledge.vector_store import DenseDocument, DenseIndex, dense_text
from storage.db import UnitOfWork, utc_now
from storage.ingest_lock import LockHolder, ingest_lock
from storage.knowledge_repository import ChunkRecord, KnowledgeRepository
from storage.staged_ingest_repository import StagedIngestRepository, StagedPassage

log = logging.getLogger(__name__)
# Part of every document's hash: bump it when extraction, cleaning or chunking changes, so the next
# ingest re-reads every file instead of keeping passages made the old way.
PIPELINE_VERSION = "7"
BATCH_PASSAGES = 200  # passages per committed batch (`ingest.batch_passages`): ~25 s of e5-small on 2 cores


@dataclass(frozen=True)
class PreparedPassage:
    """A passage of a changed file before tokenising: where it sits and what it says."""

    chunk_id: str
    position: int
    section: str
    text: str


@dataclass(frozen=True)
class PreparedDocument:
    """A changed file, extracted and chunked, ready to stage."""

    source_path: str
    source_name: str
    content_hash: str
    title: str
    passages: tuple[PreparedPassage, ...]
    replaces: tuple[str, ...]


def find_files(paths: Iterable[Path]) -> tuple[list[Path], list[FileOutcome]]:
    """Supported files under the given files and folders (sorted), and outcomes for paths that are not."""
    found: list[Path] = []
    problems: list[FileOutcome] = []
    for path in paths:
        if path.is_dir():
            found += sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() in SUPPORTED_EXTENSIONS and not p.name.startswith(".")
            )
        elif path.is_file():
            found.append(path)
        else:
            problems.append(FileOutcome(str(path), "skipped", reason="路径不存在", code="missing"))
    return list(dict.fromkeys(p.resolve() for p in found)), problems


def chunk_id_for(collection: str, source_path: str, content_hash: str, position: int) -> str:
    """Stable id: the same file content always gets the same ids."""
    origin = hashlib.sha1(f"{collection}\0{source_path}".encode()).hexdigest()[:12]
    return f"{origin}-{content_hash[:10]}-{position:05d}"


def embedding_key(text: str) -> str:
    """What a cached vector is keyed by (with the model): the hash of the exact text embedded."""
    return hashlib.sha256(text.encode()).hexdigest()


def _vector_bytes(vector: Sequence[float]) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


class IngestPipeline:
    """Runs an incremental, idempotent, resumable ingest of files into one collection."""

    def __init__(
        self,
        *,
        uow: UnitOfWork,
        repository: KnowledgeRepository,
        tokenizer: Tokenizer,
        dense: DenseIndex | None,
        chunk_chars: int,
        max_bytes: int,
        embeddings: Embeddings | None = None,
        embedding_model: str = "",
        batch_passages: int = BATCH_PASSAGES,
        time_zone: tzinfo = UTC,
        on_changed: Callable[[], None] = lambda: None,
    ) -> None:
        if dense is not None and (embeddings is None or not embedding_model):
            raise ValueError("a dense index needs the embeddings (and their model name) to embed passages with")
        self._uow = uow
        self._repository = repository
        self._staged = StagedIngestRepository()
        self._tokenizer = tokenizer
        self._dense = dense
        self._embeddings = embeddings
        self._model = embedding_model
        self._chunk_chars = chunk_chars
        self._max_bytes = max_bytes
        self._batch = batch_passages
        self._zone = time_zone
        self._on_changed = on_changed

    def run(
        self,
        paths: Sequence[Path],
        *,
        collection: str,
        prune: bool = False,
        progress: bool | PassageProgress = False,
        wait: bool = True,
        on_wait: Callable[[LockHolder | None], None] | None = None,
    ) -> IngestReport:
        """Ingest under the collection's lock: waits for another ingest of it (`on_wait` is told who holds it;
        by default a line on stderr), or raises `storage.ingest_lock.IngestBusy` when `wait` is false."""
        tell = on_wait or (lambda holder: print(waiting_message(collection, holder, zone=self._zone), file=sys.stderr))
        with ingest_lock(self._uow.engine, collection, wait=wait, on_wait=tell):
            return self._run(paths, collection=collection, prune=prune, progress=progress)

    def _run(
        self, paths: Sequence[Path], *, collection: str, prune: bool, progress: bool | PassageProgress
    ) -> IngestReport:
        passages: PassageProgress = (
            progress if not isinstance(progress, bool) else (StderrProgress() if progress else SilentProgress())
        )
        show_files = progress is True and sys.stderr.isatty()
        files, problems = find_files(paths)
        report = IngestReport(collection, list(problems))
        texts: list[str] = []
        changed = False
        for path in tqdm(files, desc=f"ingest {collection}", unit="file", disable=not show_files):
            outcome, document = self._prepare(path, collection)
            report.outcomes.append(outcome)
            if document is not None:
                self._ingest_document(collection, document, passages)
                texts += [p.text for p in document.passages]
                changed = True
        report.quality = measure_passages(texts)
        removed = self._remove_gone(collection, files) if prune else []
        report.outcomes += [FileOutcome(path, "removed") for path in removed]
        with self._uow.begin() as session:
            self._staged.prune_vectors(session)
        if changed or removed:
            self._on_changed()
        if self._dense is not None:  # repair what an earlier crash, or a run with the dense side off, left
            reconcile_dense_index(
                uow=self._uow, repository=self._repository, dense=self._dense, collections=[collection]
            )
        return report

    def _prepare(self, path: Path, collection: str) -> tuple[FileOutcome, PreparedDocument | None]:
        source = str(path)
        try:
            data = path.read_bytes() if path.stat().st_size <= self._max_bytes else b""
        except OSError:
            return FileOutcome(source, "skipped", reason="文件无法读取", code="unreadable"), None
        content_hash = hashlib.sha256(PIPELINE_VERSION.encode() + data).hexdigest()
        with self._uow.read() as session:
            existing = self._repository.find_document(session, collection=collection, source_path=source)
            staged = self._staged.find(session, collection=collection, source_path=source)
        if existing is not None and existing.content_hash == content_hash and data:
            if staged is not None:  # a stopped run of another version of the file: nothing to resume
                with self._uow.begin() as session:
                    self._staged.discard(session, collection=collection, source_path=source)
            return FileOutcome(source, "unchanged", len(existing.chunk_ids)), None
        try:
            extracted = extract_document(path, max_bytes=self._max_bytes)
        except ExtractionError as exc:
            log.debug("skipped %s: %s", source, exc.code)  # the report lists it, with the reason in Chinese
            return FileOutcome(source, "skipped", reason=exc.message, code=exc.code), None
        chunks = chunk_document(extracted, chunk_chars=self._chunk_chars)
        if not chunks:
            return FileOutcome(source, "skipped", reason="清洗后没有可用的文字", code="empty"), None
        prepared = tuple(
            PreparedPassage(chunk_id_for(collection, source, content_hash, c.position), c.position, c.section, c.text)
            for c in chunks
        )
        status: Status = "updated" if existing is not None else "added"
        document = PreparedDocument(
            source, path.name, content_hash, extracted.title, prepared, existing.chunk_ids if existing else ()
        )
        return FileOutcome(source, status, len(prepared)), document

    def _ingest_document(self, collection: str, document: PreparedDocument, progress: PassageProgress) -> None:
        """Stage the document's passages a batch at a time (resuming a stopped run), then complete it."""
        with self._uow.begin() as session:
            staged = self._staged.start(
                session,
                collection=collection,
                source_path=document.source_path,
                source_name=document.source_name,
                content_hash=document.content_hash,
                title=document.title,
                chunk_count=len(document.passages),
                now=utc_now(),
            )
        todo = [p for p in document.passages if p.chunk_id not in staged.stored_ids]
        large = len(todo) > self._batch
        if large:
            progress.start(document.source_name, total=len(document.passages), done=len(document.passages) - len(todo))
        try:
            for start in range(0, len(todo), self._batch):
                batch = [self._staged_passage(collection, document, p) for p in todo[start : start + self._batch]]
                vectors = self._embed_missing(
                    [p.embedding_key for p in batch], [self._dense_text(document, p.chunk) for p in batch]
                )
                with self._uow.begin() as session:
                    self._staged.add_passages(session, staged_id=staged.staged_id, passages=batch)
                    self._staged.store_vectors(session, model=self._model, vectors=vectors)
                if large:
                    progress.advance(len(batch))
        finally:
            if large:
                progress.finish()
        self._complete(collection, document, staged.staged_id)

    def _staged_passage(self, collection: str, document: PreparedDocument, passage: PreparedPassage) -> StagedPassage:
        # The title and heading are indexed with the text (a question names the topic: 「晋升流程」).
        words, bigrams = self._tokenizer.document_tokens(
            "\n".join(p for p in (document.title, passage.section, passage.text) if p)
        )
        chunk = ChunkRecord(
            chunk_id=passage.chunk_id,
            collection=collection,
            position=passage.position,
            section=passage.section,
            text=passage.text,
            words=tuple(words),
            bigrams=tuple(bigrams),
        )
        return StagedPassage(chunk, embedding_key(self._dense_text(document, chunk)))

    @staticmethod
    def _dense_text(document: PreparedDocument, chunk: ChunkRecord | PreparedPassage) -> str:
        return dense_text(title=document.title, section=chunk.section, text=chunk.text)

    def _embed_missing(self, keys: Sequence[str], texts: Sequence[str]) -> dict[str, bytes]:
        """Vectors for the keys not cached yet (a text that repeats is embedded once); {} without a dense side."""
        if self._dense is None or self._embeddings is None:
            return {}
        with self._uow.read() as session:
            cached = self._staged.vectors(session, model=self._model, keys=keys)
        wanted = {k: t for k, t in zip(keys, texts, strict=True) if k not in cached}
        if not wanted:
            return {}
        vectors = self._embeddings.embed_documents(list(wanted.values()))
        return {k: _vector_bytes(v) for k, v in zip(wanted, vectors, strict=True)}

    def _complete(self, collection: str, document: PreparedDocument, staged_id: int) -> None:
        """The document's vectors into the dense index, then one transaction makes it searchable."""
        ids = [p.chunk_id for p in document.passages]
        added: set[str] = set()
        if self._dense is not None:
            dense_docs = [
                DenseDocument(p.chunk_id, collection, self._dense_text(document, p)) for p in document.passages
            ]
            keys = [embedding_key(d.text) for d in dense_docs]
            with self._uow.read() as session:
                cached = self._staged.vectors(session, model=self._model, keys=keys)
            missing = [i for i, k in enumerate(keys) if k not in cached]  # dropped meanwhile by another ingest
            if missing:
                cached |= self._embed_missing([keys[i] for i in missing], [dense_docs[i].text for i in missing])
            vectors = np.stack([np.frombuffer(cached[k], dtype=np.float32) for k in keys])
            already = self._dense.present(ids)
            self._dense.add_vectors(dense_docs, vectors)
            added = set(ids) - already
        try:
            with self._uow.begin() as session:
                self._staged.complete(session, staged_id=staged_id, now=utc_now())
                self._repository.bump_generation(session)
        except Exception:
            if self._dense is not None and added:  # only what this run put there: another run's vectors stay
                self._dense.delete(sorted(added))
            raise
        stale = set(document.replaces) - set(ids)
        if self._dense is not None and stale:
            self._dense.delete(sorted(stale))

    def _remove_gone(self, collection: str, present: list[Path]) -> list[str]:
        """Drop the documents (and staged versions) whose files are gone; returns the removed documents' paths."""
        present_paths = {str(p) for p in present}

        def gone(path: str) -> bool:
            return path not in present_paths and not Path(path).exists()

        with self._uow.read() as session:
            documents = [
                d for d in self._repository.list_documents(session, collection=collection) if gone(d.source_path)
            ]
            staged = [path for path in self._staged.staged_paths(session, collection=collection) if gone(path)]
        if not documents and not staged:
            return []
        with self._uow.begin() as session:
            for path in staged:
                self._staged.discard(session, collection=collection, source_path=path)
            for d in documents:
                self._repository.delete_document(session, collection=collection, source_path=d.source_path)
            if documents:
                self._repository.bump_generation(session)
        stale = sorted(i for d in documents for i in d.chunk_ids)
        if self._dense is not None and stale:
            self._dense.delete(stale)
        return [d.source_path for d in documents]


def reconcile_dense_index(
    *, uow: UnitOfWork, repository: KnowledgeRepository, dense: DenseIndex, collections: Sequence[str] | None = None
) -> tuple[int, int]:
    """Make the dense index hold exactly the database's chunks (of the given collections, else all); returns
    (removed, added). An ingest reconciles only its own collection: another collection's ingest may have put
    vectors in whose transaction has not committed yet."""
    with uow.read() as session:
        stored = repository.all_chunk_ids(session, collections=collections)
        indexed = dense.all_ids(collections)
        missing = sorted(stored - indexed)
        passages = repository.get_passages(session, missing)
    extra = sorted(indexed - stored)
    if extra:
        dense.delete(extra)
    if missing:
        dense.add(
            [
                DenseDocument(p.chunk_id, p.collection, dense_text(title=p.title, section=p.section, text=p.text))
                for p in passages.values()
            ]
        )
    return len(extra), len(missing)
