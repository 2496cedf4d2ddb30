"""Ingest as typed stages: find files → extract → clean and chunk → write (`ingest.document_writer`).

One ingest at a time per collection (`storage.ingest_lock`: a PostgreSQL advisory lock, a file lock beside a
SQLite database); a second one waits, saying who holds it, or is refused. Unchanged files are skipped by hash.
Changed documents become searchable whole: small ones together in one transaction, a large one after its
passages were committed in steps that a stopped run resumes. `reconcile_dense_index` then repairs the
collection's dense side after any earlier crash. So a stopped run leaves every document as it was or complete.
"""

from __future__ import annotations

import hashlib
import logging
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, tzinfo
from pathlib import Path

from langchain_core.embeddings import Embeddings
from tqdm import tqdm

from ingest.chunking import chunk_document
from ingest.document_writer import DocumentWriter, PreparedDocument, PreparedPassage
from ingest.extractors import SUPPORTED_EXTENSIONS, ExtractionError, extract_document
from ingest.progress import PassageProgress, SilentProgress, StderrProgress
from ingest.quality import measure_passages
from ingest.report import FileOutcome, IngestReport, Status, waiting_message
from knowledge.dense import DenseDocument, DenseIndex, dense_text
from knowledge.tokenizer import Tokenizer
from knowledge.unit_vectors import sync_unit_vectors
from storage.db import UnitOfWork
from storage.ingest_lock import LockHolder, ingest_lock
from storage.knowledge_repository import KnowledgeRepository
from storage.staged_ingest_repository import StagedIngestRepository

log = logging.getLogger(__name__)
# Part of every document's hash: bump it when extraction, cleaning or chunking changes, so the next
# ingest re-reads every file instead of keeping passages made the old way.
PIPELINE_VERSION = "6"
BATCH_PASSAGES = 200  # passages per committed batch (`ingest.batch_passages`): ~25 s of e5-small on 2 cores


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
        unit_vectors: bool = False,
    ) -> None:
        self._uow = uow
        self._repository = repository
        self._staged = StagedIngestRepository()
        self._dense = dense
        self._writer = DocumentWriter(
            uow=uow,
            repository=repository,
            tokenizer=tokenizer,
            dense=dense,
            embeddings=embeddings,
            embedding_model=embedding_model,
            batch_passages=batch_passages,
            unit_vectors=unit_vectors,
        )
        self._unit_vectors = unit_vectors and dense is not None
        self._model = embedding_model
        self._embeddings = embeddings
        self._chunk_chars = chunk_chars
        self._max_bytes = max_bytes
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
        small: list[PreparedDocument] = []  # written together: a batch of passages at most
        for path in tqdm(files, desc=f"ingest {collection}", unit="file", disable=not show_files):
            outcome, document = self._prepare(path, collection)
            report.outcomes.append(outcome)
            if document is None:
                continue
            texts += [p.text for p in document.passages]
            size, batch = len(document.passages), self._writer.batch
            if small and sum(len(d.passages) for d in small) + size > batch:
                self._writer.write_together(collection, small)
                small = []
            if size > batch:
                self._writer.write_in_steps(collection, document, passages)
            else:
                small.append(document)
        if small:
            self._writer.write_together(collection, small)
        changed = bool(texts)
        report.quality = measure_passages(texts)
        removed = self._remove_gone(collection, files) if prune else []
        report.outcomes += [FileOutcome(path, "removed") for path in removed]
        with self._uow.begin() as session:
            self._staged.prune_vectors(session)
        if self._unit_vectors and self._embeddings is not None:  # stale ones go, those of older passages come
            sync_unit_vectors(self._uow, self._model, self._embeddings.embed_documents, batch=self._writer.batch)
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
