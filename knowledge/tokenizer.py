"""Chinese-aware tokenising for the lexical index: fold script, segment with jieba + a domain dictionary,
keep English terms (KPI, ARPU, BPR, SLA) and numbers whole, add character bigrams.

Documents and queries go through the same `Tokenizer`, so Traditional text matches Simplified questions.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path

import jieba

from ingest.chinese_text import fold_for_search
from knowledge import prefix_dictionary

_CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_LATIN_OR_NUMBER = re.compile(r"[a-z][a-z0-9+#.\-]*[a-z0-9+#]|[a-z]|\d+(?:\.\d+)?%?")
_LATIN_TERM = re.compile(r"[a-z][a-z0-9+#.\-]*[a-z0-9+#]")
_CJK_CHAR = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def _read_dictionary(name: str) -> list[str]:
    text = resources.files("knowledge").joinpath("dictionaries", name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _add_domain_terms(segmenter: jieba.Tokenizer) -> None:
    for line in _read_dictionary("domain_terms.txt"):
        word, _, freq = line.partition(" ")
        segmenter.add_word(word, freq=int(freq) if freq else None)


def _dictionary_source(segmenter: jieba.Tokenizer) -> str:
    """What the prefix dictionary is built from: jieba's version and dictionary file, and our domain terms."""
    dictionary = Path(segmenter.dictionary or Path(jieba.__file__).parent / jieba.DEFAULT_DICT_NAME)
    seen = dictionary.stat()
    terms = hashlib.sha256("\n".join(_read_dictionary("domain_terms.txt")).encode("utf-8")).hexdigest()
    return f"jieba {jieba.__version__} {dictionary} {seen.st_size}:{seen.st_mtime_ns} domain {terms}"


@dataclass(frozen=True)
class QueryTerms:
    """The tokens of a question: its own words and the synonyms they add (searched at a lower weight)."""

    words: tuple[str, ...]
    expansions: tuple[str, ...]
    bigrams: tuple[str, ...]
    key_words: tuple[str, ...] = ()  # precise segmentation, for judging whether a passage answers it


class Tokenizer:
    """Folds and segments text; one instance per process (jieba's dictionary loads once, at the first text).

    With `dictionary_folder`, jieba's prefix dictionary with our domain terms is kept there as a memory-mapped
    file (`knowledge.prefix_dictionary`): a question is segmented without loading it, and it is read into a dict
    only when many passages are tokenised. Without it, jieba loads its own cache and the domain terms are added.
    """

    def __init__(self, *, dictionary_folder: Path | None = None) -> None:
        logging.getLogger("jieba").setLevel(logging.WARNING)
        self._dictionary_folder = dictionary_folder
        self._segmenter: jieba.Tokenizer | None = None
        self._lock = threading.Lock()

    @property
    def _jieba(self) -> jieba.Tokenizer:
        if self._segmenter is None:
            with self._lock:
                if self._segmenter is None:
                    self._segmenter = self._load_segmenter()
        return self._segmenter

    def _load_segmenter(self) -> jieba.Tokenizer:
        segmenter = jieba.Tokenizer()
        if self._dictionary_folder is None:
            _add_domain_terms(segmenter)
            return segmenter

        def build() -> tuple[dict[str, int], int]:
            _add_domain_terms(segmenter)  # loads jieba's own dictionary first
            return segmenter.FREQ, segmenter.total

        source = _dictionary_source(segmenter)
        frequencies, total = prefix_dictionary.load_or_build(self._dictionary_folder, source_key=source, build=build)
        segmenter.FREQ, segmenter.total, segmenter.initialized = frequencies, total, True  # type: ignore[assignment]
        return segmenter

    def _load_fully(self) -> None:
        """Many texts follow: a dict answers jieba's lookups faster than the mapped file."""
        frequencies = self._jieba.FREQ
        if isinstance(frequencies, prefix_dictionary.MappedFrequencies):
            self._jieba.FREQ = frequencies.as_dict()

    @cached_property
    def stopwords(self) -> frozenset[str]:
        return frozenset(w for line in _read_dictionary("stopwords.txt") for w in line.split())

    @cached_property
    def synonyms(self) -> dict[str, tuple[str, ...]]:
        table: dict[str, tuple[str, ...]] = {}
        for line in _read_dictionary("synonyms.txt"):
            group = [w.lower() for w in line.split()]
            for word in group:
                others = tuple(w for w in group if w != word)
                table[word] = tuple(dict.fromkeys(table.get(word, ()) + others))
        return table

    @cached_property
    def entities(self) -> tuple[str, ...]:
        """Named things (products, fees, companies, chores) a passage must name to answer a question about them."""
        return tuple(fold_for_search(w) for line in _read_dictionary("entities.txt") for w in line.split())

    def words(self, text: str) -> list[str]:
        """Search-mode words of already folded text, stopwords removed, English and numbers kept whole."""
        tokens: list[str] = []
        for piece in _LATIN_OR_NUMBER.findall(text):
            tokens.append(piece)
        for run in _CJK_RUN.findall(text):
            for word in self._jieba.cut_for_search(run, HMM=True):
                if word not in self.stopwords and (len(word) > 1 or word not in self.stopwords):
                    tokens.append(word)
        return [t for t in tokens if t not in self.stopwords]

    @staticmethod
    def bigrams(text: str) -> list[str]:
        """Overlapping CJK character bigrams (single characters for one-character runs), and Latin terms of
        two letters or more whole (EDI, ARPU): a CJK word scores in both fields, so a Latin one must too."""
        grams: list[str] = _LATIN_TERM.findall(text)
        for run in _CJK_RUN.findall(text):
            if len(run) == 1:
                grams.append(run)
            grams.extend(run[i : i + 2] for i in range(len(run) - 1))
        return grams

    def document_tokens(self, text: str) -> tuple[list[str], list[str]]:
        """Words and bigrams of a passage, for indexing."""
        self._load_fully()
        folded = fold_for_search(text)
        return self.words(folded), self.bigrams(folded)

    def query_terms(self, question: str) -> QueryTerms:
        """Words, synonym expansions and bigrams of a question."""
        folded = fold_for_search(question)
        words = tuple(dict.fromkeys(self.words(folded)))
        expansions = tuple(dict.fromkeys(s for w in words for s in self.synonyms.get(w, ()) if s not in words))
        content = "".join(ch for ch in folded if _CJK_CHAR.match(ch) or ch.isalnum())
        bigrams = tuple(dict.fromkeys(g for g in self.bigrams(content) if not self._is_stop_bigram(g)))
        return QueryTerms(words=words, expansions=expansions, bigrams=bigrams, key_words=self.key_words(folded))

    def key_words(self, folded: str) -> tuple[str, ...]:
        """Precise-mode words of a folded question without stopwords (no overlapping sub-words)."""
        keys = list(_LATIN_OR_NUMBER.findall(folded))
        for run in _CJK_RUN.findall(folded):
            keys += [w for w in self._merge_singles(self._jieba.lcut(run, HMM=False)) if w not in self.stopwords]
        return tuple(dict.fromkeys(keys))

    def _merge_singles(self, words: list[str]) -> list[str]:
        """Adjacent single characters that are no stopwords were one word the dictionary lacks: 愿 景 → 愿景."""
        merged: list[str] = []
        run = ""
        for word in [*words, ""]:
            if len(word) == 1 and word not in self.stopwords:
                run += word
                continue
            if run:
                merged.append(run)
                run = ""
            if word:
                merged.append(word)
        return merged

    def _is_stop_bigram(self, gram: str) -> bool:
        return gram in self.stopwords or all(ch in self.stopwords for ch in gram)
