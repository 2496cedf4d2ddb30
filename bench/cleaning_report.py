"""Cleaning measured on the real corpus: the share of passages that still hold a doubled run or mojibake.

Each file of ../shared/corpus goes through `chunk_document(extract_document(path))`, as an ingest does;
`ingest.quality` measures the passages. Prints numbers and examples; never asserts.

    PYTHONPATH=. .venv/bin/python bench/cleaning_report.py [--examples N] [CORPUS_DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ingest.chunking import chunk_document
from ingest.extractors import extract_document
from ingest.quality import PassageQuality, find_adjacent_double, find_doubled_run, find_mojibake, measure_passages

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


def _excerpt(text: str, start: int, end: int, margin: int = 12) -> str:
    left, right = max(0, start - margin), min(len(text), end + margin)
    return (text[left:start] + "【" + text[start:end] + "】" + text[end:right]).replace("\n", "⏎")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=CORPUS)
    parser.add_argument("--examples", type=int, default=5, help="examples of each kind per file")
    args = parser.parse_args()
    files = sorted(args.corpus.glob("*.txt"))
    if not files:
        raise SystemExit(f"no .txt files in {args.corpus}")
    total = PassageQuality()
    for path in files:
        texts = [chunk.text for chunk in chunk_document(extract_document(path))]
        quality = measure_passages(texts)
        total += quality
        print(
            f"{path.name}: {quality.passages} passages, doubled {quality.doubled} ({quality.doubled_share:.1%}),"
            f" of them adjacent {quality.adjacent} ({quality.adjacent_share:.1%}),"
            f" mojibake {quality.mojibake} ({quality.mojibake_share:.1%})"
        )
        shown_doubled = shown_adjacent = shown_mojibake = 0
        for number, text in enumerate(texts):
            run = find_doubled_run(text)
            if run is not None and shown_doubled < args.examples:
                shown_doubled += 1
                print(f"  doubled  #{number}: {_excerpt(text, run.first[0], run.second[1], 8)}")
            adjacent = find_adjacent_double(text)
            if adjacent is not None and shown_adjacent < args.examples:
                shown_adjacent += 1
                print(f"  adjacent #{number}: {_excerpt(text, adjacent.first[0], adjacent.second[1], 8)}")
            spans = find_mojibake(text)
            if spans and shown_mojibake < args.examples:
                shown_mojibake += 1
                print(f"  mojibake #{number}: " + " | ".join(_excerpt(text, s, e) for s, e in spans))
    print(
        f"all: {total.passages} passages, doubled {total.doubled} ({total.doubled_share:.1%}),"
        f" of them adjacent {total.adjacent} ({total.adjacent_share:.1%}),"
        f" mojibake {total.mojibake} ({total.mojibake_share:.1%})"
    )


if __name__ == "__main__":
    main()
