"""The lexical index cache on disk is data only (numpy arrays + JSON), checked against the knowledge base's
generation, and rebuilt — never trusted, never executed — when it does not fit."""

from __future__ import annotations

import json
import logging
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

from knowledge.lexical_store import LEGACY_PICKLE_NAME, LexicalIndexStore

ROWS = [
    ("c1", "cases", "晋升 流程 逐级", "晋升 升流 流程"),
    ("c2", "courses", "谈判 让步 底线", "谈判 判让 让步"),
    ("c3", "processes", "投诉 处理 流程", "投诉 诉处 处理"),
]


class _Counter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self):  # type: ignore[no-untyped-def]
        self.calls += 1
        return iter(ROWS)


def _search(index, word: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [hit.chunk_id for hit in index.search(words=[word], limit=5)]


def _store(tmp_path: Path) -> LexicalIndexStore:
    return LexicalIndexStore(folder=tmp_path / "lexical", bigram_weight=0.5)


class _Exploit:
    """Unpickling this writes a marker file: the attack of a writable data folder."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.system, (f"touch {self.marker}",))


def test_a_crafted_pickle_in_the_old_location_is_never_executed(tmp_path, caplog):
    marker = tmp_path / "pwned"
    folder = tmp_path / "lexical"
    folder.mkdir()
    (folder / LEGACY_PICKLE_NAME).write_bytes(pickle.dumps((7, 0.5, _Exploit(marker))))
    rows = _Counter()
    with caplog.at_level(logging.INFO, logger="knowledge.lexical_store"):
        index = _store(tmp_path).load_or_build(generation=7, rows=rows)
    assert not marker.exists()
    assert rows.calls == 1  # built from the database, not from the file
    assert _search(index, "谈判") == ["c2"]
    assert not (folder / LEGACY_PICKLE_NAME).exists()  # the old cache is removed, with a log line
    assert any("pickle" in r.getMessage() for r in caplog.records)


def test_the_cache_is_reloaded_for_the_same_generation_and_holds_no_pickle(tmp_path):
    store = _store(tmp_path)
    built = store.load_or_build(generation=3, rows=_Counter())
    rows = _Counter()
    loaded = store.load_or_build(generation=3, rows=rows)
    assert rows.calls == 0
    for word in ("晋升", "谈判", "流程", "没有"):
        assert _search(loaded, word) == _search(built, word)
    assert loaded.chunk_ids == built.chunk_ids and list(loaded.collections) == list(built.collections)
    assert sorted(h.collection for h in loaded.search(words=["流程"], limit=5)) == ["cases", "processes"]
    assert _search(loaded.__class__.from_rows(ROWS), "底线") == _search(loaded, "底线")
    files = list((tmp_path / "lexical").iterdir())
    assert [f.name for f in files] == [store.path.name]
    with np.load(store.path, allow_pickle=False) as arrays:  # loads with pickles refused: data only
        assert all(arrays[name].dtype != object for name in arrays.files)


def test_another_generation_or_weight_rebuilds(tmp_path):
    store = _store(tmp_path)
    store.load_or_build(generation=3, rows=_Counter())
    rows = _Counter()
    store.load_or_build(generation=4, rows=rows)
    assert rows.calls == 1
    other_weight = LexicalIndexStore(folder=tmp_path / "lexical", bigram_weight=0.9)
    rows = _Counter()
    other_weight.load_or_build(generation=4, rows=rows)
    assert rows.calls == 1


def _rewrite(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    with np.load(path, allow_pickle=False) as arrays:
        data = {name: arrays[name] for name in arrays.files}
    change(data)
    with path.open("wb") as fh:
        np.savez(fh, **data)


def _meta(data: dict) -> dict:  # type: ignore[type-arg]
    return json.loads(bytes(data["meta"]).decode("utf-8"))


def _set_meta(data: dict, **changes) -> None:  # type: ignore[no-untyped-def,type-arg]
    meta = _meta(data) | changes
    data["meta"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(_truncate, id="truncated"),
        pytest.param(lambda p: p.write_bytes(b"not a cache at all"), id="garbage"),
        pytest.param(lambda p: p.write_bytes(b""), id="empty"),
        pytest.param(lambda p: _rewrite(p, lambda d: _set_meta(d, version=99)), id="wrong-version"),
        pytest.param(lambda p: _rewrite(p, lambda d: _set_meta(d, chunk_ids=["c1"])), id="ids-do-not-fit-rows"),
        pytest.param(lambda p: _rewrite(p, lambda d: d.pop("words_indptr")), id="missing-array"),
        pytest.param(
            lambda p: _rewrite(p, lambda d: d.update(words_indices=d["words_indices"] + 1000)), id="index-out-of-range"
        ),
        pytest.param(
            lambda p: _rewrite(p, lambda d: d.update(bigrams_shape=np.asarray([3, 1], dtype=np.int64))),
            id="wrong-shape",
        ),
        pytest.param(lambda p: _rewrite(p, lambda d: d.update(meta=np.zeros(4, dtype=np.uint8))), id="meta-not-json"),
    ],
)
def test_a_corrupt_cache_is_rebuilt_and_logged_never_a_crash(tmp_path, caplog, damage):
    store = _store(tmp_path)
    store.load_or_build(generation=5, rows=_Counter())
    damage(store.path)
    rows = _Counter()
    with caplog.at_level(logging.WARNING, logger="knowledge.lexical_store"):
        index = store.load_or_build(generation=5, rows=rows)
    assert rows.calls == 1
    assert _search(index, "投诉") == ["c3"]
    assert any("rebuil" in r.getMessage() for r in caplog.records)
    again = _Counter()
    store.load_or_build(generation=5, rows=again)  # the rebuilt cache was written back and fits
    assert again.calls == 0


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_a_pickle_hidden_in_the_archive_is_refused(tmp_path):
    store = _store(tmp_path)
    store.load_or_build(generation=5, rows=_Counter())
    marker = tmp_path / "pwned"
    # an object array member: only loadable with pickles
    with zipfile.ZipFile(store.path, "a") as archive, archive.open("words_data.npy", "w", force_zip64=True) as fh:
        np.lib.format.write_array(fh, np.asarray([_Exploit(marker)], dtype=object), allow_pickle=True)
    rows = _Counter()
    store.load_or_build(generation=5, rows=rows)
    assert not marker.exists()
    assert rows.calls == 1
