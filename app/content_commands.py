"""`coach setup-content [FOLDER]`: the bundled content in one process — what `make run` and the image load.

Eleven `coach` processes (three ingests, a publish per quiz file) each paid the start-up (settings, schema check,
tokenizer, Chroma) again: a repeat `make run` with nothing changed took a minute. One process pays it once, and
with nothing changed it reads no file twice: unchanged documents are skipped by their hash and an unchanged quiz
makes no new version."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.composition import Services

KNOWLEDGE_FOLDERS = ("cases", "courses", "processes")  # content/knowledge/<name> goes into collection <name>


def cmd_setup_content(args: argparse.Namespace, services: Services) -> int:
    from app.quiz_commands import publish_quiz_file

    folder: Path = args.folder
    knowledge = [(name, folder / "knowledge" / name) for name in KNOWLEDGE_FOLDERS]
    quizzes = sorted((folder / "quizzes").glob("*.yaml"))
    if not any(path.is_dir() for _, path in knowledge) and not quizzes:
        print(f"{folder} 里没有 knowledge/cases|courses|processes 目录,也没有 quizzes/*.yaml", file=sys.stderr)
        return 2
    changed = False
    pipeline = None
    for collection, path in knowledge:
        if not path.is_dir():
            continue
        pipeline = pipeline or services.ingest_pipeline()
        progress = not args.no_progress and sys.stderr.isatty()
        report = pipeline.run([path], collection=collection, prune=False, progress=progress)
        changed = changed or report.changed
        print("\n".join(report.summary_lines()))
    if changed:
        services.search  # noqa: B018 — build and cache the lexical index now, not at the first question
    failed = [path for path in quizzes if publish_quiz_file(path, services) != 0]
    return 1 if failed else 0
