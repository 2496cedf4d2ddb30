"""Ingest as typed stages: find files → extract → clean and chunk → tokenise → store and index.

The database is the source of truth and is written in one transaction per run. Dense vectors are added
before the commit and old ones removed after it; `reconcile_dense_index` repairs Chroma after any crash
between the two, and search never shows an id the database does not hold. So a failed run leaves the
knowledge base as it was.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from ingest.chunking import chunk_document
from ingest.extractors import SUPPORTED_EXTENSIONS, ExtractionError, extract_document
from ingest.quality import measure_passages
from ingest.report import FileOutcome, IngestReport
from knowledge.tokenizer import Tokenizer
from knowledge.vector_store import DenseDocument, DenseIndex, dense_text
from storage.db import UnitOfWork, utc_now
from storage.knowledge_repository import ChunkRecord, KnowledgeRepository

log = logging.getLogger(__name__)
# Part of every document's hash: bump it when extraction, cleaning or chunking changes, so the next
# ingest re-reads every file instead of keeping passages made the old way.
PIPELINE_VERSION = "6"


@dataclass(frozen=True)
class PreparedDocument:
    """A changed file, extracted and chunked, ready to store."""

    source_path: str
    source_name: str
    content_hash: str
    title: str
    chunks: tuple[ChunkRecord, ...]
    replaces: tuple[str, ...]
    status: str


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
    """Runs an incremental, idempotent ingest of files into one collection."""

    def __init__(
        self,
        *,
        uow: UnitOfWork,
        repository: KnowledgeRepository,
        tokenizer: Tokenizer,
        dense: DenseIndex | None,
        chunk_chars: int,
        max_bytes: int,
        on_changed: Callable[[], None] = lambda: None,
    ) -> None:
        self._uow = uow
        self._repository = repository
        self._tokenizer = tokenizer
        self._dense = dense
        self._chunk_chars = chunk_chars
        self._max_bytes = max_bytes
        self._on_changed = on_changed

    def run(
        self, paths: Sequence[Path], *, collection: str, prune: bool = False, progress: bool = False
    ) -> IngestReport:
        files, problems = find_files(paths)
        report = IngestReport(collection, list(problems))
        prepared: list[PreparedDocument] = []
        for path in tqdm(files, desc=f"ingest {collection}", unit="file", disable=not progress):
            outcome, document = self._prepare(path, collection)
            report.outcomes.append(outcome)
            if document is not None:
                prepared.append(document)
        report.quality = measure_passages(chunk.text for document in prepared for chunk in document.chunks)
        removed = self._gone_documents(collection, files) if prune else []
        if prepared or removed:
            self._store(collection, prepared, removed)
            report.outcomes += [FileOutcome(path, "removed") for path, _ in removed]
            self._on_changed()
        if self._dense is not None:  # repair what an earlier crash, or a run with the dense side off, left
            reconcile_dense_index(uow=self._uow, repository=self._repository, dense=self._dense)
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
        if existing is not None and existing.content_hash == content_hash and data:
            return FileOutcome(source, "unchanged", len(existing.chunk_ids)), None
        try:
            extracted = extract_document(path, max_bytes=self._max_bytes)
        except ExtractionError as exc:
            log.debug("skipped %s: %s", source, exc.code)  # the report lists it, with the reason in Chinese
            return FileOutcome(source, "skipped", reason=exc.message, code=exc.code), None
        chunks = chunk_document(extracted, chunk_chars=self._chunk_chars)
        if not chunks:
            return FileOutcome(source, "skipped", reason="清洗后没有可用的文字", code="empty"), None
        records = tuple(
            self._record(collection, source, content_hash, c.position, c.section, c.text, extracted.title)
            for c in chunks
        )
        status = "updated" if existing is not None else "added"
        document = PreparedDocument(
            source, path.name, content_hash, extracted.title, records, existing.chunk_ids if existing else (), status
        )
        return FileOutcome(source, status, len(records)), document  # type: ignore[arg-type]

    def _record(
        self, collection: str, source: str, content_hash: str, position: int, section: str, text: str, title: str
    ) -> ChunkRecord:
        # The title and heading are indexed with the text (a question names the topic: 「晋升流程」).
        words, bigrams = self._tokenizer.document_tokens("\n".join(p for p in (title, section, text) if p))
        return ChunkRecord(
            chunk_id=chunk_id_for(collection, source, content_hash, position),
            collection=collection,
            position=position,
            section=section,
            text=text,
            words=tuple(words),
            bigrams=tuple(bigrams),
        )

    def _gone_documents(self, collection: str, present: list[Path]) -> list[tuple[str, tuple[str, ...]]]:
        present_paths = {str(p) for p in present}
        with self._uow.read() as session:
            documents = self._repository.list_documents(session, collection=collection)
        return [
            (d.source_path, d.chunk_ids)
            for d in documents
            if d.source_path not in present_paths and not Path(d.source_path).exists()
        ]

    def _store(
        self, collection: str, prepared: list[PreparedDocument], removed: list[tuple[str, tuple[str, ...]]]
    ) -> None:
        new_ids = [c.chunk_id for d in prepared for c in d.chunks]
        if self._dense is not None:
            self._dense.add(
                [
                    DenseDocument(c.chunk_id, c.collection, dense_text(title=d.title, section=c.section, text=c.text))
                    for d in prepared
                    for c in d.chunks
                ]
            )
        try:
            now = utc_now()
            with self._uow.begin() as session:
                for doc in prepared:
                    self._repository.replace_document(
                        session,
                        collection=collection,
                        source_path=doc.source_path,
                        source_name=doc.source_name,
                        content_hash=doc.content_hash,
                        title=doc.title,
                        chunks=doc.chunks,
                        now=now,
                    )
                for source_path, _ in removed:
                    self._repository.delete_document(session, collection=collection, source_path=source_path)
                self._repository.bump_generation(session)
        except Exception:
            if self._dense is not None:
                self._dense.delete(new_ids)
            raise
        stale = {i for d in prepared for i in d.replaces} | {i for _, ids in removed for i in ids}
        if self._dense is not None and stale - set(new_ids):
            self._dense.delete(sorted(stale - set(new_ids)))


def reconcile_dense_index(*, uow: UnitOfWork, repository: KnowledgeRepository, dense: DenseIndex) -> tuple[int, int]:
    """Make the dense index hold exactly the database's chunks; returns (removed, added)."""
    with uow.read() as session:
        stored = repository.all_chunk_ids(session)
        indexed = dense.all_ids()
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
